/* mkvmimg: the command table and the global options. */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "mkvmimg.h"
#include "cli.h"
#include "tempfiles.h"

/* `mkvmimg help`, --help and mkvmimg(1) all list commands from here. */
const struct command commands[] = {
  { "build", cmd_build, "build a bootable disk image from a profile" },
  { "boot", cmd_boot, "boot an image headless and wait for console output" },
  { "run", cmd_run, "run an image on its machine (console, display, network, gdb)" },
  { "net", cmd_net, "create, list and destroy VDE switches for VMs" },
  { "inspect", cmd_inspect, "show what is in an image, without booting it" },
  { "modify", cmd_modify, "change an image in place, without booting it" },
  { "initramfs", cmd_initramfs, "list, extract, create and patch initramfs images" },
  { "cache", cmd_cache, "list and clean the cache of bootstrapped Debian bases" },
  { "profile", cmd_profile, "check, show and print build profiles" },
  { "help", cmd_help, "show help for mkvmimg or for one command" },
  { NULL, NULL, NULL }
};

static int show_version;

static struct poptOption global_options[] = {
  { "version", 'V', POPT_ARG_VAL, &show_version, 1, "Print the version and exit", NULL },
  COMMON_OPTIONS,
  POPT_TABLEEND
};

static void
print_usage (FILE *fp)
{
  fprintf (fp,
           "Usage: %s [-v] [-q] COMMAND [OPTIONS] [ARGS]\n"
           "Build bootable virtual machine images and initramfs archives.\n\n"
           "Commands:\n", program_name);
  cli_print_table (fp, commands);
  fprintf (fp,
           "\nGlobal options:\n"
           "  -V, --version    print the version and exit\n"
           "  -v, --verbose    print debug messages\n"
           "  -q, --quiet      print no progress messages\n"
           "  -h, --help       show this help\n"
           "\nSee '%s help COMMAND' and mkvmimg(1).\n", program_name);
}

int
cmd_help (int argc, char **argv)
{
  if (argc < 2 || STREQ (argv[1], "--help") || STREQ (argv[1], "-h")) {
    print_usage (stdout);
    return EXIT_OK;
  }
  for (const struct command *c = commands; c->name; ++c)
    if (STREQ (c->name, argv[1])) {
      char *av[] = { (char *) c->name, (char *) "--help", NULL };
      return c->fn (2, av);
    }
  usage_error ("help", "unknown command '%s'", argv[1]);
  return EXIT_USAGE;
}

/* Tools such as mkfs.fat and depmod live in sbin, which an unprivileged
 * user's PATH often lacks.
 */
static void
extend_path (void)
{
  const char *path = getenv ("PATH");
  CLEANUP_FREE char *newpath = NULL;

  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  if (strstr (path, "/usr/sbin"))
    return;
  newpath = xasprintf ("%s:/usr/sbin:/sbin", path);
  setenv ("PATH", newpath, 1);
}

int
main (int argc, char **argv)
{
  CLEANUP_POPT poptContext ctx = NULL;
  const char **rest;
  int rc, n;

  setvbuf (stderr, NULL, _IOLBF, 0);
  extend_path ();
  cleanup_install_handlers ();

  /* Global options stop at the first non-option word, the command. */
  ctx = poptGetContext (program_name, argc, (const char **) argv,
                        global_options, POPT_CONTEXT_POSIXMEHARDER);
  while ((rc = poptGetNextOpt (ctx)) > 0) {
    if (rc == 'h') {
      print_usage (stdout);
      return EXIT_OK;
    }
  }
  if (rc < -1) {
    fprintf (stderr, "%s: %s: %s\nTry '%s --help'.\n", program_name,
             poptBadOption (ctx, POPT_BADOPTION_NOALIAS), poptStrerror (rc),
             program_name);
    return EXIT_USAGE;
  }
  if (show_version) {
    printf ("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
    return EXIT_OK;
  }
  rest = poptGetArgs (ctx);
  if (!rest || !rest[0]) {
    print_usage (stderr);
    return EXIT_USAGE;
  }
  for (n = 0; rest[n]; ++n)
    ;
  for (const struct command *c = commands; c->name; ++c)
    if (STREQ (c->name, rest[0])) {
      rc = c->fn (n, (char **) rest);
      fflush (stdout);
      if (ferror (stdout)) {
        error ("write error on standard output");
        rc = EXIT_FAIL;
      }
      cleanup_run ();
      return rc;
    }
  fprintf (stderr, "%s: unknown command '%s'\nTry '%s --help'.\n",
           program_name, rest[0], program_name);
  return EXIT_USAGE;
}
