/* mkvmimg build: from a profile to a bootable disk image.
 *
 *   profile -> plan (sizes from an estimate pass over the entries)
 *           -> raw working file: partition table, filesystems
 *           -> entries: root source, kernel, fstab, GRUB files -> ext4
 *           -> boot loader (BIOS boot sector + core, EFI image on the ESP)
 *           -> output through NBD (qcow2/raw file or NBD URI)
 *           -> machine description beside the image
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "arch.h"
#include "build-layout.h"
#include "child.h"
#include "cli.h"
#include "debootstrap.h"
#include "devices.h"
#include "entries.h"
#include "ext4.h"
#include "grub.h"
#include "kernel.h"
#include "machine.h"
#include "modules.h"
#include "nbd_output.h"
#include "partition.h"
#include "profile.h"
#include "rootfs.h"
#include "swap.h"
#include "sysconfig.h"
#include "tempfiles.h"
#include "uuid.h"
#include "vfat.h"

#define MiB (1024ULL * 1024)

struct build_opts {
  const char *profile;          /* PROFILE argument; NULL: built-in default */
  char *output;                 /* -o, --output (popt's copy, freed) */
  int force;                    /* --force */
  int strict;                   /* --strict */
  struct strv sets;             /* --set SECTION.KEY=VALUE */
  int no_cache;                 /* --no-cache */
  int refresh_cache;            /* --refresh-cache */
};

/* Everything the build decided, shared by its stages. */
struct build {
  struct profile *p;
  const struct arch *arch;      /* [image] arch */
  char *root_image;             /* buildroot rootfs.ext2 copied as root */
  const char *output;
  struct kernel kernel;
  struct rootfs_facts facts;    /* what the root source holds */
  struct disk_plan plan;
  struct module_set modules;    /* [module] sections, built */
  bool strict;
  uint64_t data_bytes;          /* file data to populate, from the estimate */
  char *working;                /* the raw working file */
  char *kernel_path, *initrd_path;  /* in the image, for grub.cfg */
  char *cmdline;                /* the full kernel command line */
  bool bios, efi;
  struct sysconfig *sysconf;    /* system configuration, or NULL */
};

/* All entries of the root filesystem, in order: later ones win. */
static int
emit_root_entries (struct build *b, struct entry_sink *sink, bool with_fstab)
{
  CLEANUP_FREE char *fstab = NULL;

  if (rootfs_entries (b->p, &b->facts, sink) == -1)
    return -1;
  if (kernel_entries (&b->kernel, b->facts.modules_prefix, sink) == -1)
    return -1;
  /* Mount points of the other filesystems. */
  for (size_t i = 0; i < b->plan.layout.nparts; ++i) {
    const char *m = b->plan.info[i].mount;
    if (m && !STREQ (m, "/") && b->plan.info[i].fs != FS_SWAP) {
      if (entry_emit_dir (sink, m + 1, 0755) == -1)
        return -1;
    }
  }
  if (with_fstab) {
    fstab = plan_fstab (&b->plan);
    if (!fstab)
      return -1;
  }
  else
    fstab = xstrdup ("");
  if (entry_emit_file (sink, "etc/fstab", 0644, fstab, strlen (fstab)) == -1)
    return -1;
  return 0;
}

/* The root's entries, through the system configuration (sysconfig.h). */
static int
emit_root (struct build *b, struct entry_sink *sink, bool with_fstab)
{
  struct entry_sink *sc;
  int r;

  if (!b->sysconf)
    return emit_root_entries (b, sink, with_fstab);
  sc = sysconfig_sink_new (b->sysconf, sink);
  r = emit_root_entries (b, sc, with_fstab);
  if (r == 0)
    r = sysconfig_sink_end (sc);
  sysconfig_sink_free (sc);
  return r;
}

static void
grub_config_of (const struct build *b, struct grub_config *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->root_uuid = b->plan.info[b->plan.root].fs_uuid;
  cfg->boot_prefix = "/boot";
  cfg->kernel = b->kernel_path;
  cfg->initrd = b->initrd_path;
  cfg->cmdline = profile_get (b->p, "kernel", NULL, "cmdline");
  cfg->timeout = (int) profile_get_int (b->p, "boot", NULL, "timeout");
  cfg->bios = b->bios;
  cfg->efi = b->efi;
  cfg->efi_platform = b->arch->grub_efi;
  cfg->lib_dir = profile_get (b->p, "boot", NULL, "grub-dir");
}

