/* Splitting an initramfs image into segments and reading the cpio
 * archives inside each (libarchive stops at the first TRAILER!!!, so the
 * segments are found here and each is read on its own).
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
#include "initramfs.h"

#define BLOCK (128 * 1024)

int
initramfs_segments (int fd, const char *path,
                    struct initramfs_segment **segs_rtn, size_t *n_rtn)
{
  struct initramfs_segment *segs = NULL;
  size_t n = 0;
  uint64_t pos = 0;
  CLEANUP_FREE unsigned char *buf = xmalloc (BLOCK);

  for (;;) {
    ssize_t r;
    size_t i;
    enum compression c;
    uint64_t end;

    do
      r = pread (fd, buf, BLOCK, pos);
    while (r == -1 && errno == EINTR);
    if (r == -1) {
      error_errno ("read %s", path);
      goto error;
    }
    if (r == 0)
      break;
    /* The kernel skips zero bytes between segments. */
    for (i = 0; i < (size_t) r && buf[i] == 0; ++i)
      ;
    if (i == (size_t) r) {
      pos += r;
      continue;
    }
    pos += i;
    if ((size_t) r - i < 6) {
      do
        r = pread (fd, buf, 6, pos);
      while (r == -1 && errno == EINTR);
      if (r == -1) {
        error_errno ("read %s", path);
        goto error;
      }
      i = 0;
    }
    c = compression_detect (buf + i, r - i);
    if (c == COMPRESS_UNKNOWN) {
      error ("%s: unknown format at offset %" PRIu64 " (neither cpio nor a "
             "compression the kernel knows)", path, pos);
      goto error;
    }
    if (c == COMPRESS_NONE && (pos & 3)) {
      error ("%s: the cpio archive at offset %" PRIu64 " is not aligned to "
             "4 bytes; the kernel would refuse it", path, pos);
      goto error;
    }
    if (compression_segment_end (fd, path, pos, c, &end) == -1)
      goto error;
    debug ("%s: segment %zu: %s, bytes %" PRIu64 "-%" PRIu64,
           path, n, compression_name (c), pos, end);
    segs = xrealloc (segs, (n + 1) * sizeof *segs);
    segs[n].offset = pos;
    segs[n].end = end;
    segs[n].compression = c;
    n++;
    pos = end;
  }
  if (n == 0) {
    error ("%s: not an initramfs (the file is empty or all zeros)", path);
    goto error;
  }
  *segs_rtn = segs;
  *n_rtn = n;
  return 0;

 error:
  free (segs);
  return -1;
}

/* The decompressed bytes of one segment. */
struct decoded {
  int fd;
  const char *path;
  const struct initramfs_segment *seg;
  uint64_t pos;                 /* next compressed byte to read */
  struct archive *dec;          /* libarchive "raw" decompressor, or NULL */
  unsigned char *cblock;        /* compressed bytes for the decompressor */
  unsigned char *block;         /* the last block handed out */
  size_t block_len;
  unsigned char *pushback;      /* bytes to hand out again first */
  size_t pushback_len;
  uint64_t given;               /* bytes handed to the cpio reader */
  bool eof;
};

/* The compressed bytes of the segment, for the decompressor. */
static la_ssize_t
compressed_read (struct archive *a, void *opaque, const void **buf_rtn)
{
  struct decoded *d = opaque;
  size_t want = BLOCK;
  ssize_t r;

  if (d->pos >= d->seg->end)
    return 0;
  if (d->seg->end - d->pos < want)
    want = d->seg->end - d->pos;
  do
    r = pread (d->fd, d->cblock, want, d->pos);
  while (r == -1 && errno == EINTR);
  if (r == -1) {
    archive_set_error (a, errno, "read %s: %s", d->path, strerror (errno));
    return -1;
  }
  d->pos += r;
  *buf_rtn = d->cblock;
  return r;
}

/* The next block of decompressed data: >0 bytes, 0 at the end, -1 on
 * error (reported).
 */
static ssize_t
decoded_next (struct decoded *d, unsigned char **buf_rtn)
{
  ssize_t r;

  if (d->pushback_len) {
    memcpy (d->block, d->pushback, d->pushback_len);
    r = d->pushback_len;
    d->pushback_len = 0;
    d->block_len = r;
    *buf_rtn = d->block;
    return r;
  }
  if (d->eof)
    return 0;
  if (!d->dec) {
    size_t want = BLOCK;
    if (d->pos >= d->seg->end) {
      d->eof = true;
      return 0;
    }
    if (d->seg->end - d->pos < want)
      want = d->seg->end - d->pos;
    do
      r = pread (d->fd, d->block, want, d->pos);
    while (r == -1 && errno == EINTR);
    if (r == -1) {
      error_errno ("read %s", d->path);
      return -1;
    }
    if (r == 0) {
      d->eof = true;
      return 0;
    }
    d->pos += r;
  }
  else {
    r = archive_read_data (d->dec, d->block, BLOCK);
    if (r < 0) {
      error ("%s: the %s segment at offset %" PRIu64 ": %s", d->path,
             compression_segment_kind (d->seg->compression), d->seg->offset,
             archive_error_string (d->dec));
      return -1;
    }
    if (r == 0) {
      d->eof = true;
      return 0;
    }
  }
  d->block_len = r;
  *buf_rtn = d->block;
  return r;
}

