/* VNC and SPICE displays with safe defaults: loopback or a Unix socket,
 * a password passed to QEMU through a secret object (a file, never the
 * command line) unless insecure = yes.
 */
#ifndef MKVMIMG_DISPLAY_H
#define MKVMIMG_DISPLAY_H

#include <stdbool.h>

#include "mkvmimg.h"
#include "machine.h"

struct display {
  const char *kind;             /* "none", "vnc", "spice" */
  char *listen;                 /* address, or a socket path (unix) */
  bool unix_socket;
  int port;                     /* TCP port (not unix) */
  char *password_file;          /* the secret QEMU reads, or NULL */
  bool generated;               /* password_file was written by us */
};

/* Choose the address/port, check the password rules, write a generated
 * password (8 characters, mode 0600) into dir when password_file is
 * NULL and the display is not insecure.  dry_run: no file, no port
 * probing (port 5900 / 5930).  -1 with the error reported.
 */
int display_prepare (const struct machine *m, const char *password_file,
                     const char *dir, bool dry_run, struct display *d);
/* The QEMU options for it. */
void display_add_args (const struct display *d, struct strv *argv);
/* How to connect: "remote-viewer spice://127.0.0.1:5930".  Caller
 * frees; NULL for none.
 */
char *display_connect_command (const struct display *d);
void display_free (struct display *d);

#endif /* MKVMIMG_DISPLAY_H */
