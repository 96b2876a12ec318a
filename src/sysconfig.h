/* System configuration applied to the entry stream, without a chroot:
 * a transform sink between the root source and the filesystem sink.
 * Entries pass through; the account databases (/etc/passwd, shadow,
 * group, gshadow) and /etc/skel are captured; files that mkvmimg
 * generates (hostname, hosts, machine-id, timezone, locale, [file]s)
 * and the SSH host keys are dropped from the stream; at the end the
 * generated entries are emitted: the edited account databases, home
 * directories, authorized keys, a first-boot SSH host key unit, the
 * serial getty, the network, the machine ID, [file PATH] sections.
 */
#ifndef MKVMIMG_SYSCONFIG_H
#define MKVMIMG_SYSCONFIG_H

#include <stdbool.h>

#include "entries.h"
#include "profile.h"

struct sysconfig;

/* Is there any system configuration to apply?  A debootstrap source
 * always gets one; other sources only with [system], [user] or [file]
 * sections.
 */
bool sysconfig_wanted (const struct profile *p);

/* Read and check the configuration once per build: password files are
 * read and hashed here (the clear text is wiped at once), key files
 * read.  NULL with the error reported.
 */
struct sysconfig *sysconfig_prepare (const struct profile *p);
void sysconfig_free (struct sysconfig *c);

/* A transform in front of next, for one pass over the entries. */
struct entry_sink *sysconfig_sink_new (struct sysconfig *c,
                                       struct entry_sink *next);
/* Emit the generated entries into next (not next->finish).  0 or -1. */
int sysconfig_sink_end (struct entry_sink *sink);
void sysconfig_sink_free (struct entry_sink *sink);

#endif /* MKVMIMG_SYSCONFIG_H */