struct cpio_reader {
  struct decoded *d;
  unsigned char *buf;
  bool failed;
};

static la_ssize_t
cpio_read (struct archive *a, void *opaque, const void **buf_rtn)
{
  struct cpio_reader *cr = opaque;
  unsigned char *buf;
  ssize_t r = decoded_next (cr->d, &buf);

  if (r == -1) {
    cr->failed = true;
    archive_set_error (a, EIO, "decompression failed");
    return -1;
  }
  cr->d->given += r;
  *buf_rtn = buf;
  return r;
}

/* Read one cpio archive from the decoded stream.  *leftover_rtn gets the
 * bytes after its TRAILER!!! that the reader had already taken.
 */
static int
read_one_archive (struct decoded *d, initramfs_entry_fn fn, void *opaque,
                  size_t *leftover_rtn)
{
  struct cpio_reader cr = { .d = d };
  struct archive *ar = archive_read_new ();
  struct archive_entry *entry;
  int r, ret = -1;
  int64_t consumed;

  archive_read_support_format_cpio (ar);
  d->given = 0;
  if (archive_read_open (ar, &cr, NULL, cpio_read, NULL) != ARCHIVE_OK) {
    if (!cr.failed)
      error ("%s: segment at offset %" PRIu64 ": %s", d->path,
             d->seg->offset, archive_error_string (ar));
    goto out;
  }
  /* A warning from the cpio reader means it skipped garbage. */
  while ((r = archive_read_next_header (ar, &entry)) == ARCHIVE_OK) {
    if (fn (opaque, ar, entry) == -1)
      goto out;
  }
  if (r != ARCHIVE_EOF) {
    if (!cr.failed)
      error ("%s: corrupt segment at offset %" PRIu64 " (%s): %s", d->path,
             d->seg->offset, compression_name (d->seg->compression),
             archive_error_string (ar));
    goto out;
  }
  /* What the cpio reader took beyond the trailer is the tail of the last
   * block it was given.
   */
  consumed = archive_filter_bytes (ar, 0);
  if (consumed < 0 || (uint64_t) consumed > d->given ||
      d->given - consumed > d->block_len) {
    error ("%s: segment at offset %" PRIu64 ": lost track of the cpio "
           "stream (%" PRId64 " of %" PRIu64 " bytes)", d->path,
           d->seg->offset, consumed, d->given);
    goto out;
  }
  *leftover_rtn = d->given - consumed;
  ret = 0;
 out:
  archive_read_free (ar);
  return ret;
}

int
initramfs_segment_read (int fd, const char *path,
                        const struct initramfs_segment *seg,
                        initramfs_entry_fn fn, void *opaque)
{
  struct decoded d = { .fd = fd, .path = path, .seg = seg,
                       .pos = seg->offset };
  CLEANUP_FREE unsigned char *block = xmalloc (BLOCK);
  CLEANUP_FREE unsigned char *pushback = xmalloc (BLOCK);
  CLEANUP_FREE unsigned char *cblock = NULL;
  int ret = -1;

  d.block = block;
  d.pushback = pushback;
  if (seg->compression != COMPRESS_NONE) {
    struct archive_entry *entry;

    d.dec = archive_read_new ();
    archive_read_support_filter_all (d.dec);
    archive_read_support_format_raw (d.dec);
    d.cblock = cblock = xmalloc (BLOCK);
    if (archive_read_open (d.dec, &d, NULL, compressed_read, NULL)
        != ARCHIVE_OK ||
        archive_read_next_header (d.dec, &entry) != ARCHIVE_OK) {
      error ("%s: the %s segment at offset %" PRIu64 ": %s", path,
             compression_segment_kind (seg->compression), seg->offset,
             archive_error_string (d.dec));
      goto out;
    }
  }

  for (;;) {
    size_t leftover, i = 0;
    unsigned char *buf;
    ssize_t r;

    if (read_one_archive (&d, fn, opaque, &leftover) == -1)
      goto out;
    if (!d.dec)
      break;                    /* one archive per uncompressed segment */
    /* Inside a compressed stream, zeros or another cpio archive. */
    if (leftover) {
      memmove (d.pushback, d.block + d.block_len - leftover, leftover);
      d.pushback_len = leftover;
    }
    for (;;) {
      r = decoded_next (&d, &buf);
      if (r <= 0)
        break;
      for (i = 0; i < (size_t) r && buf[i] == 0; ++i)
        ;
      if (i < (size_t) r)
        break;
    }
    if (r == -1)
      goto out;
    if (r == 0)
      break;
    if (r - i < 6 || compression_detect (buf + i, r - i) != COMPRESS_NONE) {
      error ("%s: the %s segment at offset %" PRIu64 " holds data after "
             "its cpio archive that is not cpio", path,
             compression_segment_kind (seg->compression), seg->offset);
      goto out;
    }
    memmove (d.pushback, buf + i, r - i);
    d.pushback_len = r - i;
  }
  ret = 0;
 out:
  if (d.dec)
    archive_read_free (d.dec);
  return ret;
}

