/* Compressions of initramfs segments: names, magic numbers, where a
 * stream ends, and the kernel-compatible compressors.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>

#include "mkvmimg.h"
#include "child.h"
#include "compress.h"

static const struct {
  const char *name;
  int min_level, max_level;
} compressions[] = {
  [COMPRESS_NONE] = { "none", 0, 0 },
  [COMPRESS_GZIP] = { "gzip", 1, 9 },
  [COMPRESS_BZIP2] = { "bzip2", 1, 9 },
  [COMPRESS_LZMA] = { "lzma", 0, 9 },
  [COMPRESS_XZ] = { "xz", 0, 9 },
  [COMPRESS_LZO] = { "lzo", 1, 9 },
  [COMPRESS_LZ4] = { "lz4", 1, 12 },
  [COMPRESS_ZSTD] = { "zstd", 1, 19 },
  [COMPRESS_UNKNOWN] = { "unknown", 0, 0 },
};

const char *
compression_name (enum compression c)
{
  return compressions[c].name;
}

const char *
compression_segment_kind (enum compression c)
{
  return c == COMPRESS_NONE ? "uncompressed" : compressions[c].name;
}

int
compression_parse (const char *str, enum compression *c_rtn, int *level_rtn)
{
  const char *colon = strchr (str, ':');
  size_t n = colon ? (size_t) (colon - str) : strlen (str);
  int c;

  for (c = COMPRESS_NONE; c < COMPRESS_UNKNOWN; ++c)
    if (strlen (compressions[c].name) == n &&
        strncmp (compressions[c].name, str, n) == 0)
      break;
  if (c == COMPRESS_UNKNOWN) {
    error ("--compress=%s: unknown compression (none, gzip, bzip2, lzma, "
           "xz, lzo, lz4, zstd)", str);
    return -1;
  }
  *c_rtn = c;
  *level_rtn = -1;
  if (colon) {
    char *end;
    long l;

    errno = 0;
    l = strtol (colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || c == COMPRESS_NONE ||
        l < compressions[c].min_level || l > compressions[c].max_level) {
      if (c == COMPRESS_NONE)
        error ("--compress=%s: 'none' takes no level", str);
      else
        error ("--compress=%s: the level of %s is a number from %d to %d",
               str, compressions[c].name, compressions[c].min_level,
               compressions[c].max_level);
      return -1;
    }
    *level_rtn = l;
  }
  return 0;
}

enum compression
compression_detect (const unsigned char *buf, size_t len)
{
  /* The magic numbers the kernel's decompress_method() knows. */
  if (len >= 6 && memcmp (buf, "07070", 5) == 0 &&
      (buf[5] == '1' || buf[5] == '2'))
    return COMPRESS_NONE;
  if (len >= 2 && buf[0] == 0x1f && (buf[1] == 0x8b || buf[1] == 0x9e))
    return COMPRESS_GZIP;
  if (len >= 3 && memcmp (buf, "BZh", 3) == 0)
    return COMPRESS_BZIP2;
  if (len >= 3 && buf[0] == 0x5d && buf[1] == 0 && buf[2] == 0)
    return COMPRESS_LZMA;
  if (len >= 6 && memcmp (buf, "\xfd" "7zXZ\0", 6) == 0)
    return COMPRESS_XZ;
  if (len >= 4 && memcmp (buf, "\x89" "LZO", 4) == 0)
    return COMPRESS_LZO;
  if (len >= 4 && memcmp (buf, "\x02\x21\x4c\x18", 4) == 0)
    return COMPRESS_LZ4;
  if (len >= 4 && memcmp (buf, "\x28\xb5\x2f\xfd", 4) == 0)
    return COMPRESS_ZSTD;
  return COMPRESS_UNKNOWN;
}

/* Read exactly len bytes at offset; 0, or -1 with *short_rtn set if the
 * file ended first (not reported), or -1 reported on an I/O error.
 */
