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

void module_set_free (struct module_set *set);

#endif /* MKVMIMG_MODULES_H */
