/* Test driver for the ext4 sink: make ext4 at an offset inside an image
 * file, stream sources into it, finish.
 *
 *   test-ext4 [--offset N] [--size N | --estimate [--margin N]]
 *             [--epoch N] [--uuid U] [--hash-seed U] [--label L]
 *             [--inodes N] [--no-mkfs] [--print-estimate]
 *             [--put-type OCTAL:PATH] [--put-hardlink TARGET:PATH:TEXT]
 *             IMAGE SOURCE...
 *
 * A SOURCE is an archive (tar, any compression) or a directory.  With
 * --estimate the filesystem is made ext4_size_for (estimate, margin)
 * bytes big (printed as "size N").  --print-estimate only prints the
 * estimate and the size and touches no image.  --put-type puts one more
 * entry of that file type (mode bits, e.g. 0160000) after the sources,
 * to test entries no archive format can carry.  --put-hardlink puts a
 * hard link that carries data (as cpio does with a file's last name).
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "entries.h"
#include "ext4.h"

static int
run_source (const char *src, struct entry_sink *sink)
{
  struct stat st;

  if (stat (src, &st) == 0 && S_ISDIR (st.st_mode))
    return source_directory (src, sink);
  return source_archive (src, sink);
}

static uint64_t
number (const char *s)
{
  unsigned long long n;

  if (parse_size (s, &n) == -1)
    exit (EXIT_USAGE);
  return n;
}

int
main (int argc, char **argv)
{
  struct ext4_opts opts = { .epoch = -1 };
  uint64_t offset = 0, size = 64 << 20, margin = 0;
  bool estimate = false, print_estimate = false, mkfs = true;
  struct entry_sink *sink;
  const char *image, *put_type = NULL, *put_hardlink = NULL;
  int i, r = 0;

  for (i = 1; i < argc && STRPREFIX (argv[i], "--"); ++i) {
    const char *opt = argv[i];
    const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

    if (STREQ (opt, "--estimate"))
      estimate = true;
    else if (STREQ (opt, "--print-estimate"))
      estimate = print_estimate = true;
    else if (STREQ (opt, "--no-mkfs"))
      mkfs = false;
    else if (!arg) {
      fprintf (stderr, "test-ext4: %s needs an argument\n", opt);
      exit (EXIT_USAGE);
    }
    else {
      i++;
      if (STREQ (opt, "--offset"))
        offset = number (arg);
      else if (STREQ (opt, "--size"))
        size = number (arg);
      else if (STREQ (opt, "--margin"))
        margin = number (arg);
      else if (STREQ (opt, "--epoch"))
        opts.epoch = strtoll (arg, NULL, 10);
      else if (STREQ (opt, "--uuid"))
        opts.uuid = arg;
      else if (STREQ (opt, "--hash-seed"))
        opts.hash_seed = arg;
      else if (STREQ (opt, "--label"))
        opts.label = arg;
      else if (STREQ (opt, "--put-hardlink"))
        put_hardlink = arg;
      else if (STREQ (opt, "--put-type"))
        put_type = arg;
      else if (STREQ (opt, "--inodes"))
        opts.inodes = number (arg);
      else {
        fprintf (stderr, "test-ext4: unknown option %s\n", opt);
        exit (EXIT_USAGE);
      }
    }
  }
  if (argc - i < 2) {
    fprintf (stderr, "usage: test-ext4 [options] IMAGE SOURCE...\n");
    exit (EXIT_USAGE);
  }
  image = argv[i++];

  if (estimate) {
    struct ext4_estimate est;
    struct entry_sink *es = ext4_estimate_sink_new (&est);

    for (int j = i; j < argc; ++j)
      if (run_source (argv[j], es) == -1) {
        ext4_estimate_sink_free (es);
        exit (EXIT_FAIL);
      }
    ext4_estimate_sink_free (es);
    size = ext4_size_for (&est, margin);
    printf ("data_bytes %" PRIu64 "\ninodes %" PRIu64 "\nsize %" PRIu64 "\n",
            est.data_bytes, est.inodes, size);
    fflush (stdout);
    if (print_estimate)
      exit (EXIT_OK);
  }

  if (mkfs && ext4_mkfs (image, offset, size, &opts) == -1)
    exit (EXIT_FAIL);
  sink = ext4_sink_new (image, offset);
  if (!sink)
    exit (EXIT_FAIL);
  for (; i < argc && r == 0; ++i)
    r = run_source (argv[i], sink);
  if (r == 0 && put_type) {
    struct archive_entry *e = archive_entry_new ();
    const char *colon = strchr (put_type, ':');

    archive_entry_set_mode (e, strtoul (put_type, NULL, 8));
    archive_entry_copy_pathname (e, colon ? colon + 1 : "typed");
    r = sink->put (sink, e, NULL);
    archive_entry_free (e);
  }
  if (r == 0 && put_hardlink) {
    struct archive_entry *e = archive_entry_new ();
    struct entry_data d = ENTRY_DATA_NONE;
    char *spec = xstrdup (put_hardlink);
    char *path = strchr (spec, ':');
    char *text = path ? strchr (path + 1, ':') : NULL;

    if (!text) {
      fprintf (stderr, "test-ext4: --put-hardlink TARGET:PATH:TEXT\n");
      exit (EXIT_USAGE);
    }
    *path++ = '\0';
    *text++ = '\0';
    archive_entry_set_mode (e, AE_IFREG | 0644);
    archive_entry_copy_pathname (e, path);
    archive_entry_copy_hardlink (e, spec);
    archive_entry_set_size (e, strlen (text));
    d.buf = text;
    d.len = strlen (text);
    r = sink->put (sink, e, &d);
    archive_entry_free (e);
    free (spec);
  }
  if (r == 0)
    r = sink->finish (sink);
  ext4_sink_free (sink);
  exit (r == 0 ? EXIT_OK : EXIT_FAIL);
}
