/* The entry stream: data readers, path normalisation, and the archive
 * and directory sources.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "entries.h"
#include "initramfs.h"

#define DATA_BLOCK (256 * 1024)

void
entry_data_close (struct entry_data *d)
{
  if (d->fd >= 0)
    close (d->fd);
  d->fd = -1;
  free (d->block);
  d->block = NULL;
  d->done = true;
}

/* Copy a host file block by block, skipping holes with SEEK_DATA. */
static int
host_file_next (struct entry_data *d, const void **buf_rtn, size_t *len_rtn,
                int64_t *offset_rtn)
{
  off_t data;
  ssize_t r;

  if (d->fd == -1) {
    d->fd = open (d->host_path, O_RDONLY | O_CLOEXEC);
    if (d->fd == -1) {
      error_errno ("open %s", d->host_path);
      return -1;
    }
    d->block = xmalloc (DATA_BLOCK);
    d->pos = 0;
  }
  data = lseek (d->fd, d->pos, SEEK_DATA);
  if (data == -1) {
    if (errno == ENXIO) {         /* only a hole is left */
      entry_data_close (d);
      return 0;
    }
    data = d->pos;              /* no SEEK_DATA here: read everything */
  }
  if (lseek (d->fd, data, SEEK_SET) == -1) {
    error_errno ("seek %s", d->host_path);
    goto error;
  }
  do
    r = read (d->fd, d->block, DATA_BLOCK);
  while (r == -1 && errno == EINTR);
  if (r == -1) {
    error_errno ("read %s", d->host_path);
    goto error;
  }
  if (r == 0) {
    entry_data_close (d);
    return 0;
  }
  d->pos = data + r;
  *buf_rtn = d->block;
  *len_rtn = r;
  *offset_rtn = data;
  return 1;

 error:
  entry_data_close (d);
  return -1;
}

int
entry_data_next (struct entry_data *d, const void **buf_rtn, size_t *len_rtn,
                 int64_t *offset_rtn)
{
  if (d->done)
    return 0;
  if (d->ar) {
    la_int64_t offset;
    int r = archive_read_data_block (d->ar, buf_rtn, len_rtn, &offset);
    if (r == ARCHIVE_EOF) {
      d->done = true;
      return 0;
    }
    if (r < ARCHIVE_WARN) {
      error ("read archive data: %s", archive_error_string (d->ar));
      d->done = true;
      return -1;
    }
    *offset_rtn = offset;
    return 1;
  }
  if (d->host_path)
    return host_file_next (d, buf_rtn, len_rtn, offset_rtn);
  d->done = true;
  if (!d->buf || d->len == 0)
    return 0;
  *buf_rtn = d->buf;
  *len_rtn = d->len;
  *offset_rtn = 0;
  return 1;
}

char *
entry_path_normalise (const char *path)
{
  char *r = xmalloc (strlen (path) + 2);
  char *out = r;
  const char *p = path;

  while (*p) {
    const char *end;
    size_t n;

    while (*p == '/')
      p++;
    if (!*p)
      break;
    end = strchrnul (p, '/');
    n = end - p;
    if (n == 1 && p[0] == '.') {
      p = end;
      continue;
    }
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      error ("%s: refusing an entry whose name leaves the root (\"..\")",
             path);
      free (r);
      return NULL;
    }
    if (out != r)
      *out++ = '/';
    memcpy (out, p, n);
    out += n;
    p = end;
  }
  if (out == r)
    *out++ = '.';
  *out = '\0';
  return r;
}