/* GRUB's files in the root filesystem, once the kernel is known. */
static int
emit_grub (struct build *b, struct entry_sink *sink)
{
  struct grub_config cfg;

  if (!b->bios && !b->efi)
    return 0;
  grub_config_of (b, &cfg);
  return grub_rootfs_entries (&cfg, sink);
}

/* Which kernel boots: the profile's, or the newest in the root source. */
static int
choose_kernel (struct build *b)
{
  const char *loader = b->plan.loader;

  if (b->kernel.image) {
    b->kernel_path = xasprintf ("/boot/vmlinuz-%s", b->kernel.release);
    if (b->kernel.initrd)
      b->initrd_path = xasprintf ("/boot/initrd.img-%s", b->kernel.release);
  }
  else if (b->facts.kernel) {
    b->kernel_path = xasprintf ("/%s", b->facts.kernel);
    if (b->facts.initrd)
      b->initrd_path = xasprintf ("/%s", b->facts.initrd);
  }
  if (STREQ (loader, "none")) {
    if (!b->kernel.image) {
      error ("loader = none boots the kernel directly from the host: "
             "set [kernel] image (for example image = host)");
      return -1;
    }
    return 0;
  }
  if (!b->kernel_path) {
    error ("no kernel to boot: the root filesystem has no "
           "/boot/vmlinuz-* and [kernel] image is not set "
           "(or use loader = none)");
    return -1;
  }
  return 0;
}

/* Make the filesystems other than root: ESP, swap, data. */
static int
make_other_filesystems (struct build *b)
{
  const struct disk_plan *plan = &b->plan;

  for (size_t i = 0; i < plan->layout.nparts; ++i) {
    const struct part *part = &plan->parts[i];
    const struct plan_part *info = &plan->info[i];

    if ((int) i == plan->root)
      continue;
    switch (info->fs) {
    case FS_VFAT:
      if (vfat_mkfs (b->working, part->offset, part->size, info->label,
                     info->vfat_id) == -1)
        return -1;
      break;
    case FS_SWAP:
      if (swap_mkswap (b->working, part->offset, part->size, info->fs_uuid,
                       info->label) == -1)
        return -1;
      break;
    case FS_EXT4: {
      struct ext4_opts o = { .label = info->label, .uuid = info->fs_uuid,
                             .hash_seed = plan->hash_seed, .epoch = -1 };
      if (getenv ("SOURCE_DATE_EPOCH"))
        o.epoch = entry_epoch ();
      if (ext4_mkfs (b->working, part->offset, part->size, &o) == -1)
        return -1;
      break;
    }
    case FS_NONE:
      break;
    }
  }
  return 0;
}

/* Passes entries on, drawing the populate progress from file sizes. */
struct progress_sink {
  struct entry_sink sink;
  struct entry_sink *next;
  uint64_t done, total;
};

static int
progress_put (struct entry_sink *sink, struct archive_entry *e,
              struct entry_data *data)
{
  struct progress_sink *ps = sink->opaque;

  if (archive_entry_filetype (e) == AE_IFREG)
    ps->done += archive_entry_size (e);
  progress ("populating", ps->done < ps->total ? ps->done : ps->total,
            ps->total);
  return ps->next->put (ps->next, e, data);
}

static int
populate_root (struct build *b)
{
  const struct part *root = &b->plan.parts[b->plan.root];
  const struct plan_part *pp = &b->plan.info[b->plan.root];
  struct ext4_opts o = { .label = pp->label, .uuid = pp->fs_uuid,
                         .hash_seed = b->plan.hash_seed, .epoch = -1 };
  struct entry_sink *sink;
  int r;

  if (getenv ("SOURCE_DATE_EPOCH"))
    o.epoch = entry_epoch ();
  if (ext4_mkfs (b->working, root->offset, root->size, &o) == -1)
    return -1;
  sink = ext4_sink_new (b->working, root->offset);
  if (!sink)
    return -1;
  info ("populating the root filesystem (%llu MiB)",
        (unsigned long long) (root->size / MiB));
  {
    struct progress_sink ps = {
      .sink = { .put = progress_put, .opaque = &ps },
      .next = sink, .total = b->data_bytes,
    };
    r = emit_root (b, &ps.sink, true);
    if (r == 0)
      r = emit_grub (b, &ps.sink);
    if (r == 0)
      r = modules_entries (b->p, &b->modules, b->facts.modules_prefix,
                           &ps.sink);
    progress ("populating", ps.total, ps.total);
    progress_end ();
  }
  if (r == 0 && sink->finish)
    r = sink->finish (sink);
  ext4_sink_free (sink);
  return r;
}

