/* A libvirt domain XML for a machine: the same disk, firmware, devices,
 * network and display as `mkvmimg run` gives QEMU.
 */
#ifndef MKVMIMG_LIBVIRT_H
#define MKVMIMG_LIBVIRT_H

#include "machine.h"
#include "qemu.h"

/* The XML text (caller frees), or NULL with the error reported.  name
 * is the domain name (the machine's name, or derived from id).
 */
char *libvirt_domain_xml (const struct machine *m,
                          const struct qemu_opts *opts, const char *id);

#endif /* MKVMIMG_LIBVIRT_H */
