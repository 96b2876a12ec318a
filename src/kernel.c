/* Kernels from the host: release detection and their entries. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "arch.h"
#include "child.h"
#include "tempfiles.h"
#include "entries.h"
#include "kernel.h"
#include "profile.h"
#include "rootfs.h"

/* x86 boot protocol: "HdrS" at 0x202, and at 0x20e a 16-bit pointer
 * (minus 0x200) to a NUL-terminated version string, "6.1.0-56-amd64
 * (debian-kernel@...) #1 SMP ...".
 */
char *
kernel_release_of (const char *image)
{
  CLEANUP_CLOSE int fd = open (image, O_RDONLY | O_CLOEXEC);
  unsigned char hdr[0x210];
  char version[256];
  unsigned off;
  ssize_t r;
  size_t n;

  if (fd == -1) {
    error_errno ("kernel image %s", image);
    return NULL;
  }
  r = pread (fd, hdr, sizeof hdr, 0);
  if (r != (ssize_t) sizeof hdr || memcmp (hdr + 0x202, "HdrS", 4) != 0) {
    error ("kernel image %s: not an x86 bzImage (no setup header); "
           "give [kernel] release", image);
    return NULL;
  }
  off = (hdr[0x20e] | hdr[0x20f] << 8) + 0x200;
  r = pread (fd, version, sizeof version - 1, off);
  if (r <= 0) {
    error ("kernel image %s: cannot read its version string", image);
    return NULL;
  }
  version[r] = '\0';
  n = strcspn (version, " ");
  if (n == 0 || n >= (size_t) r) {
    error ("kernel image %s: no version string; give [kernel] release", image);
    return NULL;
  }
  version[n] = '\0';
  return xstrdup (version);
}

char *
kernel_release_any (const char *image)
{
  CLEANUP_CLOSE int fd = open (image, O_RDONLY | O_CLOEXEC);
  CLEANUP_FREE char *text = NULL;
  static const char banner[] = "Linux version ";
  const char *base = strrchr (image, '/');
  unsigned char magic[4];
  size_t len;
  char *v;

  if (fd == -1) {
    error_errno ("kernel image %s", image);
    return NULL;
  }
  if (pread (fd, magic, 4, 0x202) == 4 && memcmp (magic, "HdrS", 4) == 0)
    return kernel_release_of (image);
  /* Debian installs /boot/vmlinuz-RELEASE. */
  base = base ? base + 1 : image;
  if (STRPREFIX (base, "vmlinuz-") && base[8])
    return xstrdup (base + 8);
  /* An uncompressed image carries the banner of /proc/version. */
  text = read_whole_file (image, &len);
  if (!text)
    return NULL;
  v = memmem (text, len, banner, sizeof banner - 1);
  if (v) {
    size_t off = v - text + sizeof banner - 1;
    size_t n = 0;
    while (off + n < len && text[off + n] > ' ' && text[off + n] < 127)
      n++;
    if (n > 0 && n < 128)
      return xasprintf ("%.*s", (int) n, text + off);
  }
  error ("kernel image %s: cannot tell its release (not an x86 bzImage, "
         "not named vmlinuz-RELEASE, no version banner: a compressed "
         "zImage?); give [kernel] release", image);
  return NULL;
}

char *
kernel_find_host (void)
{
  DIR *dir = opendir ("/boot");
  struct dirent *d;
  char *best = NULL;

  if (!dir) {
    error_errno ("/boot");
    return NULL;
  }
  while ((d = readdir (dir)) != NULL) {
    if (!STRPREFIX (d->d_name, "vmlinuz-"))
      continue;
    if (!best || version_cmp (d->d_name, best) > 0) {
      free (best);
      best = xstrdup (d->d_name);
    }
  }
  closedir (dir);
  if (!best) {
    error ("no kernel in /boot (install linux-image-amd64: see setup.sh)");
    return NULL;
  }
  char *path = xasprintf ("/boot/%s", best);
  free (best);
  return path;
}

void
kernel_free (struct kernel *k)
{
  free (k->image);
  free (k->initrd);
  free (k->modules);
  free (k->release);
  free (k->busybox);
  memset (k, 0, sizeof *k);
}