int
initramfs_copy_range (int in_fd, const char *in_path, uint64_t offset,
                      uint64_t len, int out_fd, const char *out_path)
{
  loff_t off = offset;
  CLEANUP_FREE char *buf = NULL;

  while (len > 0) {
    ssize_t r = copy_file_range (in_fd, &off, out_fd, NULL,
                                 len > (1 << 30) ? (1 << 30) : len, 0);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      break;                    /* not supported here: copy by hand */
    if (r == 0) {
      error ("%s: unexpected end of file", in_path);
      return -1;
    }
    len -= r;
  }
  if (len > 0)
    buf = xmalloc (BLOCK);
  while (len > 0) {
    ssize_t r = pread (in_fd, buf, len > BLOCK ? BLOCK : len, off);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      error_errno ("read %s", in_path);
      return -1;
    }
    if (r == 0) {
      error ("%s: unexpected end of file", in_path);
      return -1;
    }
    if (write_all (out_fd, buf, r) == -1) {
      error_errno ("write %s", out_path);
      return -1;
    }
    off += r;
    len -= r;
  }
  return 0;
}

/* initramfs_read_entries: normalised names, then the caller's sink. */
static int
pass_entry (void *opaque, struct archive *ar, struct archive_entry *entry)
{
  struct entry_sink *sink = opaque;
  struct entry_data data = ENTRY_DATA_NONE;
  CLEANUP_FREE char *path = entry_path_normalise (archive_entry_pathname (entry));
  const char *hardlink = archive_entry_hardlink (entry);
  int r;

  if (!path)
    return -1;
  archive_entry_copy_pathname (entry, path);
  if (hardlink) {
    CLEANUP_FREE char *target = entry_path_normalise (hardlink);
    if (!target)
      return -1;
    archive_entry_copy_hardlink (entry, target);
  }
  data.ar = ar;
  r = sink->put (sink, entry,
                 archive_entry_filetype (entry) == AE_IFREG &&
                 archive_entry_size (entry) > 0 ? &data : NULL);
  return r;
}

int
initramfs_read_entries (const char *path, struct entry_sink *sink)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  CLEANUP_FREE struct initramfs_segment *segs = NULL;
  size_t n;

  if (fd == -1) {
    error_errno ("open %s", path);
    return -1;
  }
  if (initramfs_segments (fd, path, &segs, &n) == -1)
    return -1;
  for (size_t i = 0; i < n; ++i)
    if (initramfs_segment_read (fd, path, &segs[i], pass_entry, sink) == -1)
      return -1;
  return 0;
}

int
initramfs_probe (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  unsigned char buf[4096], first[6];
  struct initramfs_segment seg;
  struct archive_entry *entry;
  struct decoded d = { 0 };
  struct stat st;
  ssize_t r;
  size_t i = 0;
  int ret = 0;

  if (fd == -1 || fstat (fd, &st) == -1) {
    error_errno ("open %s", path);
    return -1;
  }
  do
    r = pread (fd, buf, sizeof buf, 0);
  while (r == -1 && errno == EINTR);
  if (r == -1) {
    error_errno ("read %s", path);
    return -1;
  }
  while (i < (size_t) r && buf[i] == 0)
    i++;
  if (i == (size_t) r)
    return 0;
  seg.offset = i;
  seg.end = st.st_size;
  seg.compression = compression_detect (buf + i, r - i);
  if (seg.compression == COMPRESS_NONE)
    return 1;
  if (seg.compression == COMPRESS_UNKNOWN)
    return 0;
  /* Where the stream ends is cheap to know for these (libarchive would
   * fail on what follows); the others' decoders stop by themselves.
   */
  if ((seg.compression == COMPRESS_ZSTD || seg.compression == COMPRESS_LZ4 ||
       seg.compression == COMPRESS_LZO) &&
      compression_segment_end (fd, path, seg.offset, seg.compression,
                               &seg.end) == -1)
    return 0;
  /* Decompress the first bytes only. */
  d.fd = fd;
  d.path = path;
  d.seg = &seg;
  d.pos = seg.offset;
  d.cblock = xmalloc (BLOCK);
  d.dec = archive_read_new ();
  archive_read_support_filter_all (d.dec);
  archive_read_support_format_raw (d.dec);
  if (archive_read_open (d.dec, &d, NULL, compressed_read, NULL)
      == ARCHIVE_OK &&
      archive_read_next_header (d.dec, &entry) == ARCHIVE_OK &&
      archive_read_data (d.dec, first, sizeof first) == sizeof first &&
      compression_detect (first, sizeof first) == COMPRESS_NONE)
    ret = 1;
  archive_read_free (d.dec);
  free (d.cblock);
  return ret;
}
