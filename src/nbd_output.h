/* Writing the finished disk: through libnbd to qemu-nbd (started by
 * socket activation for a local qcow2 or raw file) or to any NBD URI.
 * Only the allocated, non-zero ranges of the working file are written.
 */
#ifndef MKVMIMG_NBD_OUTPUT_H
#define MKVMIMG_NBD_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tempfiles.h"

/* Is this output an NBD URI (nbd://, nbds://, nbd+unix://, ...)? */
bool nbd_output_is_uri (const char *output);

/* Copy the raw working file to output.  For a local file: output is
 * created (format "qcow2" or "raw"; NULL: qcow2) under a temporary name
 * beside it and renamed into place only when complete; an existing
 * output is replaced only with force.  For a URI: the export must be at
 * least as large as the working file; the ranges of the working file
 * that are holes or zero are zeroed on the export (format and force do
 * not apply), bytes past its size are left alone.  -1 with the error
 * reported; nothing is left behind.
 */
int nbd_output_write (const char *working, const char *output,
                      const char *format, bool force);

/* The same, but a local output is left complete under its temporary
 * name, staged->tmp, for the caller to rename into place together with
 * the files that go with it (atomic_output_commit) or to remove
 * (atomic_output_abort).  For a URI, staged->tmp is NULL.
 */
int nbd_output_write_staged (const char *working, const char *output,
                             const char *format, bool force,
                             struct atomic_output *staged);

/* Start qemu-nbd (argv, which names it first) on h by systemd socket
 * activation and wait for its handshake.  Its pid (*pid_rtn, 0 if it
 * could not be found) is registered with child_register before the
 * handshake, and libnbd's socket directory with temp_foreign_register,
 * so that a signal at any point leaves neither behind.  -1 on error,
 * with nbd_get_error set and nothing reported.  Either way the caller,
 * after nbd_close, calls child_unregister (*pid_rtn) and
 * temp_foreign_forget.
 */
struct nbd_handle;
int nbd_start_qemu_nbd (struct nbd_handle *h, char **argv, pid_t *pid_rtn);

#endif /* MKVMIMG_NBD_OUTPUT_H */