static int
read_at (int fd, const char *path, void *buf, size_t len, uint64_t offset,
         bool *short_rtn)
{
  size_t done = 0;

  *short_rtn = false;
  while (done < len) {
    ssize_t r = pread (fd, (char *) buf + done, len - done, offset + done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      error_errno ("read %s", path);
      return -1;
    }
    if (r == 0) {
      *short_rtn = true;
      return -1;
    }
    done += r;
  }
  return 0;
}

static void
truncated (const char *path, enum compression c, uint64_t offset)
{
  error ("%s: the %s segment at offset %" PRIu64 " is truncated",
         path, compression_segment_kind (c), offset);
}

static int
hexfield (const char *p, uint32_t *rtn)
{
  uint32_t v = 0;

  for (int i = 0; i < 8; ++i) {
    int c = p[i], d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return -1;
    v = v << 4 | d;
  }
  *rtn = v;
  return 0;
}

#define ALIGN4(x) (((x) + 3) & ~(uint64_t) 3)

/* Walk newc headers up to and including TRAILER!!!. */
static int
cpio_end (int fd, const char *path, uint64_t offset, uint64_t *end_rtn)
{
  uint64_t pos = offset;
  char hdr[110 + 11];
  bool short_read;

  for (;;) {
    uint32_t filesize, namesize;

    if (read_at (fd, path, hdr, 110, pos, &short_read) == -1) {
      if (short_read)
        truncated (path, COMPRESS_NONE, offset);
      return -1;
    }
    if (memcmp (hdr, "07070", 5) != 0 || (hdr[5] != '1' && hdr[5] != '2') ||
        hexfield (hdr + 54, &filesize) == -1 ||
        hexfield (hdr + 94, &namesize) == -1 || namesize == 0) {
      error ("%s: corrupt cpio header at offset %" PRIu64, path, pos);
      return -1;
    }
    if (namesize == 11) {
      if (read_at (fd, path, hdr + 110, 11, pos + 110, &short_read) == -1) {
        if (short_read)
          truncated (path, COMPRESS_NONE, offset);
        return -1;
      }
      if (memcmp (hdr + 110, "TRAILER!!!", 11) == 0) {
        *end_rtn = pos + ALIGN4 (110 + namesize);
        return 0;
      }
    }
    pos += ALIGN4 (110 + namesize) + ALIGN4 (filesize);
  }
}

static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* zstd: frames and skippable frames, block by block. */
static int
zstd_end (int fd, const char *path, uint64_t offset, uint64_t *end_rtn)
{
  uint64_t pos = offset;
  unsigned char b[18];
  bool short_read;
  bool first = true;

  for (;;) {
    uint32_t magic;
    unsigned fhd, hsize;
    static const unsigned did_size[4] = { 0, 1, 2, 4 };
    static const unsigned fcs_size[4] = { 0, 2, 4, 8 };

    if (read_at (fd, path, b, 4, pos, &short_read) == -1) {
      if (short_read && !first)
        break;
      goto fail;
    }
    magic = le32 (b);
    if ((magic & 0xfffffff0) == 0x184d2a50) {
      if (read_at (fd, path, b, 8, pos, &short_read) == -1)
        goto fail;
      pos += 8 + (uint64_t) le32 (b + 4);
      first = false;
      /* Its content is not read: it must still be inside the file. */
      {
        struct stat st;
        if (fstat (fd, &st) == 0 && pos > (uint64_t) st.st_size) {
          short_read = true;
          goto fail;
        }
      }
      continue;
    }
    if (magic != 0xfd2fb528) {
      if (first) {
        error ("%s: corrupt zstd frame at offset %" PRIu64, path, pos);
        return -1;
      }
      break;
    }
    first = false;
    if (read_at (fd, path, b, 5, pos, &short_read) == -1)
      goto fail;
    fhd = b[4];
    if (fhd & 0x08) {
      error ("%s: corrupt zstd frame header at offset %" PRIu64, path, pos);
      return -1;
    }
    hsize = 5 + ((fhd & 0x20) ? 0 : 1) + did_size[fhd & 3]
      + ((fhd >> 6) == 0 ? ((fhd & 0x20) ? 1 : 0) : fcs_size[fhd >> 6]);
    pos += hsize;
    for (;;) {
      uint32_t bh;
      unsigned type, size;

      if (read_at (fd, path, b, 3, pos, &short_read) == -1)
        goto fail;
      bh = b[0] | b[1] << 8 | b[2] << 16;
      type = (bh >> 1) & 3;
      size = bh >> 3;
      if (type == 3) {
        error ("%s: corrupt zstd block at offset %" PRIu64, path, pos);
        return -1;
      }
      pos += 3 + (type == 1 ? 1 : size);
      if (bh & 1)
        break;
    }
    if (fhd & 0x04)
      pos += 4;
    {
      struct stat st;
      if (fstat (fd, &st) == 0 && pos > (uint64_t) st.st_size) {
        short_read = true;
        goto fail;
      }
    }
  }
  *end_rtn = pos;
  return 0;

 fail:
  if (short_read)
    truncated (path, COMPRESS_ZSTD, offset);
  return -1;
}

