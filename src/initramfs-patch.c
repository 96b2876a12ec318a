/* mkvmimg initramfs patch: add, replace or remove entries.
 *
 * Rewrite (default): entries stream from the input to the output without
 * touching the disk; segments before the last are copied byte for byte
 * (unless --remove names something in them) and the last is recompressed.
 * --append: the input is copied as it is and a new segment with the
 * additions is appended; the kernel unpacks it over the earlier ones.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "cli.h"
#include "cpio-sink.h"
#include "cpio-spec.h"
#include "initramfs.h"
#include "tempfiles.h"

struct patch_opts {
  char *output;                 /* -o */
  int force;                    /* --force */
  char **add;                   /* --add SRC:DEST[:MODE[:UID:GID]] */
  char **mkdir;                 /* --mkdir DEST[:MODE[:UID:GID]] */
  char **symlink;               /* --symlink TARGET:DEST */
  char **remove;                /* --remove PATH */
  char **spec;                  /* --spec FILE */
  char *compress;               /* --compress */
  int append;                   /* --append */
};

/* One entry to add, from the command line or a spec. */
struct addition {
  char *path;
  struct archive_entry *e;
  char *host;                   /* data of a regular file */
  bool done;
};

struct patch {
  const char *image;
  const char *output;
  struct addition **adds;       /* in the order they are written */
  size_t nr_adds;
  void *adds_by_path;           /* tsearch tree of struct addition */
  char **removes;               /* normalised */
  bool *removed;                /* which removes matched something */
  size_t nr_removes;
  void *existing;               /* tsearch tree of paths in the output */
  struct entry_sink *sink;
  time_t now;
  bool segment_hit;             /* check_removes found something */
};

static int
cmp_addition (const void *a, const void *b)
{
  return strcmp (((const struct addition *) a)->path,
                 ((const struct addition *) b)->path);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (a, b);
}

static void
add_addition (struct patch *p, struct archive_entry *e, const char *host)
{
  struct addition *a = xcalloc (1, sizeof *a);

  a->path = xstrdup (archive_entry_pathname (e));
  a->e = e;
  a->host = host ? xstrdup (host) : NULL;
  p->adds = xrealloc (p->adds, (p->nr_adds + 1) * sizeof *p->adds);
  p->adds[p->nr_adds++] = a;
}

/* MODE[:UID:GID] from fields[i..]. */
static int
parse_attrs (const char *opt, const char *arg, char **f, size_t n, size_t i,
             struct archive_entry *e)
{
  char *end;

  if (n > i) {
    unsigned long mode;
    errno = 0;
    mode = strtoul (f[i], &end, 8);
    if (errno || !*f[i] || *end || mode > 07777) {
      error ("%s %s: %s: not an octal mode", opt, arg, f[i]);
      return -1;
    }
    archive_entry_set_perm (e, mode);
  }
  if (n == i + 1 || n > i + 3) {
    if (n > i + 3) {
      error ("%s %s: too many fields", opt, arg);
      return -1;
    }
  }
  if (n == i + 2) {
    error ("%s %s: give both UID and GID", opt, arg);
    return -1;
  }
  if (n == i + 3) {
    unsigned long id[2];
    for (int k = 0; k < 2; ++k) {
      errno = 0;
      id[k] = strtoul (f[i + 1 + k], &end, 10);
      if (errno || !*f[i + 1 + k] || *end || id[k] > UINT32_MAX) {
        error ("%s %s: %s: not a numeric %s", opt, arg, f[i + 1 + k],
               k ? "gid" : "uid");
        return -1;
      }
    }
    archive_entry_set_uid (e, id[0]);
    archive_entry_set_gid (e, id[1]);
  }
  return 0;
}

static void
split_fields (const char *arg, struct strv *fields)
{
  const char *p = arg;

  for (;;) {
    const char *c = strchr (p, ':');
    CLEANUP_FREE char *f = xasprintf ("%.*s", c ? (int) (c - p) : (int) strlen (p), p);
    strv_add (fields, f);
    if (!c)
      break;
    p = c + 1;
  }
}

