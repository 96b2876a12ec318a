/* mkvmimg profile check|show|keys */
#include <config.h>

#include <string.h>

#include "mkvmimg.h"
#include "cli.h"
#include "profile.h"
#include "profile-keys.h"

static int profile_check (int argc, char **argv);
static int profile_show (int argc, char **argv);
static int profile_keys_cmd (int argc, char **argv);

static const struct command profile_commands[] = {
  { "check", profile_check, "validate a profile and print it resolved" },
  { "show", profile_show, "print the built-in default profile" },
  { "keys", profile_keys_cmd, "list every key with its type and default" },
  { NULL, NULL, NULL }
};

int
cmd_profile (int argc, char **argv)
{
  return cli_dispatch ("profile", profile_commands, argc, argv);
}

/* Options of "profile check". */
struct check_options {
  struct strv *sets;            /* --set SECTION[.NAME].KEY=VALUE */
  int json;                     /* --json */
};

static int
check_handle (poptContext ctx, int val, void *opaque)
{
  struct check_options *o = opaque;
  CLEANUP_FREE char *arg = poptGetOptArg (ctx);

  if (val != 's' || !arg)
    return -1;
  strv_add (o->sets, arg);
  return 0;
}

static int
profile_check (int argc, char **argv)
{
  CLEANUP_STRV_STRUCT struct strv sets = { 0 };
  struct check_options o = { .sets = &sets, .json = 0 };
  struct poptOption options[] = {
    { "set", '\0', POPT_ARG_STRING, NULL, 's',
      "Override a key of the profile (repeatable)",
      "SECTION[.NAME].KEY=VALUE" },
    { "json", '\0', POPT_ARG_NONE, &o.json, 0,
      "Print the resolved profile as JSON", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_PROFILE struct profile *p = NULL;
  const char **args;
  int r;

  r = cli_parse (&ctx, "profile check", argc, argv, options, "[PROFILE]",
                 check_handle, &o);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0] && args[1]) {
    usage_error ("profile check", "only one profile may be given");
    return EXIT_USAGE;
  }

  p = profile_load (args && args[0] ? args[0] : NULL);
  if (!p)
    return EXIT_FAIL;
  for (size_t i = 0; i < sets.len; ++i)
    if (profile_set (p, sets.v[i]) == -1)
      return EXIT_FAIL;
  if (profile_validate (p) == -1)
    return EXIT_FAIL;
  if (o.json)
    profile_print_json (p, stdout);
  else
    profile_print (p, stdout);
  return EXIT_OK;
}

static int
profile_show (int argc, char **argv)
{
  struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  CLEANUP_POPT poptContext ctx = NULL;
  const char **args;
  int r;

  r = cli_parse (&ctx, "profile show", argc, argv, options, "[default]",
                 NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0] && (args[1] || !STREQ (args[0], "default"))) {
    usage_error ("profile show", "the only built-in profile is 'default'");
    return EXIT_USAGE;
  }
  fputs (profile_default_text, stdout);
  return EXIT_OK;
}

/* A default as in a profile: quoted when it holds white space. */
static void
print_default (const struct profile_key *k, FILE *fp)
{
  if (k->def) {
    if (strpbrk (k->def, " \t#\"\\") || !*k->def)
      fprintf (fp, "\"%s\"", k->def);
    else
      fputs (k->def, fp);
  }
  else if (k->compute)
    fputs ("(computed)", fp);
  else if (k->flags & PK_REQUIRED)
    fputs ("(required)", fp);
  else
    fputs ("(unset)", fp);
}

static int
profile_keys_cmd (int argc, char **argv)
{
  struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  CLEANUP_POPT poptContext ctx = NULL;
  const char **args;
  int r;

  r = cli_parse (&ctx, "profile keys", argc, argv, options, "", NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0]) {
    usage_error ("profile keys", "unexpected argument '%s'", args[0]);
    return EXIT_USAGE;
  }
  for (const struct profile_key *k = profile_keys; k->section; ++k) {
    printf ("%s.%s %s", k->section, k->key, profile_type_name (k->type));
    if (k->allowed)
      printf (":%s", k->allowed);
    else if (k->flags & PK_KEYVALUE)
      printf (":key=value");
    putchar (' ');
    print_default (k, stdout);
    putchar ('\n');
  }
  return EXIT_OK;
}
