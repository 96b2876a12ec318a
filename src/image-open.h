/* Opening an existing image for inspect and modify: a local qcow2 or raw
 * file served by qemu-nbd (socket activation, read-only unless asked),
 * or any NBD URI, and its partition table (GPT or msdos) parsed from
 * NBD reads.
 */
#ifndef MKVMIMG_IMAGE_OPEN_H
#define MKVMIMG_IMAGE_OPEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libnbd.h>

struct image_partition {
  int number;                   /* 1.. (msdos logical: 5..) */
  uint64_t start, size;         /* bytes */
  char *type;                   /* GPT type GUID, or msdos "0x83" */
  const char *kind;             /* "linux", "bios-boot", "esp", "swap",
                                   "extended", "other" */
  char *name;                   /* GPT name ("" if none), NULL on msdos */
  char *uuid;                   /* GPT unique GUID, msdos "SIG-NN" */
  bool bootable;                /* msdos active flag, GPT legacy bootable */
};

struct image {
  char *name;                   /* the file or URI, for messages */
  char *format;                 /* "qcow2", "raw", NULL for a URI */
  bool is_uri;
  bool readonly;
  uint64_t size;                /* virtual size */
  uint64_t allocated;           /* bytes the file takes on disk; 0: URI */
  struct nbd_handle *h;
  pid_t pid;                    /* the qemu-nbd libnbd started, or 0 */
  char *table;                  /* "gpt", "msdos", NULL: none */
  bool hybrid;                  /* GPT with a hybrid MBR */
  char *disk_uuid;              /* GPT disk GUID, msdos disk signature */
  struct image_partition *parts;
  size_t nparts;
};

/* The format of a local file from its first bytes: "qcow2" or "raw".
 * NULL with the error reported.  Not to be freed.
 */
const char *image_probe_format (const char *path);

/* Open path (a local file of format, NULL: probed) or an NBD URI and
 * read its partition table.  readonly serves the file with qemu-nbd
 * --read-only (the bytes do not change).  NULL with the error reported.
 */
struct image *image_open (const char *path, const char *format,
                          bool readonly);

/* Read len bytes at offset.  -1 with the error reported. */
int image_pread (struct image *img, void *buf, size_t len, uint64_t offset);

/* Flush (when writable) and disconnect; the qemu-nbd exits.  With failed
 * the server is killed without a flush.  -1 if the flush or the
 * disconnect failed (reported).  img is freed in every case.
 */
int image_close (struct image *img, bool failed);

/* Format a 16-byte GUID as stored on disk (mixed endian) in
 * out (37 bytes).
 */
void image_guid_string (const unsigned char *g, char *out);

#endif /* MKVMIMG_IMAGE_OPEN_H */
