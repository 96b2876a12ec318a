/* Root filesystem sources, and the facts the build reads from them. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "arch.h"
#include "debootstrap.h"
#include "entries.h"
#include "rootfs.h"

struct watch_sink {
  struct entry_sink sink;
  struct entry_sink *next;
  struct rootfs_facts *facts;
};

/* Whether path is "[usr/]lib/modules/REL/modules.order": a kernel's
 * module tree in the root.  *release gets a copy of REL.
 */
static bool
modules_order_release (const char *path, char **release)
{
  const char *rel, *slash;

  if (STRPREFIX (path, "usr/"))
    path += 4;
  if (!STRPREFIX (path, "lib/modules/"))
    return false;
  rel = path + strlen ("lib/modules/");
  slash = strchr (rel, '/');
  if (!slash || slash == rel || !STREQ (slash, "/modules.order"))
    return false;
  *release = xasprintf ("%.*s", (int) (slash - rel), rel);
  return true;
}

static int
watch_put (struct entry_sink *sink, struct archive_entry *e,
           struct entry_data *data)
{
  struct watch_sink *w = sink->opaque;
  struct rootfs_facts *f = w->facts;
  const char *path = archive_entry_pathname (e);
  mode_t type = archive_entry_filetype (e);
  CLEANUP_FREE char *release = NULL;

  if (STREQ (path, "lib") && type == AE_IFLNK) {
    const char *target = archive_entry_symlink (e);
    if (target && (STREQ (target, "usr/lib") || STREQ (target, "/usr/lib")))
      f->modules_prefix = "usr/lib/modules";
  }
  else if (STRPREFIX (path, "boot/vmlinuz-") &&
           strrchr (path, '/') == path + 4 &&
           (type == AE_IFREG || type == AE_IFLNK)) {
    if (!f->kernel || version_cmp (path, f->kernel) > 0) {
      free (f->kernel);
      f->kernel = xstrdup (path);
    }
  }
  else if (STRPREFIX (path, "boot/initrd.img-") &&
           strrchr (path, '/') == path + 4)
    strv_add (&f->initrds, path);
  else if (type == AE_IFREG && modules_order_release (path, &release))
    strv_add (&f->module_trees, release);
  return w->next->put (w->next, e, data);
}

/* "tar:PATH", "cpio:PATH", "dir:PATH", "buildroot:DIR", "busybox",
 * "none", or a bare path whose kind is looked up.  Relative paths are
 * relative to the profile's directory.
 */
static int
source_entries (const struct profile *p, const char *source,
                struct entry_sink *sink)
{
  const char *colon = strchr (source, ':');
  CLEANUP_FREE char *path = NULL;
  struct stat st;

  if (STREQ (source, "none"))
    return 0;
  if (STREQ (source, "busybox")) {
    const char *arch = profile_get (p, "image", NULL, "arch");
    if (arch_find (arch) != arch_host ()) {
      error ("%s: source = busybox is made from this host's busybox, "
             "which an %s guest cannot run: use a tar:, dir: or "
             "buildroot: root for %s", profile_where (p, "rootfs", NULL,
                                                      "source"),
             arch, arch);
      return -1;
    }
    return source_busybox (sink);
  }
  if (STREQ (source, "debootstrap"))
    return source_debootstrap (p, sink);
  if (colon && (STRPREFIX (source, "tar:") || STRPREFIX (source, "cpio:") ||
                STRPREFIX (source, "dir:") || STRPREFIX (source, "buildroot:")))
    path = profile_resolve_path (p, "rootfs", NULL, "source", colon + 1);
  else
    path = profile_resolve_path (p, "rootfs", NULL, "source", source);

  if (STRPREFIX (source, "tar:") || STRPREFIX (source, "cpio:"))
    return source_archive (path, sink);
  if (STRPREFIX (source, "dir:"))
    return source_directory (path, sink);
  if (STRPREFIX (source, "buildroot:")) {
    CLEANUP_FREE char *tar = xasprintf ("%s/rootfs.tar", path);
    CLEANUP_FREE char *image = NULL;
    if (access (tar, R_OK) == -1) {
      if (rootfs_image (p, &image) == 1)
        error ("buildroot output %s: %s is a filesystem image, copied "
               "as the root filesystem, not a stream of files", path,
               image);
      else
        error_errno ("buildroot output %s: %s (nor rootfs.ext2, .ext3 "
                     "or .ext4)", path, tar);
      return -1;
    }
    return source_archive (tar, sink);
  }
  if (stat (path, &st) == -1) {
    error_errno ("root filesystem source %s", path);
    return -1;
  }
  if (S_ISDIR (st.st_mode))
    return source_directory (path, sink);
  return source_archive (path, sink);
}

int
rootfs_entries (const struct profile *p, struct rootfs_facts *facts,
                struct entry_sink *sink)
{
  const char *source = profile_get (p, "rootfs", NULL, "source");
  struct watch_sink w = {
    .sink = { .put = watch_put, .opaque = &w },
    .next = sink,
    .facts = facts,
  };

  rootfs_facts_free (facts);
  facts->modules_prefix = "lib/modules";
  if (!source) {
    error ("the profile names no root filesystem: set [rootfs] source");
    return -1;
  }
  if (source_entries (p, source, &w.sink) == -1)
    return -1;
  if (facts->kernel) {
    const char *release = facts->kernel + strlen ("boot/vmlinuz-");
    CLEANUP_FREE char *initrd = xasprintf ("boot/initrd.img-%s", release);
    for (size_t i = 0; i < facts->initrds.len; ++i)
      if (STREQ (facts->initrds.v[i], initrd))
        facts->initrd = xstrdup (initrd);
  }
  return 0;
}

char *
rootfs_buildroot_dir (const struct profile *p)
{
  const char *source = profile_get (p, "rootfs", NULL, "source");

  if (!source || !STRPREFIX (source, "buildroot:"))
    return NULL;
  return profile_resolve_path (p, "rootfs", NULL, "source",
                               source + strlen ("buildroot:"));
}

/* buildroot writes rootfs.ext2 (BR2_TARGET_ROOTFS_EXT2; the ext3 and
 * ext4 variants keep that name, or link rootfs.ext4 to it).  A
 * rootfs.tar beside it is preferred: its files stream like any source.
 */
int
rootfs_image (const struct profile *p, char **path_rtn)
{
  static const char *const names[] = {
    "rootfs.ext4", "rootfs.ext3", "rootfs.ext2", NULL
  };
  CLEANUP_FREE char *dir = rootfs_buildroot_dir (p);
  CLEANUP_FREE char *tar = NULL;

  *path_rtn = NULL;
  if (!dir)
    return 0;
  tar = xasprintf ("%s/rootfs.tar", dir);
  if (access (tar, F_OK) == 0)
    return 0;
  for (size_t i = 0; names[i]; ++i) {
    char *path = xasprintf ("%s/%s", dir, names[i]);
    if (access (path, R_OK) == 0) {
      *path_rtn = path;
      return 1;
    }
    free (path);
  }
  return 0;
}

void
rootfs_facts_free (struct rootfs_facts *facts)
{
  free (facts->kernel);
  free (facts->initrd);
  strv_free (&facts->initrds);
  strv_free (&facts->module_trees);
  memset (facts, 0, sizeof *facts);
}