static int
install_loader (struct build *b)
{
  struct grub_config cfg;

  grub_config_of (b, &cfg);
  if (b->efi) {
    const struct part *esp = &b->plan.parts[b->plan.esp];
    const char *dest = b->arch->efi_boot_file;
    CLEANUP_FREE char *efi = tmpdir_path (strrchr (dest, '/') + 1);
    info ("installing GRUB for UEFI (%s)", b->arch->grub_efi);
    if (!efi || grub_make_efi (efi, &cfg) == -1 ||
        vfat_add_file (b->working, esp->offset, efi, dest) == -1)
      return -1;
  }
  if (b->bios) {
    uint64_t off, max;
    info ("installing GRUB for BIOS");
    if (b->plan.layout.msdos) {
      off = 512;
      max = b->plan.parts[0].offset - 512;
    }
    else {
      off = b->plan.parts[b->plan.bios].offset;
      max = b->plan.parts[b->plan.bios].size;
    }
    if (grub_install_bios (b->working, &cfg, b->plan.layout.msdos, off,
                           max) == -1)
      return -1;
  }
  return 0;
}

/* The files a build makes (the image, its machine file, the kernel,
 * initrd and device tree beside it), written under temporary names and
 * renamed into place together at the end: an interrupted build never
 * leaves a new image with an old machine file, or the other way round.
 */
#define MAX_STAGED 8
struct staged {
  struct atomic_output out[MAX_STAGED];
  size_t n;
};

static struct atomic_output *
stage_begin (struct staged *st, const char *final, bool force)
{
  struct atomic_output *out = &st->out[st->n];

  if (st->n == MAX_STAGED)
    abort ();                   /* a bug: more files than MAX_STAGED */
  if (atomic_output_begin (out, final, force) == -1)
    return NULL;
  st->n++;
  return out;
}

static void
stage_abort (struct staged *st)
{
  for (size_t i = 0; i < st->n; ++i)
    atomic_output_abort (&st->out[i]);   /* no-op once committed */
  st->n = 0;
}

/* Rename everything into place, the first staged (the image) last. */
static int
stage_commit (struct staged *st)
{
  int r = 0;

  /* The data reaches the disk first, so that the renames are quick... */
  for (size_t i = 0; i < st->n; ++i) {
    int fd = open (st->out[i].tmp, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      fsync (fd);
      close (fd);
    }
  }
  /* ... and no signal comes between them. */
  signals_defer ();
  for (size_t i = st->n; i-- > 0 && r == 0; )
    r = atomic_output_commit (&st->out[i], 0644);
  signals_undefer ();
  stage_abort (st);
  return r;
}

/* Copy a host file beside the output (the kernel and initrd of a
 * directly booted machine), staged.
 */
static int
copy_beside (struct staged *st, const char *src, const char *dest,
             bool force)
{
  const char *argv[] = { "cp", "--sparse=always", "--", src, NULL, NULL };
  struct atomic_output *out = stage_begin (st, dest, force);

  if (!out)
    return -1;
  argv[4] = out->tmp;
  return child_run (argv, NULL);
}

/* The device tree of a board that needs one: [machine] dtb, else the
 * board's from a buildroot output.  Caller frees; NULL: none (or -1 in
 * *err with the error reported).
 */
static char *
machine_dtb (struct build *b, const struct board *board, int *err)
{
  CLEANUP_FREE char *dir = rootfs_buildroot_dir (b->p);
  char *dtb = NULL;

  *err = 0;
  if (profile_get_path (b->p, "machine", NULL, "dtb", &dtb) == -1) {
    *err = -1;
    return NULL;
  }
  if (dtb) {
    if (access (dtb, R_OK) == -1) {
      error_errno ("device tree %s (%s)", dtb,
                   profile_where (b->p, "machine", NULL, "dtb"));
      free (dtb);
      *err = -1;
      return NULL;
    }
    return dtb;
  }
  if (dir && board->dtb) {
    dtb = xasprintf ("%s/%s", dir, board->dtb);
    if (access (dtb, R_OK) == 0)
      return dtb;
    free (dtb);
  }
  return NULL;
}

