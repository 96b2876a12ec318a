/* Partition tables: libparted computes and writes GPT or msdos tables
 * into a sparse raw working file.  libparted 3.5 (Debian 12) cannot set
 * the partition unique GUIDs, the disk GUID or the MBR signature, so
 * those are patched into the table after ped_disk_commit_to_dev, with
 * the GPT CRC32s recomputed.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <parted/parted.h>

#include "mkvmimg.h"
#include "partition.h"
#include "uuid.h"

#define SECTOR 512
#define MiB (UINT64_C (1024) * 1024)
/* For messages: partitions need not have a name. */
#define PNAME(p) ((p)->name ? (p)->name : "(unnamed)")

static uint64_t
align_up (uint64_t v, uint64_t a)
{
  return (v + a - 1) / a * a;
}

/* The bytes a part occupies up to the next aligned start. */
static uint64_t
part_span (uint64_t size)
{
  return align_up (size, PART_ALIGN);
}

/* The tail keeps the GPT backup (header and 128 entries: 33 sectors)
 * outside the last partition, with the same 1 MiB granularity as the
 * head.  An msdos disk has no backup.
 */
static uint64_t
tail_bytes (const struct layout *l)
{
  return l->msdos ? 0 : PART_ALIGN;
}

uint64_t
partition_disk_size (const struct layout *l, uint64_t min_last)
{
  uint64_t total = PART_ALIGN;  /* head: MBR, GPT, GRUB's core on msdos */

  for (size_t i = 0; i < l->nparts; ++i)
    total += part_span (l->parts[i].size ? l->parts[i].size : min_last);
  return total + tail_bytes (l);
}

/* libparted is loaded when a table is written, not linked: its library
 * constructor runs "sh -c dmidecode" (tens of milliseconds) in every
 * process, and under AddressSanitizer it reads past a getline buffer
 * and aborts before main.  Most commands never partition anything.
 * The pointers take their types from <parted/parted.h>.
 */
#define LIBPARTED_SONAME "libparted.so.2"
#define PED_FUNCTIONS(F) \
  F (exception_get_handler) F (exception_set_handler) \
  F (device_get) F (device_destroy) \
  F (disk_type_get) F (disk_new_fresh) F (disk_set_flag) \
  F (disk_add_partition) F (disk_commit_to_dev) F (disk_destroy) \
  F (file_system_type_get) \
  F (partition_new) F (partition_set_flag) F (partition_set_name) \
  F (partition_destroy) \
  F (geometry_new) F (geometry_destroy) \
  F (constraint_exact) F (constraint_destroy)

static struct {
  void *handle;
#define PED_MEMBER(name) __typeof__ (ped_##name) *name;
  PED_FUNCTIONS (PED_MEMBER)
#undef PED_MEMBER
} ped;

#ifdef __SANITIZE_ADDRESS__
/* The sanitized build (configure --enable-sanitizers): libparted 3.5's
 * constructor runs strchr past the end of a getdelim buffer, which is
 * its bug, not ours; ASan reads this when it starts, so no file or
 * environment variable is needed.
 */
const char *__asan_default_suppressions (void);
const char *
__asan_default_suppressions (void)
{
  return "interceptor_via_lib:" LIBPARTED_SONAME "\n";
}
#endif