/* Read entries through libarchive and pass them on. */
static int
pass_entries (struct archive *ar, const char *what, struct entry_sink *sink)
{
  struct archive_entry *entry;
  int64_t data_end = 0;         /* where the last entry's data ended */
  int r;

  while ((r = archive_read_next_header (ar, &entry)) == ARCHIVE_OK ||
         r == ARCHIVE_WARN) {
    struct entry_data data = ENTRY_DATA_NONE;
    CLEANUP_FREE char *path = NULL;
    const char *hardlink;

    if (r == ARCHIVE_WARN)
      warning ("%s: %s", what, archive_error_string (ar));
    path = entry_path_normalise (archive_entry_pathname (entry));
    if (!path)
      return -1;
    archive_entry_copy_pathname (entry, path);
    hardlink = archive_entry_hardlink (entry);
    if (hardlink) {
      CLEANUP_FREE char *target = entry_path_normalise (hardlink);
      if (!target)
        return -1;
      archive_entry_copy_hardlink (entry, target);
    }
    data.ar = ar;
    if (sink->put (sink, entry,
                   archive_entry_filetype (entry) == AE_IFREG ? &data : NULL)
        == -1)
      return -1;
    /* (A no-op when the sink read the data.) */
    if (archive_read_data_skip (ar) < ARCHIVE_WARN) {
      error ("%s: %s", what, archive_error_string (ar));
      return -1;
    }
    data_end = archive_filter_bytes (ar, 0);
  }
  if (r != ARCHIVE_EOF) {
    error ("%s: %s", what, archive_error_string (ar));
    return -1;
  }
  /* libarchive takes a tar that stops between two entries for one that
   * merely lacks its end-of-archive blocks of zeros; every tar writer
   * here writes them, and a copy cut short often stops on a block
   * boundary: the rest of the root filesystem would be silently lost.
   */
  if ((archive_format (ar) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR &&
      archive_filter_bytes (ar, 0) - data_end < 512) {
    error ("%s: the tar archive ends after %" PRIi64 " bytes without its "
           "end-of-archive blocks: it is truncated", what,
           archive_filter_bytes (ar, 0));
    return -1;
  }
  return 0;
}

int
source_archive (const char *path, struct entry_sink *sink)
{
  struct archive *ar = archive_read_new ();
  struct archive_entry *entry;
  int r, format, ret = -1;

  /* An initramfs (cpio, maybe several compressed segments) goes to the
   * initramfs reader: libarchive sees only the first segment, and may
   * fail on what follows a compressed one.
   */
  switch (initramfs_probe (path)) {
  case 1:
    archive_read_free (ar);
    return initramfs_read_entries (path, sink);
  case -1:
    goto out;
  }
  archive_read_support_filter_all (ar);
  archive_read_support_format_all (ar);
  archive_read_support_format_raw (ar);
  if (archive_read_open_filename (ar, path, 64 * 1024) != ARCHIVE_OK) {
    error ("%s: %s", path, archive_error_string (ar));
    goto out;
  }
  /* Peek at the format: cpio is an initramfs whose later segments
   * libarchive would not see, so the initramfs reader takes it.
   */
  r = archive_read_next_header (ar, &entry);
  if (r == ARCHIVE_EOF) {
    error ("%s: the archive holds no entries", path);
    goto out;
  }
  if (r < ARCHIVE_WARN) {
    error ("%s: %s", path, archive_error_string (ar));
    goto out;
  }
  format = archive_format (ar) & ARCHIVE_FORMAT_BASE_MASK;
  if (format == ARCHIVE_FORMAT_RAW) {
    error ("%s: not an archive (tar or cpio, any compression)", path);
    goto out;
  }
  if (format == ARCHIVE_FORMAT_CPIO) {
    archive_read_free (ar);
    return initramfs_read_entries (path, sink);
  }
  archive_read_free (ar);

  /* Start again from the first entry. */
  ar = archive_read_new ();
  archive_read_support_filter_all (ar);
  archive_read_support_format_all (ar);
  if (archive_read_open_filename (ar, path, 64 * 1024) != ARCHIVE_OK) {
    error ("%s: %s", path, archive_error_string (ar));
    goto out;
  }
  ret = pass_entries (ar, path, sink);
 out:
  archive_read_free (ar);
  return ret;
}

int
tar_check_end (const char *path)
{
  char tail[1024];
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t r;

  if (fd == -1 || fstat (fd, &st) == -1) {
    error_errno ("%s", path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  r = st.st_size >= (off_t) sizeof tail && st.st_size % 512 == 0
    ? pread (fd, tail, sizeof tail, st.st_size - sizeof tail) : 0;
  close (fd);
  if (r == -1) {
    error_errno ("read %s", path);
    return -1;
  }
  if (r != (ssize_t) sizeof tail || tail[0] ||
      memcmp (tail, tail + 1, sizeof tail - 1) != 0) {
    error ("%s: the tar archive (%lld bytes) does not end with its "
           "end-of-archive blocks: it was cut short", path,
           (long long) st.st_size);
    return -1;
  }
  return 0;
}

int
source_directory (const char *path, struct entry_sink *sink)
{
  struct archive *ar = archive_read_disk_new ();
  struct archive_entry_linkresolver *links = archive_entry_linkresolver_new ();
  struct archive_entry *entry, *spare = NULL;
  size_t prefix = strlen (path);
  int r, ret = -1;

  archive_entry_linkresolver_set_strategy (links,
                                           ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  archive_read_disk_set_behavior (ar, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  archive_read_disk_set_standard_lookup (ar);
  if (archive_read_disk_open (ar, path) != ARCHIVE_OK) {
    error ("%s: %s", path, archive_error_string (ar));
    goto out;
  }
  while (prefix > 1 && path[prefix - 1] == '/')
    prefix--;
  for (;;) {
    struct entry_data data = ENTRY_DATA_NONE;
    CLEANUP_FREE char *rel = NULL;
    const char *name;

    entry = archive_entry_new ();
    r = archive_read_next_header2 (ar, entry);
    if (r == ARCHIVE_EOF) {
      archive_entry_free (entry);
      break;
    }
    if (r < ARCHIVE_WARN) {
      error ("%s: %s", path, archive_error_string (ar));
      archive_entry_free (entry);
      goto out;
    }
    if (r == ARCHIVE_WARN)
      warning ("%s: %s", path, archive_error_string (ar));
    archive_read_disk_descend (ar);
    name = archive_entry_sourcepath (entry);
    rel = entry_path_normalise (strlen (name) >= prefix ? name + prefix : "");
    if (!rel) {
      archive_entry_free (entry);
      goto out;
    }
    archive_entry_copy_pathname (entry, rel);
    data.host_path = name;
    /* A second name of a file already seen becomes a hardlink to it. */
    archive_entry_linkify (links, &entry, &spare);
    r = sink->put (sink, entry,
                   archive_entry_filetype (entry) == AE_IFREG &&
                   !archive_entry_hardlink (entry) ? &data : NULL);
    entry_data_close (&data);
    archive_entry_free (entry);
    if (r == -1)
      goto out;
  }
  ret = 0;
 out:
  archive_entry_linkresolver_free (links);
  archive_read_free (ar);
  return ret;
}

time_t
entry_epoch (void)
{
  const char *s = getenv ("SOURCE_DATE_EPOCH");
  char *end;
  long long t;

  if (s && *s) {
    errno = 0;
    t = strtoll (s, &end, 10);
    if (errno == 0 && *end == '\0' && t >= 0)
      return (time_t) t;
  }
  return time (NULL);
}

static struct archive_entry *
generated_entry (const char *path, mode_t type, mode_t mode)
{
  struct archive_entry *e = archive_entry_new ();
  time_t t = entry_epoch ();

  archive_entry_copy_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, mode & 07777);
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_copy_uname (e, "root");
  archive_entry_copy_gname (e, "root");
  archive_entry_set_mtime (e, t, 0);
  archive_entry_set_atime (e, t, 0);
  archive_entry_set_ctime (e, t, 0);
  return e;
}

static int
put_and_free (struct entry_sink *sink, struct archive_entry *e,
              struct entry_data *data)
{
  int r = sink->put (sink, e, data);
  archive_entry_free (e);
  return r;
}

int
entry_emit_dir (struct entry_sink *sink, const char *path, mode_t mode)
{
  return put_and_free (sink, generated_entry (path, AE_IFDIR, mode), NULL);
}

int
entry_emit_file (struct entry_sink *sink, const char *path, mode_t mode,
                 const void *buf, size_t len)
{
  struct archive_entry *e = generated_entry (path, AE_IFREG, mode);
  struct entry_data data = ENTRY_DATA_NONE;

  archive_entry_set_size (e, len);
  data.buf = buf;
  data.len = len;
  return put_and_free (sink, e, &data);
}

int
entry_emit_host_file (struct entry_sink *sink, const char *path, mode_t mode,
                      const char *host_path)
{
  struct archive_entry *e = generated_entry (path, AE_IFREG, mode);
  struct entry_data data = ENTRY_DATA_NONE;
  struct stat st;
  int r;

  if (stat (host_path, &st) == -1) {
    error_errno ("%s", host_path);
    archive_entry_free (e);
    return -1;
  }
  archive_entry_set_size (e, st.st_size);
  data.host_path = host_path;
  r = put_and_free (sink, e, &data);
  entry_data_close (&data);
  return r;
}

int
entry_emit_symlink (struct entry_sink *sink, const char *path,
                    const char *target)
{
  struct archive_entry *e = generated_entry (path, AE_IFLNK, 0777);
  archive_entry_copy_symlink (e, target);
  return put_and_free (sink, e, NULL);
}