/* The machine the profile describes, without the files that go beside
 * the image (kernel, initrd and device tree keep their host paths).
 * NULL with the error reported.
 */
static struct machine *
machine_of_profile (struct build *b)
{
  CLEANUP_MACHINE struct machine *m = machine_new_for_arch (b->arch);
  const char *loader = b->plan.loader;
  const struct board *board;
  int err;

  free (m->firmware);
  m->firmware = xstrdup (STREQ (loader, "uefi") ? "uefi"
                         : STREQ (loader, "none") ? "direct" : "bios");
  if (STREQ (m->firmware, "uefi")) {
    const char *code = arch_find_fw_code (b->arch);
    const char *vars = arch_find_fw_vars (b->arch);
    free (m->ovmf_code);
    free (m->ovmf_vars);
    m->ovmf_code = code ? xstrdup (code) : NULL;
    m->ovmf_vars = vars ? xstrdup (vars) : NULL;
  }
  m->memory = profile_get_size (b->p, "machine", NULL, "memory");
  m->cpus = (int) profile_get_int (b->p, "machine", NULL, "cpus");
  free (m->qemu);
  m->qemu = xstrdup (profile_get (b->p, "machine", NULL, "qemu"));
  free (m->type);
  m->type = xstrdup (profile_get (b->p, "machine", NULL, "type"));
  free (m->disk);
  m->disk = xstrdup (profile_get (b->p, "machine", NULL, "disk"));
  free (m->nic);
  m->nic = xstrdup (profile_get (b->p, "machine", NULL, "nic"));
  free (m->disk_format);
  m->disk_format = xstrdup (profile_get (b->p, "image", NULL, "format"));
  board = board_find (b->arch, m->type);
  if (board->arch && !STREQ (board->arch, b->arch->name)) {
    error ("%s: machine type %s is an %s board, not %s (%s)",
           profile_where (b->p, "machine", NULL, "type"), m->type,
           board->arch, b->arch->name,
           profile_where (b->p, "image", NULL, "arch"));
    return NULL;
  }
  m->dtb = machine_dtb (b, board, &err);
  if (err)
    return NULL;
  if (STREQ (loader, "none")) {
    m->kernel = b->kernel.image ? xstrdup (b->kernel.image) : NULL;
    m->initrd = b->kernel.initrd ? xstrdup (b->kernel.initrd) : NULL;
    m->cmdline = b->cmdline ? xstrdup (b->cmdline) : NULL;
  }
  else if (m->dtb || board->dtb) {
    error ("machine type %s boots its kernel directly with a device tree: "
           "it needs [boot] loader = none, not %s", m->type, loader);
    return NULL;
  }
  for (size_t i = 0; i < profile_count (b->p, "device"); ++i) {
    const char *name = profile_section_name (b->p, "device", i);
    CLEANUP_STRV char **props = profile_get_list (b->p, "device", name,
                                                  "props");
    machine_add_device (m, name, profile_get (b->p, "device", name, "type"),
                        props);
  }
  if (machine_check_board (m, profile_where (b->p, "machine", NULL,
                                             profile_is_set (b->p, "machine",
                                                             NULL, "type")
                                             ? "type" : "disk")) == -1)
    return NULL;

  struct machine *ret = m;
  m = NULL;
  return ret;
}

/* The machine file and the files beside the image, staged. */
static int
write_machine (struct build *b, bool force, struct staged *staged)
{
  CLEANUP_MACHINE struct machine *m = machine_of_profile (b);
  CLEANUP_FREE char *path = xasprintf ("%s.machine", b->output);
  struct atomic_output *out;
  struct stat st;

  if (!m)
    return -1;
  if (!force && lstat (path, &st) == 0) {
    error ("%s: exists (use --force to replace it)", path);
    return -1;
  }
  /* A directly booted machine's files go beside the image. */
  if (STREQ (m->firmware, "direct")) {
    CLEANUP_FREE char *kernel = xasprintf ("%s.vmlinuz", b->output);
    CLEANUP_FREE char *initrd = xasprintf ("%s.initrd", b->output);
    CLEANUP_FREE char *dtb = xasprintf ("%s.dtb", b->output);
    if (copy_beside (staged, b->kernel.image, kernel, force) == -1)
      return -1;
    free (m->kernel);
    m->kernel = xstrdup (kernel);
    if (m->initrd) {
      if (copy_beside (staged, m->initrd, initrd, force) == -1)
        return -1;
      free (m->initrd);
      m->initrd = xstrdup (initrd);
    }
    if (m->dtb) {
      if (copy_beside (staged, m->dtb, dtb, force) == -1)
        return -1;
      free (m->dtb);
      m->dtb = xstrdup (dtb);
    }
  }
  /* Written under the staged name, in the same directory: the relative
   * paths in it are the same.
   */
  out = stage_begin (staged, path, force);
  if (!out)
    return -1;
  return machine_write (m, out->tmp);
}

