/* The ext4 sink: create an ext4 filesystem inside an image file at a
 * byte offset (mke2fs), then write entries into it through libext2fs.
 * No mount, no loop device, no root: owners, modes, device nodes and
 * xattrs come from the entries.
 */
#ifndef MKVMIMG_EXT4_H
#define MKVMIMG_EXT4_H

#include <stdint.h>

#include "entries.h"

struct ext4_opts {
  const char *label;            /* NULL: none */
  const char *uuid;             /* "xxxxxxxx-xxxx-...": NULL: random */
  const char *hash_seed;        /* directory hash seed UUID: NULL: random */
  int64_t epoch;                /* SOURCE_DATE_EPOCH for fs timestamps, -1: now */
  uint32_t inodes;              /* 0: one per 16 KiB (mke2fs -i 16384) */
};

/* Make an empty ext4 filesystem of size bytes at offset in image (a
 * regular file, extended if shorter).  -1 with the error reported.
 * The shape does not depend on the host's mke2fs.conf: 4k blocks,
 * 256-byte inodes, 1% reserved for root, Debian 12's ext4 features
 * (no metadata_csum_seed, no orphan_file: GRUB 2.06 reads it).  The
 * range is punched (made sparse) first and mke2fs told it is zeroed,
 * so only metadata is written.  With uuid, hash_seed and epoch set,
 * the same entries give the same bytes.
 */
int ext4_mkfs (const char *image, uint64_t offset, uint64_t size,
               const struct ext4_opts *opts);

/* Open the filesystem made by ext4_mkfs for writing entries.  Later
 * entries replace earlier ones of the same path (a file over a file,
 * metadata of a directory over a directory).  An entry whose parent
 * does not exist gets its parents made (0755 root:root); an entry whose
 * path goes through a symlink is refused.  sink->finish writes
 * everything out and closes the filesystem; on error the caller still
 * calls ext4_sink_free.
 *
 * Holes are what the source gives as holes (gaps between data blocks);
 * blocks of zeros the source gives are written as data.  Times the
 * entry does not carry (atime, ctime: mtime; crtime: the filesystem's
 * creation time) and made parents take the filesystem's creation time,
 * so a reproducible mkfs gives a reproducible filesystem.  Memory is
 * a 4 MiB data buffer plus a table of the paths written.  The image
 * is taken for a working file: it is closed without fsync (the tools
 * that read it next see the page cache; whoever publishes it syncs).
 */
struct entry_sink *ext4_sink_new (const char *image, uint64_t offset);
/* The same on an existing ext4 filesystem opened by name with any
 * libext2fs io_manager (e.g. nbd_io_manager, see nbd-io.h); what names
 * it in messages.
 */
struct struct_io_manager;
struct entry_sink *ext4_sink_open (const char *name, const char *io_opts,
                                   struct struct_io_manager *io,
                                   const char *what);
void ext4_sink_free (struct entry_sink *sink);

/* Space the entries need in an ext4 filesystem, estimated while they
 * stream past: data blocks (holes excluded), directory blocks, inodes
 * and a journal.  The sink passes nothing on.  Entries replacing
 * earlier ones are counted again (an over-estimate).
 */
struct ext4_estimate {
  uint64_t data_bytes;          /* rounded up to 4k blocks; with directory,
                                   extent tree, symlink and xattr blocks */
  uint64_t inodes;              /* inodes of the entries, made parents too */
};
struct entry_sink *ext4_estimate_sink_new (struct ext4_estimate *est);
void ext4_estimate_sink_free (struct entry_sink *sink);
/* Filesystem size in bytes (a whole number of MiB) that holds est with
 * margin_bytes free beyond the root reserve, when made by ext4_mkfs
 * with inodes 0: group metadata, inode tables, the journal mke2fs picks
 * for the size, and enough inodes at one per 16 KiB.  Never less than
 * the entries need.
 */
uint64_t ext4_size_for (const struct ext4_estimate *est, uint64_t margin_bytes);

#endif /* MKVMIMG_EXT4_H */
