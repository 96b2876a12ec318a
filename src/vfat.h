/* The ESP: a FAT filesystem at an offset inside an image file, made and
 * filled without mounting (mkfs.fat --offset and mtools).
 */
#ifndef MKVMIMG_VFAT_H
#define MKVMIMG_VFAT_H

#include <stdint.h>

/* volume_id is the 32-bit serial, shown as "XXXX-XXXX" in fstab. */
int vfat_mkfs (const char *image, uint64_t offset, uint64_t size,
               const char *label, uint32_t volume_id);
/* Copy a host file to path (e.g. "/EFI/BOOT/BOOTX64.EFI"), making the
 * directories on the way.
 */
int vfat_add_file (const char *image, uint64_t offset, const char *host_file,
                   const char *path);
/* "XXXX-XXXX" for fstab and grub (caller frees). */
char *vfat_uuid_string (uint32_t volume_id);

#endif /* MKVMIMG_VFAT_H */
