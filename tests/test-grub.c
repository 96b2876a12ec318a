/* Test driver for the GRUB stage: runs grub_rootfs_entries,
 * grub_install_bios and grub_make_efi on the arguments given, so that
 * the shell tests can build a disk with standard tools and boot it.
 *
 *   test-grub entries OUT.tar bios|efi|hybrid UUID KERNEL INITRD CMDLINE TIMEOUT
 *   test-grub bios IMAGE gpt|msdos CORE_OFFSET CORE_MAX UUID
 *   test-grub efi OUT.efi UUID
 *
 * INITRD "" means none.  entries writes a tar (pax) of the entries.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "entries.h"
#include "grub.h"
#include "tempfiles.h"

static int
tar_put (struct entry_sink *sink, struct archive_entry *entry,
         struct entry_data *data)
{
  struct archive *ar = sink->opaque;
  static const char zeros[4096];
  int64_t written = 0;

  if (archive_write_header (ar, entry) != ARCHIVE_OK) {
    error ("tar: %s: %s", archive_entry_pathname (entry),
           archive_error_string (ar));
    return -1;
  }
  if (!data)
    return 0;
  for (;;) {
    const void *buf;
    size_t len;
    int64_t offset;
    int r = entry_data_next (data, &buf, &len, &offset);

    if (r == -1)
      return -1;
    if (r == 0)
      break;
    while (written < offset) {    /* a hole: zeros */
      size_t n = offset - written > (int64_t) sizeof zeros ?
        sizeof zeros : (size_t) (offset - written);
      if (archive_write_data (ar, zeros, n) < 0)
        goto write_error;
      written += n;
    }
    if (archive_write_data (ar, buf, len) < 0)
      goto write_error;
    written += len;
  }
  return 0;

 write_error:
  error ("tar: %s: %s", archive_entry_pathname (entry),
         archive_error_string (ar));
  entry_data_close (data);
  return -1;
}

static int
do_entries (char **argv)
{
  struct grub_config cfg = { 0 };
  struct entry_sink sink = { .put = tar_put };
  struct archive *ar = archive_write_new ();
  int ret = -1;

  cfg.bios = STREQ (argv[1], "bios") || STREQ (argv[1], "hybrid");
  cfg.efi = STREQ (argv[1], "efi") || STREQ (argv[1], "hybrid");
  cfg.root_uuid = argv[2];
  cfg.boot_prefix = "/boot";
  cfg.kernel = argv[3];
  cfg.initrd = *argv[4] ? argv[4] : NULL;
  cfg.cmdline = argv[5];
  cfg.timeout = atoi (argv[6]);

  archive_write_set_format_pax_restricted (ar);
  if (archive_write_open_filename (ar, argv[0]) != ARCHIVE_OK) {
    error ("%s: %s", argv[0], archive_error_string (ar));
    goto out;
  }
  sink.opaque = ar;
  if (grub_rootfs_entries (&cfg, &sink) == -1)
    goto out;
  if (archive_write_close (ar) != ARCHIVE_OK) {
    error ("%s: %s", argv[0], archive_error_string (ar));
    goto out;
  }
  ret = 0;
 out:
  archive_write_free (ar);
  return ret;
}

static int
do_bios (char **argv)
{
  struct grub_config cfg = { .root_uuid = argv[4], .boot_prefix = "/boot" };
  unsigned long long offset, max;

  if (parse_size (argv[2], &offset) == -1 || parse_size (argv[3], &max) == -1) {
    error ("bios: bad size \"%s\" or \"%s\"", argv[2], argv[3]);
    return -1;
  }
  return grub_install_bios (argv[0], &cfg, STREQ (argv[1], "msdos"),
                            offset, max);
}

static int
do_efi (char **argv)
{
  struct grub_config cfg = { .root_uuid = argv[1], .boot_prefix = "/boot" };

  return grub_make_efi (argv[0], &cfg);
}

int
main (int argc, char **argv)
{
  int r;

  program_name = "test-grub";
  cleanup_install_handlers ();
  if (getenv ("TEST_GRUB_VERBOSE"))
    verbose = 1;
  if (argc == 9 && STREQ (argv[1], "entries"))
    r = do_entries (argv + 2);
  else if (argc == 7 && STREQ (argv[1], "bios"))
    r = do_bios (argv + 2);
  else if (argc == 4 && STREQ (argv[1], "efi"))
    r = do_efi (argv + 2);
  else {
    fprintf (stderr, "usage: see the comment at the top of test-grub.c\n");
    cleanup_run ();
    exit (EXIT_USAGE);
  }
  cleanup_run ();
  exit (r == -1 ? EXIT_FAIL : EXIT_OK);
}
