/* The newc cpio sink: one initramfs segment. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <search.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "child.h"
#include "compress.h"
#include "cpio-sink.h"

#define NEWC_MAX_SIZE UINT64_C(0xffffffff)

/* A file with more than one link, by its source (dev, ino) and by path. */
struct link {
  char *path;
  int64_t dev, ino;
  uint32_t newino;
};

struct cpio_sink {
  struct entry_sink sink;
  struct archive *a;
  const char *name;
  int fd;                       /* where the cpio goes: fd or the pipe */
  int out_fd;                   /* the caller's fd */
  off_t start;                  /* where the segment starts in out_fd */
  enum compression c;
  pid_t pid;                    /* the compressor, or -1 */
  uint32_t next_ino;
  size_t count;
  bool have_clamp;
  int64_t clamp;                /* $SOURCE_DATE_EPOCH */
  void *by_path, *by_ino;       /* tsearch trees of struct link */
  struct link **links;          /* to free them */
  size_t nr_links;
  bool finished;
  bool discard;                 /* freed unfinished: write nothing more */
  unsigned char *zeros;
};

static int
cmp_path (const void *a, const void *b)
{
  return strcmp (((const struct link *) a)->path,
                 ((const struct link *) b)->path);
}

static int
cmp_ino (const void *a, const void *b)
{
  const struct link *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino)
    return x->ino < y->ino ? -1 : 1;
  return 0;
}

/* Is the filesystem of the output full?  A compressor that fails or
 * stops reading most often does because of that, which is worth saying
 * instead of EPIPE or its exit status alone.
 */
static bool
output_full (const struct cpio_sink *s)
{
  struct statvfs sv;

  return fstatvfs (s->out_fd, &sv) == 0 &&
    (geteuid () == 0 ? sv.f_bfree : sv.f_bavail) == 0;
}

static la_ssize_t
sink_write (struct archive *a, void *opaque, const void *buf, size_t len)
{
  struct cpio_sink *s = opaque;

  if (s->discard)
    return len;
  if (write_all (s->fd, buf, len) == -1) {
    if (errno == EPIPE && s->pid > 0 && output_full (s))
      errno = ENOSPC;
    if (errno == EPIPE && s->pid > 0)
      archive_set_error (a, EPIPE, "the compressor (%s) stopped reading; "
                         "see its message above",
                         compression_name (s->c));
    else
      archive_set_error (a, errno, "%s", strerror (errno));
    return -1;
  }
  return len;
}

static struct link *
link_add (struct cpio_sink *s, const char *path, int64_t dev, int64_t ino,
          uint32_t newino)
{
  struct link *l = xcalloc (1, sizeof *l);

  l->path = xstrdup (path);
  l->dev = dev;
  l->ino = ino;
  l->newino = newino;
  s->links = xrealloc (s->links, (s->nr_links + 1) * sizeof *s->links);
  s->links[s->nr_links++] = l;
  tsearch (l, &s->by_path, cmp_path);
  return l;
}

static int
write_data (struct cpio_sink *s, const char *path, struct entry_data *data,
            int64_t size)
{
  int64_t pos = 0;
  const void *buf;
  size_t len;
  int64_t offset;
  int r;

  while ((r = entry_data_next (data, &buf, &len, &offset)) == 1) {
    if (offset < pos || offset + (int64_t) len > size) {
      error ("%s: %s: the data does not match the size of the entry "
             "(did the file change while being read?)", s->name, path);
      entry_data_close (data);
      return -1;
    }
    while (pos < offset) {      /* a hole: newc stores zeros */
      size_t n = offset - pos > 65536 ? 65536 : offset - pos;
      if (archive_write_data (s->a, s->zeros, n) < 0)
        goto write_error;
      pos += n;
    }
    if (archive_write_data (s->a, buf, len) < 0)
      goto write_error;
    pos += len;
  }
  if (r == -1)
    return -1;
  while (pos < size) {
    size_t n = size - pos > 65536 ? 65536 : size - pos;
    if (archive_write_data (s->a, s->zeros, n) < 0)
      goto write_error;
    pos += n;
  }
  return 0;

 write_error:
  error ("%s: write %s: %s", s->name, path, archive_error_string (s->a));
  entry_data_close (data);
  return -1;
}

