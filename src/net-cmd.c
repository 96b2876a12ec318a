/* mkvmimg net create|list|destroy: VDE switches (vde_switch, and
 * slirpvde for DHCP/DNS/NAT) that VMs join with net = vde:NAME.
 */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mkvmimg.h"
#include "child.h"
#include "cli.h"
#include "net.h"

/* The pid in a pid file, if that process is alive; else 0. */
static pid_t
read_pid (const char *path)
{
  CLEANUP_FREE char *text = NULL;
  long pid;

  if (access (path, F_OK) == -1)
    return 0;
  text = read_whole_file (path, NULL);
  if (!text)
    return 0;
  pid = strtol (text, NULL, 10);
  if (pid <= 1 || kill (pid, 0) == -1)
    return 0;
  return pid;
}

/* A daemon writes its pid file after its parent exited: wait up to 5 s. */
static pid_t
wait_pid_file (const char *path)
{
  struct timespec ts = { 0, 50 * 1000 * 1000 };
  pid_t pid;

  for (int i = 0; i < 100; ++i) {
    pid = read_pid (path);
    if (pid > 0)
      return pid;
    nanosleep (&ts, NULL);
  }
  return 0;
}

/* SIGTERM, wait up to 5 s, then SIGKILL. */
static void
stop_pid (pid_t pid)
{
  struct timespec ts = { 0, 100 * 1000 * 1000 };

  if (pid <= 1)
    return;
  kill (pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (kill (pid, 0) == -1)
      return;
    nanosleep (&ts, NULL);
  }
  kill (pid, SIGKILL);
}

static void
remove_switch_files (const char *sdir)
{
  static const char *const names[] = {
    "switch.pid", "slirp.pid", "mgmt", "dhcp", NULL
  };
  CLEANUP_FREE char *ctl = xasprintf ("%s/ctl", sdir);
  DIR *d;
  struct dirent *e;

  for (size_t i = 0; names[i]; ++i) {
    CLEANUP_FREE char *p = xasprintf ("%s/%s", sdir, names[i]);
    unlink (p);
  }
  /* The control directory: ctl and one socket per port. */
  d = opendir (ctl);
  if (d) {
    while ((e = readdir (d)) != NULL) {
      CLEANUP_FREE char *p = NULL;
      if (STREQ (e->d_name, ".") || STREQ (e->d_name, ".."))
        continue;
      p = xasprintf ("%s/%s", ctl, e->d_name);
      unlink (p);
    }
    closedir (d);
  }
  rmdir (ctl);
  rmdir (sdir);
}

struct net_create_opts {
  int dhcp;                     /* --dhcp */
  char *group;                  /* --group GROUP */
};

