/* An ext2fs io_manager backed by libnbd: libext2fs reads and writes a
 * partition of an NBD export, at a byte offset, with no mount, no loop
 * device and no kernel nbd.
 */
#ifndef MKVMIMG_NBD_IO_H
#define MKVMIMG_NBD_IO_H

#include <stdbool.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>
#include <libnbd.h>

#include "mkvmimg.h"

/* The io_manager.  Channels are opened by the name nbd_io_name gives. */
extern io_manager nbd_io_manager;

/* The name to pass to ext2fs_open2 (with nbd_io_manager) for the bytes
 * [offset, offset + size) of the export open on h.  The handle must
 * outlive the filesystem.  Caller frees.
 */
char *nbd_io_name (struct nbd_handle *h, uint64_t offset, uint64_t size);

#endif /* MKVMIMG_NBD_IO_H */

/* Helpers for the filesystems inspect and modify read. */

/* Open the ext2/3/4 filesystem in [offset, offset + size) of the export
 * (read-write with rw; bitmaps read then).  what names it in messages.
 * -1 with the error reported.
 */
int nbd_ext2_open (struct nbd_handle *h, uint64_t offset, uint64_t size,
                   bool rw, const char *what, ext2_filsys *fs_rtn);

/* The inode of an absolute path, symlinks followed (the last one too
 * with follow).  0 if found, ENOENT or ENOTDIR (not reported) if not,
 * -1 on an error (reported).
 */
int ext2_lookup (ext2_filsys fs, const char *path, bool follow,
                 ext2_ino_t *ino_rtn);

/* A whole file (symlinks followed), NUL-terminated; caller frees.  NULL
 * with errno ENOENT (not reported) if it does not exist, NULL with the
 * error reported on any other failure.  max limits the size.
 */
char *ext2_read_file (ext2_filsys fs, const char *path, size_t max,
                      size_t *len_rtn);

/* Copy a regular file of the filesystem to a host file (created 0600). */
int ext2_copy_out (ext2_filsys fs, ext2_ino_t ino, const char *what,
                   const char *host_path);

/* The names in a directory (symlinks followed), without "." and "..",
 * sorted.  ENOENT (not reported) if there is no such directory; -1 on
 * an error (reported).
 */
int ext2_list_dir (ext2_filsys fs, const char *path, struct strv *names);

/* The path (relative, as the entry sinks want it) with every symlink
 * among its parent directories resolved inside the filesystem, so that
 * "bin/foo" becomes "usr/bin/foo" on a merged-/usr system; the last
 * component is kept as it is.  Components that do not exist yet are
 * kept.  Caller frees; NULL with the error reported (a symlink loop).
 */
char *ext2_resolve_parents (ext2_filsys fs, const char *rel);
