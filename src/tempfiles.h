/* Temporary files that never outlive mkvmimg: one private working
 * directory (0700) and atomic outputs (written under a temporary name in
 * the destination directory, renamed into place on success).  Both are
 * removed on every exit path, signals included.
 */
#ifndef MKVMIMG_TEMPFILES_H
#define MKVMIMG_TEMPFILES_H

#include <stdbool.h>

/* The private working directory, created (mode 0700, under $TMPDIR or
 * /var/tmp for large files) on first use.  NULL with the error reported.
 * Not to be freed.
 */
const char *tmpdir_get (void);

/* A new unique path inside the working directory, e.g. "rootfs.ext4"
 * becomes "/tmp/mkvmimg.XXXX/rootfs.ext4"; caller frees.
 */
char *tmpdir_path (const char *name);

struct atomic_output {
  char *final;                  /* the name the user asked for */
  char *tmp;                    /* where it is written meanwhile */
  bool force;                   /* replace an existing final */
};

/* Choose the temporary name (same directory as final, so rename is
 * atomic) and create it empty with mode 0600.  Refuses an existing final
 * unless force.  The temporary file is removed on any exit unless
 * committed.  -1 with the error reported.
 */
int atomic_output_begin (struct atomic_output *out, const char *final,
                         bool force);
/* Give the file its final mode, fsync and rename into place. */
int atomic_output_commit (struct atomic_output *out, mode_t mode);
/* Remove the temporary file (no-op after commit). */
void atomic_output_abort (struct atomic_output *out);

/* A file or directory that a library creates and removes on its own
 * (libnbd's socket directory: register the socket, then its directory).
 * If mkvmimg dies of a signal or exits before temp_foreign_forget, they
 * are removed.
 */
void temp_foreign_register (const char *path);
void temp_foreign_forget (void);

/* Between signals_defer and signals_undefer (they nest), a SIGINT,
 * SIGTERM or SIGHUP is held back and acted on at signals_undefer: for
 * short windows that must not be cut in two, such as a child started
 * but not yet registered.  Never around anything that may block.
 */
void signals_defer (void);
void signals_undefer (void);

/* Install SIGINT/SIGTERM/SIGHUP handlers and an atexit hook that kill
 * children and remove temporary files.  Called once from main().
 */
void cleanup_install_handlers (void);
/* Run the exit cleanups now (main() calls this before exiting). */
void cleanup_run (void);

#endif /* MKVMIMG_TEMPFILES_H */
