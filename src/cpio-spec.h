/* A source of entries: a description in the format of the Linux kernel's
 * usr/gen_init_cpio, so that root-owned files and device nodes are made
 * without root or fakeroot.  One entry per line, '#' comments and blank
 * lines ignored; modes in octal, owners numeric:
 *
 *   file  NAME LOCATION MODE UID GID [HARDLINK...]
 *   dir   NAME MODE UID GID
 *   nod   NAME MODE UID GID b|c MAJOR MINOR
 *   slink NAME TARGET MODE UID GID
 *   pipe  NAME MODE UID GID
 *   sock  NAME MODE UID GID
 *
 * LOCATION is a file on the host, absolute or relative to the directory
 * of the spec file (${NAME} replaced by the environment variable NAME);
 * its data and mtime are used.  Other entries get
 * $SOURCE_DATE_EPOCH (or else the mtime of the spec file) as their mtime.
 */
#ifndef MKVMIMG_CPIO_SPEC_H
#define MKVMIMG_CPIO_SPEC_H

#include "entries.h"

/* Parse spec_path and pass each entry to sink->put, in the order of the
 * file (names normalised, hardlinks as entries whose hardlink is the
 * file's NAME).  A line that does not parse is reported as
 * "SPEC:LINE: what is wrong" and nothing after it is passed.  Returns 0
 * or -1.  Does not call sink->finish.
 */
int source_cpio_spec (const char *spec_path, struct entry_sink *sink);

#endif /* MKVMIMG_CPIO_SPEC_H */
