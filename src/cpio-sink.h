/* An entry sink that writes one initramfs segment: a newc cpio archive
 * (written by libarchive), optionally compressed in the variant the
 * kernel accepts (xz with CRC32, lz4 legacy frames; see compress.h).
 *
 * What it writes is reproducible: inode numbers are sequential from 1 in
 * the order entries arrive, hardlinks share their first entry's number
 * and their data is stored once, device numbers of the files themselves
 * are 0, and mtimes are clamped to $SOURCE_DATE_EPOCH when it is set.
 * Owners and modes are written as the entries give them.  A file of 4 GiB
 * or more (too large for newc) is an error naming it.
 */
#ifndef MKVMIMG_CPIO_SINK_H
#define MKVMIMG_CPIO_SINK_H

#include "compress.h"
#include "entries.h"

/* Start a segment written to fd at its current position (fd stays the
 * caller's).  c and level as from compression_parse (level -1: the
 * compressor's default).  name is used in error messages (the output
 * file).  NULL with the error reported.
 *
 * sink->finish writes the trailer and waits for the compressor; only
 * then is the segment complete.  Free with cpio_sink_free in every case.
 */
struct entry_sink *cpio_sink_new (int fd, enum compression c, int level,
                                  const char *name);
void cpio_sink_free (struct entry_sink *sink);

/* Entries written so far (for messages). */
size_t cpio_sink_count (struct entry_sink *sink);

#endif /* MKVMIMG_CPIO_SINK_H */
