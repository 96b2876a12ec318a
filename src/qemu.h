/* The QEMU command line for a machine description and an image, and a
 * small QMP client to stop it.  Used by boot (and run).
 */
#ifndef MKVMIMG_QEMU_H
#define MKVMIMG_QEMU_H

#include <stdbool.h>

#include "mkvmimg.h"
#include "machine.h"

struct qemu_opts {
  const char *image;            /* disk image; NULL when disk = none */
  bool snapshot;                /* snapshot=on: the image is not written */
  bool headless;                /* -display none, console on qemu's stdout;
                                   else a display and the console muxed
                                   with the monitor on stdio */
  const char *qmp_path;         /* QMP socket to create, or NULL */
  bool dry_run;                 /* only printing: no info line */
  char *const *forwards;        /* more "tcp:HOST:GUEST" forwards for the
                                   first user-mode NIC, or NULL */
};

/* Can this machine use KVM here: /dev/kvm opens read-write and the
 * machine's arch is the host's?
 */
bool qemu_kvm_usable (const struct machine *m);

/* Build the argv (qemu binary first) into *argv_rtn, which must be
 * empty.  For UEFI the VARS template is copied into the working
 * directory (tmpdir_get), so each run starts from a fresh NVRAM.  A
 * disk image of unknown format is probed (qcow2 magic, else raw).  -1
 * with the error reported.
 */
int qemu_build_argv (const struct machine *m, const struct qemu_opts *opts,
                     struct strv *argv_rtn);

/* The argv as one shell-quoted line (no newline).  Caller frees. */
char *qemu_command_string (char *const *argv);

/* Ask the QEMU listening on the QMP socket path to quit.  Returns 0 when
 * the command was accepted; -1 otherwise, with only a debug message
 * (the caller falls back to a signal).
 */
int qemu_qmp_quit (const char *qmp_path);

#endif /* MKVMIMG_QEMU_H */
