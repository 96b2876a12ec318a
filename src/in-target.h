/* In-target steps: the [run NAME] sections of a profile, shell commands
 * run inside the bootstrapped system after its packages are installed,
 * in profile order.  Through mmdebstrap they are customize hooks
 * ("chroot $1 sh -ec ..."), which work as root and in unshare mode; with
 * debootstrap (as root) they run in a chroot with /proc, /sys and /dev
 * mounted (and always unmounted) and a policy-rc.d that keeps services
 * from starting.  The command text travels in the environment, never
 * through a command line.
 */
#ifndef MKVMIMG_IN_TARGET_H
#define MKVMIMG_IN_TARGET_H

#include "mkvmimg.h"
#include "profile.h"

/* Text describing every step (for the cache key).  Caller frees. */
char *in_target_describe (const struct profile *p);

/* Add mmdebstrap --customize-hook options to argv, and the variables
 * they read to env ("NAME=VALUE").  exclude: packages to purge first
 * (may be empty).
 */
void in_target_mmdebstrap_hooks (const struct profile *p,
                                 char *const *exclude,
                                 struct strv *argv, struct strv *env);

/* Run the steps in a chroot at root (debootstrap, as root).  0 or -1
 * (the failing step's output has been shown).
 */
int in_target_run_chroot (const struct profile *p, const char *root);

#endif /* MKVMIMG_IN_TARGET_H */