static char *
dest_path (const char *opt, const char *arg, const char *dest)
{
  char *path;

  if (!*dest) {
    error ("%s %s: the destination is empty", opt, arg);
    return NULL;
  }
  path = entry_path_normalise (dest);
  if (path && STREQ (path, ".")) {
    error ("%s %s: the destination is the root directory", opt, arg);
    free (path);
    return NULL;
  }
  return path;
}

static int
parse_add (struct patch *p, const char *arg)
{
  CLEANUP_STRV_STRUCT struct strv f = { 0 };
  CLEANUP_FREE char *path = NULL;
  struct archive_entry *e;
  struct stat st;

  split_fields (arg, &f);
  if (f.len < 2 || !*f.v[0]) {
    error ("--add %s: expected SRC:DEST[:MODE[:UID:GID]]", arg);
    return -1;
  }
  path = dest_path ("--add", arg, f.v[1]);
  if (!path)
    return -1;
  if (stat (f.v[0], &st) == -1) {
    error_errno ("--add %s: %s", arg, f.v[0]);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    error ("--add %s: %s is not a regular file", arg, f.v[0]);
    return -1;
  }
  if ((uint64_t) st.st_size > UINT32_MAX) {
    error ("--add %s: %s is too large for a newc cpio archive (4 GiB)",
           arg, f.v[0]);
    return -1;
  }
  e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, st.st_mode & 07777);
  archive_entry_set_size (e, st.st_size);
  archive_entry_set_mtime (e, st.st_mtime, 0);
  archive_entry_set_nlink (e, 1);
  if (parse_attrs ("--add", arg, f.v, f.len, 2, e) == -1) {
    archive_entry_free (e);
    return -1;
  }
  add_addition (p, e, f.v[0]);
  return 0;
}

static int
parse_mkdir (struct patch *p, const char *arg)
{
  CLEANUP_STRV_STRUCT struct strv f = { 0 };
  CLEANUP_FREE char *path = NULL;
  struct archive_entry *e;

  split_fields (arg, &f);
  path = dest_path ("--mkdir", arg, f.v[0]);
  if (!path)
    return -1;
  e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_mtime (e, p->now, 0);
  archive_entry_set_nlink (e, 2);
  if (parse_attrs ("--mkdir", arg, f.v, f.len, 1, e) == -1) {
    archive_entry_free (e);
    return -1;
  }
  add_addition (p, e, NULL);
  return 0;
}

static int
parse_symlink (struct patch *p, const char *arg)
{
  const char *colon = strrchr (arg, ':');
  CLEANUP_FREE char *target = NULL;
  CLEANUP_FREE char *path = NULL;
  struct archive_entry *e;

  if (!colon || colon == arg || !colon[1]) {
    error ("--symlink %s: expected TARGET:DEST", arg);
    return -1;
  }
  target = xasprintf ("%.*s", (int) (colon - arg), arg);
  path = dest_path ("--symlink", arg, colon + 1);
  if (!path)
    return -1;
  e = archive_entry_new ();
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFLNK);
  archive_entry_set_perm (e, 0777);
  archive_entry_set_symlink (e, target);
  archive_entry_set_mtime (e, p->now, 0);
  archive_entry_set_nlink (e, 1);
  add_addition (p, e, NULL);
  return 0;
}

/* A spec's entries become additions. */
static int
spec_put (struct entry_sink *sink, struct archive_entry *entry,
          struct entry_data *data)
{
  add_addition (sink->opaque, archive_entry_clone (entry),
                data ? data->host_path : NULL);
  return 0;
}

static int
cmp_addition_ptr (const void *a, const void *b)
{
  return cmp_addition (*(struct addition *const *) a,
                       *(struct addition *const *) b);
}

/* Sort the additions (parents before children), refuse duplicates, and
 * put a hardlink after the file it names.
 */
