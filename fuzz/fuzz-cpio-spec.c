/* Fuzz target: the gen_init_cpio spec parser (source_cpio_spec).
 *
 * The input is a spec file, in a directory that also holds "data" (a
 * small file for LOCATION, also reachable as ${FUZZ_DATA}).  Each entry
 * must have a normalised name; the entries go through the cpio sink, and
 * reading the archive back must give the same names in the same order.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "mkvmimg.h"
#include "cpio-sink.h"
#include "cpio-spec.h"
#include "initramfs.h"
#include "fuzz-common.h"

struct names {
  struct strv v;
  size_t checked;               /* read back: names compared so far */
  struct entry_sink *next;      /* the cpio sink, or NULL */
};

/* What entry_path_normalise promises: relative, no "." or ".."
 * components, no empty ones ("." alone is the root).
 */
static void
check_name (const char *what, const char *name)
{
  FUZZ_CHECK (name && *name, "%s: empty name", what);
  if (STREQ (name, "."))
    return;
  FUZZ_CHECK (name[0] != '/', "%s: %s: absolute", what, name);
  for (const char *p = name; *p; ) {
    size_t n = strcspn (p, "/");
    FUZZ_CHECK (n > 0, "%s: %s: empty component", what, name);
    FUZZ_CHECK (!(n == 1 && p[0] == '.') &&
                !(n == 2 && p[0] == '.' && p[1] == '.'),
                "%s: %s: a \".\" or \"..\" component", what, name);
    p += n;
    if (*p == '/') {
      p++;
      FUZZ_CHECK (*p, "%s: %s: trailing /", what, name);
    }
  }
}

static int
spec_put (struct entry_sink *sink, struct archive_entry *entry,
          struct entry_data *data)
{
  struct names *nm = sink->opaque;
  const char *hardlink = archive_entry_hardlink (entry);

  check_name ("spec entry", archive_entry_pathname (entry));
  if (hardlink)
    check_name ("spec hardlink", hardlink);
  strv_add (&nm->v, archive_entry_pathname (entry));
  return nm->next->put (nm->next, entry, data);
}

static int
back_put (struct entry_sink *sink, struct archive_entry *entry,
          struct entry_data *data)
{
  struct names *nm = sink->opaque;
  const char *name = archive_entry_pathname (entry);

  FUZZ_CHECK (nm->checked < nm->v.len,
              "read back: %s: more entries than were written (%zu)",
              name, nm->v.len);
  FUZZ_CHECK (STREQ (name, nm->v.v[nm->checked]),
              "read back: entry %zu is %s, written as %s", nm->checked,
              name, nm->v.v[nm->checked]);
  nm->checked++;
  return 0;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  static const uint8_t data[] = "some data\n";

  free (fuzz_write_file ("data", data, sizeof data - 1));
  setenv ("FUZZ_DATA", "data", 1);
  /* Entries' mtimes independent of when the spec was written. */
  setenv ("SOURCE_DATE_EPOCH", "1700000000", 1);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CLEANUP_FREE char *spec = fuzz_write_file ("spec", data, size);
  CLEANUP_FREE char *out_name = NULL;
  CLEANUP_CLOSE int out = fuzz_memfd (NULL, 0);
  struct names nm = { .v = { 0 } };
  struct entry_sink check = { .put = spec_put, .opaque = &nm };
  struct entry_sink back = { .put = back_put, .opaque = &nm };
  int r;

  nm.next = cpio_sink_new (out, COMPRESS_NONE, -1, "fuzz.cpio");
  FUZZ_CHECK (nm.next, "cpio_sink_new failed");
  r = source_cpio_spec (spec, &check);
  if (r == 0)
    r = nm.next->finish (nm.next);
  cpio_sink_free (nm.next);
  if (r == 0) {
    out_name = xasprintf ("/proc/self/fd/%d", out);
    FUZZ_CHECK (initramfs_read_entries (out_name, &back) == 0,
                "the cpio archive written from the spec does not read back");
    FUZZ_CHECK (nm.checked == nm.v.len,
                "read back %zu entries of %zu", nm.checked, nm.v.len);
  }
  strv_free (&nm.v);
  return 0;
}
