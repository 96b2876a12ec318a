/* The profile schema.  Adding a key is one line in profile_keys[] and
 * one =item in man/profile-SECTION.pod (tests/profile-keys-man.sh checks
 * that both agree).
 */
#include <config.h>

#include <string.h>

#include "mkvmimg.h"
#include "arch.h"
#include "profile.h"
#include "profile-keys.h"

const struct profile_section_def profile_sections[] = {
  { "image", false, "the disk image: format, size, partition table" },
  { "rootfs", false, "where the root filesystem comes from" },
  { "partition", true, "one partition of the disk, in order" },
  { "kernel", false, "the kernel, initrd and modules installed" },
  { "boot", false, "the boot loader" },
  { "machine", false, "the virtual machine the image runs on" },
  { "module", true, "an out-of-tree driver module installed in the image" },
  { "device", true, "an extra emulated QEMU device" },
  { "system", false, "system configuration: host name, root, network, time" },
  { "user", true, "a user account of the image" },
  { "file", true, "a file or directory put in the image (name: its path)" },
  { "run", true, "a command run inside the target after installation" },
  { NULL, false, NULL }
};

/* [partition NAME] type: from the name. */
static const char *
partition_type_default (const struct profile *p, const char *name)
{
  if (name && (STREQ (name, "bios") || STREQ (name, "esp")
               || STREQ (name, "swap")))
    return name;
  return "linux";
}

/* [partition NAME] fs: from the type. */
static const char *
partition_fs_default (const struct profile *p, const char *name)
{
  const char *type = profile_get (p, "partition", name, "type");

  if (!type || STREQ (type, "linux"))
    return "ext4";
  if (STREQ (type, "esp"))
    return "vfat";
  if (STREQ (type, "swap"))
    return "swap";
  return "none";                /* bios boot partition */
}

/* [partition NAME] mount: root on /, the ESP on /boot/efi. */
static const char *
partition_mount_default (const struct profile *p, const char *name)
{
  const char *type = profile_get (p, "partition", name, "type");
  const char *fs = profile_get (p, "partition", name, "fs");

  if (fs && (STREQ (fs, "none") || STREQ (fs, "swap")))
    return NULL;
  if (name && STREQ (name, "root"))
    return "/";
  if (type && STREQ (type, "esp"))
    return "/boot/efi";
  return NULL;
}

/* [partition root] label: [rootfs] label. */
static const char *
partition_label_default (const struct profile *p, const char *name)
{
  if (name && STREQ (name, "root"))
    return profile_get (p, "rootfs", NULL, "label");
  return NULL;
}

/* Defaults that follow [image] arch and [machine] type (arch.c). */
static const struct arch *
image_arch (const struct profile *p)
{
  const struct arch *a = arch_find (profile_get (p, "image", NULL, "arch"));
  return a ? a : arch_find ("x86_64");
}

static const struct board *
image_board (const struct profile *p)
{
  return board_find (image_arch (p), profile_get (p, "machine", NULL, "type"));
}

static const char *
arch_debian_default (const struct profile *p, const char *name)
{
  return image_arch (p)->debian;
}

static const char *
arch_qemu_default (const struct profile *p, const char *name)
{
  return image_arch (p)->qemu;
}

static const char *
arch_machine_default (const struct profile *p, const char *name)
{
  return image_arch (p)->machine;
}

static const char *
board_disk_default (const struct profile *p, const char *name)
{
  return image_board (p)->disk;
}

static const char *
board_nic_default (const struct profile *p, const char *name)
{
  return image_board (p)->pci ? "virtio" : "none";
}

static const char *
arch_console_default (const struct profile *p, const char *name)
{
  return image_arch (p)->console;
}

/* x86: the screen and the first serial port; ARM: the PL011 UART. */
static const char *
arch_cmdline_default (const struct profile *p, const char *name)
{
  return image_arch (p)->grub_bios ? "console=tty0 console=ttyS0,115200"
    : "console=ttyAMA0,115200";
}

/* hybrid where GRUB has a BIOS target; boards with a device tree boot
 * their kernel directly; the others through UEFI.
 */
static const char *
arch_loader_default (const struct profile *p, const char *name)
{
  if (image_arch (p)->grub_bios)
    return "hybrid";
  return image_board (p)->dtb ? "none" : "uefi";
}