/* Once per process; the library stays loaded until exit. */
static int
load_libparted (void)
{
  void *h;

  if (ped.handle)
    return 0;
  h = dlopen (LIBPARTED_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    error ("load libparted: %s", dlerror ());
    return -1;
  }
#define PED_LOOKUP(name)                                        \
  ped.name = (__typeof__ (ped.name)) dlsym (h, "ped_" #name);   \
  if (!ped.name) {                                              \
    error ("%s: no symbol ped_" #name ": %s", LIBPARTED_SONAME, \
           dlerror ());                                         \
    dlclose (h);                                                \
    return -1;                                                  \
  }
  PED_FUNCTIONS (PED_LOOKUP)
#undef PED_LOOKUP
  ped.handle = h;
  return 0;
}

/* libparted reports problems through an exception handler.  The default
 * one prompts on a terminal; this one keeps the message for the error
 * that partition_write reports, and answers the questions libparted
 * asks about files (e.g. "fix the GPT to use all the space") in the
 * non-interactive way.
 */
static char parted_message[1024];

static PedExceptionOption
exception_handler (PedException *ex)
{
  if (ex->type == PED_EXCEPTION_INFORMATION ||
      ex->type == PED_EXCEPTION_WARNING) {
    debug ("libparted: %s", ex->message);
    if (ex->options & PED_EXCEPTION_FIX)
      return PED_EXCEPTION_FIX;
    if (ex->options & PED_EXCEPTION_IGNORE)
      return PED_EXCEPTION_IGNORE;
    if (ex->options & PED_EXCEPTION_OK)
      return PED_EXCEPTION_OK;
  }
  snprintf (parted_message, sizeof parted_message, "%s", ex->message);
  if (ex->options & PED_EXCEPTION_CANCEL)
    return PED_EXCEPTION_CANCEL;
  return PED_EXCEPTION_UNHANDLED;
}

/* Report an error with the last libparted message. */
static void ATTRIBUTE_PRINTF (1, 2)
parted_error (const char *fs, ...)
{
  CLEANUP_FREE char *what = NULL;
  va_list args;

  va_start (args, fs);
  if (vasprintf (&what, fs, args) == -1)
    what = NULL;
  va_end (args);
  error ("%s: %s", what ? what : fs,
         parted_message[0] ? parted_message : "libparted failed");
}

/* ---- GPT patching -------------------------------------------------- */

static uint32_t crc_table[256];

static uint32_t
crc32 (const unsigned char *p, size_t len)
{
  uint32_t c = 0xffffffff;

  if (crc_table[1] == 0)
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t v = n;
      for (int k = 0; k < 8; ++k)
        v = v & 1 ? 0xedb88320 ^ (v >> 1) : v >> 1;
      crc_table[n] = v;
    }
  for (size_t i = 0; i < len; ++i)
    c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffff;
}

static uint32_t
get_le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
get_le64 (const unsigned char *p)
{
  return get_le32 (p) | (uint64_t) get_le32 (p + 4) << 32;
}

static void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

/* GPT stores GUIDs with the first three fields little-endian. */
static void
guid_to_disk (unsigned char *d, const unsigned char u[16])
{
  d[0] = u[3]; d[1] = u[2]; d[2] = u[1]; d[3] = u[0];
  d[4] = u[5]; d[5] = u[4];
  d[6] = u[7]; d[7] = u[6];
  memcpy (d + 8, u + 8, 8);
}

static void
guid_from_disk (unsigned char u[16], const unsigned char *d)
{
  /* The swap is its own inverse. */
  guid_to_disk (u, d);
}

/* GPT header fields. */
#define GPT_SIG          0
#define GPT_HDR_SIZE     12
#define GPT_HDR_CRC      16
#define GPT_MY_LBA       24
#define GPT_ALT_LBA      32
#define GPT_DISK_GUID    56
#define GPT_ENTRIES_LBA  72
#define GPT_NUM_ENTRIES  80
#define GPT_ENTRY_SIZE   84
#define GPT_ENTRIES_CRC  88
/* Entry fields. */
#define GPTE_UNIQUE_GUID 16

static int
pread_all (int fd, void *buf, size_t len, uint64_t off, const char *image)
{
  ssize_t r = pread (fd, buf, len, off);
  if (r != (ssize_t) len) {
    if (r >= 0)
      errno = EIO;
    error_errno ("%s: read at offset %" PRIu64, image, off);
    return -1;
  }
  return 0;
}

static int
pwrite_all (int fd, const void *buf, size_t len, uint64_t off,
            const char *image)
{
  ssize_t r = pwrite (fd, buf, len, off);
  if (r != (ssize_t) len) {
    if (r >= 0)
      errno = EIO;
    error_errno ("%s: write at offset %" PRIu64, image, off);
    return -1;
  }
  return 0;
}

/* Set the disk GUID and the unique GUID of each partition in both GPT
 * copies (or read back the ones libparted chose, for those the caller
 * left empty), and recompute the CRC32s.
 */
