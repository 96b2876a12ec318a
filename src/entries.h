/* The one idea of mkvmimg: everything is a stream of entries.
 *
 * An entry is a libarchive archive_entry (path, type, mode, owner, times,
 * xattrs, hardlink, symlink, rdev) plus where its data comes from.  A
 * source walks its entries in order and hands each to a sink; transforms
 * are sinks that pass (changed, dropped or extra) entries on to another
 * sink.  Paths are relative, without a leading "/" or "./" ("etc/fstab";
 * the root directory itself is ".").
 */
#ifndef MKVMIMG_ENTRIES_H
#define MKVMIMG_ENTRIES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

/* Where a regular file's data comes from: exactly one of the three. */
struct entry_data {
  struct archive *ar;           /* the archive being read: its current entry */
  const void *buf;              /* in-memory data of length len */
  size_t len;
  const char *host_path;        /* a file on the host, copied (holes kept) */

  /* Private state of entry_data_next. */
  int fd;
  int64_t pos;
  void *block;
  bool done;
};

#define ENTRY_DATA_NONE { .fd = -1 }

/* The next block of data: returns 1 with *buf_rtn, *len_rtn and
 * *offset_rtn set (offsets increase; a gap between blocks is a hole), 0
 * at the end, -1 on error (reported, naming what).  Closes what it
 * opened when it returns 0 or -1.
 */
int entry_data_next (struct entry_data *d, const void **buf_rtn,
                     size_t *len_rtn, int64_t *offset_rtn);
/* Release what entry_data_next holds if the reader stopped early. */
void entry_data_close (struct entry_data *d);

struct entry_sink {
  /* One entry.  data is NULL for anything but a regular file with data.
   * Returns 0, or -1 with the error reported.
   */
  int (*put) (struct entry_sink *sink, struct archive_entry *entry,
              struct entry_data *data);
  /* After the last entry; may be NULL.  Returns 0 or -1. */
  int (*finish) (struct entry_sink *sink);
  void *opaque;
};

/* Normalise an archive path: strip "./" and "/" prefixes, collapse "//"
 * and "/./"; refuse ".." components and empty names.  Returns a new
 * string, or NULL (with the error reported, naming the entry) if the
 * path would leave the root.
 */
char *entry_path_normalise (const char *path);

/* Sources.  Each calls sink->put for every entry, then returns 0 or -1;
 * none calls sink->finish (the pipeline's owner does).
 */
/* Any archive libarchive reads (tar in any compression, cpio, and every
 * segment of a multi-segment initramfs in order).
 */
int source_archive (const char *path, struct entry_sink *sink);
/* A directory tree on the host (owners, modes, xattrs as they are). */
int source_directory (const char *path, struct entry_sink *sink);

/* Does the uncompressed tar file path end with tar's end-of-archive
 * blocks (1024 bytes of zeros, in whole 512-byte blocks)?  0 if so; -1
 * with the error reported (the file was cut short) if not.
 */
int tar_check_end (const char *path);

#endif /* MKVMIMG_ENTRIES_H */

/* Generated entries (fstab, grub.cfg, ...): owned by root, timestamps
 * from SOURCE_DATE_EPOCH when set, else now.  0 or -1.
 */
int entry_emit_dir (struct entry_sink *sink, const char *path, mode_t mode);
int entry_emit_file (struct entry_sink *sink, const char *path, mode_t mode,
                     const void *buf, size_t len);
int entry_emit_host_file (struct entry_sink *sink, const char *path,
                          mode_t mode, const char *host_path);
int entry_emit_symlink (struct entry_sink *sink, const char *path,
                        const char *target);
/* The timestamp for generated entries. */
time_t entry_epoch (void);
