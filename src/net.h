/* Networks of VMs: NIC back ends (user, VDE, tap), port forwards,
 * stable MAC addresses, and the VDE switches of `mkvmimg net`.
 */
#ifndef MKVMIMG_NET_H
#define MKVMIMG_NET_H

#include <stdbool.h>

/* A port forward "tcp:HOSTPORT:GUESTPORT" (or udp:) as QEMU's user
 * networking writes it: "hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT".
 * Caller frees.  NULL with the error reported (what names the option or
 * key, e.g. "--forward").
 */
char *net_hostfwd (const char *what, const char *spec);

/* Is the host port of a forward free on 127.0.0.1?  -1 with a clear
 * error when it is in use.
 */
int net_check_forward (const char *spec);

#endif /* MKVMIMG_NET_H */