static int
gpt_patch (int fd, const char *image, struct layout *l)
{
  unsigned char primary[SECTOR], backup[SECTOR];
  CLEANUP_FREE unsigned char *entries = NULL;
  uint64_t entries_lba, alt_lba, backup_entries_lba;
  uint32_t nentries, entry_size, crc;
  size_t array_size;
  unsigned char u[16];

  if (pread_all (fd, primary, SECTOR, SECTOR, image) == -1)
    return -1;
  if (memcmp (primary + GPT_SIG, "EFI PART", 8) != 0) {
    error ("%s: libparted wrote no GPT header", image);
    return -1;
  }
  entries_lba = get_le64 (primary + GPT_ENTRIES_LBA);
  alt_lba = get_le64 (primary + GPT_ALT_LBA);
  nentries = get_le32 (primary + GPT_NUM_ENTRIES);
  entry_size = get_le32 (primary + GPT_ENTRY_SIZE);
  if (entry_size < 128 || nentries == 0 || nentries > 1024 ||
      get_le32 (primary + GPT_HDR_SIZE) > SECTOR) {
    error ("%s: unexpected GPT header from libparted", image);
    return -1;
  }
  array_size = (size_t) nentries * entry_size;
  entries = xmalloc (array_size);
  if (pread_all (fd, entries, array_size, entries_lba * SECTOR, image) == -1)
    return -1;
  if (pread_all (fd, backup, SECTOR, alt_lba * SECTOR, image) == -1)
    return -1;
  if (memcmp (backup + GPT_SIG, "EFI PART", 8) != 0) {
    error ("%s: no backup GPT header at LBA %" PRIu64, image, alt_lba);
    return -1;
  }
  backup_entries_lba = get_le64 (backup + GPT_ENTRIES_LBA);

  /* Disk GUID. */
  if (l->disk_uuid[0]) {
    if (uuid_parse (l->disk_uuid, u) == -1) {
      error ("disk GUID '%s': not a UUID", l->disk_uuid);
      return -1;
    }
    guid_to_disk (primary + GPT_DISK_GUID, u);
    guid_to_disk (backup + GPT_DISK_GUID, u);
  }
  else {
    guid_from_disk (u, primary + GPT_DISK_GUID);
    uuid_format (l->disk_uuid, u);
  }

  /* Partition GUIDs. */
  for (size_t i = 0; i < l->nparts; ++i) {
    struct part *p = &l->parts[i];
    unsigned char *e;
    if (p->number < 1 || (uint32_t) p->number > nentries) {
      error ("%s: partition %d is outside the GPT array", image, p->number);
      return -1;
    }
    e = entries + (size_t) (p->number - 1) * entry_size;
    if (p->uuid[0]) {
      if (uuid_parse (p->uuid, u) == -1) {
        error ("partition %s: GUID '%s': not a UUID", PNAME (p), p->uuid);
        return -1;
      }
      guid_to_disk (e + GPTE_UNIQUE_GUID, u);
    }
    else {
      guid_from_disk (u, e + GPTE_UNIQUE_GUID);
      uuid_format (p->uuid, u);
    }
  }

  /* CRCs: the array first, then each header over its header size with
   * its own CRC field zeroed.
   */
  crc = crc32 (entries, array_size);
  put_le32 (primary + GPT_ENTRIES_CRC, crc);
  put_le32 (backup + GPT_ENTRIES_CRC, crc);
  put_le32 (primary + GPT_HDR_CRC, 0);
  put_le32 (primary + GPT_HDR_CRC,
            crc32 (primary, get_le32 (primary + GPT_HDR_SIZE)));
  put_le32 (backup + GPT_HDR_CRC, 0);
  put_le32 (backup + GPT_HDR_CRC,
            crc32 (backup, get_le32 (backup + GPT_HDR_SIZE)));

  if (pwrite_all (fd, entries, array_size, entries_lba * SECTOR,
                  image) == -1 ||
      pwrite_all (fd, entries, array_size, backup_entries_lba * SECTOR,
                  image) == -1 ||
      pwrite_all (fd, primary, SECTOR, SECTOR, image) == -1 ||
      pwrite_all (fd, backup, SECTOR, alt_lba * SECTOR, image) == -1)
    return -1;
  return 0;
}

/* The MBR disk signature (bytes 440-443). */
static int
msdos_patch (int fd, const char *image, struct layout *l)
{
  unsigned char sig[4];

  if (l->disk_signature == 0) {
    if (pread_all (fd, sig, 4, 440, image) == -1)
      return -1;
    l->disk_signature = get_le32 (sig);
    return 0;
  }
  put_le32 (sig, l->disk_signature);
  return pwrite_all (fd, sig, 4, 440, image);
}

