/* Opening an existing image: qemu-nbd by socket activation for a local
 * file, nbd_connect_uri for a URI, and the partition table read through
 * NBD (GPT with its hybrid MBR, or msdos with logical partitions).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <libnbd.h>

#include "mkvmimg.h"
#include "child.h"
#include "image-open.h"
#include "nbd_output.h"
#include "tempfiles.h"

#define SECTOR 512

static uint16_t
le16 (const unsigned char *p)
{
  return p[0] | p[1] << 8;
}

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static uint64_t
le64 (const unsigned char *p)
{
  return le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

void
image_guid_string (const unsigned char *g, char *out)
{
  snprintf (out, 37,
            "%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
            le32 (g), le16 (g + 4), le16 (g + 6), g[8], g[9], g[10], g[11],
            g[12], g[13], g[14], g[15]);
}

const char *
image_probe_format (const char *path)
{
  unsigned char magic[4];
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t r;

  if (fd == -1) {
    error_errno ("open %s", path);
    return NULL;
  }
  r = read (fd, magic, sizeof magic);
  if (r == -1) {
    error_errno ("read %s", path);
    return NULL;
  }
  if (r == 4 && memcmp (magic, "QFI\xfb", 4) == 0)
    return "qcow2";
  return "raw";
}

static int
connect_local (struct image *img)
{
  struct strv argv = { 0 };
  int r;

  strv_add (&argv, "qemu-nbd");
  strv_add (&argv, "-f");
  strv_add (&argv, img->format);
  if (img->readonly) {
    strv_add (&argv, "--read-only");
  }
  else
    strv_add (&argv, "--cache=unsafe");
  strv_add (&argv, img->name);
  if (verbose) {
    CLEANUP_FREE char *q = shell_quote (img->name);
    debug ("running (socket activation): qemu-nbd -f %s%s %s", img->format,
           img->readonly ? " --read-only" : " --cache=unsafe",
           q);
  }
  /* Registered before the handshake, so that a signal leaves no
   * qemu-nbd behind (closing the image unregisters it).
   */
  r = nbd_start_qemu_nbd (img->h, argv.v, &img->pid);
  strv_free (&argv);
  if (r == -1) {
    const char *msg = nbd_get_error ();
    error ("open %s: start qemu-nbd: %s", img->name,
           msg ? msg : "the server closed the connection");
    return -1;
  }
  return 0;
}

int
image_pread (struct image *img, void *buf, size_t len, uint64_t offset)
{
  if (offset > img->size || len > img->size - offset) {
    error ("read %s: %zu bytes at %" PRIu64 ": past the end of the image "
           "(%" PRIu64 " bytes)", img->name, len, offset, img->size);
    return -1;
  }
  if (nbd_pread (img->h, buf, len, offset, 0) == -1) {
    error ("read %s: %s", img->name, nbd_get_error ());
    return -1;
  }
  return 0;
}