/* Before any work: what the architecture and its board can do. */
static int
check_arch (struct build *b)
{
  CLEANUP_MACHINE struct machine *m = NULL;
  const char *loader = b->plan.loader;

  if ((STREQ (loader, "bios") || STREQ (loader, "hybrid"))
      && !b->arch->grub_bios) {
    error ("%s: loader = %s: %s has no BIOS (use uefi or none)",
           profile_where (b->p, "boot", NULL, "loader"), loader,
           b->arch->name);
    return -1;
  }
  if (STREQ (loader, "none") && !b->kernel.image)
    return 0;                   /* choose_kernel says what is missing */
  m = machine_of_profile (b);
  return m ? 0 : -1;
}

/* The superblock of an ext2/3/4 image: its size and UUID. */
static int
read_ext_super (const char *path, uint64_t *bytes_rtn, char uuid_rtn[37])
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  unsigned char sb[1024];
  uint32_t blocks, log_block;

  if (fd == -1) {
    error_errno ("%s", path);
    return -1;
  }
  if (pread (fd, sb, sizeof sb, 1024) != (ssize_t) sizeof sb
      || sb[0x38] != 0x53 || sb[0x39] != 0xef) {
    error ("%s: not an ext2/3/4 filesystem image (no superblock magic)",
           path);
    return -1;
  }
  blocks = sb[4] | sb[5] << 8 | sb[6] << 16 | (uint32_t) sb[7] << 24;
  log_block = sb[0x18] | sb[0x19] << 8;
  if (log_block > 6) {
    error ("%s: implausible block size in the superblock", path);
    return -1;
  }
  *bytes_rtn = (uint64_t) blocks << (10 + log_block);
  uuid_format (uuid_rtn, sb + 0x68);
  return 0;
}

/* A buildroot rootfs.ext2 becomes the root filesystem as it is: copied,
 * and grown with resize2fs to fill its partition.  Nothing is added to
 * it, so it needs no loader (the kernel is booted directly), no
 * [module]s and no system configuration.
 */
static int
check_root_image (struct build *b, uint64_t *bytes_rtn)
{
  const char *loader = b->plan.loader;
  char uuid[37];

  if (!STREQ (loader, "none")) {
    error ("%s is copied as the root filesystem, where GRUB's files "
           "cannot be added: use [boot] loader = none (or give the "
           "buildroot output a rootfs.tar)", b->root_image);
    return -1;
  }
  if (profile_count (b->p, "module") > 0 || b->sysconf) {
    error ("%s is copied as the root filesystem: [module]s and system "
           "configuration cannot be added to it (give the buildroot "
           "output a rootfs.tar)", b->root_image);
    return -1;
  }
  if (read_ext_super (b->root_image, bytes_rtn, uuid) == -1)
    return -1;
  return 0;
}

