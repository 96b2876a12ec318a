/* What the ext4 stages (mkfs, sink, estimate) share: the shape of the
 * filesystems ext4_mkfs makes, which ext4_size_for models.
 */
#ifndef MKVMIMG_EXT4_INT_H
#define MKVMIMG_EXT4_INT_H

#define EXT4_BLOCK_SIZE 4096
#define EXT4_INODE_SIZE 256             /* room for ns and post-2038 times */
#define EXT4_INODE_RATIO 16384          /* bytes per inode (mke2fs -i) */
#define EXT4_RESERVED_PERCENT 1         /* blocks reserved for root (-m) */
#define EXT4_MIN_SIZE (16 << 20)

#endif /* MKVMIMG_EXT4_INT_H */
