/* The root filesystem source named by [rootfs] source: a tarball, a
 * directory, a cpio/initramfs image, a buildroot output, a generated
 * busybox system, or none.
 */
#ifndef MKVMIMG_ROOTFS_H
#define MKVMIMG_ROOTFS_H

#include "entries.h"
#include "profile.h"

/* What the build needs to know of the source, noted as entries pass. */
struct rootfs_facts {
  char *kernel;                 /* newest "boot/vmlinuz-REL", or NULL */
  char *initrd;                 /* "boot/initrd.img-REL" of that kernel */
  const char *modules_prefix;   /* "lib/modules", or "usr/lib/modules" when
                                   lib is a symlink (merged /usr) */
  struct strv initrds;          /* every boot/initrd.img-* seen */
  struct strv module_trees;     /* REL of every lib/modules/REL/modules.order */
};

/* Stream the source's entries into sink, filling facts.  0 or -1. */
int rootfs_entries (const struct profile *p, struct rootfs_facts *facts,
                    struct entry_sink *sink);
void rootfs_facts_free (struct rootfs_facts *facts);

/* The directory of a buildroot:DIR source (resolved like any path of
 * the profile), or NULL for other sources.  Caller frees.
 */
char *rootfs_buildroot_dir (const struct profile *p);

/* A buildroot output without rootfs.tar but with an ext2/3/4 image
 * (rootfs.ext2, ...): 1 and its path (caller frees) in *path_rtn; the
 * build copies it as the root filesystem instead of populating one.
 * 0 for every other source.
 */
int rootfs_image (const struct profile *p, char **path_rtn);

/* source = busybox: a root filesystem from the host's busybox-static. */
int source_busybox (struct entry_sink *sink);

#endif /* MKVMIMG_ROOTFS_H */