static int
copy_root_image (struct build *b)
{
  const struct part *root = &b->plan.parts[b->plan.root];
  CLEANUP_FREE char *copy = tmpdir_path ("rootfs.ext");
  CLEANUP_FREE char *size = NULL;
  CLEANUP_FREE char *buf = NULL;
  CLEANUP_CLOSE int in = -1;
  CLEANUP_CLOSE int out = -1;
  const char *src = b->root_image;
  uint64_t bytes, off;
  char uuid[37];
  const size_t chunk = 1024 * 1024;

  if (!copy || read_ext_super (b->root_image, &bytes, uuid) == -1)
    return -1;
  info ("copying %s as the root filesystem (%llu MiB)", b->root_image,
        (unsigned long long) (root->size / MiB));
  if (bytes < root->size) {
    const char *cp[] = { "cp", "--sparse=always", "--", b->root_image,
                         copy, NULL };
    const char *fsck[] = { "e2fsck", "-f", "-p", copy, NULL };
    const char *resize[] = { "resize2fs", "-p", copy, NULL, NULL };
    struct child_opts o = CHILD_OPTS_INIT;
    size = xasprintf ("%lluK", (unsigned long long) (root->size / 1024));
    resize[3] = size;
    o.stdout_fd = STDERR_FILENO;
    /* resize2fs wants a freshly checked filesystem. */
    if (child_run (cp, NULL) == -1 || child_run (fsck, &o) == -1
        || child_run (resize, &o) == -1)
      return -1;
    bytes = root->size;
    src = copy;
  }
  in = open (src, O_RDONLY | O_CLOEXEC);
  out = open (b->working, O_WRONLY | O_CLOEXEC);
  if (in == -1 || out == -1) {
    error_errno ("copy %s to %s", src, b->working);
    return -1;
  }
  buf = xmalloc (chunk);
  /* The working file is sparse: zero chunks are left unwritten. */
  for (off = 0; off < bytes; off += chunk) {
    size_t n = bytes - off < chunk ? bytes - off : chunk;
    ssize_t r = pread (in, buf, n, off);
    bool zero = true;
    if (r != (ssize_t) n) {
      error_errno ("read %s at %llu", src, (unsigned long long) off);
      return -1;
    }
    for (size_t i = 0; i < n && zero; ++i)
      zero = buf[i] == 0;
    if (!zero && pwrite (out, buf, n, root->offset + off) != (ssize_t) n) {
      error_errno ("write %s", b->working);
      return -1;
    }
  }
  if (close (out) == -1) {
    out = -1;
    error_errno ("close %s", b->working);
    return -1;
  }
  out = -1;
  return 0;
}

/* When the kernel's modules are in the root source (a Debian package
 * kernel), depmod's files must list them beside the [module]s, or the
 * target's modprobe loses every module but ours: depmod then reads the
 * host's copy of that release (where the headers the modules build
 * against come from too), linked, not copied.  *host_rtn gets its
 * directory, or NULL when the kernel's modules are known already.
 */
static int
root_modules_on_host (const struct build *b, const char *release,
                      char **host_rtn)
{
  *host_rtn = NULL;
  if (b->kernel.modules || !release || profile_count (b->p, "module") == 0)
    return 0;
  for (size_t i = 0; i < b->facts.module_trees.len; ++i) {
    if (!STREQ (b->facts.module_trees.v[i], release))
      continue;
    CLEANUP_FREE char *host = xasprintf ("/lib/modules/%s", release);
    CLEANUP_FREE char *order = xasprintf ("%s/modules.order", host);
    if (access (order, R_OK) == -1) {
      error ("the root's kernel %s has its own modules, which depmod must "
             "see beside the [module]s: the host has no %s (install "
             "linux-image-%s)", release, order, release);
      return -1;
    }
    *host_rtn = host;
    host = NULL;
    return 0;
  }
  return 0;
}

/* Build the [module]s for the kernel that boots, and check that the
 * [device]s have drivers.
 */
static int
prepare_modules (struct build *b)
{
  CLEANUP_FREE char *release = NULL;
  CLEANUP_FREE char *alias = NULL;

  CLEANUP_FREE char *host_modules = NULL;
  struct kernel k = b->kernel;

  if (b->kernel.release)
    release = xstrdup (b->kernel.release);
  else if (b->kernel_path)
    release = xstrdup (b->kernel_path + strlen ("/boot/vmlinuz-"));
  if (root_modules_on_host (b, release, &host_modules) == -1)
    return -1;
  if (host_modules)
    k.modules = host_modules;
  if (modules_prepare (b->p, &k, release, &b->modules) == -1)
    return -1;
  if (b->modules.staging)
    alias = xasprintf ("%s/lib/modules/%s/modules.alias", b->modules.staging,
                       b->modules.release);
  if (devices_check_drivers (b->p, &b->modules, alias, b->strict) == -1)
    return -1;
  /* Drivers needed before the root is mounted go into the initrd, which
   * then replaces the kernel's in /boot (or beside the image).
   */
  if (modules_want_initramfs (b->p)) {
    char *patched;
    if (!b->kernel.initrd) {
      error ("[module] load = initramfs needs [kernel] initrd");
      return -1;
    }
    if (modules_patch_initrd (b->p, &b->modules, b->kernel.initrd,
                              &patched) == -1)
      return -1;
    free (b->kernel.initrd);
    b->kernel.initrd = patched;
  }
  return 0;
}