static bool
is_dir (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* [kernel] tree = DIR: a kernel build tree.  The image from the arch's
 * build path (arch/x86/boot/bzImage, arch/arm64/boot/Image), the release
 * from include/config/kernel.release, and, when modules were built
 * (modules.order), `make modules_install` into a private staging tree.
 */
static int
kernel_from_tree (const char *tree, struct kernel *k)
{
  CLEANUP_FREE char *release_file = xasprintf ("%s/include/config/kernel.release",
                                               tree);
  CLEANUP_FREE char *order = xasprintf ("%s/modules.order", tree);
  CLEANUP_FREE char *release = NULL;

  k->image = xasprintf ("%s/%s", tree, k->arch->kernel_build);
  if (access (k->image, R_OK) == -1) {
    error_errno ("kernel tree %s: %s (has the kernel been built?)", tree,
                 k->image);
    return -1;
  }
  release = read_whole_file (release_file, NULL);
  if (!release)
    return -1;
  release[strcspn (release, "\n")] = '\0';
  if (!*release) {
    error ("kernel tree %s: %s is empty", tree, release_file);
    return -1;
  }
  k->release = xstrdup (release);
  if (access (order, R_OK) == 0) {
    CLEANUP_FREE char *staging = tmpdir_path ("kernel-modules");
    CLEANUP_FREE char *mod_path = NULL;
    if (!staging)
      return -1;
    mod_path = xasprintf ("INSTALL_MOD_PATH=%s", staging);
    const char *argv[] = { "make", "-s", "-C", tree, mod_path,
                           "INSTALL_MOD_STRIP=1", "DEPMOD=true",
                           "modules_install", NULL };
    struct child_opts o = CHILD_OPTS_INIT;
    o.stdout_fd = STDERR_FILENO;
    o.own_group = true;
    info ("installing the modules of %s", tree);
    if (child_run (argv, &o) == -1)
      return -1;
    k->modules = xasprintf ("%s/lib/modules/%s", staging, k->release);
  }
  return 0;
}

int
kernel_from_profile (const struct profile *p, struct kernel *k)
{
  CLEANUP_FREE char *tree = NULL;
  CLEANUP_FREE char *image = NULL;
  CLEANUP_FREE char *initrd = NULL;
  CLEANUP_FREE char *modules = NULL;
  CLEANUP_FREE char *busybox = NULL;
  CLEANUP_FREE char *buildroot = NULL;
  const char *release = profile_get (p, "kernel", NULL, "release");
  const struct arch *host_arch = arch_host ();
  bool host;

  memset (k, 0, sizeof *k);
  k->arch = arch_lookup (profile_where (p, "image", NULL, "arch"),
                         profile_get (p, "image", NULL, "arch"));
  if (!k->arch)
    return -1;
  if (profile_get_path (p, "kernel", NULL, "tree", &tree) == -1 ||
      profile_get_path (p, "kernel", NULL, "image", &image) == -1 ||
      profile_get_path (p, "kernel", NULL, "initrd", &initrd) == -1 ||
      profile_get_path (p, "kernel", NULL, "modules", &modules) == -1 ||
      profile_get_path (p, "kernel", NULL, "busybox", &busybox) == -1)
    return -1;
  k->busybox = xstrdup (busybox ? busybox : "/bin/busybox");
  /* A buildroot output brings its kernel (zImage, Image, bzImage). */
  buildroot = rootfs_buildroot_dir (p);
  if (!image && !tree && buildroot) {
    CLEANUP_FREE char *br = xasprintf ("%s/%s", buildroot,
                                       k->arch->kernel_name);
    if (access (br, R_OK) == 0) {
      debug ("the kernel of the buildroot output: %s", br);
      image = br;
      br = NULL;
    }
  }
  if (host_arch != k->arch
      && ((image && STREQ (image, "host")) || (initrd && STREQ (initrd, "host"))
          || (modules && STREQ (modules, "host")))) {
    error ("%s: \"host\" means this %s host's kernel, not an %s one: give "
           "the path of an %s kernel (for example /boot/vmlinuz-* from "
           "Debian's %s, unpacked with dpkg-deb -x)",
           profile_where (p, "kernel", NULL, "image"),
           host_arch ? host_arch->name : "unknown", k->arch->name,
           k->arch->name, k->arch->kernel_package);
    goto error;
  }
  if (tree && image) {
    error ("%s: [kernel] takes image or tree, not both",
           profile_where (p, "kernel", NULL, "tree"));
    goto error;
  }
  if (tree) {
    if (kernel_from_tree (tree, k) == -1)
      goto error;
    if (initrd && STREQ (initrd, "busybox"))
      return initrd_busybox_make (k, &k->initrd);
    if (initrd && !STREQ (initrd, "none"))
      k->initrd = xstrdup (initrd);
    return 0;
  }
  if (!image)
    return 0;
  host = STREQ (image, "host");
  k->image = host ? kernel_find_host () : xstrdup (image);
  if (!k->image)
    goto error;
  if (access (k->image, R_OK) == -1) {
    error_errno ("kernel image %s (%s)", k->image,
                 profile_where (p, "kernel", NULL, "image"));
    goto error;
  }
  {
    /* A kernel of another architecture would only fail in QEMU. */
    const struct arch *ka = arch_of_kernel (k->image);
    if (ka && ka != k->arch) {
      error ("kernel image %s is an %s kernel, not %s (%s)", k->image,
             ka->name, k->arch->name,
             profile_where (p, "image", NULL, "arch"));
      goto error;
    }
  }
  k->release = release ? xstrdup (release) : kernel_release_any (k->image);
  if (!k->release)
    goto error;

  /* "host" brings the host's initrd and modules of that release. */
  if (initrd && STREQ (initrd, "host"))
    k->initrd = xasprintf ("/boot/initrd.img-%s", k->release);
  else if (initrd && STREQ (initrd, "busybox"))
    ;                           /* made once the modules are known */
  else if (initrd && !STREQ (initrd, "none"))
    k->initrd = xstrdup (initrd);
  if (k->initrd && access (k->initrd, R_OK) == -1) {
    error_errno ("initrd %s (%s)", k->initrd,
                 profile_where (p, "kernel", NULL, "initrd"));
    goto error;
  }
  if (modules && STREQ (modules, "host"))
    k->modules = xasprintf ("/lib/modules/%s", k->release);
  else if (modules && !STREQ (modules, "none")) {
    /* Either DIR/lib/modules/REL (a staging tree) or the REL dir. */
    CLEANUP_FREE char *staged = xasprintf ("%s/lib/modules/%s", modules,
                                           k->release);
    k->modules = xstrdup (is_dir (staged) ? staged : modules);
  }
  if (k->modules && !is_dir (k->modules)) {
    error ("modules %s: not a directory (%s)", k->modules,
           profile_where (p, "kernel", NULL, "modules"));
    goto error;
  }
  if (initrd && STREQ (initrd, "busybox") &&
      initrd_busybox_make (k, &k->initrd) == -1)
    goto error;
  return 0;

 error:
  kernel_free (k);
  return -1;
}

/* Pass entries of a host directory on under a new prefix. */
struct prefix_sink {
  struct entry_sink sink;
  struct entry_sink *next;
  const char *prefix;
};

static int
prefix_put (struct entry_sink *sink, struct archive_entry *e,
            struct entry_data *data)
{
  struct prefix_sink *ps = sink->opaque;
  const char *path = archive_entry_pathname (e);
  CLEANUP_FREE char *newpath = STREQ (path, ".")
    ? xstrdup (ps->prefix) : xasprintf ("%s/%s", ps->prefix, path);
  const char *link = archive_entry_hardlink (e);

  archive_entry_copy_pathname (e, newpath);
  if (link) {
    CLEANUP_FREE char *newlink = xasprintf ("%s/%s", ps->prefix, link);
    archive_entry_copy_hardlink (e, newlink);
  }
  /* The host's modules tree belongs to root in the image. */
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_set_uname (e, "root");
  archive_entry_set_gname (e, "root");
  return ps->next->put (ps->next, e, data);
}

int
kernel_entries (const struct kernel *k, const char *modules_prefix,
                struct entry_sink *sink)
{
  CLEANUP_FREE char *vmlinuz = NULL;
  CLEANUP_FREE char *initrd = NULL;
  CLEANUP_FREE char *moddir = NULL;

  if (!k->image)
    return 0;
  vmlinuz = xasprintf ("boot/vmlinuz-%s", k->release);
  if (entry_emit_dir (sink, "boot", 0755) == -1 ||
      entry_emit_host_file (sink, vmlinuz, 0644, k->image) == -1)
    return -1;
  if (k->initrd) {
    initrd = xasprintf ("boot/initrd.img-%s", k->release);
    if (entry_emit_host_file (sink, initrd, 0644, k->initrd) == -1)
      return -1;
  }
  if (k->modules) {
    struct prefix_sink ps = {
      .sink = { .put = prefix_put, .opaque = &ps },
      .next = sink,
    };
    moddir = xasprintf ("%s/%s", modules_prefix, k->release);
    ps.prefix = moddir;
    if (source_directory (k->modules, &ps.sink) == -1)
      return -1;
  }
  return 0;
}
