/* Shared by the libFuzzer targets (fuzz-common.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mkvmimg.h"
#include "fuzz-common.h"

static char *dir;

static int
remove_one (const char *path, const struct stat *st, int flag,
            struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
remove_dir (void)
{
  if (dir)
    nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_dir (void)
{
  const char *tmpdir = getenv ("TMPDIR");
  char *templ;

  if (dir)
    return dir;
  templ = xasprintf ("%s/mkvmimg-fuzz.XXXXXX",
                     tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp (templ))
    fuzz_fail ("mkdtemp %s: %s", templ, strerror (errno));
  dir = templ;
  atexit (remove_dir);
  return dir;
}

char *
fuzz_path (const char *name)
{
  return xasprintf ("%s/%s", fuzz_dir (), name);
}

char *
fuzz_write_file (const char *name, const uint8_t *data, size_t size)
{
  char *path = fuzz_path (name);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  if (fd == -1 || write_all (fd, data, size) == -1 || close (fd) == -1)
    fuzz_fail ("write %s: %s", path, strerror (errno));
  return path;
}

int
fuzz_memfd (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("fuzz-input", MFD_CLOEXEC);

  if (fd == -1 || write_all (fd, data, size) == -1)
    fuzz_fail ("memfd: %s", strerror (errno));
  return fd;
}

void
fuzz_stdout_to_null (void)
{
  int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  if (fd == -1 || dup2 (fd, STDOUT_FILENO) == -1)
    fuzz_fail ("/dev/null: %s", strerror (errno));
  close (fd);
}

void
fuzz_fail (const char *fs, ...)
{
  va_list args;

  /* stderr may be closed by -close_fd_mask; the abort is what counts. */
  va_start (args, fs);
  fputs ("FUZZ CHECK FAILED: ", stderr);
  vfprintf (stderr, fs, args);
  fputc ('\n', stderr);
  va_end (args);
  abort ();
}

/* Built-in ASan options, so that replaying an input behaves as fuzzing
 * did.  Hostile headers ask decoders for huge buffers (an lzma header
 * may announce a 1.7 GB dictionary); the real tool only reserves that
 * address space, but ASan's bookkeeping makes each such allocation take
 * seconds.  Above 256 MiB malloc fails instead, which the decoders
 * report as an error (and xmalloc as a crash: a finding).
 */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "allocator_may_return_null=1:max_allocation_size_mb=256";
}