static int
order_additions (struct patch *p)
{
  struct addition **out = xcalloc (p->nr_adds + 1, sizeof *out);
  size_t n = 0;

  /* A patch with only removals has no array: qsort's base must not be
   * NULL even for zero elements.
   */
  if (p->nr_adds > 0)
    qsort (p->adds, p->nr_adds, sizeof *p->adds, cmp_addition_ptr);
  for (size_t i = 0; i < p->nr_adds; ++i) {
    if (i > 0 && STREQ (p->adds[i]->path, p->adds[i - 1]->path)) {
      error ("%s: added more than once", p->adds[i]->path);
      free (out);
      return -1;
    }
    tsearch (p->adds[i], &p->adds_by_path, cmp_addition);
  }
  for (size_t i = 0; i < p->nr_adds; ++i) {
    struct addition *a = p->adds[i];
    const char *target = archive_entry_hardlink (a->e);

    if (target && strcmp (target, a->path) > 0)
      continue;                 /* placed after its target below */
    out[n++] = a;
    for (size_t j = i + 1; j < p->nr_adds; ++j) {
      const char *t = archive_entry_hardlink (p->adds[j]->e);
      if (t && STREQ (t, a->path) && strcmp (t, p->adds[j]->path) > 0)
        out[n++] = p->adds[j];
    }
  }
  free (p->adds);
  p->adds = out;
  return 0;
}

static bool
is_removed (struct patch *p, const char *path)
{
  for (size_t i = 0; i < p->nr_removes; ++i) {
    size_t len = strlen (p->removes[i]);
    if (strncmp (path, p->removes[i], len) == 0 &&
        (path[len] == '\0' || path[len] == '/')) {
      p->removed[i] = true;
      return true;
    }
  }
  return false;
}

static void
mark_existing (struct patch *p, const char *path)
{
  if (!tfind (path, &p->existing, cmp_str))
    tsearch (xstrdup (path), &p->existing, cmp_str);
}

static int
put_addition (struct patch *p, struct addition *a)
{
  struct entry_data data = ENTRY_DATA_NONE;
  int r;

  data.host_path = a->host;
  r = p->sink->put (p->sink, a->e, a->host ? &data : NULL);
  entry_data_close (&data);
  a->done = true;
  mark_existing (p, a->path);
  return r;
}

/* The directories above a, unless the output has them already. */
static int
put_parents (struct patch *p, struct addition *a)
{
  CLEANUP_FREE char *dir = xstrdup (a->path);

  for (char *s = strchr (dir, '/'); s; s = strchr (s + 1, '/')) {
    struct archive_entry *e;
    struct addition key;
    int r;

    *s = '\0';
    key.path = dir;
    if (tfind (dir, &p->existing, cmp_str) ||
        tfind (&key, &p->adds_by_path, cmp_addition)) {
      *s = '/';
      continue;
    }
    e = archive_entry_new ();
    archive_entry_set_pathname (e, dir);
    archive_entry_set_filetype (e, AE_IFDIR);
    archive_entry_set_perm (e, 0755);
    archive_entry_set_nlink (e, 2);
    archive_entry_set_mtime (e, archive_entry_mtime (a->e), 0);
    r = p->sink->put (p->sink, e, NULL);
    archive_entry_free (e);
    if (r == -1)
      return -1;
    mark_existing (p, dir);
    *s = '/';
  }
  return 0;
}

static int
put_remaining_additions (struct patch *p)
{
  for (size_t i = 0; i < p->nr_adds; ++i) {
    struct addition *a = p->adds[i];
    if (a->done)
      continue;
    if (put_parents (p, a) == -1 || put_addition (p, a) == -1)
      return -1;
  }
  return 0;
}

/* An entry of the segment being rewritten. */
static int
rewrite_entry (void *opaque, struct archive *ar, struct archive_entry *entry)
{
  struct patch *p = opaque;
  struct entry_data data = ENTRY_DATA_NONE;
  CLEANUP_FREE char *path = entry_path_normalise (archive_entry_pathname (entry));
  const char *hardlink = archive_entry_hardlink (entry);
  struct addition key, **found;

  if (!path)
    return -1;
  if (is_removed (p, path))
    return 0;
  key.path = path;
  found = tfind (&key, &p->adds_by_path, cmp_addition);
  if (found && !(*found)->done)
    return put_addition (p, *found);     /* replaced where it stood */
  if (found)
    return 0;                   /* a later duplicate of a replaced name */
  archive_entry_copy_pathname (entry, path);
  if (hardlink) {
    CLEANUP_FREE char *target = entry_path_normalise (hardlink);
    if (!target)
      return -1;
    archive_entry_copy_hardlink (entry, target);
  }
  data.ar = ar;
  /* Only what can be a parent is remembered: memory stays small
   * whatever the number of files.
   */
  if (archive_entry_filetype (entry) == AE_IFDIR ||
      archive_entry_filetype (entry) == AE_IFLNK)
    mark_existing (p, path);
  return p->sink->put (p->sink, entry,
                       archive_entry_filetype (entry) == AE_IFREG &&
                       archive_entry_size (entry) > 0 ? &data : NULL);
}

