/* Fuzz target: filling an ext4 filesystem from an archive
 * (source_archive into the ext4 sink), the path of a tar rootfs source.
 *
 * The input is an archive (any format libarchive reads; a cpio one goes
 * through the initramfs reader).  It is written into a fresh 16 MiB
 * filesystem; either that fails with an error, or the result must pass
 * e2fsck -fn.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "mkvmimg.h"
#include "ext4.h"
#include "fuzz-common.h"

#define FS_SIZE (16 << 20)
#define BLOCK 4096

extern char **environ;

static char *image, *archive, *fsck_log;
/* The empty filesystem: its non-zero blocks. */
static unsigned char *empty;
static size_t *used, nused;

/* Make the empty filesystem once; each input starts from a copy. */
static void
make_template (void)
{
  struct ext4_opts opts = {
    .uuid = "0f2d3c4b-5a69-4788-97a6-b5c4d3e2f100",
    .hash_seed = "1e2d3c4b-5a69-4788-97a6-b5c4d3e2f100",
    .epoch = 1700000000,
  };
  size_t len;

  if (ext4_mkfs (image, 0, FS_SIZE, &opts) == -1)
    fuzz_fail ("mkfs of %s failed", image);
  empty = (unsigned char *) read_whole_file (image, &len);
  if (!empty || len != FS_SIZE)
    fuzz_fail ("read %s back", image);
  used = xmalloc (FS_SIZE / BLOCK * sizeof *used);
  for (size_t b = 0; b < FS_SIZE / BLOCK; ++b)
    for (size_t i = 0; i < BLOCK; ++i)
      if (empty[b * BLOCK + i]) {
        used[nused++] = b;
        break;
      }
}

static void
reset_image (void)
{
  int fd = open (image, O_WRONLY | O_TRUNC | O_CLOEXEC);

  if (fd == -1 || ftruncate (fd, FS_SIZE) == -1)
    fuzz_fail ("reset %s: %s", image, strerror (errno));
  for (size_t i = 0; i < nused; ++i)
    if (pwrite (fd, empty + used[i] * BLOCK, BLOCK, used[i] * BLOCK)
        != BLOCK)
      fuzz_fail ("reset %s: %s", image, strerror (errno));
  close (fd);
}

/* e2fsck -fn IMAGE: its exit status; its output in fsck_log. */
static int
fsck (void)
{
  const char *argv[] = { "e2fsck", "-fn", image, NULL };
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status, r;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 1, fsck_log,
                                    O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2 (&fa, 1, 2);
  r = posix_spawnp (&pid, "e2fsck", &fa, NULL, (char **) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    fuzz_fail ("e2fsck: %s", strerror (r));
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      fuzz_fail ("waitpid: %s", strerror (errno));
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *path = getenv ("PATH");

  /* e2fsck and mke2fs live in /sbin. */
  if (path && !strstr (path, "/sbin")) {
    CLEANUP_FREE char *p = xasprintf ("%s:/usr/sbin:/sbin", path);
    setenv ("PATH", p, 1);
  }
  setenv ("SOURCE_DATE_EPOCH", "1700000000", 1);
  image = fuzz_path ("fs.img");
  archive = fuzz_path ("input.archive");
  fsck_log = fuzz_path ("e2fsck.log");
  make_template ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct entry_sink *sink;
  int r;

  free (fuzz_write_file ("input.archive", data, size));
  reset_image ();
  sink = ext4_sink_new (image, 0);
  FUZZ_CHECK (sink, "cannot open the empty filesystem %s", image);
  r = source_archive (archive, sink);
  if (r == 0)
    r = sink->finish (sink);
  ext4_sink_free (sink);
  if (r == 0) {
    r = fsck ();
    if (r != 0) {
      CLEANUP_FREE char *log = read_whole_file (fsck_log, NULL);
      fuzz_fail ("the archive was written, but e2fsck -fn exits %d:\n%s",
                 r, log ? log : "");
    }
  }
  return 0;
}
