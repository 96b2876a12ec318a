/* The architecture and board tables (see arch.h). */
#include <config.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "mkvmimg.h"
#include "arch.h"

/* Debian 12: ovmf (OVMF_CODE_4M.fd; the 2M names on older installs),
 * qemu-efi-aarch64 and qemu-efi-arm (AAVMF, AAVMF32).
 */
static const char *const ovmf_code[] = {
  "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd", NULL
};
static const char *const ovmf_vars[] = {
  "/usr/share/OVMF/OVMF_VARS_4M.fd", "/usr/share/OVMF/OVMF_VARS.fd", NULL
};
static const char *const aavmf_code[] = {
  "/usr/share/AAVMF/AAVMF_CODE.fd", NULL
};
static const char *const aavmf_vars[] = {
  "/usr/share/AAVMF/AAVMF_VARS.fd", NULL
};
static const char *const aavmf32_code[] = {
  "/usr/share/AAVMF/AAVMF32_CODE.fd", NULL
};
static const char *const aavmf32_vars[] = {
  "/usr/share/AAVMF/AAVMF32_VARS.fd", NULL
};

/* Drivers a generated initrd loads when the kernel has them as modules:
 * the disks of the arch's boards and ext4.  crc32c is ext4's checksum.
 */
static const char *const x86_drivers[] = {
  "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci",
  "ata_piix", "crc32c_generic", "ext4", NULL
};
static const char *const arm_drivers[] = {
  "virtio_mmio", "virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod",
  "nvme", "armmmci", "mmc_block", "crc32c_generic", "ext4", NULL
};

static const struct arch arches[] = {
  { .name = "x86_64", .debian = "amd64", .uname = "x86_64",
    .qemu = "qemu-system-x86_64", .machine = "q35", .tcg_cpu = NULL,
    .console = "ttyS0", .kernel_name = "bzImage",
    .kernel_build = "arch/x86/boot/bzImage",
    .kernel_package = "linux-image-amd64",
    .kernel_magic_off = 0x202, .kernel_magic = "HdrS",
    .grub_bios = "i386-pc", .grub_efi = "x86_64-efi",
    .efi_boot_file = "/EFI/BOOT/BOOTX64.EFI",
    .fw_code = ovmf_code, .fw_vars = ovmf_vars, .fw_package = "ovmf",
    .qemu_user = "qemu-x86_64-static", .binfmt = "qemu-x86_64",
    .elf_machine = EM_X86_64, .elf64 = true,
    .initrd_drivers = x86_drivers },
  { .name = "aarch64", .debian = "arm64", .uname = "aarch64",
    .qemu = "qemu-system-aarch64", .machine = "virt",
    /* virt's default CPU is a 32-bit cortex-a15. */
    .tcg_cpu = "cortex-a57",
    .console = "ttyAMA0", .kernel_name = "Image",
    .kernel_build = "arch/arm64/boot/Image",
    .kernel_package = "linux-image-arm64",
    .kernel_magic_off = 0x38, .kernel_magic = "ARM\x64",
    .grub_bios = NULL, .grub_efi = "arm64-efi",
    .efi_boot_file = "/EFI/BOOT/BOOTAA64.EFI",
    .fw_code = aavmf_code, .fw_vars = aavmf_vars,
    .fw_package = "qemu-efi-aarch64",
    .qemu_user = "qemu-aarch64-static", .binfmt = "qemu-aarch64",
    .elf_machine = EM_AARCH64, .elf64 = true,
    .initrd_drivers = arm_drivers },
  { .name = "armhf", .debian = "armhf", .uname = "armv7l",
    .qemu = "qemu-system-arm", .machine = "virt", .tcg_cpu = NULL,
    .console = "ttyAMA0", .kernel_name = "zImage",
    .kernel_build = "arch/arm/boot/zImage",
    .kernel_package = "linux-image-armmp",
    .kernel_magic_off = 0x24, .kernel_magic = "\x18\x28\x6f\x01",
    .grub_bios = NULL, .grub_efi = "arm-efi",
    .efi_boot_file = "/EFI/BOOT/BOOTARM.EFI",
    .fw_code = aavmf32_code, .fw_vars = aavmf32_vars,
    .fw_package = "qemu-efi-arm",
    .qemu_user = "qemu-arm-static", .binfmt = "qemu-arm",
    .elf_machine = EM_ARM, .elf64 = false,
    .initrd_drivers = arm_drivers },
};
#define N_ARCHES (sizeof arches / sizeof arches[0])

