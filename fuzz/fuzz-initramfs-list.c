/* Fuzz target: mkvmimg initramfs list, the cpio reader path (every
 * segment decompressed, every cpio archive in it read by libarchive),
 * in both output forms.  The input is an image; the output goes to
 * /dev/null.
 */
#include <config.h>

#include <stdio.h>

#include "mkvmimg.h"
#include "initramfs.h"
#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_stdout_to_null ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CLEANUP_CLOSE int fd = fuzz_memfd (data, size);
  CLEANUP_FREE char *name = xasprintf ("/proc/self/fd/%d", fd);
  char *text_argv[] = { (char *) "list", name, NULL };
  char *json_argv[] = { (char *) "list", (char *) "--json", name, NULL };
  int r;

  r = cmd_initramfs_list (2, text_argv);
  FUZZ_CHECK (r == EXIT_OK || r == EXIT_FAIL, "list: exit code %d", r);
  r = cmd_initramfs_list (3, json_argv);
  FUZZ_CHECK (r == EXIT_OK || r == EXIT_FAIL, "list --json: exit code %d", r);
  fflush (stdout);
  return 0;
}
