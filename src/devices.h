/* Emulated devices ([device NAME]): checked against the QEMU that will
 * run them, and against the driver modules that should bind them.
 */
#ifndef MKVMIMG_DEVICES_H
#define MKVMIMG_DEVICES_H

#include <stdbool.h>

#include "modules.h"
#include "profile.h"

/* Every [device] type must be known to the chosen QEMU (`-device help`).
 * 0 or -1 (naming the device and the QEMU binary).
 */
int devices_check_qemu (const struct profile *p);

/* Warn (error with strict) when a [module] has PCI aliases but no
 * [device] it could bind, or a [device] with known PCI IDs that no
 * module of the image claims.  modules_alias is the image's
 * modules.alias file, or NULL.  0, or -1 under strict.
 */
int devices_check_drivers (const struct profile *p,
                           const struct module_set *set,
                           const char *modules_alias, bool strict);

#endif /* MKVMIMG_DEVICES_H */