static const struct {
  const char *guid, *kind;
} gpt_kinds[] = {
  { "21686148-6449-6E6F-744E-656564454649", "bios-boot" },
  { "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "esp" },
  { "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "linux" },
  { "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "linux" },   /* x86-64 root */
  { "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "swap" },
  { "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "basic-data" },
  { "E6D6D379-F507-44C2-A23C-238F2A3DF928", "lvm" },
  { "A19D880F-05FC-4D3B-A006-743F0F84911E", "raid" },
};

static const char *
msdos_kind (unsigned type)
{
  switch (type) {
  case 0x83: return "linux";
  case 0x82: return "swap";
  case 0xef: return "esp";
  case 0x05: case 0x0f: case 0x85: return "extended";
  case 0x01: case 0x04: case 0x06: case 0x0b: case 0x0c: case 0x0e:
    return "basic-data";
  case 0x8e: return "lvm";
  case 0xfd: return "raid";
  default: return "other";
  }
}

static struct image_partition *
add_part (struct image *img)
{
  struct image_partition *p;

  img->parts = xrealloc (img->parts, (img->nparts + 1) * sizeof *img->parts);
  p = &img->parts[img->nparts++];
  memset (p, 0, sizeof *p);
  return p;
}

/* UTF-16LE GPT name to UTF-8 (BMP only). */
static char *
gpt_name (const unsigned char *n)
{
  char out[36 * 3 + 1];
  size_t o = 0;

  for (int i = 0; i < 36; ++i) {
    unsigned c = le16 (n + 2 * i);
    if (c == 0)
      break;
    if (c < 0x80)
      out[o++] = c;
    else if (c < 0x800) {
      out[o++] = 0xc0 | c >> 6;
      out[o++] = 0x80 | (c & 0x3f);
    }
    else {
      out[o++] = 0xe0 | c >> 12;
      out[o++] = 0x80 | (c >> 6 & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  out[o] = '\0';
  return xstrdup (out);
}

static int
read_gpt (struct image *img)
{
  unsigned char hdr[SECTOR];
  CLEANUP_FREE unsigned char *entries = NULL;
  uint64_t lba;
  uint32_t n, esize;
  char guid[37];

  if (image_pread (img, hdr, SECTOR, SECTOR) == -1)
    return -1;
  if (memcmp (hdr, "EFI PART", 8) != 0) {
    error ("read %s: a protective MBR but no GPT header", img->name);
    return -1;
  }
  lba = le64 (hdr + 72);
  n = le32 (hdr + 80);
  esize = le32 (hdr + 84);
  if (esize < 128 || esize > 4096 || n > 1024) {
    error ("read %s: GPT header: %" PRIu32 " entries of %" PRIu32 " bytes",
           img->name, n, esize);
    return -1;
  }
  image_guid_string (hdr + 56, guid);
  img->disk_uuid = xstrdup (guid);
  entries = xmalloc ((size_t) n * esize);
  if (image_pread (img, entries, (size_t) n * esize, lba * SECTOR) == -1)
    return -1;
  for (uint32_t i = 0; i < n; ++i) {
    const unsigned char *e = entries + (size_t) i * esize;
    struct image_partition *p;
    static const unsigned char zero[16];

    if (memcmp (e, zero, 16) == 0)
      continue;
    p = add_part (img);
    p->number = i + 1;
    image_guid_string (e, guid);
    p->type = xstrdup (guid);
    p->kind = "other";
    for (size_t k = 0; k < sizeof gpt_kinds / sizeof gpt_kinds[0]; ++k)
      if (STREQ (gpt_kinds[k].guid, guid))
        p->kind = gpt_kinds[k].kind;
    image_guid_string (e + 16, guid);
    p->uuid = xstrdup (guid);
    p->start = le64 (e + 32) * SECTOR;
    p->size = (le64 (e + 40) - le64 (e + 32) + 1) * SECTOR;
    p->bootable = le64 (e + 48) & 4;
    p->name = gpt_name (e + 56);
  }
  img->table = xstrdup ("gpt");
  return 0;
}

static void
msdos_entry (struct image *img, const unsigned char *e, uint64_t base,
             int number, uint32_t sig)
{
  struct image_partition *p = add_part (img);

  p->number = number;
  p->type = xasprintf ("0x%02x", e[4]);
  p->kind = msdos_kind (e[4]);
  p->start = (base + le32 (e + 8)) * SECTOR;
  p->size = (uint64_t) le32 (e + 12) * SECTOR;
  p->bootable = e[0] == 0x80;
  p->uuid = xasprintf ("%08" PRIx32 "-%02x", sig, number);
}

static int
read_msdos (struct image *img, const unsigned char *mbr)
{
  uint32_t sig = le32 (mbr + 440);
  int logical = 5;

  img->table = xstrdup ("msdos");
  img->disk_uuid = xasprintf ("%08" PRIx32, sig);
  for (int i = 0; i < 4; ++i) {
    const unsigned char *e = mbr + 446 + 16 * i;
    uint64_t ext, ebr;

    if (e[4] == 0 || le32 (e + 12) == 0)
      continue;
    msdos_entry (img, e, 0, i + 1, sig);
    if (!STREQ (msdos_kind (e[4]), "extended"))
      continue;
    /* The chain of extended boot records: logical partitions. */
    ext = ebr = le32 (e + 8);
    for (int guard = 0; guard < 128; ++guard) {
      unsigned char b[SECTOR];
      if (image_pread (img, b, SECTOR, ebr * SECTOR) == -1)
        return -1;
      if (b[510] != 0x55 || b[511] != 0xaa)
        break;
      if (b[446 + 4] != 0)
        msdos_entry (img, b + 446, ebr, logical++, sig);
      if (b[462 + 4] == 0 || le32 (b + 462 + 8) == 0)
        break;
      ebr = ext + le32 (b + 462 + 8);
    }
  }
  return 0;
}

static int
read_table (struct image *img)
{
  unsigned char mbr[SECTOR];
  bool protective = false, others = false;

  if (img->size < 2 * SECTOR)
    return 0;
  if (image_pread (img, mbr, SECTOR, 0) == -1)
    return -1;
  if (mbr[510] != 0x55 || mbr[511] != 0xaa)
    return 0;
  for (int i = 0; i < 4; ++i) {
    unsigned type = mbr[446 + 16 * i + 4];
    if (type == 0xee)
      protective = true;
    else if (type != 0)
      others = true;
  }
  if (protective) {
    img->hybrid = others;
    return read_gpt (img);
  }
  /* A filesystem boot sector (vfat) also ends in 55 aa: a partition
   * table has sane entries only.
   */
  for (int i = 0; i < 4; ++i) {
    const unsigned char *e = mbr + 446 + 16 * i;
    if ((e[0] != 0 && e[0] != 0x80) ||
        (e[4] != 0 && (uint64_t) le32 (e + 8) * SECTOR >= img->size))
      return 0;
  }
  if (!others)
    return 0;
  return read_msdos (img, mbr);
}

struct image *
image_open (const char *path, const char *format, bool readonly)
{
  struct image *img = xcalloc (1, sizeof *img);
  int64_t size;

  img->name = xstrdup (path);
  img->readonly = readonly;
  img->is_uri = nbd_output_is_uri (path);
  img->h = nbd_create ();
  if (!img->h) {
    error ("open %s: %s", path, nbd_get_error ());
    goto error;
  }
  if (verbose)
    nbd_set_debug (img->h, true);
  if (img->is_uri) {
    if (nbd_connect_uri (img->h, path) == -1) {
      error ("open %s: %s", path, nbd_get_error ());
      goto error;
    }
    if (!readonly && nbd_is_read_only (img->h) > 0) {
      error ("open %s: the NBD export is read-only", path);
      goto error;
    }
  }
  else {
    struct stat st;
    if (stat (path, &st) == -1) {
      error_errno ("open %s", path);
      goto error;
    }
    if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
      error ("open %s: not a regular file or block device", path);
      goto error;
    }
    img->allocated = (uint64_t) st.st_blocks * 512;
    if (!format) {
      format = image_probe_format (path);
      if (!format)
        goto error;
    }
    img->format = xstrdup (format);
    if (connect_local (img) == -1)
      goto error;
  }
  size = nbd_get_size (img->h);
  if (size == -1) {
    error ("open %s: %s", path, nbd_get_error ());
    goto error;
  }
  img->size = size;
  if (read_table (img) == -1)
    goto error;
  return img;

 error:
  image_close (img, true);
  return NULL;
}

int
image_close (struct image *img, bool failed)
{
  int r = 0;

  if (!img)
    return 0;
  if (img->h) {
    if (failed)
      nbd_kill_subprocess (img->h, SIGTERM);
    else {
      if (!img->readonly && nbd_can_flush (img->h) > 0 &&
          nbd_flush (img->h, 0) == -1) {
        error ("write %s: flush: %s", img->name, nbd_get_error ());
        r = -1;
      }
      if (nbd_shutdown (img->h, 0) == -1) {
        error ("close %s: %s", img->name, nbd_get_error ());
        r = -1;
      }
    }
    nbd_close (img->h);
    temp_foreign_forget ();
  }
  if (img->pid > 0)
    child_unregister (img->pid);
  for (size_t i = 0; i < img->nparts; ++i) {
    free (img->parts[i].type);
    free (img->parts[i].name);
    free (img->parts[i].uuid);
  }
  free (img->parts);
  free (img->table);
  free (img->disk_uuid);
  free (img->format);
  free (img->name);
  free (img);
  return r;
}
