/* mkvmimg initramfs create: a one-segment image from a directory (sorted,
 * owners 0:0 unless --keep-owner) or from a gen_init_cpio spec.
 */
#include <config.h>

#include <fcntl.h>
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

struct create_opts {
  char *output;                 /* -o */
  int force;                    /* --force */
  char *spec;                   /* --spec */
  char *compress;               /* --compress */
  int keep_owner;               /* --keep-owner */
};

/* The directory tree, collected to be sorted. */
struct collect {
  struct archive_entry **v;
  size_t n, cap;
};

static int
collect_put (struct entry_sink *sink, struct archive_entry *entry,
             struct entry_data *data)
{
  struct collect *c = sink->opaque;

  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 256;
    c->v = xrealloc (c->v, c->cap * sizeof *c->v);
  }
  c->v[c->n++] = archive_entry_clone (entry);
  return 0;
}

static int
cmp_entry (const void *a, const void *b)
{
  const char *x = archive_entry_pathname (*(struct archive_entry *const *) a);
  const char *y = archive_entry_pathname (*(struct archive_entry *const *) b);

  /* The root first, then byte order, which puts parents before children. */
  if (STREQ (x, "."))
    return STREQ (y, ".") ? 0 : -1;
  if (STREQ (y, "."))
    return 1;
  return strcmp (x, y);
}

struct inode_count {
  int64_t dev, ino;
  unsigned n;
};

static int
cmp_inode (const void *a, const void *b)
{
  const struct inode_count *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino)
    return x->ino < y->ino ? -1 : 1;
  return 0;
}

static void
free_node (void *p)
{
  free (p);
}

/* Sort, count the links inside the tree, map owners, write. */
static int
write_directory (const char *dir, const struct create_opts *opts,
                 struct entry_sink *sink)
{
  struct collect c = { 0 };
  struct entry_sink collector = { .put = collect_put, .opaque = &c };
  void *inodes = NULL;
  int ret = -1;

  if (source_directory (dir, &collector) == -1)
    goto out;
  qsort (c.v, c.n, sizeof *c.v, cmp_entry);
  for (size_t i = 0; i < c.n; ++i) {
    struct archive_entry *e = c.v[i];
    if (archive_entry_filetype (e) != AE_IFDIR && archive_entry_nlink (e) > 1) {
      struct inode_count key = { archive_entry_dev (e),
                                 archive_entry_ino64 (e), 0 };
      struct inode_count **found = tfind (&key, &inodes, cmp_inode);
      if (!found) {
        struct inode_count *ic = xmalloc (sizeof *ic);
        *ic = key;
        found = tsearch (ic, &inodes, cmp_inode);
      }
      (*found)->n++;
    }
  }
  for (size_t i = 0; i < c.n; ++i) {
    struct archive_entry *e = c.v[i];
    struct entry_data data = ENTRY_DATA_NONE;
    mode_t type = archive_entry_filetype (e);
    int r;

    if (type != AE_IFDIR && archive_entry_nlink (e) > 1) {
      struct inode_count key = { archive_entry_dev (e),
                                 archive_entry_ino64 (e), 0 };
      struct inode_count **found = tfind (&key, &inodes, cmp_inode);
      archive_entry_set_nlink (e, (*found)->n);
    }
    if (!opts->keep_owner) {
      archive_entry_set_uid (e, 0);
      archive_entry_set_gid (e, 0);
    }
    data.host_path = archive_entry_sourcepath (e);
    r = sink->put (sink, e, type == AE_IFREG ? &data : NULL);
    entry_data_close (&data);
    if (r == -1)
      goto out;
  }
  ret = 0;
 out:
  for (size_t i = 0; i < c.n; ++i)
    archive_entry_free (c.v[i]);
  free (c.v);
  tdestroy (inodes, free_node);
  return ret;
}

int
cmd_initramfs_create (int argc, char **argv)
{
  struct create_opts opts = { 0 };
  struct poptOption options[] = {
    { "output", 'o', POPT_ARG_STRING, &opts.output, 0,
      "Write the image to OUT", "OUT" },
    { "force", '\0', POPT_ARG_NONE, &opts.force, 0,
      "Replace OUT if it exists", NULL },
    { "spec", '\0', POPT_ARG_STRING, &opts.spec, 0,
      "Entries from a gen_init_cpio description instead of a directory",
      "FILE" },
    { "compress", '\0', POPT_ARG_STRING, &opts.compress, 0,
      "Compression: none, gzip, bzip2, lzma, xz, lzo, lz4, zstd (default "
      "gzip), with an optional level", "NAME[:LEVEL]" },
    { "keep-owner", '\0', POPT_ARG_NONE, &opts.keep_owner, 0,
      "Keep the owners of the directory's files (default: 0:0)", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  struct atomic_output out;
  struct entry_sink *sink = NULL;
  enum compression c = COMPRESS_GZIP;
  int level = -1, fd = -1, r, ret = EXIT_FAIL;
  const char **args;
  const char *dir = NULL;

  r = cli_parse (&ctx, "initramfs create", argc, argv, options,
                 "-o OUT (DIR | --spec FILE)", NULL, NULL);
  if (r)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0])
    dir = args[0];
  if ((dir == NULL) == (opts.spec == NULL) || (args && args[0] && args[1])) {
    usage_error ("initramfs create", "expected either a DIR or --spec FILE");
    return EXIT_USAGE;
  }
  if (!opts.output) {
    usage_error ("initramfs create", "-o OUT is needed");
    return EXIT_USAGE;
  }
  if (opts.compress && compression_parse (opts.compress, &c, &level) == -1)
    return EXIT_USAGE;
  if (dir) {
    struct stat st;
    if (stat (dir, &st) == -1) {
      error_errno ("%s", dir);
      return EXIT_FAIL;
    }
    if (!S_ISDIR (st.st_mode)) {
      error ("%s: not a directory", dir);
      return EXIT_FAIL;
    }
  }

  if (atomic_output_begin (&out, opts.output, opts.force) == -1)
    return EXIT_FAIL;
  fd = open (out.tmp, O_RDWR | O_TRUNC | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", out.tmp);
    goto out;
  }
  sink = cpio_sink_new (fd, c, level, opts.output);
  if (!sink)
    goto out;
  if (dir)
    r = write_directory (dir, &opts, sink);
  else
    r = source_cpio_spec (opts.spec, sink);
  if (r == -1 || sink->finish (sink) == -1)
    goto out;
  if (close (fd) == -1) {
    fd = -1;
    error_errno ("close %s", opts.output);
    goto out;
  }
  fd = -1;
  if (atomic_output_commit (&out, 0644) == -1)
    goto out;
  info ("%s: %zu entries, %s", opts.output, cpio_sink_count (sink),
        compression_name (c));
  ret = EXIT_OK;
 out:
  cpio_sink_free (sink);
  if (fd >= 0)
    close (fd);
  if (ret != EXIT_OK)
    atomic_output_abort (&out);
  free (opts.output);
  free (opts.spec);
  free (opts.compress);
  return ret;
}