/* Does any entry of this segment match a --remove? */
static int
check_removes (void *opaque, struct archive *ar, struct archive_entry *entry)
{
  struct patch *p = opaque;
  CLEANUP_FREE char *path = entry_path_normalise (archive_entry_pathname (entry));
  if (!path)
    return -1;
  if (is_removed (p, path))
    p->segment_hit = true;
  return 0;
}

static int
segment_touched (struct patch *p, int fd, const struct initramfs_segment *seg,
                 bool *touched_rtn)
{
  int r;

  *touched_rtn = false;
  if (p->nr_removes == 0)
    return 0;
  p->segment_hit = false;
  r = initramfs_segment_read (fd, p->image, seg, check_removes, p);
  *touched_rtn = p->segment_hit;
  return r;
}

static int
pad4 (int out_fd, const char *name)
{
  off_t pos = lseek (out_fd, 0, SEEK_CUR);
  static const char zeros[4];

  if (pos == -1) {
    error_errno ("seek %s", name);
    return -1;
  }
  if ((pos & 3) && write_all (out_fd, zeros, 4 - (pos & 3)) == -1) {
    error_errno ("write %s", name);
    return -1;
  }
  return 0;
}

/* Write one segment through a new cpio sink. */
static int
write_segment (struct patch *p, int in_fd, int out_fd,
               const struct initramfs_segment *seg, enum compression c,
               int level, bool last)
{
  int r = -1;

  if (pad4 (out_fd, p->output) == -1)
    return -1;
  p->sink = cpio_sink_new (out_fd, c, level, p->output);
  if (!p->sink)
    return -1;
  if (seg &&
      initramfs_segment_read (in_fd, p->image, seg, rewrite_entry, p) == -1)
    goto out;
  if (last && put_remaining_additions (p) == -1)
    goto out;
  r = p->sink->finish (p->sink);
 out:
  cpio_sink_free (p->sink);
  p->sink = NULL;
  return r;
}

static int
do_rewrite (struct patch *p, int in_fd, int out_fd, bool have_compress,
            enum compression c, int level)
{
  CLEANUP_FREE struct initramfs_segment *segs = NULL;
  uint64_t copied = 0;          /* input bytes copied as they are */
  bool shifted = false;
  size_t n;

  if (initramfs_segments (in_fd, p->image, &segs, &n) == -1)
    return -1;
  for (size_t i = 0; i + 1 < n; ++i) {
    bool touched;

    if (segment_touched (p, in_fd, &segs[i], &touched) == -1)
      return -1;
    if (!touched) {
      /* Byte for byte, with the padding before it. */
      uint64_t from = shifted ? segs[i].offset : copied;
      if (shifted && pad4 (out_fd, p->output) == -1)
        return -1;
      if (initramfs_copy_range (in_fd, p->image, from, segs[i].end - from,
                                out_fd, p->output) == -1)
        return -1;
      copied = segs[i].end;
      debug ("segment %zu (%s) copied", i,
             compression_name (segs[i].compression));
      continue;
    }
    debug ("segment %zu (%s) rewritten for --remove", i,
           compression_name (segs[i].compression));
    if (write_segment (p, in_fd, out_fd, &segs[i], segs[i].compression, -1,
                       false) == -1)
      return -1;
    shifted = true;
  }
  if (!have_compress) {
    c = segs[n - 1].compression;
    level = -1;
  }
  if (!shifted && copied < segs[n - 1].offset) {
    /* Keep the padding before the main segment as it was. */
    if (initramfs_copy_range (in_fd, p->image, copied,
                              segs[n - 1].offset - copied,
                              out_fd, p->output) == -1)
      return -1;
  }
  info ("%s: %zu segment%s, rewriting the last (%s -> %s)", p->image, n,
        n == 1 ? "" : "s", compression_name (segs[n - 1].compression),
        compression_name (c));
  return write_segment (p, in_fd, out_fd, &segs[n - 1], c, level, true);
}

