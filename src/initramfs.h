/* The initramfs engine: multi-segment newc cpio images, each segment
 * optionally compressed.
 */
#ifndef MKVMIMG_INITRAMFS_H
#define MKVMIMG_INITRAMFS_H

#include "entries.h"

/* Every entry of every segment of an initramfs image, in order (later
 * entries override earlier ones, as the kernel unpacks them).
 */
int initramfs_read_entries (const char *path, struct entry_sink *sink);

#endif /* MKVMIMG_INITRAMFS_H */