/* Other names users write for the same architectures. */
static const struct { const char *alias, *name; } aliases[] = {
  { "amd64", "x86_64" }, { "arm64", "aarch64" }, { "arm", "armhf" },
};

/* Boards whose devices differ from the generic PC / virt machine. */
static const struct board boards[] = {
  /* Versatile Express with a Cortex-A9 tile: no PCI, its disk is the
   * PL181 SD card controller (Linux: armmmci, /dev/mmcblk0), at most 1G
   * of RAM, and the kernel needs the board's device tree.
   */
  { .machine = "vexpress-a9", .arch = "armhf", .disk = "sd", .pci = false,
    .vga = false, .audio = true, .dtb = "vexpress-v2p-ca9.dtb", .root_disk = "mmcblk0",
    .max_memory = 1ULL << 30 },
  { .machine = "vexpress-a15", .arch = "armhf", .disk = "sd", .pci = false,
    .vga = false, .audio = true, .dtb = "vexpress-v2p-ca15-tc1.dtb",
    .root_disk = "mmcblk0", .max_memory = 2ULL << 30 },
};

/* Generic machines: PCI, virtio disk; virt makes its own device tree. */
static const struct board generic_pc = {
  .machine = NULL, .arch = NULL, .disk = "virtio", .pci = true,
  .vga = true, .dtb = NULL, .root_disk = "vda", .max_memory = 0
};
static const struct board generic_virt = {
  .machine = NULL, .arch = NULL, .disk = "virtio", .pci = true,
  .vga = false, .dtb = NULL, .root_disk = "vda", .max_memory = 0
};

const struct arch *
arch_find (const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; ++i)
    if (STREQ (name, aliases[i].alias))
      name = aliases[i].name;
  for (size_t i = 0; i < N_ARCHES; ++i)
    if (STREQ (arches[i].name, name))
      return &arches[i];
  return NULL;
}

const char *
arch_names (void)
{
  return "x86_64, aarch64, armhf";
}

const struct arch *
arch_lookup (const char *what, const char *name)
{
  const struct arch *a = arch_find (name);

  if (!a)
    error ("%s: unknown architecture '%s' (expected one of %s)", what,
           name, arch_names ());
  return a;
}

const struct arch *
arch_find_debian (const char *debian)
{
  for (size_t i = 0; i < N_ARCHES; ++i)
    if (STREQ (arches[i].debian, debian))
      return &arches[i];
  return NULL;
}

const struct arch *
arch_next (const struct arch *a)
{
  if (!a)
    return &arches[0];
  return a + 1 < arches + N_ARCHES ? a + 1 : NULL;
}

const struct arch *
arch_host (void)
{
  struct utsname u;

  if (uname (&u) == -1)
    return NULL;
  for (size_t i = 0; i < N_ARCHES; ++i)
    if (STREQ (arches[i].uname, u.machine))
      return &arches[i];
  /* armv7l is the usual one; armv8l is a 32-bit userland on arm64. */
  if (STREQ (u.machine, "armv8l"))
    return arch_find ("armhf");
  return NULL;
}

const struct board *
board_find (const struct arch *a, const char *machine)
{
  for (size_t i = 0; machine && i < sizeof boards / sizeof boards[0]; ++i)
    if (STREQ (boards[i].machine, machine))
      return &boards[i];
  return a && a->grub_bios ? &generic_pc : &generic_virt;
}

