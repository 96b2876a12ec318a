/* Option parsing and subcommand dispatch shared by every command. */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "mkvmimg.h"
#include "cli.h"

struct poptOption common_options[] = {
  { "verbose", 'v', POPT_ARG_VAL | POPT_ARGFLAG_OR, &verbose, 1,
    "Print debug messages (and turn on library debugging)", NULL },
  { "quiet", 'q', POPT_ARG_VAL, &quiet, 1, "Print no progress messages", NULL },
  { "help", 'h', POPT_ARG_NONE, NULL, 'h', "Show this help", NULL },
  POPT_TABLEEND
};

void
cleanup_popt (void *ptr)
{
  poptContext ctx = *(poptContext *) ptr;
  if (ctx)
    poptFreeContext (ctx);
}

void
usage_error (const char *name, const char *fs, ...)
{
  va_list args;
  fprintf (stderr, "%s: %s: ", program_name, name);
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\nTry '%s %s --help'.\n", program_name, name);
}

int
cli_parse (poptContext *ctx_rtn, const char *name, int argc, char **argv,
           const struct poptOption *options, const char *usage,
           int (*handle) (poptContext ctx, int val, void *opaque),
           void *opaque)
{
  /* popt's "Usage:" line names argv[0]: make it the whole command, in a
   * copy of argv that outlives the context (one command runs per
   * process).
   */
  static char usage_name[256];
  static const char **av;
  poptContext ctx;
  int rc;

  snprintf (usage_name, sizeof usage_name, "%s %s", program_name, name);
  free (av);
  av = xcalloc (argc + 1, sizeof *av);
  for (int i = 0; i < argc; ++i)
    av[i] = i == 0 ? usage_name : argv[i];
  ctx = poptGetContext (usage_name, argc, av, options, 0);
  *ctx_rtn = ctx;
  poptSetOtherOptionHelp (ctx, usage);
  while ((rc = poptGetNextOpt (ctx)) > 0) {
    if (rc == 'h') {
      poptPrintHelp (ctx, stdout, 0);
      return 1;
    }
    if (!handle || handle (ctx, rc, opaque) == -1) {
      if (!handle)
        usage_error (name, "unexpected option %s", poptBadOption (ctx, 0));
      return -1;
    }
  }
  if (rc < -1) {
    usage_error (name, "%s: %s", poptBadOption (ctx, POPT_BADOPTION_NOALIAS),
                 poptStrerror (rc));
    return -1;
  }
  return 0;
}

void
cli_print_table (FILE *fp, const struct command *table)
{
  for (const struct command *c = table; c->name; ++c)
    fprintf (fp, "  %-12s %s\n", c->name, c->summary);
}

int
cli_dispatch (const char *name, const struct command *table,
              int argc, char **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;

  if (!sub) {
    usage_error (name, "a subcommand is needed");
    return EXIT_USAGE;
  }
  if (STREQ (sub, "--help") || STREQ (sub, "-h") || STREQ (sub, "help")) {
    if (STREQ (sub, "help") && argc > 2) {
      for (const struct command *c = table; c->name; ++c)
        if (STREQ (c->name, argv[2])) {
          char *av[] = { (char *) c->name, (char *) "--help", NULL };
          return c->fn (2, av);
        }
    }
    printf ("Usage: %s %s SUBCOMMAND [OPTIONS] [ARGS]\n\nSubcommands:\n",
            program_name, name);
    cli_print_table (stdout, table);
    printf ("\nSee '%s %s SUBCOMMAND --help'.\n", program_name, name);
    return EXIT_OK;
  }
  for (const struct command *c = table; c->name; ++c)
    if (STREQ (c->name, sub))
      return c->fn (argc - 1, argv + 1);
  usage_error (name, "unknown subcommand '%s'", sub);
  return EXIT_USAGE;
}

