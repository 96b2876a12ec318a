/* The command table and option parsing shared by every command. */
#ifndef MKVMIMG_CLI_H
#define MKVMIMG_CLI_H

#include <popt.h>

struct command {
  const char *name;
  int (*fn) (int argc, char **argv);    /* argv[0] is the command name */
  const char *summary;
};

/* A subcommand table ends with a NULL name. */
extern const struct command commands[];

/* -v, -q and --help, included in every command's option table. */
extern struct poptOption common_options[];
#define COMMON_OPTIONS \
  { NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0, \
    "Common options:", NULL }

/* Parse a command's options.  Returns 0 to go on, 1 when --help was
 * printed (the command returns EXIT_OK), or -1 on a usage error, already
 * reported (the command returns EXIT_USAGE).  *ctx_rtn must be freed
 * with poptFreeContext in every case.  Option callbacks that return a
 * value (val != 0, arg NULL) are passed to handle(), if given, which
 * returns -1 on a usage error.
 */
int cli_parse (poptContext *ctx_rtn, const char *name, int argc, char **argv,
               const struct poptOption *options, const char *usage,
               int (*handle) (poptContext ctx, int val, void *opaque),
               void *opaque);

/* Dispatch "COMMAND SUB ARGS" to a subcommand table; prints the table on
 * "COMMAND --help" or "COMMAND help".
 */
int cli_dispatch (const char *name, const struct command *table,
                  int argc, char **argv);

/* "  NAME         SUMMARY" for each command of a table. */
void cli_print_table (FILE *fp, const struct command *table);

/* Report a usage error ("mkvmimg: NAME: ...; see 'mkvmimg NAME --help'"). */
void usage_error (const char *name, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));

void cleanup_popt (void *ptr);
#define CLEANUP_POPT __attribute__((cleanup (cleanup_popt)))

/* The commands. */
int cmd_help (int argc, char **argv);
int cmd_initramfs (int argc, char **argv);
int cmd_build (int argc, char **argv);
int cmd_profile (int argc, char **argv);
int cmd_boot (int argc, char **argv);
int cmd_run (int argc, char **argv);
int cmd_net (int argc, char **argv);
int cmd_cache (int argc, char **argv);
int cmd_inspect (int argc, char **argv);
int cmd_modify (int argc, char **argv);

#endif /* MKVMIMG_CLI_H */
