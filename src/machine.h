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
 *   cmdline = root=UUID=... ro console=ttyS0
 *   disk = virtio | ide | scsi | nvme | none
 *   disk-format = qcow2 | raw
 *   nic = virtio | e1000 | none
 *   console = ttyS0
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

struct machine {
  char *arch;
  char *qemu;
  char *type;                   /* QEMU machine type */
  uint64_t memory;              /* bytes */
  int cpus;
  char *firmware;               /* "bios", "uefi", "direct" */
  char *ovmf_code, *ovmf_vars;
  char *kernel, *initrd, *cmdline;  /* direct boot; paths absolute once read */
  char *disk;                   /* disk model */
  char *disk_format;            /* NULL: guessed from the image */
  char *nic;
  char *console;
  struct machine_device *devices;
  size_t ndevices;
};

/* Defaults for x86_64: q35, 1G, 2 CPUs, bios, virtio disk and NIC. */
struct machine *machine_new_default (void);
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

/* A size as the file writes it: "1G", "512M", "1536M", "64K", bytes
 * otherwise.  Caller frees.
 */
char *machine_size_string (uint64_t bytes);

#endif /* MKVMIMG_MACHINE_H */