/* lz4 legacy frames: a magic, then chunks prefixed by their size. */
static int
lz4_end (int fd, const char *path, uint64_t offset, uint64_t *end_rtn)
{
  const uint32_t bound = 8 * 1024 * 1024 + 8 * 1024 * 1024 / 255 + 16;
  uint64_t pos = offset + 4;
  unsigned char b[4];
  bool short_read;
  struct stat st;

  if (fstat (fd, &st) == -1) {
    error_errno ("stat %s", path);
    return -1;
  }
  for (;;) {
    uint32_t n;

    if (read_at (fd, path, b, 4, pos, &short_read) == -1) {
      if (!short_read)
        return -1;
      break;
    }
    n = le32 (b);
    if (n == 0x184c2102) {
      pos += 4;
      continue;
    }
    if (n == 0 || n > bound)
      break;
    if (pos + 4 + n > (uint64_t) st.st_size) {
      truncated (path, COMPRESS_LZ4, offset);
      return -1;
    }
    pos += 4 + n;
  }
  *end_rtn = pos;
  return 0;
}

/* lzop: a header, then blocks until a zero uncompressed length. */
static int
lzo_end (int fd, const char *path, uint64_t offset, uint64_t *end_rtn)
{
  unsigned char b[64];
  uint64_t pos = offset + 9;
  bool short_read;
  unsigned version;
  uint32_t flags;

  if (read_at (fd, path, b, 4, pos, &short_read) == -1)
    goto fail;
  version = b[0] << 8 | b[1];
  pos += 4;                     /* version, library version */
  if (version >= 0x0940)
    pos += 2;                   /* version needed */
  pos += 1;                     /* method */
  if (version >= 0x0940)
    pos += 1;                   /* level */
  if (read_at (fd, path, b, 4, pos, &short_read) == -1)
    goto fail;
  flags = be32 (b);
  pos += 4;
  if (flags & 0x800)
    pos += 4;                   /* filter */
  pos += 8;                     /* mode, mtime */
  if (version >= 0x0940)
    pos += 4;                   /* mtime high */
  if (read_at (fd, path, b, 1, pos, &short_read) == -1)
    goto fail;
  pos += 1 + b[0] + 4;          /* name, header checksum */
  if (flags & 0x40) {           /* extra field */
    if (read_at (fd, path, b, 4, pos, &short_read) == -1)
      goto fail;
    pos += 4 + (uint64_t) be32 (b) + 4;
  }
  for (;;) {
    uint32_t dst, src;

    if (read_at (fd, path, b, 4, pos, &short_read) == -1)
      goto fail;
    dst = be32 (b);
    pos += 4;
    if (dst == 0)
      break;
    if (read_at (fd, path, b, 4, pos, &short_read) == -1)
      goto fail;
    src = be32 (b);
    pos += 4;
    if (src > dst || dst > 64 * 1024 * 1024) {
      error ("%s: corrupt lzo block at offset %" PRIu64, path, pos);
      return -1;
    }
    if (flags & 0x001)
      pos += 4;                 /* adler32 of the decompressed data */
    if (flags & 0x100)
      pos += 4;                 /* crc32 of the decompressed data */
    if (src < dst) {
      if (flags & 0x002)
        pos += 4;
      if (flags & 0x200)
        pos += 4;
    }
    pos += src;
  }
  *end_rtn = pos;
  return 0;

 fail:
  if (short_read)
    truncated (path, COMPRESS_LZO, offset);
  return -1;
}