/* The estimate pass: how big the root filesystem must be. */
static int
estimate_root (struct build *b, uint64_t *bytes_rtn)
{
  struct ext4_estimate est = { 0 };
  struct entry_sink *sink = ext4_estimate_sink_new (&est);
  const char *margin = profile_get (b->p, "image", NULL, "margin");
  uint64_t base, extra;
  int r;

  if (!sink)
    return -1;
  info ("reading the root filesystem source");
  r = emit_root (b, sink, false);
  /* The source has been seen: now the kernel, hence grub.cfg, is known. */
  if (r == 0)
    r = choose_kernel (b);
  if (r == 0)
    r = emit_grub (b, sink);
  if (r == 0)
    r = prepare_modules (b);
  if (r == 0)
    r = modules_entries (b->p, &b->modules, b->facts.modules_prefix, sink);
  ext4_estimate_sink_free (sink);
  if (r == -1)
    return -1;
  b->data_bytes = est.data_bytes;
  base = ext4_size_for (&est, 0);
  if (margin && margin[strlen (margin) - 1] == '%')
    extra = base * strtoull (margin, NULL, 10) / 100;
  else {
    unsigned long long m = 0;
    if (margin)
      parse_size (margin, &m);
    extra = m;
  }
  *bytes_rtn = ext4_size_for (&est, extra);
  debug ("root content %llu bytes, %llu inodes; filesystem %llu bytes",
         (unsigned long long) est.data_bytes,
         (unsigned long long) est.inodes, (unsigned long long) *bytes_rtn);
  return 0;
}

static int
build (struct build_opts *o)
{
  struct build b = { 0 };
  struct staged staged = { .n = 0 };
  uint64_t root_bytes;
  struct stat st;
  int ret = -1;

  b.p = profile_load (o->profile);
  if (!b.p)
    return -1;
  for (size_t i = 0; i < o->sets.len; ++i)
    if (profile_set (b.p, o->sets.v[i]) == -1)
      goto out;
  if (profile_validate (b.p) == -1)
    goto out;

  b.output = o->output ? o->output : profile_get (b.p, "image", NULL, "output");
  if (!b.output)
    b.output = "mkvmimg.qcow2";
  /* Refuse an existing output before hours of work, not after. */
  if (!nbd_output_is_uri (b.output) && !o->force && lstat (b.output, &st) == 0) {
    error ("%s: output exists (use --force to replace it)", b.output);
    goto out;
  }
  b.strict = o->strict;
  debootstrap_set_cache_mode (o->no_cache ? BASE_CACHE_OFF
                              : o->refresh_cache ? BASE_CACHE_REFRESH
                              : BASE_CACHE_USE);
  if (sysconfig_wanted (b.p) && !(b.sysconf = sysconfig_prepare (b.p)))
    goto out;
  if (devices_check_qemu (b.p) == -1)
    goto out;
  if (kernel_from_profile (b.p, &b.kernel) == -1)
    goto out;
  b.arch = b.kernel.arch;

  /* A first plan to know the loader; the sizes come after the estimate. */
  if (plan_disk (b.p, MiB, &b.plan) == -1)
    goto out;
  b.bios = STREQ (b.plan.loader, "bios") || STREQ (b.plan.loader, "hybrid");
  b.efi = STREQ (b.plan.loader, "uefi") || STREQ (b.plan.loader, "hybrid");
  if (check_arch (&b) == -1)
    goto out;
  if (rootfs_image (b.p, &b.root_image) == 1) {
    char uuid[37];
    if (check_root_image (&b, &root_bytes) == -1 || choose_kernel (&b) == -1
        || read_ext_super (b.root_image, &root_bytes, uuid) == -1)
      goto out;
    plan_free (&b.plan);
    if (plan_disk (b.p, root_bytes, &b.plan) == -1)
      goto out;
    /* The copied filesystem keeps its UUID: root= names it. */
    memcpy (b.plan.info[b.plan.root].fs_uuid, uuid, sizeof uuid);
  }
  else {
    if (estimate_root (&b, &root_bytes) == -1)
      goto out;
    plan_free (&b.plan);
    if (plan_disk (b.p, root_bytes, &b.plan) == -1)
      goto out;
  }
  if (STREQ (b.plan.loader, "none") && !b.kernel.initrd) {
    /* No initramfs to look up a filesystem UUID (a buildroot kernel):
     * the kernel finds a partition UUID itself, once its disk driver
     * has probed (rootwait: SD cards come late).
     */
    CLEANUP_FREE char *partuuid = b.plan.layout.msdos
      ? xasprintf ("%08x-%02d", (unsigned) b.plan.layout.disk_signature,
                   b.plan.root + 1)
      : xstrdup (b.plan.parts[b.plan.root].uuid);
    b.cmdline = xasprintf ("root=PARTUUID=%s rootwait ro %s", partuuid,
                           profile_get (b.p, "kernel", NULL, "cmdline"));
  }
  else
    b.cmdline = xasprintf ("root=UUID=%s ro %s",
                           b.plan.info[b.plan.root].fs_uuid,
                           profile_get (b.p, "kernel", NULL, "cmdline"));

  b.working = tmpdir_path ("disk.raw");
  if (!b.working)
    goto out;
  info ("partitioning (%s, %llu MiB)", b.plan.layout.msdos ? "msdos" : "gpt",
        (unsigned long long) (b.plan.layout.disk_size / MiB));
  if (partition_write (b.working, &b.plan.layout) == -1)
    goto out;
  if (make_other_filesystems (&b) == -1)
    goto out;
  if (b.root_image ? copy_root_image (&b) == -1 : populate_root (&b) == -1)
    goto out;
  if (install_loader (&b) == -1)
    goto out;
  info ("writing %s", b.output);
  if (nbd_output_write_staged (b.working, b.output,
                               profile_get (b.p, "image", NULL, "format"),
                               o->force, &staged.out[0]) == -1)
    goto out;
  if (staged.out[0].tmp)
    staged.n = 1;
  if (!nbd_output_is_uri (b.output) &&
      write_machine (&b, o->force, &staged) == -1)
    goto out;
  if (stage_commit (&staged) == -1)
    goto out;
  info ("built %s", b.output);
  ret = 0;

 out:
  stage_abort (&staged);
  if (b.working)
    unlink (b.working);
  free (b.working);
  free (b.root_image);
  free (b.kernel_path);
  free (b.initrd_path);
  free (b.cmdline);
  plan_free (&b.plan);
  module_set_free (&b.modules);
  rootfs_facts_free (&b.facts);
  kernel_free (&b.kernel);
  sysconfig_free (b.sysconf);
  debootstrap_reset ();
  profile_free (b.p);
  return ret;
}

