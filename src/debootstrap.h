/* [rootfs] source = debootstrap: a Debian root filesystem bootstrapped
 * by mmdebstrap (preferred; unprivileged with --mode=unshare) or
 * debootstrap (as root), as a tarball that enters the build as an entry
 * stream.  The tarball comes from the base cache when it holds one for
 * the same inputs; without the cache it is kept in the private working
 * directory, so that the build's two passes bootstrap only once.
 */
#ifndef MKVMIMG_DEBOOTSTRAP_H
#define MKVMIMG_DEBOOTSTRAP_H

#include "entries.h"
#include "profile.h"

enum base_cache_mode {
  BASE_CACHE_USE,               /* default: read or fill the cache */
  BASE_CACHE_OFF,               /* --no-cache: neither read nor write */
  BASE_CACHE_REFRESH,           /* --refresh-cache: bootstrap, replace */
};

void debootstrap_set_cache_mode (enum base_cache_mode mode);

/* Stream the base's entries into sink (bootstrapping it on the first
 * call).  0 or -1.
 */
int source_debootstrap (const struct profile *p, struct entry_sink *sink);

/* Forget the base of this process (the working copy is removed with
 * the working directory).
 */
void debootstrap_reset (void);

#endif /* MKVMIMG_DEBOOTSTRAP_H */
