/* The machine description: what an image needs to boot.  Written beside
 * the image as IMAGE.machine by build, read by boot (and later run).
 * INI, like profiles:
 *
 *   [machine]
 *   arch = x86_64
 *   qemu = qemu-system-x86_64
 *   type = q35
 *   memory = 1G
 *   cpus = 2
 *   firmware = bios | uefi | direct
 *   ovmf-code = /usr/share/OVMF/OVMF_CODE_4M.fd      (uefi)
 *   ovmf-vars = /usr/share/OVMF/OVMF_VARS_4M.fd      (uefi: template)
 *   kernel = debian.qcow2.vmlinuz                    (direct; relative
 *   initrd = debian.qcow2.initrd                      to the .machine)
 *   dtb = debian.qcow2.dtb                           (boards that need one)
 *   cmdline = root=UUID=... ro console=ttyS0
 *   disk = virtio | ide | scsi | nvme | sd | none
 *   disk-format = qcow2 | raw
 *   nic = virtio | e1000 | none
 *   console = ttyS0
 *   name = web1                                      (MACs, libvirt)
 *   net = user | vde:SWITCH | tap:NAME                (the first NIC)
 *   forward = tcp:2222:22 tcp:8080:80                (net = user)
 *   mac = 52:54:00:12:34:56                          (else derived)
 *   display = none | vnc | spice
 *   listen = 127.0.0.1 | unix | ADDRESS              (vnc, spice)
 *   insecure = no | yes                              (no password)
 *   vmlinux = PATH                                   (gdb symbols)
 *
 *   [nic NAME]                                       (more NICs)
 *   model = virtio | e1000
 *   net = ..., forward = ..., mac = ...
 *
 *   [device edu0]
 *   type = edu
 *   KEY = VALUE                                      (device properties)
 */
#ifndef MKVMIMG_MACHINE_H
#define MKVMIMG_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

struct machine_device {
  char *name;                   /* section name */
  char *type;                   /* QEMU device type: "edu" */
  char **props;                 /* "key=value" strings, NULL-terminated */
};

struct machine_nic {
  char *name;                   /* section name ("net0" for [machine]'s) */
  char *model;                  /* "virtio", "e1000" */
  char *net;                    /* "user", "vde:SWITCH", "tap:NAME" */
  char *mac;                    /* NULL: derived (machine_mac) */
  char **forwards;              /* "tcp:H:G", NULL-terminated, or NULL */
};

struct machine {
  char *arch;
  char *qemu;
  char *type;                   /* QEMU machine type */
  uint64_t memory;              /* bytes */
  int cpus;
  char *firmware;               /* "bios", "uefi", "direct" */
  char *ovmf_code, *ovmf_vars;
  char *kernel, *initrd, *cmdline;  /* direct boot; paths absolute once read */
  char *dtb;                    /* device tree (direct boot), or NULL */
  char *disk;                   /* disk model */
  char *disk_format;            /* NULL: guessed from the image */
  char *nic;
  char *console;
  struct machine_device *devices;
  size_t ndevices;
  char *name;                   /* NULL: from the image's file name */
  char *net, *mac;              /* the first NIC (nic = MODEL) */
  char **forwards;
  struct machine_nic *nics;     /* [nic NAME] sections */
  size_t nnics;
  char *display;                /* "none", "vnc", "spice" */
  char *listen;                 /* NULL: 127.0.0.1 */
  bool insecure;                /* no password on the display */
  char *vmlinux;                /* gdb symbols, or NULL */
};

/* Every NIC of the machine, the [machine] one first (unless nic =
 * none), then the [nic NAME] sections: a new array of shallow copies
 * (the strings belong to m).  Caller frees the array only.
 */
struct machine_nic *machine_nics (const struct machine *m, size_t *n_rtn);

/* Set one [machine] key as the file would (--set machine.KEY=VALUE).
 * what names the origin in errors.  -1 with the error reported.
 */
int machine_set (struct machine *m, const char *what, const char *key,
                 const char *value);

/* Defaults for x86_64: q35, 1G, 2 CPUs, bios, virtio disk and NIC. */
struct machine *machine_new_default (void);
/* Defaults for an architecture (arch.h): its QEMU binary, machine type,
 * console, disk and firmware (bios where GRUB has a BIOS target, else
 * uefi).
 */
struct arch;
struct machine *machine_new_for_arch (const struct arch *a);
/* What the board of the machine type needs (arch.c): a device tree,
 * an SD card instead of PCI disks and NICs, a memory limit.  what names
 * the origin in errors.  0 or -1.
 */
int machine_check_board (const struct machine *m, const char *what);
/* Read IMAGE.machine (path of the .machine file).  Relative kernel and
 * initrd paths are made absolute.  NULL with file:line errors reported.
 */
struct machine *machine_read (const char *path);
/* Write atomically; kernel and initrd are written relative to the
 * directory of path when they are inside it.
 */
int machine_write (const struct machine *m, const char *path);
void machine_add_device (struct machine *m, const char *name,
                         const char *type, char *const *props);
void machine_free (struct machine *m);
void cleanup_machine (void *ptr);
#define CLEANUP_MACHINE __attribute__((cleanup (cleanup_machine)))

/* The OVMF firmware files Debian's ovmf package installs (NULL if not
 * installed).  Not to be freed.
 */
const char *machine_find_ovmf_code (void);
const char *machine_find_ovmf_vars (void);
/* The same for the machine's architecture (AAVMF for aarch64). */
const char *machine_find_fw_code (const struct machine *m);
const char *machine_find_fw_vars (const struct machine *m);

/* A size as the file writes it: "1G", "512M", "1536M", "64K", bytes
 * otherwise.  Caller frees.
 */
char *machine_size_string (uint64_t bytes);

#endif /* MKVMIMG_MACHINE_H */