static int
handle_option (poptContext ctx, int val, void *opaque)
{
  struct build_opts *o = opaque;
  const char *arg = poptGetOptArg (ctx);

  if (val == 's') {
    strv_add (&o->sets, arg);
    free ((char *) arg);
    return 0;
  }
  free ((char *) arg);
  return -1;
}

int
cmd_build (int argc, char **argv)
{
  struct build_opts o = { 0 };
  CLEANUP_POPT poptContext ctx = NULL;
  const char **args;
  struct poptOption options[] = {
    { "output", 'o', POPT_ARG_STRING, &o.output, 0,
      "Write the image to OUTPUT (a file, or an NBD URI)", "OUTPUT" },
    { "force", 'f', POPT_ARG_NONE, &o.force, 0,
      "Replace an existing output", NULL },
    { "strict", '\0', POPT_ARG_NONE, &o.strict, 0,
      "Make driver and device mismatches errors, not warnings", NULL },
    { "set", 's', POPT_ARG_STRING, NULL, 's',
      "Override a profile key", "SECTION[.NAME].KEY=VALUE" },
    { "no-cache", '\0', POPT_ARG_NONE, &o.no_cache, 0,
      "Bootstrap the Debian base afresh; neither read nor fill the cache",
      NULL },
    { "refresh-cache", '\0', POPT_ARG_NONE, &o.refresh_cache, 0,
      "Bootstrap the Debian base afresh and replace its cache entry", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  int r;

  r = cli_parse (&ctx, "build", argc, argv, options, "[PROFILE]",
                 handle_option, &o);
  if (r == 0) {
    args = poptGetArgs (ctx);
    if (args && args[0] && args[1]) {
      usage_error ("build", "one profile at most");
      r = -1;
    }
    else {
      o.profile = args ? args[0] : NULL;
      r = build (&o) == 0 ? 0 : -2;
    }
  }
  strv_free (&o.sets);
  free (o.output);
  return r == 0 || r == 1 ? EXIT_OK : r == -1 ? EXIT_USAGE : EXIT_FAIL;
}
