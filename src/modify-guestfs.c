/* mkvmimg modify through libguestfs: the fallback for a root that is
 * not ext2/3/4 (XFS, btrfs, ...).  libguestfs boots its appliance on the
 * overlay (tens of seconds under TCG); the same overlay-then-commit
 * rule applies, since the caller commits only on success.  Files, SSH
 * keys, the root password and the command line in grub.cfg are
 * supported; modules and initramfs patching only natively.
 */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#ifdef HAVE_LIBGUESTFS
#include <guestfs.h>
#endif

#include "mkvmimg.h"
#include "entries.h"
#include "modify.h"

#ifndef HAVE_LIBGUESTFS

int
modify_guestfs (const char *image, const char *overlay,
                const struct modify_opts *o)
{
  error ("modify %s: no ext2/3/4 root filesystem (other filesystems need "
         "libguestfs, which this mkvmimg was built without)", image);
  return -1;
}

#else

/* libguestfs is loaded when this fallback runs, not linked: with it
 * come 37 more libraries (libvirt, glib, krb5, curl, libxml2, ...)
 * that the dynamic loader would map and relocate at the start of every
 * command, initramfs and --version included, for a path few images
 * take.  Only <guestfs.h> is used at build time; the pointers take
 * their types from it.  The variadic calls (guestfs_add_drive_opts)
 * go through their _argv forms, which take a struct.
 */
#define LIBGUESTFS_SONAME "libguestfs.so.0"
#define GUESTFS_FUNCTIONS(F) \
  F (create) F (close) F (last_error) F (set_error_handler) \
  F (set_verbose) F (set_trace) \
  F (add_drive_opts_argv) F (launch) F (shutdown) \
  F (list_filesystems) F (mount) F (umount_all) F (vfs_uuid) \
  F (is_dir) F (exists) F (mkdir_p) F (rm_rf) \
  F (upload) F (chmod) F (chown) F (read_file) F (write)

static struct {
  void *handle;
#define GFS_MEMBER(name) __typeof__ (guestfs_##name) *name;
  GUESTFS_FUNCTIONS (GFS_MEMBER)
#undef GFS_MEMBER
} gfs;