static const char *
first_readable (const char *const *paths)
{
  for (size_t i = 0; paths && paths[i]; ++i)
    if (access (paths[i], R_OK) == 0)
      return paths[i];
  return NULL;
}

const char *
arch_find_fw_code (const struct arch *a)
{
  return first_readable (a->fw_code);
}

const char *
arch_find_fw_vars (const struct arch *a)
{
  return first_readable (a->fw_vars);
}

const struct arch *
arch_of_kernel (const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  char magic[4];

  if (fd == -1)
    return NULL;
  for (size_t i = 0; i < N_ARCHES; ++i)
    if (pread (fd, magic, 4, arches[i].kernel_magic_off) == 4
        && memcmp (magic, arches[i].kernel_magic, 4) == 0)
      return &arches[i];
  return NULL;
}

/* The arch of an ELF e_machine, for messages. */
static const char *
elf_arch_name (unsigned machine)
{
  for (size_t i = 0; i < N_ARCHES; ++i)
    if (arches[i].elf_machine == machine)
      return arches[i].name;
  return "an unknown architecture";
}

int
arch_check_elf (const struct arch *a, const char *path, const char *what)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  unsigned char h[EI_NIDENT + 4];
  unsigned machine;

  if (fd == -1) {
    error_errno ("%s: %s", what, path);
    return -1;
  }
  if (read (fd, h, sizeof h) != (ssize_t) sizeof h
      || memcmp (h, ELFMAG, SELFMAG) != 0) {
    error ("%s: %s is not an ELF executable", what, path);
    return -1;
  }
  /* e_machine follows e_type, in the file's byte order. */
  machine = h[EI_DATA] == ELFDATA2MSB
    ? (unsigned) h[EI_NIDENT + 2] << 8 | h[EI_NIDENT + 3]
    : (unsigned) h[EI_NIDENT + 3] << 8 | h[EI_NIDENT + 2];
  if (machine != a->elf_machine
      || (h[EI_CLASS] == ELFCLASS64) != a->elf64) {
    error ("%s: %s is built for %s, not for %s (Debian: install or "
           "download busybox-static:%s)", what, path,
           elf_arch_name (machine), a->name, a->debian);
    return -1;
  }
  return 0;
}

int
arch_check_foreign_exec (const struct arch *a, const char *why)
{
  const struct arch *host = arch_host ();
  CLEANUP_FREE char *user = NULL;
  CLEANUP_FREE char *entry = NULL;
  CLEANUP_FREE char *text = NULL;
  struct stat st;

  if (host == a)
    return 0;
  /* An arm64 CPU usually runs armhf code itself. */
  if (host && STREQ (host->name, "aarch64") && STREQ (a->name, "armhf"))
    return 0;
  user = xasprintf ("/usr/bin/%s", a->qemu_user);
  if (access (user, X_OK) == -1) {
    error ("%s for %s on this %s host needs %s: install Debian's "
           "qemu-user-static and binfmt-support packages", why, a->name,
           host ? host->name : "unknown", user);
    return -1;
  }
  if (stat ("/proc/sys/fs/binfmt_misc/status", &st) == -1) {
    error ("%s for %s: binfmt_misc is not mounted (mount -t binfmt_misc "
           "binfmt_misc /proc/sys/fs/binfmt_misc, or start "
           "systemd-binfmt)", why, a->name);
    return -1;
  }
  entry = xasprintf ("/proc/sys/fs/binfmt_misc/%s", a->binfmt);
  if (access (entry, R_OK) == -1) {
    error ("%s for %s: %s is not registered with binfmt_misc (install "
           "binfmt-support, or run update-binfmts --enable %s)", why,
           a->name, a->binfmt, a->binfmt);
    return -1;
  }
  text = read_whole_file (entry, NULL);
  if (!text)
    return -1;
  if (!STRPREFIX (text, "enabled")) {
    error ("%s for %s: %s is disabled (update-binfmts --enable %s)", why,
           a->name, entry, a->binfmt);
    return -1;
  }
  return 0;
}
