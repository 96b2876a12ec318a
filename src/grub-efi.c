/* GRUB for UEFI (x86_64-efi, arm64-efi: the platform comes from the
 * architecture table): one standalone EFI application made with
 * grub-mkimage; the caller puts it at the removable-media path on the
 * ESP (\EFI\BOOT\BOOTX64.EFI, BOOTAA64.EFI).
 */
#include <config.h>

#include "mkvmimg.h"
#include "grub.h"

/* Modules built into the image: enough to find the root filesystem, read
 * grub.cfg and boot Linux without /boot/grub/x86_64-efi.
 */
static const char *const efi_modules[] = {
  "part_gpt", "part_msdos", "ext2", "fat",
  "search", "search_fs_uuid", "search_fs_file", "search_label",
  "normal", "configfile", "linux", "boot", "echo", "test", "gzio",
  "serial", "terminal", "efi_gop", "all_video", "ls", "cat", "halt",
  "reboot", "sleep",
  NULL
};

int
grub_make_efi (const char *out_file, const struct grub_config *cfg)
{
  return grub_mkimage (GRUB_EFI_PLATFORM (cfg), out_file, cfg, efi_modules);
}