static int
net_create (const char *name, const struct net_create_opts *o)
{
  CLEANUP_FREE char *dir = net_dir ();
  CLEANUP_FREE char *sdir = NULL, *ctl = NULL, *mgmt = NULL;
  CLEANUP_FREE char *spid = NULL, *slpid = NULL, *dhcp = NULL;
  CLEANUP_FREE char *group = NULL;
  struct stat st;
  pid_t sw;

  if (!net_valid_switch_name (name)) {
    usage_error ("net create", "%s: a switch name has letters, digits, "
                 "'-', '_' and '.' only", name);
    return EXIT_USAGE;
  }
  if (!program_exists ("vde_switch")) {
    error ("vde_switch is not installed (Debian package vde2)");
    return EXIT_FAIL;
  }
  if (o->dhcp && !program_exists ("slirpvde")) {
    error ("slirpvde is not installed (Debian package vde2)");
    return EXIT_FAIL;
  }
  if (o->group)
    group = xstrdup (o->group);
  else {
    struct group *g = getgrgid (getgid ());
    group = g ? xstrdup (g->gr_name) : xasprintf ("%u", (unsigned) getgid ());
  }
  /* The parent is searchable by others (the group reaches its switch
   * through it), writable by us only; refuse one that is not ours.
   */
  if (mkdir_p (dir, 0755) == -1)
    return EXIT_FAIL;
  if (lstat (dir, &st) == -1) {
    error_errno ("%s", dir);
    return EXIT_FAIL;
  }
  if (!S_ISDIR (st.st_mode) || st.st_uid != getuid () ||
      (st.st_mode & 0022)) {
    error ("%s: not a directory of ours that only we can write: refusing "
           "to put switches there (set MKVMIMG_NET_DIR)", dir);
    return EXIT_FAIL;
  }
  sdir = xasprintf ("%s/%s", dir, name);
  ctl = xasprintf ("%s/ctl", sdir);
  mgmt = xasprintf ("%s/mgmt", sdir);
  spid = xasprintf ("%s/switch.pid", sdir);
  slpid = xasprintf ("%s/slirp.pid", sdir);
  dhcp = xasprintf ("%s/dhcp", sdir);
  if (read_pid (spid) > 0) {
    error ("net create %s: the switch already runs (%s); "
           "'mkvmimg net destroy %s' first", name, ctl, name);
    return EXIT_FAIL;
  }
  if (access (sdir, F_OK) == 0) {
    debug ("%s: left over from a switch that is gone: removing", sdir);
    stop_pid (read_pid (slpid));
    remove_switch_files (sdir);
  }
  if (mkdir (sdir, 0750) == -1) {
    error_errno ("create %s", sdir);
    return EXIT_FAIL;
  }
  {
    const char *argv[] = {
      "vde_switch", "--sock", ctl, "--mode", "0660", "--dirmode", "0770",
      "--group", group, "--mgmt", mgmt, "--mgmtmode", "0600",
      "--daemon", "--pidfile", spid, NULL
    };
    if (child_run (argv, NULL) == -1) {
      remove_switch_files (sdir);
      return EXIT_FAIL;
    }
  }
  sw = wait_pid_file (spid);
  if (sw <= 0) {
    error ("net create %s: vde_switch did not stay up", name);
    remove_switch_files (sdir);
    return EXIT_FAIL;
  }
  if (o->dhcp) {
    /* Its long options do not all work: the short ones. */
    const char *argv[] = {
      "slirpvde", "-s", ctl, "-D", "-d", "-p", slpid, NULL
    };
    CLEANUP_CLOSE int fd = -1;
    int r = child_run (argv, NULL);
    if (r == -1 || wait_pid_file (slpid) <= 0) {
      if (r == 0)
        error ("net create %s: slirpvde did not stay up", name);
      stop_pid (read_pid (slpid));
      stop_pid (sw);
      remove_switch_files (sdir);
      return EXIT_FAIL;
    }
    fd = open (dhcp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  info ("switch %s: vde:%s (group %s)%s", name, ctl, group,
        o->dhcp ? "; DHCP, DNS and NAT on 10.0.2.0/24 by slirpvde" : "");
  printf ("%s\n", ctl);
  return EXIT_OK;
}

static int
net_destroy (const char *name)
{
  CLEANUP_FREE char *dir = net_dir ();
  CLEANUP_FREE char *sdir = NULL, *spid = NULL, *slpid = NULL;

  if (!net_valid_switch_name (name)) {
    usage_error ("net destroy", "%s: not a switch name", name);
    return EXIT_USAGE;
  }
  sdir = xasprintf ("%s/%s", dir, name);
  if (access (sdir, F_OK) == -1) {
    error ("net destroy %s: no such switch in %s", name, dir);
    return EXIT_FAIL;
  }
  spid = xasprintf ("%s/switch.pid", sdir);
  slpid = xasprintf ("%s/slirp.pid", sdir);
  stop_pid (read_pid (slpid));
  stop_pid (read_pid (spid));
  remove_switch_files (sdir);
  if (access (sdir, F_OK) == 0) {
    error ("net destroy %s: %s could not be removed entirely", name, sdir);
    return EXIT_FAIL;
  }
  info ("switch %s destroyed", name);
  return EXIT_OK;
}

static int
net_list (void)
{
  CLEANUP_FREE char *dir = net_dir ();
  DIR *d = opendir (dir);
  struct dirent *e;

  if (!d) {
    if (errno == ENOENT)
      return EXIT_OK;
    error_errno ("open %s", dir);
    return EXIT_FAIL;
  }
  while ((e = readdir (d)) != NULL) {
    CLEANUP_FREE char *spid = NULL, *slpid = NULL, *dhcp = NULL;
    pid_t sw, sl;

    if (e->d_name[0] == '.')
      continue;
    spid = xasprintf ("%s/%s/switch.pid", dir, e->d_name);
    slpid = xasprintf ("%s/%s/slirp.pid", dir, e->d_name);
    dhcp = xasprintf ("%s/%s/dhcp", dir, e->d_name);
    sw = read_pid (spid);
    sl = read_pid (slpid);
    printf ("%s\t%s\t%s/%s/ctl\t%s\n", e->d_name, sw > 0 ? "running" : "stopped",
            dir, e->d_name,
            access (dhcp, F_OK) == 0 ? (sl > 0 ? "dhcp" : "dhcp-stopped")
            : "-");
  }
  closedir (d);
  return EXIT_OK;
}

static int
cmd_net_create (int argc, char **argv)
{
  struct net_create_opts o = { 0 };
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = {
    { "dhcp", '\0', POPT_ARG_NONE, &o.dhcp, 0,
      "Also start slirpvde: DHCP, DNS and NAT to the host's network",
      NULL },
    { "group", '\0', POPT_ARG_STRING, &o.group, 0,
      "Group that may use the switch (default: your group)", "GROUP" },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  const char **args;
  int r, ret = EXIT_USAGE;

  r = cli_parse (&ctx, "net create", argc, argv, options, "NAME", NULL,
                 NULL);
  if (r != 0) {
    ret = r == 1 ? EXIT_OK : EXIT_USAGE;
    goto out;
  }
  args = poptGetArgs (ctx);
  if (!args || !args[0] || args[1]) {
    usage_error ("net create", "one switch NAME is needed");
    goto out;
  }
  {
    /* Ctrl-C or SIGTERM while the daemons start: they are stopped and
     * removed, then the signal is delivered.
     */
    sigset_t block, old, pending;
    sigemptyset (&block);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    sigaddset (&block, SIGHUP);
    sigprocmask (SIG_BLOCK, &block, &old);
    ret = net_create (args[0], &o);
    sigpending (&pending);
    if (ret == EXIT_OK && (sigismember (&pending, SIGINT) ||
                           sigismember (&pending, SIGTERM) ||
                           sigismember (&pending, SIGHUP))) {
      error ("net create %s: interrupted: removing the switch", args[0]);
      net_destroy (args[0]);
      ret = EXIT_FAIL;
    }
    /* Once the switch is up, a signal that comes later (while exiting)
     * must not turn the exit status into 143 with the switch running:
     * it stays blocked and is dropped at exit.
     */
    if (ret != EXIT_OK)
      sigprocmask (SIG_SETMASK, &old, NULL);
  }
 out:
  free (o.group);
  return ret;
}

static int
cmd_net_destroy (int argc, char **argv)
{
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  const char **args;
  int r;

  r = cli_parse (&ctx, "net destroy", argc, argv, options, "NAME", NULL,
                 NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (!args || !args[0] || args[1]) {
    usage_error ("net destroy", "one switch NAME is needed");
    return EXIT_USAGE;
  }
  return net_destroy (args[0]);
}

static int
cmd_net_list (int argc, char **argv)
{
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  const char **args;
  int r;

  r = cli_parse (&ctx, "net list", argc, argv, options, "", NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0]) {
    usage_error ("net list", "no arguments expected");
    return EXIT_USAGE;
  }
  return net_list ();
}

static const struct command net_commands[] = {
  { "create", cmd_net_create, "start a VDE switch (and DHCP/NAT)" },
  { "list", cmd_net_list, "list the switches: name, state, socket, dhcp" },
  { "destroy", cmd_net_destroy, "stop a switch and remove its sockets" },
  { NULL, NULL, NULL }
};

int
cmd_net (int argc, char **argv)
{
  return cli_dispatch ("net", net_commands, argc, argv);
}