/* gzip, bzip2, xz and lzma: decompress (and discard) to find the end. */
#define IN_SIZE (64 * 1024)
#define OUT_SIZE (256 * 1024)

struct lib_decoder {
  enum compression c;
  z_stream z;
  bz_stream bz;
  lzma_stream lz;
};

static int
decoder_init (struct lib_decoder *d, const char *path)
{
  int r;

  switch (d->c) {
  case COMPRESS_GZIP:
    memset (&d->z, 0, sizeof d->z);
    r = inflateInit2 (&d->z, 16 + 15);
    if (r != Z_OK) {
      error ("%s: zlib: %s", path, d->z.msg ? d->z.msg : "init failed");
      return -1;
    }
    return 0;
  case COMPRESS_BZIP2:
    memset (&d->bz, 0, sizeof d->bz);
    if (BZ2_bzDecompressInit (&d->bz, 0, 0) != BZ_OK) {
      error ("%s: bzip2: initialisation failed", path);
      return -1;
    }
    return 0;
  default: {
    lzma_stream init = LZMA_STREAM_INIT;
    lzma_ret lr;

    d->lz = init;
    if (d->c == COMPRESS_XZ)
      lr = lzma_stream_decoder (&d->lz, UINT64_MAX, 0);
    else
      lr = lzma_alone_decoder (&d->lz, UINT64_MAX);
    if (lr != LZMA_OK) {
      error ("%s: liblzma: initialisation failed (%d)", path, (int) lr);
      return -1;
    }
    return 0;
  }
  }
}

static void
decoder_end (struct lib_decoder *d)
{
  switch (d->c) {
  case COMPRESS_GZIP: inflateEnd (&d->z); break;
  case COMPRESS_BZIP2: BZ2_bzDecompressEnd (&d->bz); break;
  default: lzma_end (&d->lz); break;
  }
}

/* Feed in (len bytes, maybe 0 at the end of the file); returns 1 at the
 * end of the stream with *used_rtn the bytes of in consumed, 0 to go on
 * (everything consumed), -1 on a corrupt stream (reported).
 */
