/* Test driver for the disk layer: small subcommands that the shell tests
 * (tests/disk-*.sh) call and then check with independent tools.
 *
 *   test-disk [-v] layout IMG gpt|msdos NAME:SIZE... [--seed S] [--size SIZE]
 *       NAME bios, esp, swap: those types; anything else a Linux
 *       partition.  SIZE 0: the rest.  Prints "disk UUID SIGNATURE" and
 *       per partition "NUMBER NAME OFFSET SIZE UUID".
 *   test-disk needed gpt|msdos NAME:SIZE...     partition_disk_size
 *   test-disk uuid SEED|- PURPOSE               uuid_make, uuid_make32
 *   test-disk vfat IMG OFFSET SIZE LABEL VOLID  (VOLID hex) prints the UUID
 *   test-disk addfile IMG OFFSET HOSTFILE PATH
 *   test-disk swap IMG OFFSET SIZE UUID LABEL
 *   test-disk output WORKING OUTPUT FORMAT [--force]
 */
#include <config.h>

#include <inttypes.h>
#include <string.h>

#include "mkvmimg.h"
#include "nbd_output.h"
#include "partition.h"
#include "swap.h"
#include "tempfiles.h"
#include "uuid.h"
#include "vfat.h"

static int
usage (void)
{
  fprintf (stderr, "test-disk: bad arguments (see tests/test-disk.c)\n");
  return EXIT_USAGE;
}

static int
size_arg (const char *s, uint64_t *rtn)
{
  unsigned long long v;

  if (parse_size (s, &v) == -1) {
    fprintf (stderr, "test-disk: bad size '%s'\n", s);
    return -1;
  }
  *rtn = v;
  return 0;
}

/* Parse NAME:SIZE arguments and the options after them. */
static int
parse_layout (int argc, char **argv, struct layout *l, const char **seed,
              uint64_t *size)
{
  l->parts = xcalloc (argc, sizeof *l->parts);
  for (int i = 0; i < argc; ++i) {
    if (STREQ (argv[i], "--seed") && i + 1 < argc) {
      *seed = argv[++i];
      continue;
    }
    if (STREQ (argv[i], "--size") && i + 1 < argc) {
      if (size_arg (argv[++i], size) == -1)
        return -1;
      continue;
    }
    char *colon = strchr (argv[i], ':');
    if (!colon)
      return -1;
    *colon = '\0';
    struct part *p = &l->parts[l->nparts++];
    p->name = argv[i];
    if (STREQ (p->name, "bios"))
      p->type = PART_BIOS;
    else if (STREQ (p->name, "esp"))
      p->type = PART_ESP;
    else if (STREQ (p->name, "swap"))
      p->type = PART_SWAP;
    else
      p->type = PART_LINUX;
    if (size_arg (colon + 1, &p->size) == -1)
      return -1;
  }
  return 0;
}

static int
cmd_layout (int argc, char **argv, bool only_needed)
{
  struct layout l = { 0 };
  const char *seed = NULL;
  uint64_t size = 0;
  const char *image = NULL;

  if (!only_needed) {
    if (argc < 1)
      return usage ();
    image = argv[0];
    argc--;
    argv++;
  }
  if (argc < 2 || (!STREQ (argv[0], "gpt") && !STREQ (argv[0], "msdos")))
    return usage ();
  l.msdos = STREQ (argv[0], "msdos");
  if (parse_layout (argc - 1, argv + 1, &l, &seed, &size) == -1) {
    free (l.parts);
    return usage ();
  }
  CLEANUP_FREE struct part *parts = l.parts;   /* freed on return */

  if (only_needed) {
    printf ("%" PRIu64 "\n", partition_disk_size (&l, 0));
    return EXIT_OK;
  }

  l.disk_size = size ? size : partition_disk_size (&l, 64 * 1024 * 1024);
  if (seed) {
    uuid_make (l.disk_uuid, seed, "disk");
    l.disk_signature = uuid_make32 (seed, "disk");
    for (size_t i = 0; i < l.nparts; ++i)
      uuid_make (l.parts[i].uuid, seed, l.parts[i].name);
  }
  if (partition_write (image, &l) == -1)
    return EXIT_FAIL;
  printf ("disk %s %08" PRIx32 "\n", l.msdos ? "-" : l.disk_uuid,
          l.disk_signature);
  for (size_t i = 0; i < l.nparts; ++i)
    printf ("%d %s %" PRIu64 " %" PRIu64 " %s\n", l.parts[i].number,
            l.parts[i].name, l.parts[i].offset, l.parts[i].size,
            l.msdos ? "-" : l.parts[i].uuid);
  return EXIT_OK;
}

int
main (int argc, char **argv)
{
  uint64_t offset, size;

  program_name = "test-disk";
  cleanup_install_handlers ();
  if (argc > 1 && STREQ (argv[1], "-v")) {
    verbose = 1;
    argc--;
    argv++;
  }
  if (argc < 2)
    return usage ();
  const char *cmd = argv[1];
  argc -= 2;
  argv += 2;

  if (STREQ (cmd, "layout"))
    return cmd_layout (argc, argv, false);
  if (STREQ (cmd, "needed"))
    return cmd_layout (argc, argv, true);
  if (STREQ (cmd, "uuid") && argc == 2) {
    char u[37];
    const char *seed = STREQ (argv[0], "-") ? NULL : argv[0];
    uuid_make (u, seed, argv[1]);
    printf ("%s %08" PRIx32 "\n", u, uuid_make32 (seed, argv[1]));
    return EXIT_OK;
  }
  if (STREQ (cmd, "vfat") && argc == 5) {
    unsigned long volid = strtoul (argv[4], NULL, 16);
    if (size_arg (argv[1], &offset) == -1 || size_arg (argv[2], &size) == -1)
      return usage ();
    if (vfat_mkfs (argv[0], offset, size, argv[3], volid) == -1)
      return EXIT_FAIL;
    CLEANUP_FREE char *s = vfat_uuid_string (volid);
    printf ("%s\n", s);
    return EXIT_OK;
  }
  if (STREQ (cmd, "addfile") && argc == 4) {
    if (size_arg (argv[1], &offset) == -1)
      return usage ();
    return vfat_add_file (argv[0], offset, argv[2], argv[3]) == -1
      ? EXIT_FAIL : EXIT_OK;
  }
  if (STREQ (cmd, "swap") && argc == 5) {
    if (size_arg (argv[1], &offset) == -1 || size_arg (argv[2], &size) == -1)
      return usage ();
    return swap_mkswap (argv[0], offset, size, argv[3], argv[4]) == -1
      ? EXIT_FAIL : EXIT_OK;
  }
  if (STREQ (cmd, "output") && (argc == 3 || argc == 4)) {
    bool force = argc == 4 && STREQ (argv[3], "--force");
    if (argc == 4 && !force)
      return usage ();
    return nbd_output_write (argv[0], argv[1], argv[2], force) == -1
      ? EXIT_FAIL : EXIT_OK;
  }
  return usage ();
}
