/* Partition tables written with libparted into a raw working file. */
#ifndef MKVMIMG_PARTITION_H
#define MKVMIMG_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

enum part_type {
  PART_BIOS,                    /* GPT BIOS boot partition (bios_grub) */
  PART_ESP,                     /* EFI system partition */
  PART_SWAP,
  PART_LINUX,                   /* root and data filesystems */
};

struct part {
  const char *name;             /* GPT partition name, e.g. "root" */
  enum part_type type;
  uint64_t size;                /* bytes; 0 for the last: the rest */
  char uuid[37];                /* GPT partition UUID, set by the caller */
  /* Filled in by partition_write: */
  uint64_t offset;              /* bytes from the start of the disk */
  int number;                   /* 1-based */
};

struct layout {
  bool msdos;                   /* false: GPT */
  uint64_t disk_size;           /* bytes */
  char disk_uuid[37];           /* GPT disk GUID */
  uint32_t disk_signature;      /* MBR signature (msdos) */
  struct part *parts;
  size_t nparts;
};

/* Partitions are aligned to 1 MiB; the first starts at 1 MiB (the gap
 * before it holds GRUB's core image on msdos disks).
 */
#define PART_ALIGN (1024 * 1024)

/* Bytes the layout needs for parts of the given sizes (alignment, GPT
 * headers at both ends).  A part of size 0 counts as min_last.
 */
uint64_t partition_disk_size (const struct layout *l, uint64_t min_last);

/* Create (or truncate and extend) image as a sparse raw file of
 * l->disk_size bytes and write the table.  Fills offset, number and the
 * size of a size-0 part.  -1 with the error reported (a layout that does
 * not fit says how much is needed).
 */
int partition_write (const char *image, struct layout *l);

#endif /* MKVMIMG_PARTITION_H */
