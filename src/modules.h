/* Out-of-tree driver modules: [module NAME] sections.  Built against the
 * target kernel (or taken prebuilt, vermagic checked), installed under
 * lib/modules/KVER/updates/, with depmod's indexes and the load and
 * option files the target reads.
 */
#ifndef MKVMIMG_MODULES_H
#define MKVMIMG_MODULES_H

#include "entries.h"
#include "kernel.h"
#include "profile.h"

struct module_set {
  char *release;                /* the target kernel release */
  char *staging;                /* DIR with lib/modules/KVER/ after depmod */
  struct strv names;            /* module names, in profile order */
  struct strv kos;              /* built or given .ko files (host paths) */
  struct strv ko_section;       /* the [module] each .ko came from */
  struct strv aliases;          /* "NAME pci:v...": from modinfo */
};

/* Build or check every [module], run depmod on a staging tree holding
 * them (and the kernel's own modules when there are any).  A profile
 * without [module] sections gives an empty set.  0 or -1.
 */
int modules_prepare (const struct profile *p, const struct kernel *k,
                     const char *release, struct module_set *set);

/* The entries: the modules under updates/, depmod's files, and
 * etc/modules-load.d / etc/modprobe.d.  prefix is "lib/modules" or
 * "usr/lib/modules".  0 or -1.
 */
int modules_entries (const struct profile *p, const struct module_set *set,
                     const char *prefix, struct entry_sink *sink);

/* A copy of initrd (made by initramfs-tools) with a segment appended
 * that loads every module of the set before the root is mounted
 * ([module] load = initramfs).  *patched_rtn is a file in the private
 * working directory; caller frees the name.  0 or -1.
 */
int modules_patch_initrd (const struct profile *p,
                          const struct module_set *set, const char *initrd,
                          char **patched_rtn);
/* Does any [module] ask for load = initramfs? */
bool modules_want_initramfs (const struct profile *p);

void module_set_free (struct module_set *set);

#endif /* MKVMIMG_MODULES_H */