static int
decoder_step (struct lib_decoder *d, const char *path, uint64_t offset,
              const unsigned char *in, size_t len, unsigned char *out,
              size_t *used_rtn)
{
  const char *what = compression_name (d->c);
  size_t avail;

  switch (d->c) {
  case COMPRESS_GZIP:
    d->z.next_in = (unsigned char *) in;
    d->z.avail_in = len;
    do {
      int r;
      d->z.next_out = out;
      d->z.avail_out = OUT_SIZE;
      r = inflate (&d->z, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        *used_rtn = len - d->z.avail_in;
        return 1;
      }
      if (r == Z_BUF_ERROR && len == 0)
        goto truncated;
      if (r != Z_OK && r != Z_BUF_ERROR) {
        error ("%s: corrupt %s stream at offset %" PRIu64 ": %s", path, what,
               offset, d->z.msg ? d->z.msg : "inflate failed");
        return -1;
      }
    } while (d->z.avail_in > 0 || d->z.avail_out == 0);
    avail = d->z.avail_in;
    break;
  case COMPRESS_BZIP2:
    d->bz.next_in = (char *) in;
    d->bz.avail_in = len;
    do {
      int r;
      d->bz.next_out = (char *) out;
      d->bz.avail_out = OUT_SIZE;
      r = BZ2_bzDecompress (&d->bz);
      if (r == BZ_STREAM_END) {
        *used_rtn = len - d->bz.avail_in;
        return 1;
      }
      if (r != BZ_OK) {
        error ("%s: corrupt %s stream at offset %" PRIu64 " (error %d)",
               path, what, offset, r);
        return -1;
      }
      if (len == 0 && d->bz.avail_out != 0)
        goto truncated;
    } while (d->bz.avail_in > 0 || d->bz.avail_out == 0);
    avail = d->bz.avail_in;
    break;
  default:
    d->lz.next_in = in;
    d->lz.avail_in = len;
    do {
      lzma_ret r;
      d->lz.next_out = out;
      d->lz.avail_out = OUT_SIZE;
      r = lzma_code (&d->lz, len == 0 ? LZMA_FINISH : LZMA_RUN);
      if (r == LZMA_STREAM_END) {
        *used_rtn = len - d->lz.avail_in;
        return 1;
      }
      if (r == LZMA_BUF_ERROR && len == 0)
        goto truncated;
      if (r != LZMA_OK) {
        error ("%s: corrupt %s stream at offset %" PRIu64 " (liblzma error %d)",
               path, what, offset, (int) r);
        return -1;
      }
    } while (d->lz.avail_in > 0 || d->lz.avail_out == 0);
    avail = d->lz.avail_in;
    break;
  }
  if (len == 0)
    goto truncated;
  *used_rtn = len - avail;
  return 0;

 truncated:
  truncated (path, d->c, offset);
  return -1;
}

static int
lib_end (int fd, const char *path, uint64_t offset, enum compression c,
         uint64_t *end_rtn)
{
  struct lib_decoder d = { .c = c };
  CLEANUP_FREE unsigned char *in = xmalloc (IN_SIZE);
  CLEANUP_FREE unsigned char *out = xmalloc (OUT_SIZE);
  uint64_t pos = offset;
  int ret = -1;

  if (decoder_init (&d, path) == -1)
    return -1;
  for (;;) {
    ssize_t n;
    size_t used;
    int r;

    do
      n = pread (fd, in, IN_SIZE, pos);
    while (n == -1 && errno == EINTR);
    if (n == -1) {
      error_errno ("read %s", path);
      goto out;
    }
    r = decoder_step (&d, path, offset, in, n, out, &used);
    if (r == -1)
      goto out;
    pos += used;
    if (r == 1)
      break;
  }
  *end_rtn = pos;
  ret = 0;
 out:
  decoder_end (&d);
  return ret;
}

int
compression_segment_end (int fd, const char *path, uint64_t offset,
                         enum compression c, uint64_t *end_rtn)
{
  switch (c) {
  case COMPRESS_NONE: return cpio_end (fd, path, offset, end_rtn);
  case COMPRESS_ZSTD: return zstd_end (fd, path, offset, end_rtn);
  case COMPRESS_LZ4: return lz4_end (fd, path, offset, end_rtn);
  case COMPRESS_LZO: return lzo_end (fd, path, offset, end_rtn);
  case COMPRESS_GZIP:
  case COMPRESS_BZIP2:
  case COMPRESS_XZ:
  case COMPRESS_LZMA:
    return lib_end (fd, path, offset, c, end_rtn);
  default:
    error ("%s: unknown format at offset %" PRIu64, path, offset);
    return -1;
  }
}

