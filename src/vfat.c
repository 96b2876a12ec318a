/* The ESP: mkfs.fat --offset writes the filesystem inside the image
 * file, mtools (mmd, mcopy with IMAGE@@OFFSET) fills it.  Nothing is
 * mounted.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mkvmimg.h"
#include "child.h"
#include "vfat.h"

#define SECTOR 512
#define MiB (UINT64_C (1024) * 1024)

/* Run a dosfstools/mtools program with its chatter (mkfs.fat prints its
 * version and "block count mismatch" warnings) captured: shown only if
 * it fails, or under -v.  -1 with the error reported, or silently if
 * !report (a probe).
 */
static int
run_quiet (const char *const *argv, char *const *env, bool report)
{
  struct child_opts opts = CHILD_OPTS_INIT;
  CLEANUP_CLOSE int fd = -1;
  int status;
  pid_t pid;
  int r;

  fd = memfd_create ("mkvmimg-output", MFD_CLOEXEC);
  if (fd == -1) {
    error_errno ("memfd_create");
    return -1;
  }
  opts.stdout_fd = fd;
  opts.stderr_fd = fd;
  opts.env = env;
  pid = child_start (argv, &opts);
  if (pid == -1)
    return -1;
  if (child_wait (pid, &status) == -1)
    return -1;
  if (!report)
    r = WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
  else
    r = child_check_status (argv[0], status);
  if ((r == -1 && report) || verbose) {
    char buf[4096];
    ssize_t n;
    off_t pos = 0;
    while ((n = pread (fd, buf, sizeof buf, pos)) > 0) {
      fwrite (buf, 1, n, stderr);
      pos += n;
    }
  }
  return r;
}

int
vfat_mkfs (const char *image, uint64_t offset, uint64_t size,
           const char *label, uint32_t volume_id)
{
  struct stat st;
  CLEANUP_FREE char *offset_opt = NULL;
  CLEANUP_FREE char *hidden = NULL;
  CLEANUP_FREE char *volid = NULL;
  CLEANUP_FREE char *blocks = NULL;
  const char *fat_size;
  CLEANUP_FREE char *cluster = NULL;
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };

  if (offset % SECTOR || size % 1024) {
    error ("%s: vfat at offset %" PRIu64 " size %" PRIu64 ": not aligned "
           "to %d-byte sectors and 1 KiB blocks", image, offset, size, SECTOR);
    return -1;
  }
  if (label && (strlen (label) == 0 || strlen (label) > 11)) {
    error ("vfat label '%s': must be 1 to 11 characters", label);
    return -1;
  }
  /* mkfs.fat --offset does not extend the file: it would leave a
   * filesystem whose end is missing.
   */
  if (stat (image, &st) == -1) {
    error_errno ("%s", image);
    return -1;
  }
  if ((uint64_t) st.st_size < offset + size) {
    error ("%s: vfat at offset %" PRIu64 " size %" PRIu64 " does not fit "
           "in the %" PRIu64 "-byte file", image, offset, size,
           (uint64_t) st.st_size);
    return -1;
  }

  /* FAT32 needs at least 65525 clusters: above 36 MiB with 512-byte
   * clusters.  UEFI firmware reads FAT12 and FAT16 as well.
   */
  if (size >= 36 * MiB)
    fat_size = "32";
  else if (size >= 4 * MiB)
    fat_size = "16";
  else
    fat_size = "12";
  /* mkfs.fat's own choice for FAT32 (8 sectors per cluster up to
   * 8 GiB) gives too few clusters below 260 MiB, and then mtools and
   * fsck.fat take the filesystem for FAT16: use clusters small enough
   * to keep a safe margin above 65525.
   */
  if (STREQ (fat_size, "32")) {
    unsigned spc = 8;
    while (spc > 1 && size / (SECTOR * spc) < 70000)
      spc /= 2;
    cluster = xasprintf ("%u", spc);
  }
  /* FAT16 wants 4085 to 65524 clusters: the smallest clusters that keep
   * below the maximum (mkfs.fat's default is too large for small sizes).
   */
  else if (STREQ (fat_size, "16")) {
    unsigned spc = 1;
    while (size / (SECTOR * spc) > 65000)
      spc *= 2;
    cluster = xasprintf ("%u", spc);
  }

  offset_opt = xasprintf ("--offset=%" PRIu64, offset / SECTOR);
  hidden = xasprintf ("%" PRIu64, offset / SECTOR);
  volid = xasprintf ("%08" PRIX32, volume_id);
  blocks = xasprintf ("%" PRIu64, size / 1024);
  strv_add (&argv, "mkfs.fat");
  strv_add (&argv, "-F");
  strv_add (&argv, fat_size);
  if (cluster) {
    strv_add (&argv, "-s");
    strv_add (&argv, cluster);
  }
  strv_add (&argv, offset_opt);
  strv_add (&argv, "-h");
  strv_add (&argv, hidden);
  strv_add (&argv, "-i");
  strv_add (&argv, volid);
  strv_add (&argv, "-n");
  strv_add (&argv, label ? label : "NO NAME");
  strv_add (&argv, image);
  strv_add (&argv, blocks);
  if (run_quiet ((const char *const *) argv.v, NULL, true) == -1) {
    error ("%s: could not make the vfat filesystem at offset %" PRIu64,
           image, offset);
    return -1;
  }
  return 0;
}