static int
do_append (struct patch *p, int in_fd, int out_fd, enum compression c,
           int level)
{
  unsigned char buf[4096];
  struct stat st;
  ssize_t r;
  size_t i = 0;

  if (fstat (in_fd, &st) == -1) {
    error_errno ("stat %s", p->image);
    return -1;
  }
  /* Only a look at the start: the image is not decompressed. */
  r = pread (in_fd, buf, sizeof buf, 0);
  if (r == -1) {
    error_errno ("read %s", p->image);
    return -1;
  }
  while (i < (size_t) r && buf[i] == 0)
    i++;
  if (r == 0 || i == (size_t) r ||
      compression_detect (buf + i, r - i) == COMPRESS_UNKNOWN) {
    error ("%s: not an initramfs (neither cpio nor a compression the "
           "kernel knows at offset %zu)", p->image, i);
    return -1;
  }
  if (initramfs_copy_range (in_fd, p->image, 0, st.st_size, out_fd,
                            p->output) == -1)
    return -1;
  info ("%s: appending a %s segment at offset %" PRIu64, p->image,
        compression_name (c), (uint64_t) st.st_size);
  return write_segment (p, in_fd, out_fd, NULL, c, level, true);
}

static void
free_string (void *s)
{
  free (s);
}

static void
no_free (void *s)
{
}

static void
free_argv (char **v)
{
  for (char **a = v; a && *a; ++a)
    free (*a);
  free (v);
}