pid_t
compress_start (enum compression c, int level, int out_fd, int *in_fd_rtn)
{
  struct child_opts opts = CHILD_OPTS_INIT;
  CLEANUP_FREE char *lv = NULL;
  const char *argv[8];
  size_t i = 0;
  int fds[2];
  pid_t pid;

  if (level >= 0)
    lv = xasprintf ("-%d", level);
  /* Each compressor in the variant the kernel's decompressor accepts. */
  switch (c) {
  case COMPRESS_GZIP:
    argv[i++] = "gzip"; argv[i++] = "-n"; argv[i++] = "-c";
    break;
  case COMPRESS_BZIP2:
    argv[i++] = "bzip2"; argv[i++] = "-c";
    break;
  case COMPRESS_LZMA:
    argv[i++] = "xz"; argv[i++] = "--format=lzma"; argv[i++] = "-c";
    break;
  case COMPRESS_XZ:
    /* The kernel checks CRC32 only; -T2 keeps the output identical
     * whatever the number of cores.
     */
    argv[i++] = "xz"; argv[i++] = "--check=crc32"; argv[i++] = "-T2";
    argv[i++] = "-c";
    break;
  case COMPRESS_LZO:
    argv[i++] = "lzop"; argv[i++] = "-c";
    break;
  case COMPRESS_LZ4:
    argv[i++] = "lz4"; argv[i++] = "-l"; argv[i++] = "-c";
    break;
  case COMPRESS_ZSTD:
    argv[i++] = "zstd"; argv[i++] = "-q"; argv[i++] = "-T0"; argv[i++] = "-c";
    break;
  default:
    abort ();
  }
  if (lv)
    argv[i++] = lv;
  argv[i] = NULL;

  if (pipe2 (fds, O_CLOEXEC) == -1) {
    error_errno ("pipe");
    return -1;
  }
  /* Fewer round trips between us and the compressor (best effort). */
  fcntl (fds[1], F_SETPIPE_SZ, 1024 * 1024);
  /* A compressor that dies shows as EPIPE and its exit status. */
  signal (SIGPIPE, SIG_IGN);
  opts.stdin_fd = fds[0];
  opts.stdout_fd = out_fd;
  pid = child_start (argv, &opts);
  close (fds[0]);
  if (pid == -1) {
    close (fds[1]);
    return -1;
  }
  *in_fd_rtn = fds[1];
  return pid;
}

int
compress_finish (enum compression c, pid_t pid)
{
  int status;
  const char *name;

  switch (c) {
  case COMPRESS_LZMA: case COMPRESS_XZ: name = "xz"; break;
  case COMPRESS_LZO: name = "lzop"; break;
  default: name = compression_name (c); break;
  }
  if (child_wait (pid, &status) == -1)
    return -1;
  return child_check_status (name, status);
}

/* lzop stores the time it ran in its header (for data read from a pipe
 * there is no way to stop it): set it to 0 and fix the header checksum,
 * so that the same input gives the same bytes.
 */
static int
lzo_fixup (int fd, const char *name, off_t start)
{
  unsigned char h[64 + 255];
  size_t mtime_at, name_at, end;
  unsigned version;
  uint32_t flags, sum;
  bool short_read;

  if (read_at (fd, name, h, sizeof h, start, &short_read) == -1 &&
      !short_read)
    return -1;
  version = h[9] << 8 | h[10];
  mtime_at = 9 + 4 + (version >= 0x0940 ? 2 : 0) + 1 +
    (version >= 0x0940 ? 1 : 0);
  flags = be32 (h + mtime_at);
  mtime_at += 4 + ((flags & 0x800) ? 4 : 0) + 4;
  name_at = mtime_at + 4 + (version >= 0x0940 ? 4 : 0);
  end = name_at + 1 + h[name_at];
  if (end + 4 > sizeof h) {
    error ("%s: unexpected lzop header", name);
    return -1;
  }
  memset (h + mtime_at, 0, name_at - mtime_at);
  if (flags & 0x1000)
    sum = crc32 (0, h + 9, end - 9);
  else
    sum = adler32 (1, h + 9, end - 9);
  h[end] = sum >> 24;
  h[end + 1] = sum >> 16;
  h[end + 2] = sum >> 8;
  h[end + 3] = sum;
  if (pwrite (fd, h, end + 4, start) != (ssize_t) (end + 4)) {
    error_errno ("write %s", name);
    return -1;
  }
  return 0;
}

int
compress_fixup (enum compression c, int fd, const char *name, off_t start)
{
  if (c == COMPRESS_LZO)
    return lzo_fixup (fd, name, start);
  return 0;
}
