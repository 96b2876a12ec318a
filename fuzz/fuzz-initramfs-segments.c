/* Fuzz target: splitting an initramfs image into segments and detecting
 * each segment's compression (initramfs_segments, compression_detect,
 * compression_segment_end, initramfs_probe).
 *
 * The input is an image.  Segments found must be in order, not overlap,
 * lie inside the image, be separated only by zeros, start with the
 * magic of the compression they are said to have, and an uncompressed
 * one must be 4-byte aligned.
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "mkvmimg.h"
#include "compress.h"
#include "initramfs.h"
#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CLEANUP_CLOSE int fd = fuzz_memfd (data, size);
  CLEANUP_FREE struct initramfs_segment *segs = NULL;
  CLEANUP_FREE char *name = xasprintf ("/proc/self/fd/%d", fd);
  uint64_t prev_end = 0;
  size_t n = 0;
  int probe;

  /* Detection on its own, at every length of the start. */
  for (size_t len = 0; len <= size && len <= 8; ++len)
    compression_detect (data, len);

  probe = initramfs_probe (name);
  FUZZ_CHECK (probe != -1, "initramfs_probe: an I/O error on a memfd");

  if (initramfs_segments (fd, "fuzz-image", &segs, &n) == -1)
    return 0;
  FUZZ_CHECK (n > 0, "no segments and no error");
  for (size_t i = 0; i < n; ++i) {
    const struct initramfs_segment *s = &segs[i];
    enum compression c;

    FUZZ_CHECK (s->offset >= prev_end && s->offset < s->end &&
                s->end <= size,
                "segment %zu: bytes %" PRIu64 "-%" PRIu64 " (previous end %"
                PRIu64 ", image %zu bytes)", i, s->offset, s->end,
                prev_end, size);
    for (uint64_t j = prev_end; j < s->offset; ++j)
      FUZZ_CHECK (data[j] == 0, "segment %zu: byte %" PRIu64 " before it "
                  "is not padding", i, j);
    c = compression_detect (data + s->offset, s->end - s->offset);
    FUZZ_CHECK (c == s->compression && c != COMPRESS_UNKNOWN,
                "segment %zu at %" PRIu64 ": %s, detected as %s", i,
                s->offset, compression_name (s->compression),
                compression_name (c));
    FUZZ_CHECK (c != COMPRESS_NONE || (s->offset & 3) == 0,
                "segment %zu: cpio at unaligned offset %" PRIu64, i,
                s->offset);
    prev_end = s->end;
  }
  for (uint64_t j = prev_end; j < size; ++j)
    FUZZ_CHECK (data[j] == 0, "byte %" PRIu64 " after the last segment is "
                "not padding", j);
  /* The probe looks at the first 4 KiB: a cpio archive there is an
   * initramfs.
   */
  FUZZ_CHECK (probe == 1 || segs[0].compression != COMPRESS_NONE ||
              segs[0].offset + 6 > 4096,
              "a cpio segment at %" PRIu64 ", but the probe says no "
              "initramfs", segs[0].offset);
  return 0;
}
