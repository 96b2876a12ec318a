/* The initramfs engine: multi-segment newc cpio images, each segment
 * optionally compressed, zero padding between them (early microcode as an
 * uncompressed first segment, the main image compressed after it).
 */
#ifndef MKVMIMG_INITRAMFS_H
#define MKVMIMG_INITRAMFS_H

#include <stdint.h>

#include "compress.h"
#include "entries.h"

/* Every entry of every segment of an initramfs image, in order (later
 * entries override earlier ones, as the kernel unpacks them).  Paths are
 * normalised (entry_path_normalise); an entry whose name leaves the root
 * is an error.  Regular files come with their data (data->ar).
 */
int initramfs_read_entries (const char *path, struct entry_sink *sink);

/* Is path an initramfs: does its first segment (after any zero padding)
 * hold a newc cpio archive, compressed or not?  1 yes, 0 no, -1 on an
 * I/O error (reported).  Cheap: only the start is decompressed.  Use it
 * before handing a file to a reader that would stop at the first
 * segment (libarchive stops at the first TRAILER!!! and fails on what
 * follows a compressed stream).
 */
int initramfs_probe (const char *path);

/* One segment: bytes [offset, end) of the image. */
struct initramfs_segment {
  uint64_t offset, end;
  enum compression compression;
};

/* Split the image open on fd into its segments, skipping the zero padding
 * between them.  Caller frees *segs_rtn.  -1 with the error reported (an
 * empty image, an unknown format, a truncated or corrupt segment).
 */
int initramfs_segments (int fd, const char *path,
                        struct initramfs_segment **segs_rtn, size_t *n_rtn);

/* Called for each entry of a segment with the entry as it is stored (the
 * name not normalised) and the archive to read its data from.  Returns 0
 * or -1.
 */
typedef int (*initramfs_entry_fn) (void *opaque, struct archive *ar,
                                   struct archive_entry *entry);

/* Decompress one segment and read every cpio archive in it. */
int initramfs_segment_read (int fd, const char *path,
                            const struct initramfs_segment *seg,
                            initramfs_entry_fn fn, void *opaque);

/* The subcommands (initramfs-*.c). */
int cmd_initramfs_list (int argc, char **argv);
int cmd_initramfs_extract (int argc, char **argv);
int cmd_initramfs_create (int argc, char **argv);
int cmd_initramfs_patch (int argc, char **argv);

/* Copy bytes [offset, offset+len) of in_fd to the current position of
 * out_fd (copy_file_range when possible).  -1 with the error reported.
 */
int initramfs_copy_range (int in_fd, const char *in_path, uint64_t offset,
                          uint64_t len, int out_fd, const char *out_path);

#endif /* MKVMIMG_INITRAMFS_H */