static int
sink_put (struct entry_sink *sink, struct archive_entry *entry,
          struct entry_data *data)
{
  struct cpio_sink *s = sink->opaque;
  struct archive_entry *e = archive_entry_clone (entry);
  const char *path = archive_entry_pathname (entry);
  const char *hardlink = archive_entry_hardlink (entry);
  mode_t type = archive_entry_filetype (entry);
  int64_t size = type == AE_IFREG ? archive_entry_size (entry) : 0;
  bool skip_data = false;
  int ret = -1;

  if (type == AE_IFREG && size > (int64_t) NEWC_MAX_SIZE) {
    error ("%s: %s: the file is too large for a newc cpio archive "
           "(%" PRId64 " bytes; at most 4 GiB - 1)", s->name, path, size);
    goto out;
  }
  /* Readers (the kernel's too) take an entry of this name for the end of
   * the archive: everything after it would be lost.
   */
  if (STREQ (path, "TRAILER!!!")) {
    error ("%s: %s: a newc cpio archive cannot hold an entry of this name "
           "(it marks the end of the archive)", s->name, path);
    goto out;
  }
  archive_entry_set_hardlink (e, NULL);
  archive_entry_set_dev (e, 0);
  archive_entry_set_uname (e, NULL);
  archive_entry_set_gname (e, NULL);
  archive_entry_set_ctime (e, 0, 0);
  archive_entry_set_atime (e, 0, 0);
  archive_entry_unset_birthtime (e);
  archive_entry_xattr_clear (e);
  if (s->have_clamp && archive_entry_mtime (e) > s->clamp)
    archive_entry_set_mtime (e, s->clamp, 0);
  else
    archive_entry_set_mtime (e, archive_entry_mtime (e), 0);

  if (type == AE_IFDIR) {
    archive_entry_set_ino (e, s->next_ino++);
    archive_entry_set_nlink (e, 2);
  }
  else if (hardlink) {
    /* A later name of a file already written (libarchive's readers mark
     * them so); its data, if any, is written here.
     */
    struct link key = { .path = (char *) hardlink };
    struct link **found = tfind (&key, &s->by_path, cmp_path);
    uint32_t ino = found ? (*found)->newino : s->next_ino++;
    unsigned nlink = archive_entry_nlink (entry);

    archive_entry_set_ino (e, ino);
    archive_entry_set_nlink (e, nlink < 2 ? 2 : nlink);
    link_add (s, path, -1, -1, ino);
  }
  else if (archive_entry_nlink (entry) > 1 &&
           !archive_entry_ino_is_set (entry)) {
    /* The first name of a file whose other names will come as hardlink
     * entries (a spec's file line).
     */
    archive_entry_set_ino (e, s->next_ino);
    link_add (s, path, -1, -1, s->next_ino++);
  }
  else if (archive_entry_nlink (entry) > 1) {
    /* A file with several names, recognised by its (dev, ino). */
    struct link key = { .dev = archive_entry_dev (entry),
                        .ino = archive_entry_ino64 (entry) };
    struct link **found = tfind (&key, &s->by_ino, cmp_ino);

    if (found) {
      archive_entry_set_ino (e, (*found)->newino);
      size = 0;
      skip_data = true;         /* stored once, with the first name */
      link_add (s, path, -1, -1, (*found)->newino);
    }
    else {
      struct link *l = link_add (s, path, key.dev, key.ino, s->next_ino++);
      tsearch (l, &s->by_ino, cmp_ino);
      archive_entry_set_ino (e, l->newino);
    }
  }
  else {
    archive_entry_set_ino (e, s->next_ino++);
    if (archive_entry_nlink (entry) != 1)
      archive_entry_set_nlink (e, 1);
  }
  archive_entry_set_size (e, size);
  if (type == AE_IFLNK && archive_entry_symlink (entry) == NULL) {
    error ("%s: %s: a symbolic link without a target", s->name, path);
    goto out;
  }