/* mtools names the image "IMAGE@@OFFSET". */
static char *
mtools_image (const char *image, uint64_t offset)
{
  return xasprintf ("%s@@%" PRIu64, image, offset);
}

static char *const mtools_env[] = { "MTOOLS_SKIP_CHECK=1", NULL };

int
vfat_add_file (const char *image, uint64_t offset, const char *host_file,
               const char *path)
{
  CLEANUP_FREE char *img = mtools_image (image, offset);
  CLEANUP_FREE char *dir = NULL;
  CLEANUP_FREE char *target = NULL;
  CLEANUP_FREE char *source = NULL;
  char *slash;

  if (path[0] != '/' || path[strlen (path) - 1] == '/') {
    error ("vfat: '%s': not an absolute file name", path);
    return -1;
  }
  if (access (host_file, R_OK) == -1) {
    error_errno ("%s", host_file);
    return -1;
  }

  /* Each parent directory, outermost first.  mmd -D s skips one that
   * exists already but still exits 1, so an existing directory is
   * recognised with mdir first.
   */
  dir = xstrdup (path);
  for (slash = strchr (dir + 1, '/'); slash; slash = strchr (slash + 1, '/')) {
    CLEANUP_FREE char *d = NULL;
    *slash = '\0';
    d = xasprintf ("::%s", dir);
    *slash = '/';
    const char *mdir_argv[] = { "mdir", "-i", img, "-b", d, NULL };
    const char *mmd_argv[] = { "mmd", "-i", img, "-D", "s", d, NULL };
    if (run_quiet (mdir_argv, mtools_env, false) == 0)
      continue;
    if (run_quiet (mmd_argv, mtools_env, true) == -1) {
      error ("%s: vfat at offset %" PRIu64 ": could not make directory %.*s",
             image, offset, (int) (slash - dir), dir);
      return -1;
    }
  }

  /* mtools reads "X:..." as a drive letter: keep host names local. */
  if (host_file[0] != '/')
    source = xasprintf ("./%s", host_file);
  else
    source = xstrdup (host_file);
  target = xasprintf ("::%s", path);
  const char *argv[] = {
    "mcopy", "-i", img, "-o", "-D", "o", "-m", source, target, NULL
  };
  if (run_quiet (argv, mtools_env, true) == -1) {
    error ("%s: vfat at offset %" PRIu64 ": could not copy %s to %s",
           image, offset, host_file, path);
    return -1;
  }
  return 0;
}

char *
vfat_uuid_string (uint32_t volume_id)
{
  return xasprintf ("%04" PRIX32 "-%04" PRIX32,
                    volume_id >> 16, volume_id & 0xffff);
}