/* ---- Writing the table --------------------------------------------- */

/* Compute the offsets and the size of a size-0 last part; fails (with
 * the error reported) if the parts do not fit.
 */
static int
plan (const char *image, struct layout *l)
{
  uint64_t pos = PART_ALIGN, end;
  uint64_t needed = partition_disk_size (l, PART_ALIGN);

  if (l->nparts == 0) {
    error ("%s: a disk layout needs at least one partition", image);
    return -1;
  }
  if (l->disk_size % SECTOR) {
    error ("%s: disk size %" PRIu64 " is not a multiple of %d bytes",
           image, l->disk_size, SECTOR);
    return -1;
  }
  for (size_t i = 0; i < l->nparts; ++i) {
    if (l->parts[i].size == 0 && i != l->nparts - 1) {
      error ("partition %s: only the last partition can take the rest of "
             "the disk (size 0)", PNAME (&l->parts[i]));
      return -1;
    }
    if (l->msdos && l->parts[i].type == PART_BIOS) {
      error ("partition %s: an msdos disk has no BIOS boot partition "
             "(GRUB's core goes in the gap before the first partition)",
             PNAME (&l->parts[i]));
      return -1;
    }
  }
  if (l->msdos && l->nparts > 4) {
    error ("%s: %zu partitions: an msdos table holds at most 4 "
           "(extended partitions are not supported)", image, l->nparts);
    return -1;
  }
  if (needed > l->disk_size) {
    error ("%s: the partitions do not fit on a disk of %" PRIu64 " bytes: "
           "the layout needs at least %" PRIu64 " bytes (%" PRIu64 " MiB)",
           image, l->disk_size, needed, align_up (needed, MiB) / MiB);
    return -1;
  }

  /* Last usable byte + 1, rounded down to the alignment. */
  end = (l->disk_size - tail_bytes (l)) / PART_ALIGN * PART_ALIGN;
  if (!l->msdos && end > l->disk_size - 34 * SECTOR)
    end -= PART_ALIGN;
  for (size_t i = 0; i < l->nparts; ++i) {
    struct part *p = &l->parts[i];
    p->offset = pos;
    if (p->size == 0)
      p->size = end - pos;
    p->size = align_up (p->size, SECTOR);
    pos = align_up (pos + p->size, PART_ALIGN);
  }
  return 0;
}

/* Set up one partition's type (before it is added). */
static int
set_type (PedPartition *pp, const struct layout *l, const struct part *p)
{
  switch (p->type) {
  case PART_BIOS:
    return ped.partition_set_flag (pp, PED_PARTITION_BIOS_GRUB, 1);
  case PART_ESP:
    if (l->msdos)
      return ped.partition_set_flag (pp, PED_PARTITION_ESP, 1);
    return ped.partition_set_flag (pp, PED_PARTITION_BOOT, 1) &&
      ped.partition_set_flag (pp, PED_PARTITION_ESP, 1);
  case PART_SWAP:
  case PART_LINUX:
    /* The type comes from the fs_type given to ped_partition_new. */
    if (l->msdos && p->name && STREQ (p->name, "root"))
      return ped.partition_set_flag (pp, PED_PARTITION_BOOT, 1);
    return 1;
  }
  abort ();
}

