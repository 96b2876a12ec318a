/* Fuzz target: the profile parser and validator.
 *
 * The input is a profile file.  A profile that parses and validates is
 * printed; what profile_print writes must parse and validate again and
 * print the same (mkvmimg profile show is meant to be read back).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "mkvmimg.h"
#include "profile.h"
#include "fuzz-common.h"

static char *
print_to_string (const struct profile *p)
{
  char *out = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&out, &len);

  if (!fp)
    fuzz_fail ("open_memstream failed");
  profile_print (p, fp);
  fclose (fp);
  return out;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_dir ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CLEANUP_FREE char *path = fuzz_write_file ("fuzz.conf", data, size);
  CLEANUP_FREE char *printed = NULL, *again = NULL, *path2 = NULL;
  struct profile *p, *p2;
  FILE *null;

  p = profile_parse_file (path);
  if (!p)
    return 0;
  if (profile_validate (p) == -1) {
    profile_free (p);
    return 0;
  }
  printed = print_to_string (p);
  null = fopen ("/dev/null", "w");
  if (null) {
    profile_print_json (p, null);
    fclose (null);
  }
  profile_free (p);

  /* Read back in the same directory, so relative paths mean the same. */
  path2 = fuzz_write_file ("printed.conf", (const uint8_t *) printed,
                           strlen (printed));
  p2 = profile_parse_file (path2);
  FUZZ_CHECK (p2, "the printed profile does not parse:\n%s", printed);
  FUZZ_CHECK (profile_validate (p2) == 0,
              "the printed profile does not validate:\n%s", printed);
  again = print_to_string (p2);
  profile_free (p2);
  FUZZ_CHECK (STREQ (printed, again),
              "printing the printed profile differs:\n%s\n---\n%s",
              printed, again);
  return 0;
}