  if (archive_write_header (s->a, e) < ARCHIVE_WARN) {
    error ("%s: %s: %s", s->name, path, archive_error_string (s->a));
    goto out;
  }
  if (type == AE_IFREG && size > 0) {
    if (!data) {
      error ("%s: %s: no data for a file of %" PRId64 " bytes", s->name,
             path, size);
      goto out;
    }
    if (!skip_data && write_data (s, path, data, size) == -1)
      goto out;
  }
  if (archive_write_finish_entry (s->a) < ARCHIVE_WARN) {
    error ("%s: %s: %s", s->name, path, archive_error_string (s->a));
    goto out;
  }
  s->count++;
  ret = 0;
 out:
  if (data && (ret == -1 || skip_data))
    entry_data_close (data);
  archive_entry_free (e);
  return ret;
}

static int
sink_finish (struct entry_sink *sink)
{
  struct cpio_sink *s = sink->opaque;
  int ret = 0;

  s->finished = true;
  if (archive_write_close (s->a) != ARCHIVE_OK) {
    error ("%s: %s", s->name, archive_error_string (s->a));
    ret = -1;
  }
  if (s->pid > 0) {
    close (s->fd);
    s->fd = -1;
    if (compress_finish (s->c, s->pid) == -1) {
      if (output_full (s))
        error ("%s: %s", s->name, strerror (ENOSPC));
      ret = -1;
    }
    s->pid = -1;
    if (ret == 0 && s->start >= 0 &&
        compress_fixup (s->c, s->out_fd, s->name, s->start) == -1)
      ret = -1;
  }
  return ret;
}

struct entry_sink *
cpio_sink_new (int fd, enum compression c, int level, const char *name)
{
  struct cpio_sink *s = xcalloc (1, sizeof *s);
  const char *sde = getenv ("SOURCE_DATE_EPOCH");

  s->sink.put = sink_put;
  s->sink.finish = sink_finish;
  s->sink.opaque = s;
  s->name = name;
  s->c = c;
  s->pid = -1;
  s->fd = fd;
  s->out_fd = fd;
  s->start = lseek (fd, 0, SEEK_CUR);   /* -1 for a pipe */
  s->next_ino = 1;
  s->zeros = xcalloc (1, 65536);
  if (sde && *sde) {
    char *end;
    errno = 0;
    s->clamp = strtoll (sde, &end, 10);
    if (errno || *end || s->clamp < 0) {
      error ("SOURCE_DATE_EPOCH=%s: not a number of seconds", sde);
      goto error;
    }
    s->have_clamp = true;
  }
  if (c != COMPRESS_NONE) {
    s->pid = compress_start (c, level, fd, &s->fd);
    if (s->pid == -1)
      goto error;
  }
  s->a = archive_write_new ();
  archive_write_set_format_cpio_newc (s->a);
  archive_write_add_filter_none (s->a);
  archive_write_set_bytes_per_block (s->a, 256 * 1024);
  archive_write_set_bytes_in_last_block (s->a, 1);
  if (archive_write_open (s->a, s, NULL, sink_write, NULL) != ARCHIVE_OK) {
    error ("%s: %s", name, archive_error_string (s->a));
    goto error;
  }
  return &s->sink;

 error:
  cpio_sink_free (&s->sink);
  return NULL;
}

static void
no_free (void *p)
{
}

void
cpio_sink_free (struct entry_sink *sink)
{
  struct cpio_sink *s;

  if (!sink)
    return;
  s = sink->opaque;
  if (s->a) {
    /* An unfinished segment gets no trailer, but libarchive 3.6 frees
     * its output block only when the archive is closed: close it with
     * the bytes dropped.
     */
    if (!s->finished) {
      s->discard = true;
      archive_write_close (s->a);
    }
    archive_write_free (s->a);
  }
  if (s->pid > 0) {
    int status;
    close (s->fd);
    child_wait (s->pid, &status);
  }
  tdestroy (s->by_path, no_free);
  tdestroy (s->by_ino, no_free);
  for (size_t i = 0; i < s->nr_links; ++i) {
    free (s->links[i]->path);
    free (s->links[i]);
  }
  free (s->links);
  free (s->zeros);
  free (s);
}

size_t
cpio_sink_count (struct entry_sink *sink)
{
  return ((struct cpio_sink *) sink->opaque)->count;
}
