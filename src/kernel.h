/* Kernels from the host: a bzImage (or Debian's vmlinuz), its initrd and
 * its modules, entering the image as entries under /boot and
 * /lib/modules.
 */
#ifndef MKVMIMG_KERNEL_H
#define MKVMIMG_KERNEL_H

#include "entries.h"

struct arch;
struct kernel {
  const struct arch *arch;      /* [image] arch */
  char *image;                  /* host path of the kernel image */
  char *initrd;                 /* host path, or NULL */
  char *modules;                /* host dir holding the modules tree, or NULL */
  char *release;                /* "6.1.0-56-amd64" */
  char *busybox;                /* busybox-static for a generated initrd */
};

/* The release string of an x86 bzImage, from its setup header (the
 * kernel_version field).  Caller frees; NULL with the error reported.
 */
char *kernel_release_of (const char *image);
/* The same for any architecture: the bzImage header, else the file
 * name vmlinuz-RELEASE (Debian), else the "Linux version" banner of an
 * uncompressed image (arm64 Image).  NULL with the error reported.
 */
char *kernel_release_any (const char *image);

/* The newest /boot/vmlinuz-* of the host ("image = host").  Caller
 * frees; NULL with the error reported.
 */
char *kernel_find_host (void);

/* Resolve the [kernel] section of a profile: "host" names, release from
 * the image when not given, the initrd and modules that go with it.
 * 0 or -1.
 */
struct profile;
int kernel_from_profile (const struct profile *p, struct kernel *k);
void kernel_free (struct kernel *k);

/* [kernel] initrd = busybox: generate an initrd for k (see
 * initrd-busybox.c) with k->busybox and the drivers of k->arch in the
 * private working directory.  Caller frees the
 * name.  0 or -1.
 */
int initrd_busybox_make (const struct kernel *k, char **initrd_rtn);

/* The kernel's entries: boot/vmlinuz-REL, boot/initrd.img-REL and
 * MODULES_PREFIX/REL/... ("lib/modules", or "usr/lib/modules" when the
 * root filesystem has merged /usr and "lib" is a symlink; the sink makes
 * missing parents).  0 or -1.
 */
int kernel_entries (const struct kernel *k, const char *modules_prefix,
                    struct entry_sink *sink);

#endif /* MKVMIMG_KERNEL_H */
