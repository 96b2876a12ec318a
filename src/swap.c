/* A Linux swap signature, written directly (no mkswap): the version-1
 * header in the first 4 KiB page of the area, as the kernel and blkid
 * read it (include/linux/swap.h, union swap_header).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mkvmimg.h"
#include "swap.h"
#include "uuid.h"

#define SWAP_PAGE 4096
#define SWAP_MAGIC "SWAPSPACE2"
#define SWAP_MIN_PAGES 10       /* as mkswap */

/* The fields after the 1024 bytes of boot bits. */
struct swap_header_v1 {
  uint32_t version;
  uint32_t last_page;
  uint32_t nr_badpages;
  unsigned char uuid[16];
  char volume_name[16];
  uint32_t padding[117];
  uint32_t badpages[1];
};

static void
put_le32 (unsigned char *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

int
swap_mkswap (const char *image, uint64_t offset, uint64_t size,
             const char *uuid, const char *label)
{
  unsigned char page[SWAP_PAGE];
  unsigned char u[16];
  char random_uuid[37];
  uint64_t pages = size / SWAP_PAGE;
  CLEANUP_CLOSE int fd = -1;
  size_t h = 1024;              /* offset of struct swap_header_v1 */

  if (pages < SWAP_MIN_PAGES) {
    error ("%s: swap at offset %" PRIu64 ": %" PRIu64 " bytes is too small "
           "(at least %d pages of %d bytes)", image, offset, size,
           SWAP_MIN_PAGES, SWAP_PAGE);
    return -1;
  }
  if (pages - 1 > UINT32_MAX) {
    error ("%s: swap at offset %" PRIu64 ": %" PRIu64 " bytes is too large",
           image, offset, size);
    return -1;
  }
  if (uuid == NULL) {
    uuid_make (random_uuid, NULL, "swap");
    uuid = random_uuid;
  }
  if (uuid_parse (uuid, u) == -1) {
    error ("swap UUID: '%s' is not a UUID", uuid);
    return -1;
  }
  if (label && strlen (label) > 16) {
    error ("swap label '%s': longer than 16 bytes", label);
    return -1;
  }

  /* The kernel reads these fields in host byte order; mkvmimg writes
   * little-endian images (x86_64, arm64, armhf are all little-endian).
   */
  memset (page, 0, sizeof page);
  put_le32 (page + h + offsetof (struct swap_header_v1, version), 1);
  put_le32 (page + h + offsetof (struct swap_header_v1, last_page),
            pages - 1);
  put_le32 (page + h + offsetof (struct swap_header_v1, nr_badpages), 0);
  memcpy (page + h + offsetof (struct swap_header_v1, uuid), u, 16);
  if (label)
    memcpy (page + h + offsetof (struct swap_header_v1, volume_name),
            label, strlen (label));
  memcpy (page + SWAP_PAGE - strlen (SWAP_MAGIC), SWAP_MAGIC,
          strlen (SWAP_MAGIC));

  fd = open (image, O_WRONLY | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", image);
    return -1;
  }
  ssize_t r = pwrite (fd, page, sizeof page, offset);
  if (r != sizeof page) {
    if (r >= 0)
      errno = EIO;
    error_errno ("%s: write the swap signature at offset %" PRIu64,
                 image, offset);
    return -1;
  }
  if (close (fd) == -1) {
    fd = -1;
    error_errno ("close %s", image);
    return -1;
  }
  fd = -1;
  return 0;
}
