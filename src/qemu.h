/* The QEMU command line for a machine description and an image, and a
 * small QMP client to stop it.  Used by boot (and run).
 */
#ifndef MKVMIMG_QEMU_H
#define MKVMIMG_QEMU_H

#include <stdbool.h>

#include "mkvmimg.h"
#include "machine.h"
#include "display.h"

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
  const char *id;               /* the VM's identity for MACs (qemu_vm_id) */
  const char *image_format;     /* NULL: the machine's, else probed */
  const struct display *display;  /* NULL: -display none (headless) or
                                     -vga std */
  const char *console_file;     /* serial console to this file */
  bool reboot;                  /* let the guest reboot (no -no-reboot) */
  int gdb_port;                 /* -gdb tcp:127.0.0.1:PORT, or 0 */
  bool gdb_wait;                /* -S */
  const char *pidfile;          /* -daemonize -pidfile FILE, or NULL */
  char *const *wrapper;         /* argv run before qemu, or NULL */
};

/* The identity MAC addresses derive from: the machine's name, else the
 * absolute path of the image, else of the machine file.  Caller frees.
 */
char *qemu_vm_id (const struct machine *m, const char *image,
                  const char *machine_path);

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

/* The machine for IMAGE (IMAGE.machine, IMAGE itself when it ends in
 * .machine, else the defaults) or --machine FILE, and the image to use
 * (NULL for disk = none) in *image_rtn (caller frees).  NULL with the
 * error reported.
 */
struct machine *qemu_choose_machine (const char *image, const char *machine,
                                     char **image_rtn);

/* The image's format: the machine's disk-format, else probed (qcow2
 * magic, else raw).  NULL with the error reported.
 */
const char *qemu_image_format (const struct machine *m, const char *image);

/* The argv as one shell-quoted line (no newline).  Caller frees. */
char *qemu_command_string (char *const *argv);

/* Ask the QEMU listening on the QMP socket path to quit.  Returns 0 when
 * the command was accepted; -1 otherwise, with only a debug message
 * (the caller falls back to a signal).
 */
int qemu_qmp_quit (const char *qmp_path);

#endif /* MKVMIMG_QEMU_H */
