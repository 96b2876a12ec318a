/* mkvmimg initramfs extract: every segment into a directory, later
 * entries over earlier ones as the kernel unpacks them, never writing
 * outside the directory.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "cli.h"
#include "initramfs.h"

struct extract_state {
  const char *dir;
  int dirfd;
  struct archive *disk;
  bool root;
  bool warned;                  /* the one warning when not root */
  size_t refused, failed, count;
};

/* Does path (relative to the directory) resolve without leaving it,
 * following symbolic links the way the kernel would inside the image?
 * 1 yes, 0 no (a symlink points outside), -1 it does not exist yet,
 * -2 the name is too long for the host to resolve (PATH_MAX).
 */
/* Without openat2 (Linux < 5.6, valgrind): resolve on the host and
 * compare.
 */
static int
resolves_beneath_slow (const char *dir, const char *path)
{
  CLEANUP_FREE char *full = xasprintf ("%s/%s", dir, path);
  CLEANUP_FREE char *real = realpath (full, NULL);
  size_t n = strlen (dir);

  if (!real)
    return errno == ENOENT || errno == ENOTDIR ? -1 : 0;
  return strncmp (real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static int
resolves_beneath (const char *dir, int dirfd, const char *path)
{
  struct open_how how = {
    .flags = O_PATH | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  int fd = syscall (SYS_openat2, dirfd, path, &how, sizeof how);

  if (fd >= 0) {
    close (fd);
    return 1;
  }
  if (errno == ENOENT || errno == ENOTDIR)
    return -1;
  if (errno == ENAMETOOLONG)
    return -2;
  if (errno == ENOSYS)
    return resolves_beneath_slow (dir, path);
  return 0;
}

static bool
has_dotdot (const char *name)
{
  for (const char *p = name; (p = strstr (p, "..")) != NULL; p += 2)
    if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
      return true;
  return false;
}

static void
refuse (struct extract_state *st, const char *name, const char *why)
{
  error ("%s: refusing entry \"%s\": %s", st->dir, name, why);
  st->refused++;
}

/* Check every directory above path: 0 if it is safe to write path. */
static int
check_parents (struct extract_state *st, const char *raw, const char *path)
{
  CLEANUP_FREE char *parent = xstrdup (path);
  char *slash = strrchr (parent, '/');
  int r;

  if (!slash)
    return 0;
  *slash = '\0';
  r = resolves_beneath (st->dir, st->dirfd, parent);
  if (r == -2) {
    /* Deep trees: the host cannot check (or write) such a name. */
    CLEANUP_FREE char *why =
      xasprintf ("the name is longer than the host's limit of %d bytes",
                 PATH_MAX);
    refuse (st, raw, why);
    return -1;
  }
  if (r == 0) {
    refuse (st, raw, "it would be written through a symbolic link that "
            "points outside the directory");
    return -1;
  }
  return 0;
}

static int
extract_entry (void *opaque, struct archive *ar, struct archive_entry *e)
{
  struct extract_state *st = opaque;
  CLEANUP_FREE char *raw = xstrdup (archive_entry_pathname (e));
  CLEANUP_FREE char *path = NULL, *full = NULL, *target = NULL;
  CLEANUP_FREE char *full_target = NULL;
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  struct stat sb;
  int r;

  if (raw[0] == '/') {
    refuse (st, raw, "an absolute name");
    return 0;
  }
  if (has_dotdot (raw)) {
    refuse (st, raw, "a name with \"..\"");
    return 0;
  }
  path = entry_path_normalise (raw);
  if (!path) {
    st->refused++;
    return 0;
  }
  if (STREQ (path, "."))
    return 0;                   /* the directory itself */
  if (check_parents (st, raw, path) == -1)
    return 0;
  if (fstatat (st->dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK (sb.st_mode) && type == AE_IFDIR) {
    /* The kernel keeps the link and follows it: harmless if it stays
     * inside (the directory exists through it), refused otherwise.
     */
    if (resolves_beneath (st->dir, st->dirfd, path) != 1)
      refuse (st, raw, "a directory over a symbolic link that points "
              "outside the directory");
    return 0;
  }
  if (hardlink) {
    if (hardlink[0] == '/') {
      refuse (st, raw, "a hardlink to an absolute name");
      return 0;
    }
    if (has_dotdot (hardlink)) {
      refuse (st, raw, "a hardlink to a name with \"..\"");
      return 0;
    }
    target = entry_path_normalise (hardlink);
    if (!target) {
      st->refused++;
      return 0;
    }
    if (resolves_beneath (st->dir, st->dirfd, target) == 0 ||
        check_parents (st, raw, target) == -1) {
      if (resolves_beneath (st->dir, st->dirfd, target) == 0)
        refuse (st, raw, "a hardlink to a file outside the directory");
      return 0;
    }
    full_target = xasprintf ("%s/%s", st->dir, target);
    archive_entry_copy_hardlink (e, full_target);
  }
  if (!st->root &&
      (type == AE_IFCHR || type == AE_IFBLK ||
       archive_entry_uid (e) != geteuid () ||
       archive_entry_gid (e) != getegid ())) {
    if (!st->warned)
      warning ("%s: not running as root: owners are not restored and "
               "device nodes are skipped", st->dir);
    st->warned = true;
    if (type == AE_IFCHR || type == AE_IFBLK)
      return 0;
  }

  full = xasprintf ("%s/%s", st->dir, path);
  archive_entry_copy_pathname (e, full);
  r = archive_write_header (st->disk, e);
  if (r < ARCHIVE_WARN) {
    error ("%s: %s", raw, archive_error_string (st->disk));
    st->failed++;
    return r == ARCHIVE_FATAL ? -1 : 0;
  }
  if (r == ARCHIVE_WARN)
    debug ("%s: %s", raw, archive_error_string (st->disk));
  if (type == AE_IFREG && archive_entry_size (e) > 0) {
    const void *buf;
    size_t len;
    la_int64_t offset;

    while ((r = archive_read_data_block (ar, &buf, &len, &offset))
           == ARCHIVE_OK) {
      if (archive_write_data_block (st->disk, buf, len, offset)
          < ARCHIVE_WARN) {
        error ("%s: %s", raw, archive_error_string (st->disk));
        st->failed++;
        break;
      }
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_EOF) {
      error ("%s: %s", raw, archive_error_string (ar));
      return -1;
    }
  }
  r = archive_write_finish_entry (st->disk);
  if (r < ARCHIVE_WARN) {
    error ("%s: %s", raw, archive_error_string (st->disk));
    st->failed++;
    return r == ARCHIVE_FATAL ? -1 : 0;
  }
  st->count++;
  return 0;
}

int
cmd_initramfs_extract (int argc, char **argv)
{
  struct poptOption options[] = {
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_FREE struct initramfs_segment *segs = NULL;
  CLEANUP_CLOSE int fd = -1;
  CLEANUP_CLOSE int dirfd = -1;
  CLEANUP_FREE char *realdir = NULL;
  struct extract_state st = { 0 };
  const char **args;
  const char *image;
  int flags, r, ret = EXIT_FAIL;
  size_t n;

  r = cli_parse (&ctx, "initramfs extract", argc, argv, options,
                 "IMAGE DIR", NULL, NULL);
  if (r)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (!args || !args[0] || !args[1] || args[2]) {
    usage_error ("initramfs extract", "expected IMAGE DIR");
    return EXIT_USAGE;
  }
  image = args[0];
  st.dir = args[1];
  st.root = geteuid () == 0;
  fd = open (image, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", image);
    return EXIT_FAIL;
  }
  if (initramfs_segments (fd, image, &segs, &n) == -1)
    return EXIT_FAIL;
  if (mkdir_p (st.dir, 0755) == -1)
    return EXIT_FAIL;
  realdir = realpath (st.dir, NULL);
  if (!realdir) {
    error_errno ("%s", st.dir);
    return EXIT_FAIL;
  }
  st.dir = realdir;
  dirfd = st.dirfd = open (st.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd == -1) {
    error_errno ("open %s", st.dir);
    return EXIT_FAIL;
  }

  flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
    ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (st.root)
    flags |= ARCHIVE_EXTRACT_OWNER;
  st.disk = archive_write_disk_new ();
  archive_write_disk_set_options (st.disk, flags);
  for (size_t i = 0; i < n; ++i)
    if (initramfs_segment_read (fd, image, &segs[i], extract_entry, &st) == -1)
      goto out;
  /* Directory modes and times are set last. */
  if (archive_write_close (st.disk) != ARCHIVE_OK) {
    error ("%s: %s", st.dir, archive_error_string (st.disk));
    goto out;
  }
  if (st.refused || st.failed) {
    error ("%s: %zu entries refused, %zu failed", image, st.refused,
           st.failed);
    goto out;
  }
  info ("%s: %zu entries extracted into %s", image, st.count, st.dir);
  ret = EXIT_OK;
 out:
  archive_write_free (st.disk);
  return ret;
}
