/* GRUB for BIOS (i386-pc) and UEFI (x86_64-efi), installed without
 * grub-install and without a device: images made with grub-mkimage, the
 * BIOS boot sector written and patched here.
 */
#ifndef MKVMIMG_GRUB_H
#define MKVMIMG_GRUB_H

#include <stdbool.h>
#include <stdint.h>

#include "entries.h"

struct grub_config {
  const char *root_uuid;        /* ext4 UUID of the root filesystem */
  const char *boot_prefix;      /* "/boot" (root holds /boot) */
  const char *kernel;           /* path in the root fs: "/boot/vmlinuz-6.1.0-56-amd64" */
  const char *initrd;           /* NULL: none */
  const char *cmdline;          /* appended after "root=UUID=... ro" */
  int timeout;                  /* menu timeout, seconds */
  bool bios, efi;               /* which modules to ship in /boot/grub */
  const char *efi_platform;     /* NULL: x86_64-efi (arch.c: arm64-efi) */
  const char *lib_dir;          /* NULL: GRUB_LIB_DIR ([boot] grub-dir) */
};

/* Where Debian's grub-pc-bin and grub-efi-amd64-bin install the
 * platform directories (i386-pc, x86_64-efi).
 */
#define GRUB_LIB_DIR "/usr/lib/grub"
#define GRUB_LIB(cfg) ((cfg)->lib_dir ? (cfg)->lib_dir : GRUB_LIB_DIR)
#define GRUB_EFI_PLATFORM(cfg) \
  ((cfg)->efi_platform ? (cfg)->efi_platform : "x86_64-efi")

/* Entries for the root filesystem: /boot/grub/grub.cfg and the module
 * directories (/boot/grub/i386-pc, /boot/grub/x86_64-efi) for the
 * targets asked for.
 */
int grub_rootfs_entries (const struct grub_config *cfg, struct entry_sink *sink);

/* The text of grub.cfg for cfg.  Caller frees.  NULL with the error
 * reported.
 */
char *grub_cfg_text (const struct grub_config *cfg);

/* The config embedded in both images: find the root filesystem by its
 * UUID and set $prefix to its grub directory, from where normal mode
 * reads grub.cfg.  Caller frees.
 */
char *grub_early_config (const struct grub_config *cfg);

/* Run grub-mkimage for a platform ("i386-pc", "x86_64-efi") with the
 * early config and the given modules (NULL-terminated), writing
 * out_file.  0, or -1 with the error reported.
 */
int grub_mkimage (const char *platform, const char *out_file,
                  const struct grub_config *cfg, const char *const *modules);

/* BIOS: make core.img (embedded config: search the root UUID, load
 * grub.cfg from it), write it at core_offset (the BIOS boot partition on
 * GPT, sector 1 on msdos) checking it fits in core_max bytes, write
 * boot.img to sector 0 keeping the partition table, and patch both.
 */
int grub_install_bios (const char *image, const struct grub_config *cfg,
                       bool msdos, uint64_t core_offset, uint64_t core_max);

/* UEFI: make the x86_64-efi image (embedded config as above) as a host
 * file; the caller copies it to \EFI\BOOT\BOOTX64.EFI on the ESP.
 */
int grub_make_efi (const char *out_file, const struct grub_config *cfg);

#endif /* MKVMIMG_GRUB_H */
