/* Compressions of initramfs segments: detection by magic, the end of a
 * compressed stream, decompression (in-process through libarchive) and
 * compression in the variant the Linux kernel accepts (the standard
 * compressor run as a child process behind a pipe).
 */
#ifndef MKVMIMG_COMPRESS_H
#define MKVMIMG_COMPRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum compression {
  COMPRESS_NONE,
  COMPRESS_GZIP,
  COMPRESS_BZIP2,
  COMPRESS_LZMA,
  COMPRESS_XZ,
  COMPRESS_LZO,
  COMPRESS_LZ4,
  COMPRESS_ZSTD,
  COMPRESS_UNKNOWN,
};

/* "none", "gzip", ... */
const char *compression_name (enum compression c);
/* For "the %s segment" in messages: "uncompressed", "gzip", ... */
const char *compression_segment_kind (enum compression c);

/* Parse "NAME" or "NAME:LEVEL" (--compress).  The level is -1 when not
 * given (the compressor's default).  Reports a usage-style error and
 * returns -1 on an unknown name or a level out of range.
 */
int compression_parse (const char *str, enum compression *c_rtn,
                       int *level_rtn);

/* Which compression starts at buf (len bytes available, at least 6 for
 * a sure answer): COMPRESS_NONE for a newc cpio header ("070701" or
 * "070702"), COMPRESS_UNKNOWN for anything else unrecognised.
 */
enum compression compression_detect (const unsigned char *buf, size_t len);

/* Find where the segment of compression c that starts at offset of the
 * open image fd ends (the first byte after it).  For cpio the end of the
 * TRAILER!!! entry; for compressed streams the end of the stream (zstd,
 * lz4 and lzop are walked frame by frame without decompressing; gzip, xz,
 * lzma and bzip2 have to be decompressed to know).  Reports an error
 * naming path and returns -1 on a truncated or corrupt segment.
 */
int compression_segment_end (int fd, const char *path, uint64_t offset,
                             enum compression c, uint64_t *end_rtn);

/* Start the kernel-compatible compressor for c (never COMPRESS_NONE)
 * writing to out_fd.  Returns the pid and the fd of a pipe to write the
 * uncompressed data into (*in_fd_rtn, to be closed before
 * compress_finish), or -1 with the error reported.
 */
pid_t compress_start (enum compression c, int level, int out_fd,
                      int *in_fd_rtn);
/* Wait for the compressor: 0 if it succeeded, else -1 (reported). */
int compress_finish (enum compression c, pid_t pid);

/* After compress_finish: make the stream written at offset start of
 * the seekable fd reproducible (lzop's header holds the time it ran).
 * A no-op for other compressions.  -1 with the error reported.
 */
int compress_fixup (enum compression c, int fd, const char *name,
                    off_t start);

#endif /* MKVMIMG_COMPRESS_H */