#define S PT_STRING
#define P PT_PATH
#define Z PT_SIZE
#define I PT_INT
#define B PT_BOOL
#define E PT_ENUM
#define L PT_LIST
#define ZP PT_SIZE_OR_PERCENT
#define R PK_REQUIRED

/* section, key, type, default, allowed, flags, computed default,
 * documentation, example.
 */
const struct profile_key profile_keys[] = {
  { "image", "format", E, "qcow2", "qcow2|raw", 0, NULL,
    "format of the output image", "raw" },
  { "image", "size", Z, NULL, "1M..", 0, NULL,
    "virtual size of the disk; unset: computed from the content", "8G" },
  { "image", "margin", ZP, "20%", NULL, 0, NULL,
    "free space added to the computed root filesystem size", "512M" },
  { "image", "table", E, "gpt", "gpt|msdos", 0, NULL,
    "partition table type", "msdos" },
  { "image", "seed", S, NULL, NULL, 0, NULL,
    "seed for UUIDs; unset: random, set: reproducible", "my-image-1" },
  { "image", "arch", E, "x86_64", "x86_64|aarch64|armhf", 0, NULL,
    "architecture of the image", "aarch64" },
  { "image", "output", P, NULL, NULL, 0, NULL,
    "output file; unset: -o, or mkvmimg.qcow2", "debian.qcow2" },

  { "rootfs", "source", S, NULL, NULL, R, NULL,
    "tar:, cpio:, dir:PATH, buildroot:DIR, PATH, busybox, debootstrap or none",
    "tar:rootfs.tar.zst" },
  { "rootfs", "label", S, "root", "..16", 0, NULL,
    "ext4 label of the root filesystem", "debian" },
  { "rootfs", "suite", S, "bookworm", NULL, 0, NULL, "debootstrap: the Debian suite", "trixie" },
  { "rootfs", "mirror", S, "http://deb.debian.org/debian", NULL, 0, NULL, "debootstrap: the Debian mirror", "http://snapshot.debian.org/archive/debian/20250101T000000Z" },
  { "rootfs", "variant", E, "minbase", "minbase|buildd|essential|apt|required|important|standard", 0, NULL, "debootstrap: the base package set", "important" },
  { "rootfs", "components", L, "main", NULL, 0, NULL, "debootstrap: the archive components", "main contrib" },
  { "rootfs", "include", L, NULL, NULL, 0, NULL, "debootstrap: packages installed as well", "openssh-server vim" },
  { "rootfs", "exclude", L, NULL, NULL, 0, NULL, "debootstrap: packages left out (mmdebstrap: purged)", "tzdata" },
  { "rootfs", "architecture", E, NULL, "amd64|arm64|armhf", 0,
    arch_debian_default,
    "debootstrap: the Debian architecture; default from [image] arch",
    "arm64" },
  { "rootfs", "updates", B, "yes", NULL, 0, NULL, "debootstrap: also the suite's security and stable updates (SUITE-security, SUITE-updates)", "no" },
  { "rootfs", "security-mirror", S, "http://deb.debian.org/debian-security", NULL, 0, NULL, "debootstrap: the mirror of SUITE-security", "http://snapshot.debian.org/archive/debian-security/20250101T000000Z" },
  { "rootfs", "bootstrap", E, "auto", "auto|mmdebstrap|debootstrap", 0, NULL, "debootstrap: the tool; auto: mmdebstrap if installed", "debootstrap" },

  { "partition", "size", Z, NULL, "1M..", 0, NULL,
    "size of the partition; unset (last one only): the rest of the disk",
    "4G" },
  { "partition", "type", E, NULL, "bios|esp|swap|linux", 0,
    partition_type_default,
    "partition type; default from the name", "esp" },
  { "partition", "fs", E, NULL, "ext4|vfat|swap|none", 0,
    partition_fs_default,
    "filesystem made on the partition; default from the type", "vfat" },
  { "partition", "mount", P, NULL, NULL, 0, partition_mount_default,
    "mount point in /etc/fstab; root: /, ESP: /boot/efi", "/srv" },
  { "partition", "label", S, NULL, "..16", 0, partition_label_default,
    "filesystem label; root: the [rootfs] label", "data" },
  { "partition", "bootable", B, "no", NULL, 0, NULL,
    "legacy BIOS bootable flag (msdos: the active flag)", "yes" },

  { "kernel", "image", P, NULL, NULL, PK_HOST, NULL,
    "kernel image on the host, or host: the newest /boot/vmlinuz-*",
    "/boot/vmlinuz-6.1.0-56-amd64" },
  { "kernel", "tree", P, NULL, NULL, 0, NULL,
    "a built kernel source tree, instead of image", "/usr/src/linux" },
  { "kernel", "initrd", P, NULL, NULL, PK_HOST, NULL,
    "initrd file on the host; host: the host's for the release; "
    "busybox: generated; none",
    "/boot/initrd.img-6.1.0-56-amd64" },
  { "kernel", "modules", P, NULL, NULL, PK_HOST, NULL,
    "directory holding lib/modules/RELEASE, or that directory; host; none",
    "/lib/modules/6.1.0-56-amd64" },
  { "kernel", "release", S, NULL, NULL, 0, NULL,
    "kernel release; unset: read from the kernel image", "6.1.0-56-amd64" },
  { "kernel", "cmdline", S, NULL, NULL, 0, arch_cmdline_default,
    "kernel command line; default: the architecture's consoles",
    "console=ttyS0 quiet" },
  { "kernel", "busybox", P, NULL, NULL, 0, NULL,
    "busybox-static binary of the image's architecture, for initrd = "
    "busybox; unset: the host's /bin/busybox",
    "busybox-arm64/bin/busybox" },
  { "kernel", "package", S, NULL, NULL, 0, NULL, "debootstrap: the kernel package; unset: linux-image-amd64; none", "linux-image-cloud-amd64" },

  { "boot", "loader", E, NULL, "bios|uefi|hybrid|none", 0,
    arch_loader_default,
    "boot loader installed; default from the architecture and board",
    "bios" },
  { "boot", "grub-dir", P, "/usr/lib/grub", NULL, 0, NULL,
    "directory holding GRUB's platform directories (i386-pc, x86_64-efi, "
    "arm64-efi)", "grub-arm64/usr/lib/grub" },
  { "boot", "timeout", I, "1", "0..60", 0, NULL,
    "boot menu timeout in seconds", "5" },

  { "machine", "memory", Z, "1G", "64M..", 0, NULL,
    "memory of the virtual machine", "2G" },
  { "machine", "cpus", I, "2", "1..64", 0, NULL,
    "number of virtual CPUs", "4" },
  { "machine", "disk", E, NULL, "virtio|ide|scsi|nvme|sd|none", 0,
    board_disk_default, "disk controller model; default from the board",
    "nvme" },
  { "machine", "nic", E, NULL, "virtio|e1000|none", 0, board_nic_default,
    "network card model; default: virtio, none on boards without PCI",
    "e1000" },
  { "machine", "qemu", P, NULL, NULL, 0, arch_qemu_default,
    "QEMU program; default from [image] arch",
    "/opt/qemu/bin/qemu-system-x86_64" },
  { "machine", "type", S, NULL, "1..", 0, arch_machine_default,
    "QEMU machine type; default from [image] arch", "pc" },
  { "machine", "dtb", P, NULL, NULL, 0, NULL,
    "device tree for direct kernel boot; unset: a buildroot:DIR "
    "source's, for boards that need one", "vexpress-v2p-ca9.dtb" },

  { "module", "source", P, NULL, NULL, 0, NULL,
    "source directory (Kbuild or Makefile), built against the kernel",
    "examples/drivers/edu" },
  { "module", "ko", P, NULL, NULL, 0, NULL,
    "a prebuilt module file, instead of source", "edu.ko" },
  { "module", "kdir", P, NULL, NULL, 0, NULL,
    "kernel build directory; unset: [kernel] tree or the release's headers",
    "/lib/modules/6.1.0-56-amd64/build" },
  { "module", "load", E, "auto", "auto|boot|initramfs", 0, NULL,
    "auto: loaded when a device matches; boot: at every boot; "
    "initramfs: from the initrd, before the root is mounted",
    "boot" },
  { "module", "options", S, NULL, NULL, 0, NULL,
    "module parameters, written to /etc/modprobe.d", "msi=0" },

  { "device", "type", S, NULL, NULL, R, NULL,
    "QEMU device type", "edu" },
  { "device", "pci-id", S, NULL, NULL, PK_PCI_ID, NULL,
    "PCI vendor:device ID, to match driver modules", "1234:11e8" },
  { "device", "bus", S, NULL, NULL, 0, NULL,
    "bus the device is plugged into", "pcie.0" },
  { "device", "addr", S, NULL, NULL, 0, NULL,
    "address on the bus", "0x10" },
  { "device", "props", L, NULL, NULL, PK_KEYVALUE, NULL,
    "device properties, key=value each", "dma_mask=0xffffffff" },

  { "system", "hostname", S, "debian", "1..63", 0, NULL, "host name (/etc/hostname, /etc/hosts)", "web1" },
  { "system", "root-password", S, NULL, NULL, 0, NULL, "crypt hash of root's password; unset: locked", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7" },
  { "system", "root-password-file", P, NULL, NULL, 0, NULL, "file holding root's password in clear text, hashed by mkvmimg", "root.pw" },
  { "system", "root-ssh-key", P, NULL, NULL, 0, NULL, "public key(s) for /root/.ssh/authorized_keys", "id_ed25519.pub" },
  { "system", "timezone", S, "Etc/UTC", "1..", 0, NULL, "time zone (/etc/localtime, /etc/timezone)", "Europe/Paris" },
  { "system", "locale", S, "C.UTF-8", "1..", 0, NULL, "LANG in /etc/default/locale", "en_US.UTF-8" },
  { "system", "serial-console", S, NULL, "1..", 0, arch_console_default,
    "serial port with a login prompt; none; default from [image] arch",
    "ttyS1" },
  { "system", "network", E, "dhcp", "dhcp|static|none", 0, NULL, "ethernet configuration (systemd-networkd)", "static" },
  { "system", "address", L, NULL, NULL, 0, NULL, "network = static: addresses with prefix length", "10.0.2.15/24" },
  { "system", "gateway", S, NULL, NULL, 0, NULL, "network = static: the default gateway", "10.0.2.2" },
  { "system", "dns", L, NULL, NULL, 0, NULL, "DNS servers", "10.0.2.3" },

  { "user", "uid", I, NULL, "1..65533", 0, NULL, "user ID; unset: the first free from 1000", "1001" },
  { "user", "groups", L, NULL, NULL, 0, NULL, "supplementary groups", "sudo adm" },
  { "user", "shell", S, "/bin/bash", "1..", 0, NULL, "login shell", "/bin/sh" },
  { "user", "comment", S, NULL, NULL, 0, NULL, "full name (GECOS)", "Alice Example" },
  { "user", "home", S, NULL, NULL, 0, NULL, "home directory; unset: /home/NAME", "/srv/alice" },
  { "user", "password", S, NULL, NULL, 0, NULL, "crypt hash of the password; unset: locked", "$6$salt$hash" },
  { "user", "password-file", P, NULL, NULL, 0, NULL, "file holding the password in clear text, hashed by mkvmimg", "alice.pw" },
  { "user", "ssh-key", P, NULL, NULL, 0, NULL, "public key(s) for ~/.ssh/authorized_keys", "alice.pub" },

  { "file", "type", E, "file", "file|directory", 0, NULL, "what the path is", "directory" },
  { "file", "content", S, NULL, NULL, 0, NULL, "the file's text (a newline is added)", "Welcome" },
  { "file", "source", P, NULL, NULL, 0, NULL, "a host file copied instead of content", "motd.txt" },
  { "file", "mode", S, NULL, NULL, 0, NULL, "octal mode; unset: 0644, directories 0755", "0600" },
  { "file", "owner", S, "root:root", "1..", 0, NULL, "USER[:GROUP], names or numbers", "alice:alice" },

  { "run", "command", S, NULL, "1..", R, NULL, "shell command run in the target (sh -e)", "echo hello > /etc/motd" },

  { NULL }
};

const struct profile_section_def *
profile_find_section (const char *section)
{
  for (const struct profile_section_def *s = profile_sections;
       s->section; ++s)
    if (STREQ (s->section, section))
      return s;
  return NULL;
}

const struct profile_key *
profile_find_key (const char *section, const char *key)
{
  for (const struct profile_key *k = profile_keys; k->section; ++k)
    if (STREQ (k->section, section) && STREQ (k->key, key))
      return k;
  return NULL;
}

const char *
profile_type_name (enum profile_type type)
{
  switch (type) {
  case PT_STRING: return "string";
  case PT_PATH: return "path";
  case PT_SIZE: return "size";
  case PT_INT: return "int";
  case PT_BOOL: return "bool";
  case PT_ENUM: return "enum";
  case PT_LIST: return "list";
  case PT_SIZE_OR_PERCENT: return "size-or-percent";
  }
  return "?";
}
