/* Architectures and boards: everything that differs between x86_64,
 * aarch64 and armhf (QEMU binary, machine type, firmware, console,
 * kernel image name, GRUB target, EFI boot file, disk interface, Debian
 * architecture name) is data in the tables of arch.c, looked up here,
 * not tested for in the stages.
 */
#ifndef MKVMIMG_ARCH_H
#define MKVMIMG_ARCH_H

#include <stdbool.h>

struct arch {
  const char *name;             /* [image] arch: "x86_64", "aarch64", "armhf" */
  const char *debian;           /* Debian architecture: "amd64" */
  const char *uname;            /* uname -m of such a host: "x86_64" */
  const char *qemu;             /* QEMU system emulator */
  const char *machine;          /* default QEMU machine type */
  const char *tcg_cpu;          /* -cpu under TCG, or NULL: QEMU's default */
  const char *console;          /* serial console device of the guest */
  const char *kernel_name;      /* buildroot / kbuild image: "bzImage" */
  const char *kernel_build;     /* in a kernel build tree */
  const char *kernel_package;   /* Debian's kernel metapackage */
  unsigned kernel_magic_off;    /* where its kernel images say what they */
  const char *kernel_magic;     /* are: 4 bytes ("HdrS" at 0x202) */
  const char *grub_bios;        /* GRUB BIOS platform, or NULL */
  const char *grub_efi;         /* GRUB UEFI platform, or NULL */
  const char *efi_boot_file;    /* removable-media path on the ESP */
  const char *const *fw_code;   /* UEFI firmware (code), first found wins */
  const char *const *fw_vars;   /* UEFI variable store templates */
  const char *fw_package;       /* Debian package with that firmware */
  const char *qemu_user;        /* qemu-user-static binary */
  const char *binfmt;           /* binfmt_misc entry name */
  unsigned elf_machine;         /* e_machine of its executables */
  bool elf64;
  const char *const *initrd_drivers;  /* modules a busybox initrd loads */
};

struct board {
  const char *machine;          /* QEMU machine type: "vexpress-a9" */
  const char *arch;             /* the only arch it has, or NULL: any */
  const char *disk;             /* default [machine] disk */
  bool pci;                     /* has a PCI bus (virtio-*-pci, e1000) */
  bool vga;                     /* takes -vga std */
  bool audio;                   /* has a sound chip: given a silent
                                   audio backend */
  const char *dtb;              /* device tree it needs, or NULL: none
                                   (QEMU generates one, or ACPI) */
  const char *root_disk;        /* the disk's name in Linux: "mmcblk0" */
  unsigned long long max_memory;  /* bytes, or 0: no board limit */
};

/* The architecture named name ("amd64" and "arm64" are accepted for
 * x86_64 and aarch64, "arm" for armhf), or NULL.
 */
const struct arch *arch_find (const char *name);
/* As arch_find, reporting an unknown name (what: where it came from,
 * e.g. "profile.conf:3") with the known ones.
 */
const struct arch *arch_lookup (const char *what, const char *name);
/* The architecture whose Debian name is debian, or NULL. */
const struct arch *arch_find_debian (const char *debian);
/* The architectures of the table in turn: arch_next (NULL) is the
 * first, arch_next (a) the one after a, NULL after the last.
 */
const struct arch *arch_next (const struct arch *a);
/* The host's, or NULL if the table does not know it. */
const struct arch *arch_host (void);
/* "x86_64, aarch64, armhf" (static). */
const char *arch_names (void);

/* The board for a machine type: a known board, or a generic one with
 * the arch's defaults (q35, virt, ...).  Never NULL.
 */
const struct board *board_find (const struct arch *a, const char *machine);

/* The first readable UEFI firmware code / vars file of the arch, or
 * NULL.  Not to be freed.
 */
const char *arch_find_fw_code (const struct arch *a);
const char *arch_find_fw_vars (const struct arch *a);

/* The architecture a kernel image is for, from its boot header magic
 * (bzImage, arm64 Image, arm zImage), or NULL: not recognised.
 */
const struct arch *arch_of_kernel (const char *path);

/* Check that an ELF file is an executable for the arch; -1 with an
 * error naming what (e.g. "[kernel] busybox") and both architectures.
 */
int arch_check_elf (const struct arch *a, const char *path, const char *what);

/* Can the host run the arch's executables (natively, or through
 * binfmt_misc and qemu-user-static)?  0, or -1 with an error saying
 * what is missing (the package to install, binfmt_misc to mount).
 */
int arch_check_foreign_exec (const struct arch *a, const char *why);

#endif /* MKVMIMG_ARCH_H */
