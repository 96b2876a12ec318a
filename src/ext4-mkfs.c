/* Make an empty ext4 filesystem at an offset inside an image file by
 * running mke2fs.  Everything that shapes the filesystem is given on the
 * command line, so the result does not depend on the host's
 * /etc/mke2fs.conf, and with uuid, hash_seed and epoch set it is the
 * same bytes every time.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "child.h"
#include "ext4.h"
#include "ext4-int.h"

/* Debian 12's ext4 feature set (mke2fs.conf), spelled out.  No
 * metadata_csum_seed or orphan_file: GRUB 2.06 refuses them.
 */
#define EXT4_FEATURES "none,has_journal,ext_attr,resize_inode,dir_index," \
  "filetype,extent,64bit,flex_bg,sparse_super,large_file,huge_file," \
  "dir_nlink,extra_isize,metadata_csum"

/* Make sure [offset, offset+size) of image exists and reads as zeros.
 * Returns 1 if the range is known to be zero, 0 if not, -1 on error.
 */
static int
prepare_image (const char *image, uint64_t offset, uint64_t size)
{
  CLEANUP_CLOSE int fd = -1;
  struct stat st;
  bool extended = false;

  /* Private if created here: a filesystem that will hold secrets. */
  fd = open (image, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("mkfs ext4: open %s", image);
    return -1;
  }
  if (fstat (fd, &st) == -1) {
    error_errno ("mkfs ext4: stat %s", image);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    error ("mkfs ext4: %s: not a regular file", image);
    return -1;
  }
  if ((uint64_t) st.st_size < offset + size) {
    if (ftruncate (fd, offset + size) == -1) {
      error_errno ("mkfs ext4: extend %s to %" PRIu64 " bytes", image,
                   offset + size);
      return -1;
    }
    extended = (uint64_t) st.st_size <= offset;
  }
  if (extended)
    return 1;
  /* Old contents: punch them out so that mke2fs need not write zeros. */
  if (fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                 offset, size) == 0)
    return 1;
  debug ("mkfs ext4: %s: cannot punch a hole (%s): mke2fs zeroes",
         image, strerror (errno));
  return 0;
}

int
ext4_mkfs (const char *image, uint64_t offset, uint64_t size,
           const struct ext4_opts *opts)
{
  struct ext4_opts defaults = { .epoch = -1 };
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_STRV_STRUCT struct strv env = { 0 };
  CLEANUP_FREE char *ext_opts = NULL;
  struct child_opts copts = CHILD_OPTS_INIT;
  int zeroed;

  if (!opts)
    opts = &defaults;
  size &= ~(uint64_t) (EXT4_BLOCK_SIZE - 1);
  if (size < EXT4_MIN_SIZE) {
    error ("mkfs ext4: %s: %" PRIu64 " bytes is too small for ext4 "
           "(at least %d MiB)", image, size, EXT4_MIN_SIZE >> 20);
    return -1;
  }
  if (opts->label && strlen (opts->label) > 16) {
    error ("mkfs ext4: label \"%s\" is longer than 16 bytes", opts->label);
    return -1;
  }
  zeroed = prepare_image (image, offset, size);
  if (zeroed == -1)
    return -1;

  ext_opts = xasprintf ("offset=%" PRIu64 ",root_owner=0:0,nodiscard%s%s%s",
                        offset,
                        zeroed ? ",assume_storage_prezeroed=1" : "",
                        opts->hash_seed ? ",hash_seed=" : "",
                        opts->hash_seed ? opts->hash_seed : "");
  strv_add (&argv, "mke2fs");
  strv_add (&argv, "-t");
  strv_add (&argv, "ext4");
  strv_add (&argv, "-F");
  strv_add (&argv, "-q");
  strv_add (&argv, "-b");
  strv_addf (&argv, "%d", EXT4_BLOCK_SIZE);
  strv_add (&argv, "-I");
  strv_addf (&argv, "%d", EXT4_INODE_SIZE);
  strv_add (&argv, "-i");
  strv_addf (&argv, "%d", EXT4_INODE_RATIO);
  strv_add (&argv, "-m");
  strv_addf (&argv, "%d", EXT4_RESERVED_PERCENT);
  strv_add (&argv, "-O");
  strv_add (&argv, EXT4_FEATURES);
  strv_add (&argv, "-E");
  strv_add (&argv, ext_opts);
  if (opts->uuid) {
    strv_add (&argv, "-U");
    strv_add (&argv, opts->uuid);
  }
  if (opts->label) {
    strv_add (&argv, "-L");
    strv_add (&argv, opts->label);
  }
  if (opts->inodes) {
    strv_add (&argv, "-N");
    strv_addf (&argv, "%" PRIu32, opts->inodes);
  }
  strv_add (&argv, image);
  strv_addf (&argv, "%" PRIu64 "k", size / 1024);

  /* mke2fs 1.47.0 knows no SOURCE_DATE_EPOCH but takes its clock from
   * E2FSPROGS_FAKE_TIME (superblock times, root and lost+found).
   */
  if (opts->epoch >= 0)
    strv_addf (&env, "E2FSPROGS_FAKE_TIME=%" PRId64, opts->epoch);
  copts.env = env.v;
  return child_run ((const char *const *) argv.v, &copts);
}