int
partition_write (const char *image, struct layout *l)
{
  PedExceptionHandler *old_handler;
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;
  PedConstraint *constraint = NULL;
  CLEANUP_CLOSE int fd = -1;
  int ret = -1;

  if (plan (image, l) == -1 || load_libparted () == -1)
    return -1;

  /* A fresh sparse file of the right size, private: it will hold the
   * image's password hashes and keys.
   */
  fd = open (image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("create %s", image);
    return -1;
  }
  if (ftruncate (fd, l->disk_size) == -1) {
    error_errno ("%s: set size to %" PRIu64, image, l->disk_size);
    return -1;
  }
  close (fd);
  fd = -1;

  parted_message[0] = '\0';
  old_handler = ped.exception_get_handler ();
  ped.exception_set_handler (exception_handler);

  dev = ped.device_get (image);
  if (!dev) {
    parted_error ("%s: libparted could not open the image", image);
    goto out;
  }
  disk = ped.disk_new_fresh (dev, ped.disk_type_get (l->msdos ? "msdos"
                                                     : "gpt"));
  if (!disk) {
    parted_error ("%s: create the %s table", image, l->msdos ? "msdos"
                  : "GPT");
    goto out;
  }
  if (l->msdos && !ped.disk_set_flag (disk, PED_DISK_CYLINDER_ALIGNMENT, 0)) {
    parted_error ("%s: turn off cylinder alignment", image);
    goto out;
  }

  for (size_t i = 0; i < l->nparts; ++i) {
    struct part *p = &l->parts[i];
    PedSector start = p->offset / SECTOR;
    PedSector last = start + p->size / SECTOR - 1;
    const char *fs_name;
    const PedFileSystemType *fs_type;
    PedPartition *pp;
    PedGeometry *geom;

    switch (p->type) {
    case PART_ESP: fs_name = "fat32"; break;
    case PART_SWAP: fs_name = "linux-swap"; break;
    case PART_LINUX: fs_name = "ext2"; break;
    case PART_BIOS: default: fs_name = NULL; break;
    }
    fs_type = fs_name ? ped.file_system_type_get (fs_name) : NULL;
    pp = ped.partition_new (disk, PED_PARTITION_NORMAL, fs_type, start, last);
    if (!pp) {
      parted_error ("%s: partition %s", image, PNAME (p));
      goto out;
    }
    if (!set_type (pp, l, p)) {
      parted_error ("%s: partition %s: set its type", image, PNAME (p));
      ped.partition_destroy (pp);
      goto out;
    }
    if (!l->msdos && p->name && !ped.partition_set_name (pp, p->name)) {
      parted_error ("%s: partition %s: set its name", image, PNAME (p));
      ped.partition_destroy (pp);
      goto out;
    }
    geom = ped.geometry_new (dev, start, last - start + 1);
    if (!geom) {
      parted_error ("%s: partition %s", image, PNAME (p));
      ped.partition_destroy (pp);
      goto out;
    }
    constraint = ped.constraint_exact (geom);
    ped.geometry_destroy (geom);
    if (!constraint || !ped.disk_add_partition (disk, pp, constraint)) {
      parted_error ("%s: add partition %s at sector %lld", image, PNAME (p),
                    (long long) start);
      ped.partition_destroy (pp);
      goto out;
    }
    ped.constraint_destroy (constraint);
    constraint = NULL;
    /* Flags again: adding may have reset the system type. */
    if (!set_type (pp, l, p)) {
      parted_error ("%s: partition %s: set its type", image, PNAME (p));
      goto out;
    }
    p->number = pp->num;
    if (pp->geom.start != start || pp->geom.end != last) {
      error ("%s: partition %s: libparted placed it at sectors "
             "%lld-%lld instead of %lld-%lld", image, PNAME (p),
             (long long) pp->geom.start, (long long) pp->geom.end,
             (long long) start, (long long) last);
      goto out;
    }
  }

  if (!ped.disk_commit_to_dev (disk)) {
    parted_error ("%s: write the partition table", image);
    goto out;
  }
  ped.disk_destroy (disk);
  disk = NULL;
  ped.device_destroy (dev);
  dev = NULL;

  fd = open (image, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", image);
    goto out;
  }
  if ((l->msdos ? msdos_patch (fd, image, l) : gpt_patch (fd, image, l)) == -1)
    goto out;
  if (close (fd) == -1) {
    fd = -1;
    error_errno ("close %s", image);
    goto out;
  }
  fd = -1;

  for (size_t i = 0; i < l->nparts; ++i)
    debug ("partition %d %s: offset %" PRIu64 " size %" PRIu64 " uuid %s",
           l->parts[i].number, PNAME (&l->parts[i]),
           l->parts[i].offset, l->parts[i].size, l->parts[i].uuid);
  ret = 0;

 out:
  if (constraint)
    ped.constraint_destroy (constraint);
  if (disk)
    ped.disk_destroy (disk);
  if (dev)
    ped.device_destroy (dev);
  ped.exception_set_handler (old_handler);
  return ret;
}