/* Once per process; the library stays loaded until exit. */
static int
load_libguestfs (const char *image)
{
  void *h;

  if (gfs.handle)
    return 0;
  h = dlopen (LIBGUESTFS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    error ("modify %s: load libguestfs, needed for a root that is not "
           "ext2/3/4 (Debian package libguestfs0): %s", image, dlerror ());
    return -1;
  }
#define GFS_LOOKUP(name)                                            \
  gfs.name = (__typeof__ (gfs.name)) dlsym (h, "guestfs_" #name);   \
  if (!gfs.name) {                                                  \
    error ("modify %s: %s: no symbol guestfs_" #name ": %s", image, \
           LIBGUESTFS_SONAME, dlerror ());                          \
    dlclose (h);                                                    \
    return -1;                                                      \
  }
  GUESTFS_FUNCTIONS (GFS_LOOKUP)
#undef GFS_LOOKUP
  gfs.handle = h;
  return 0;
}

static int
gerr (guestfs_h *g, const char *what)
{
  const char *e = gfs.last_error (g);
  error ("modify through libguestfs: %s: %s", what, e ? e : "failed");
  return -1;
}

/* Mount the filesystem holding /etc or /sbin/init at "/".  0 or -1. */
static int
mount_root (guestfs_h *g, const char *image, char **uuid_rtn)
{
  char **fss = gfs.list_filesystems (g);
  int r = -1;

  if (!fss)
    return gerr (g, "list filesystems");
  for (size_t i = 0; fss[i] && fss[i + 1] && r == -1; i += 2) {
    const char *dev = fss[i], *type = fss[i + 1];
    if (STREQ (type, "swap") || STREQ (type, "unknown"))
      continue;
    if (gfs.mount (g, dev, "/") == -1)
      continue;
    if (gfs.is_dir (g, "/etc") > 0 || gfs.exists (g, "/sbin/init") > 0) {
      debug ("libguestfs: the root is %s (%s)", dev, type);
      *uuid_rtn = gfs.vfs_uuid (g, dev);
      r = 0;
    }
    else
      gfs.umount_all (g);
  }
  for (size_t i = 0; fss[i]; ++i)
    free (fss[i]);
  free (fss);
  if (r == -1)
    error ("modify %s: no root filesystem found (libguestfs)", image);
  return r;
}

static int
add_file (guestfs_h *g, const char *arg)
{
  struct modify_add a;
  CLEANUP_FREE char *dest = NULL;
  CLEANUP_FREE char *dir = NULL;
  struct stat st;
  int r = -1;

  if (modify_parse_add (arg, &a) == -1)
    return -1;
  dest = xasprintf ("/%s", a.dest);
  dir = xstrdup (dest);
  *strrchr (dir, '/') = '\0';
  if (stat (a.src, &st) == -1)
    error_errno ("--add %s", a.src);
  else if (!S_ISREG (st.st_mode))
    error ("--add %s: through libguestfs only regular files", a.src);
  else if (*dir && gfs.mkdir_p (g, dir) == -1)
    gerr (g, dir);
  else if (gfs.upload (g, a.src, dest) == -1 ||
           gfs.chmod (g, a.set_mode ? a.mode : st.st_mode & 07777,
                      dest) == -1 ||
           gfs.chown (g, a.set_owner ? a.uid : 0,
                      a.set_owner ? a.gid : 0, dest) == -1)
    gerr (g, dest);
  else {
    info ("adding %s", dest);
    r = 0;
  }
  modify_add_free (&a);
  return r;
}

/* The whole of a file, or NULL with *missing set when it is not there. */
static char *
read_file (guestfs_h *g, const char *path, bool *missing)
{
  size_t len;
  char *buf, *text;

  *missing = false;
  if (gfs.exists (g, path) == 0) {
    *missing = true;
    return NULL;
  }
  buf = gfs.read_file (g, path, &len);
  if (!buf) {
    gerr (g, path);
    return NULL;
  }
  text = xmalloc (len + 1);
  memcpy (text, buf, len);
  text[len] = '\0';
  free (buf);
  return text;
}

static int
write_file (guestfs_h *g, const char *path, const char *text, int mode)
{
  if (gfs.write (g, path, text, strlen (text)) == -1 ||
      (mode >= 0 && gfs.chmod (g, mode, path) == -1))
    return gerr (g, path);
  return 0;
}

static int
changes (guestfs_h *g, const char *image, const struct modify_opts *o)
{
  CLEANUP_FREE char *uuid = NULL;
  bool missing;

  if (mount_root (g, image, &uuid) == -1)
    return -1;
  for (size_t i = 0; i < o->removes.len; ++i) {
    CLEANUP_FREE char *path = entry_path_normalise (o->removes.v[i]);
    CLEANUP_FREE char *abs = NULL;
    if (!path)
      return -1;
    abs = xasprintf ("/%s", path);
    if (gfs.exists (g, abs) == 0) {
      error ("remove %s: no such file or directory", abs);
      return -1;
    }
    info ("removing %s", abs);
    if (gfs.rm_rf (g, abs) == -1)
      return gerr (g, abs);
  }
  for (size_t i = 0; i < o->adds.len; ++i)
    if (add_file (g, o->adds.v[i]) == -1)
      return -1;
  if (o->ssh_keys.len) {
    CLEANUP_FREE char *old = read_file (g, "/root/.ssh/authorized_keys",
                                        &missing);
    CLEANUP_FREE char *text = NULL;
    if (!old && !missing)
      return -1;
    text = modify_authorized_keys (old, &o->ssh_keys);
    if (!text)
      return -1;
    info ("adding SSH keys to /root/.ssh/authorized_keys");
    if (gfs.mkdir_p (g, "/root/.ssh") == -1 ||
        gfs.chmod (g, 0700, "/root/.ssh") == -1)
      return gerr (g, "/root/.ssh");
    if (write_file (g, "/root/.ssh/authorized_keys", text, 0600) == -1)
      return -1;
  }
  if (o->password_file) {
    CLEANUP_FREE char *hash = modify_hash_password (o->password_file);
    CLEANUP_FREE char *old = NULL;
    CLEANUP_FREE char *text = NULL;
    if (!hash)
      return -1;
    old = read_file (g, "/etc/shadow", &missing);
    if (!old && !missing)
      return -1;
    text = modify_new_shadow (old ? old : "", hash);
    info ("setting the root password in /etc/shadow");
    /* guestfs_write keeps the owner and mode of an existing file. */
    if (write_file (g, "/etc/shadow", text, missing ? 0640 : -1) == -1)
      return -1;
    explicit_bzero (text, strlen (text));
  }
  if (o->cmdline) {
    CLEANUP_FREE char *old = read_file (g, "/boot/grub/grub.cfg", &missing);
    CLEANUP_FREE char *text = NULL;
    if (!old) {
      if (missing)
        error ("modify --cmdline: the image has no /boot/grub/grub.cfg");
      return -1;
    }
    text = modify_new_grub_cfg (old, uuid ? uuid : "", o->cmdline);
    if (!text)
      return -1;
    info ("writing /boot/grub/grub.cfg");
    if (write_file (g, "/boot/grub/grub.cfg", text, -1) == -1)
      return -1;
  }
  return 0;
}

int
modify_guestfs (const char *image, const char *overlay,
                const struct modify_opts *o)
{
  const struct guestfs_add_drive_opts_argv drive = {
    .bitmask = GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK,
    .format = "qcow2",
  };
  guestfs_h *g;
  int r = -1;

  if (o->modules.len || o->profile || o->initramfs_adds.len) {
    error ("modify %s: the root is not ext2/3/4: --module, --profile and "
           "--initramfs-add are done natively only", image);
    return -1;
  }
  if (load_libguestfs (image) == -1)
    return -1;
  info ("the root is not ext2/3/4: modifying through libguestfs "
        "(it boots an appliance: slow)");
  g = gfs.create ();
  if (!g) {
    error ("modify %s: guestfs_create failed", image);
    return -1;
  }
  gfs.set_error_handler (g, NULL, NULL);
  if (verbose) {
    gfs.set_verbose (g, 1);
    gfs.set_trace (g, 1);
  }
  if (gfs.add_drive_opts_argv (g, overlay, &drive) == -1 ||
      gfs.launch (g) == -1)
    gerr (g, "start the appliance");
  else if (changes (g, image, o) == 0) {
    if (gfs.umount_all (g) == -1 || gfs.shutdown (g) == -1)
      gerr (g, "write the changes");
    else
      r = 0;
  }
  gfs.close (g);
  return r;
}

#endif /* HAVE_LIBGUESTFS */