int
cmd_initramfs_patch (int argc, char **argv)
{
  struct patch_opts opts = { 0 };
  struct poptOption options[] = {
    { "output", 'o', POPT_ARG_STRING, &opts.output, 0,
      "Write the patched image to OUT", "OUT" },
    { "force", '\0', POPT_ARG_NONE, &opts.force, 0,
      "Replace OUT if it exists", NULL },
    { "add", '\0', POPT_ARG_ARGV, &opts.add, 0,
      "Add (or replace) the host file SRC as DEST", "SRC:DEST[:MODE[:UID:GID]]" },
    { "mkdir", '\0', POPT_ARG_ARGV, &opts.mkdir, 0,
      "Add a directory", "DEST[:MODE[:UID:GID]]" },
    { "symlink", '\0', POPT_ARG_ARGV, &opts.symlink, 0,
      "Add a symbolic link DEST pointing to TARGET", "TARGET:DEST" },
    { "remove", '\0', POPT_ARG_ARGV, &opts.remove, 0,
      "Remove PATH (and what is under it)", "PATH" },
    { "spec", '\0', POPT_ARG_ARGV, &opts.spec, 0,
      "Add the entries of a gen_init_cpio description", "FILE" },
    { "compress", '\0', POPT_ARG_STRING, &opts.compress, 0,
      "Compression of the rewritten (default: as it was) or appended "
      "(default: none) segment", "NAME[:LEVEL]" },
    { "append", '\0', POPT_ARG_NONE, &opts.append, 0,
      "Append a new segment instead of rewriting the image", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  struct patch p = { 0 };
  struct atomic_output out;
  bool out_begun = false;
  enum compression c = COMPRESS_NONE;
  int level = -1, in_fd = -1, out_fd = -1, r, ret = EXIT_FAIL;
  const char **args;
  const char *sde = getenv ("SOURCE_DATE_EPOCH");

  r = cli_parse (&ctx, "initramfs patch", argc, argv, options,
                 "IMAGE -o OUT [--add ...] [--remove ...] [--append]",
                 NULL, NULL);
  if (r) {
    ret = r == 1 ? EXIT_OK : EXIT_USAGE;
    goto out;
  }
  args = poptGetArgs (ctx);
  if (!args || !args[0] || args[1]) {
    usage_error ("initramfs patch", "expected one IMAGE");
    ret = EXIT_USAGE;
    goto out;
  }
  if (!opts.output) {
    usage_error ("initramfs patch", "-o OUT is needed");
    ret = EXIT_USAGE;
    goto out;
  }
  if (opts.append && opts.remove) {
    usage_error ("initramfs patch", "--remove cannot be used with --append: "
                 "an appended segment can only add or replace entries, as "
                 "the kernel never deletes what an earlier segment made "
                 "(leave out --append to rewrite the image)");
    ret = EXIT_USAGE;
    goto out;
  }
  if (!opts.add && !opts.mkdir && !opts.symlink && !opts.remove &&
      !opts.spec) {
    usage_error ("initramfs patch", "nothing to do (--add, --mkdir, "
                 "--symlink, --remove or --spec)");
    ret = EXIT_USAGE;
    goto out;
  }
  if (opts.compress && compression_parse (opts.compress, &c, &level) == -1) {
    ret = EXIT_USAGE;
    goto out;
  }
  p.image = args[0];
  p.output = opts.output;
  /* The mtime of --mkdir and --symlink: not the wall clock, so that
   * the same inputs give the same output.
   */
  {
    struct stat st;
    p.now = sde && *sde ? (time_t) strtoll (sde, NULL, 10)
      : stat (p.image, &st) == 0 ? st.st_mtime : 0;
  }

  for (char **a = opts.add; a && *a; ++a)
    if (parse_add (&p, *a) == -1)
      goto out;
  for (char **a = opts.mkdir; a && *a; ++a)
    if (parse_mkdir (&p, *a) == -1)
      goto out;
  for (char **a = opts.symlink; a && *a; ++a)
    if (parse_symlink (&p, *a) == -1)
      goto out;
  for (char **a = opts.spec; a && *a; ++a) {
    struct entry_sink collect = { .put = spec_put, .opaque = &p };
    if (source_cpio_spec (*a, &collect) == -1)
      goto out;
  }
  for (char **a = opts.remove; a && *a; ++a) {
    char *path = entry_path_normalise (*a);
    if (!path)
      goto out;
    if (STREQ (path, ".")) {
      error ("--remove %s: refusing to remove the root directory", *a);
      free (path);
      goto out;
    }
    p.removes = xrealloc (p.removes, (p.nr_removes + 1) * sizeof *p.removes);
    p.removes[p.nr_removes++] = path;
  }
  p.removed = xcalloc (p.nr_removes + 1, sizeof *p.removed);
  if (order_additions (&p) == -1)
    goto out;

  in_fd = open (p.image, O_RDONLY | O_CLOEXEC);
  if (in_fd == -1) {
    error_errno ("open %s", p.image);
    goto out;
  }
  if (atomic_output_begin (&out, opts.output, opts.force) == -1)
    goto out;
  out_begun = true;
  out_fd = open (out.tmp, O_RDWR | O_TRUNC | O_CLOEXEC);
  if (out_fd == -1) {
    error_errno ("open %s", out.tmp);
    goto out;
  }
  if (opts.append)
    r = do_append (&p, in_fd, out_fd, c, level);
  else
    r = do_rewrite (&p, in_fd, out_fd, opts.compress != NULL, c, level);
  if (r == -1)
    goto out;
  for (size_t i = 0; i < p.nr_removes; ++i)
    if (!p.removed[i]) {
      error ("--remove %s: no such entry in %s", p.removes[i], p.image);
      goto out;
    }
  if (close (out_fd) == -1) {
    out_fd = -1;
    error_errno ("close %s", opts.output);
    goto out;
  }
  out_fd = -1;
  if (atomic_output_commit (&out, 0644) == -1)
    goto out;
  ret = EXIT_OK;
 out:
  if (out_fd >= 0)
    close (out_fd);
  if (in_fd >= 0)
    close (in_fd);
  if (out_begun && ret != EXIT_OK)
    atomic_output_abort (&out);
  for (size_t i = 0; i < p.nr_adds; ++i) {
    archive_entry_free (p.adds[i]->e);
    free (p.adds[i]->path);
    free (p.adds[i]->host);
    free (p.adds[i]);
  }
  free (p.adds);
  tdestroy (p.adds_by_path, no_free);
  tdestroy (p.existing, free_string);
  for (size_t i = 0; i < p.nr_removes; ++i)
    free (p.removes[i]);
  free (p.removes);
  free (p.removed);
  free (opts.output);
  free (opts.compress);
  free_argv (opts.add);
  free_argv (opts.mkdir);
  free_argv (opts.symlink);
  free_argv (opts.remove);
  free_argv (opts.spec);
  return ret;
}
