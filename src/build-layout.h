/* From a profile and the size of the content to a disk layout: which
 * partitions, their sizes, filesystems, UUIDs and mount points.
 */
#ifndef MKVMIMG_BUILD_LAYOUT_H
#define MKVMIMG_BUILD_LAYOUT_H

#include <stdint.h>

#include "partition.h"
#include "profile.h"

#define MAX_PARTS 16

enum fs_type { FS_NONE, FS_EXT4, FS_VFAT, FS_SWAP };

struct plan_part {
  char *name;
  enum fs_type fs;
  char *mount;                  /* NULL: not in fstab */
  char *label;
  char fs_uuid[37];             /* ext4 and swap */
  uint32_t vfat_id;             /* vfat volume id */
};

struct disk_plan {
  char *loader;                 /* bios, uefi, hybrid, none */
  struct layout layout;
  struct part parts[MAX_PARTS];
  struct plan_part info[MAX_PARTS];
  int root, esp, bios, swap;    /* indexes, -1: none */
  char hash_seed[37];           /* ext4 directory hash seed */
};

/* Plan the disk for content needing root_bytes in the root filesystem
 * (already including its margin).  -1 with the error reported, e.g. a
 * given size too small for the content (saying how much is needed).
 */
int plan_disk (const struct profile *p, uint64_t root_bytes,
               struct disk_plan *plan);
void plan_free (struct disk_plan *plan);

/* /etc/fstab for the plan, by UUID.  Caller frees. */
char *plan_fstab (const struct disk_plan *plan);

#endif /* MKVMIMG_BUILD_LAYOUT_H */
