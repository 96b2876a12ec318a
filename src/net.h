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

/* Is spec a forward "tcp:HOSTPORT:GUESTPORT" (or udp:)?  No message. */
bool net_forward_valid (const char *spec);

/* Is the host port of a forward free on 127.0.0.1?  -1 with a clear
 * error when it is in use.
 */
int net_check_forward (const char *spec);

/* A stable MAC address for NIC number index of the VM identified by id
 * (its name, or the absolute path of its image): 52:54:00 and three
 * bytes of a hash.  Caller frees.
 */
char *net_mac (const char *id, size_t index);

/* The directory holding the switches of `mkvmimg net`:
 * $MKVMIMG_NET_DIR, else $XDG_RUNTIME_DIR/mkvmimg-net, else
 * /tmp/mkvmimg-net-UID.  Caller frees.
 */
char *net_dir (void);

/* The control directory of a VDE switch from "vde:SWITCH": a path (has
 * a '/') as given, else the switch SWITCH of `mkvmimg net create`.
 * check: fail clearly when the switch is not there.  Caller frees.
 */
char *net_vde_path (const char *value, bool check);

/* Does this QEMU have the vde network back end?  -1 with a clear
 * error when not.
 */
int net_qemu_has_vde (const char *qemu);

/* A switch name: letters, digits, '-', '_', '.', not starting with '.'. */
bool net_valid_switch_name (const char *name);

/* mkvmimg net create|list|destroy (src/net-cmd.c). */
int cmd_net (int argc, char **argv);

#endif /* MKVMIMG_NET_H */
