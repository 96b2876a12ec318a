/* mkvmimg run: start an image on its machine, interactively or as a
 * daemon, with its networks, display and debugging.
 */
#include <config.h>

#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mkvmimg.h"
#include "arch.h"
#include "child.h"
#include "cli.h"
#include "display.h"
#include "libvirt.h"
#include "machine.h"
#include "net.h"
#include "qemu.h"
#include "tempfiles.h"

#define DEFAULT_GDB_PORT 1234

struct run_opts {
  const char *image;            /* IMAGE */
  char *machine;                /* --machine FILE */
  char *memory;                 /* --memory SIZE */
  char *cpus;                   /* --cpus N */
  struct strv sets;             /* --set machine.KEY=VALUE */
  struct strv forwards;         /* --forward tcp:H:G */
  char *display;                /* --display none|vnc|spice */
  char *listen;                 /* --listen ADDRESS|unix */
  char *password_file;          /* --password-file FILE */
  char *console;                /* --console FILE */
  int daemonize;                /* --daemonize */
  char *run_dir;                /* --run-dir DIR */
  int snapshot;                 /* --snapshot */
  char *overlay;                /* --overlay FILE */
  int print_command;            /* --print-command */
  int libvirt_xml;              /* --libvirt-xml */
  char *gdb;                    /* --gdb[=PORT] ("" without PORT) */
  int gdb_wait;                 /* --gdb-wait */
  char *wrapper;                /* --qemu-wrapper CMD */
};

/* The machine with this run's overrides applied. */
static int
apply_overrides (const struct run_opts *o, struct machine *m)
{
  if (o->memory && machine_set (m, "--memory", "memory", o->memory) == -1)
    return -1;
  if (o->cpus && machine_set (m, "--cpus", "cpus", o->cpus) == -1)
    return -1;
  for (size_t i = 0; i < o->sets.len; ++i) {
    const char *s = o->sets.v[i];
    const char *eq = strchr (s, '=');
    CLEANUP_FREE char *key = NULL;
    CLEANUP_FREE char *what = NULL;

    if (!STRPREFIX (s, "machine.") || !eq || eq == s + 8) {
      error ("--set %s: expected machine.KEY=VALUE", s);
      return -1;
    }
    key = xasprintf ("%.*s", (int) (eq - s - 8), s + 8);
    what = xasprintf ("--set %s", s);
    /* A key given again replaces the file's value. */
    if (machine_set (m, what, key, eq + 1) == -1)
      return -1;
  }
  if (o->display && machine_set (m, "--display", "display", o->display) == -1)
    return -1;
  if (o->listen && machine_set (m, "--listen", "listen", o->listen) == -1)
    return -1;
  return 0;
}

/* A free TCP port on 127.0.0.1?  -1 with a clear error when not. */
static int
check_port (const char *what, int port)
{
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_port = htons (port),
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, r, e;

  if (fd == -1) {
    error_errno ("socket");
    return -1;
  }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  r = bind (fd, (struct sockaddr *) &addr, sizeof addr);
  e = errno;
  close (fd);
  if (r == -1) {
    if (e == EADDRINUSE)
      error ("%s: port %d on 127.0.0.1 is already in use", what, port);
    else {
      errno = e;
      error_errno ("%s: bind 127.0.0.1:%d", what, port);
    }
    return -1;
  }
  return 0;
}

/* The vmlinux with the symbols of the machine's kernel, or NULL. */
static char *
find_vmlinux (const struct machine *m)
{
  const struct arch *a = arch_find (m->arch);
  CLEANUP_FREE char *suffix = NULL;
  const char *base;
  char *p;

  if (m->vmlinux)
    return xstrdup (m->vmlinux);
  if (!m->kernel)
    return NULL;
  /* A kernel tree: TREE/vmlinux beside the arch's image in it
   * (TREE/arch/x86/boot/bzImage, TREE/arch/arm64/boot/Image, ...).
   */
  if (a)
    suffix = xasprintf ("/%s", a->kernel_build);
  if (suffix && strlen (m->kernel) > strlen (suffix) &&
      STREQ (m->kernel + strlen (m->kernel) - strlen (suffix), suffix)) {
    p = xasprintf ("%.*s/vmlinux",
                   (int) (strlen (m->kernel) - strlen (suffix)), m->kernel);
    if (access (p, R_OK) == 0)
      return p;
    free (p);
  }
  /* Debian's debug symbols (linux-image-*-dbg). */
  base = strrchr (m->kernel, '/');
  base = base ? base + 1 : m->kernel;
  if (STRPREFIX (base, "vmlinuz-")) {
    p = xasprintf ("/usr/lib/debug/boot/vmlinux-%s", base + 8);
    if (access (p, R_OK) == 0)
      return p;
    free (p);
  }
  return NULL;
}

/* The directory for a daemonized VM's pid file, QMP socket, console and
 * password: --run-dir, else $XDG_RUNTIME_DIR/mkvmimg-run/NAME, else
 * /tmp/mkvmimg-run-UID/NAME; 0700 (not created for a dry run).  Caller
 * frees.
 */
static char *
daemon_dir (const struct run_opts *o, const struct machine *m,
            const char *image, bool dry_run)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  CLEANUP_FREE char *copy = NULL;
  CLEANUP_FREE char *parent = NULL;
  const char *name;
  char *dir;

  if (o->run_dir)
    dir = xstrdup (o->run_dir);
  else {
    copy = xstrdup (image ? image : o->machine ? o->machine : o->image);
    name = m->name ? m->name : basename (copy);
    parent = xdg && *xdg ? xasprintf ("%s/mkvmimg-run", xdg)
      : xasprintf ("/tmp/mkvmimg-run-%u", (unsigned) getuid ());
    if (!dry_run && mkdir_p (parent, 0700) == -1)
      return NULL;
    dir = xasprintf ("%s/%s", parent, name);
  }
  if (!dry_run && mkdir_p (dir, 0700) == -1) {
    free (dir);
    return NULL;
  }
  return dir;
}

static int
create_overlay (const char *overlay, const char *image, const char *format)
{
  CLEANUP_FREE char *abs = realpath (image, NULL);
  const char *argv[] = {
    "qemu-img", "create", "-q", "-f", "qcow2", "-b", NULL, "-F", format,
    overlay, NULL
  };

  if (!abs) {
    error_errno ("%s", image);
    return -1;
  }
  argv[6] = abs;
  info ("creating the overlay %s (backing file %s)", overlay, abs);
  return child_run (argv, NULL);
}

static int
do_run (const struct run_opts *o)
{
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_FREE char *image = NULL;
  CLEANUP_FREE char *id = NULL;
  CLEANUP_FREE char *dir = NULL;
  CLEANUP_FREE char *qmp = NULL, *pidfile = NULL, *console = NULL;
  CLEANUP_FREE char *vmlinux = NULL;
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_STRV_STRUCT struct strv wrapper = { 0 };
  struct child_opts copts = CHILD_OPTS_INIT;
  struct display d = { .kind = "none" };
  struct qemu_opts qo = { .snapshot = o->snapshot, .reboot = true,
                          .forwards = o->forwards.v };
  bool dry = o->print_command || o->libvirt_xml;
  int ret = EXIT_FAIL, status;
  pid_t pid;

  m = qemu_choose_machine (o->image, o->machine, &image);
  if (!m)
    return EXIT_FAIL;
  if (apply_overrides (o, m) == -1)
    return EXIT_FAIL;
  if (image && access (image, R_OK) == -1) {
    error_errno ("%s", image);
    return EXIT_FAIL;
  }
  if (o->overlay) {
    if (!image) {
      error ("--overlay %s: the machine has no disk", o->overlay);
      return EXIT_FAIL;
    }
    if (!dry && access (o->overlay, F_OK) == -1) {
      const char *format = qemu_image_format (m, image);
      if (!format || create_overlay (o->overlay, image, format) == -1)
        return EXIT_FAIL;
    }
    id = qemu_vm_id (m, image, NULL);
    free (image);
    image = xstrdup (o->overlay);
    qo.image_format = "qcow2";
  }
  else
    id = qemu_vm_id (m, image, o->machine ? o->machine : o->image);
  qo.id = id;
  qo.image = image;
  qo.dry_run = dry;

  if (o->daemonize) {
    dir = daemon_dir (o, m, image, dry);
    if (!dir)
      return EXIT_FAIL;
    pidfile = xasprintf ("%s/qemu.pid", dir);
    if (!dry && access (pidfile, F_OK) == 0) {
      CLEANUP_FREE char *text = read_whole_file (pidfile, NULL);
      long p = text ? strtol (text, NULL, 10) : 0;
      if (p > 1 && kill (p, 0) == 0) {
        error ("%s: this VM already runs (pid %ld)", pidfile, p);
        return EXIT_FAIL;
      }
    }
    qo.pidfile = pidfile;
    console = o->console ? xstrdup (o->console)
      : xasprintf ("%s/console.log", dir);
  }
  else {
    const char *t = tmpdir_get ();
    if (!t)
      return EXIT_FAIL;
    dir = xstrdup (t);
    if (o->console)
      console = xstrdup (o->console);
  }
  qmp = xasprintf ("%s/qmp.sock", dir);
  qo.qmp_path = qmp;
  qo.console_file = console;

  if (display_prepare (m, o->password_file, dir, dry, &d) == -1)
    goto out;
  qo.display = &d;

  if (o->gdb) {
    char *end;
    long port = DEFAULT_GDB_PORT;
    if (*o->gdb) {
      errno = 0;
      port = strtol (o->gdb, &end, 10);
      if (errno || *end || port < 1 || port > 65535) {
        usage_error ("run", "--gdb=%s: expected a TCP port", o->gdb);
        ret = EXIT_USAGE;
        goto out;
      }
    }
    qo.gdb_port = port;
    if (!dry && check_port ("--gdb", port) == -1)
      goto out;
  }
  qo.gdb_wait = o->gdb_wait;
  if (o->gdb_wait && !o->gdb) {
    usage_error ("run", "--gdb-wait needs --gdb");
    ret = EXIT_USAGE;
    goto out;
  }
  if (o->wrapper) {
    CLEANUP_FREE char *copy = xstrdup (o->wrapper);
    char *save = NULL;
    for (char *w = strtok_r (copy, " \t", &save); w;
         w = strtok_r (NULL, " \t", &save))
      strv_add (&wrapper, w);
    qo.wrapper = wrapper.v;
  }
  if (!dry) {
    CLEANUP_FREE struct machine_nic *nics = NULL;
    size_t n;
    bool vde = false;

    for (size_t i = 0; i < o->forwards.len; ++i)
      if (net_check_forward (o->forwards.v[i]) == -1)
        goto out;
    nics = machine_nics (m, &n);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; nics[i].forwards && nics[i].forwards[j]; ++j)
        if (STREQ (nics[i].net, "user") &&
            net_check_forward (nics[i].forwards[j]) == -1)
          goto out;
      if (STRPREFIX (nics[i].net, "vde:"))
        vde = true;
    }
    if (vde && net_qemu_has_vde (m->qemu) == -1)
      goto out;
  }

  if (qemu_build_argv (m, &qo, &argv) == -1)
    goto out;

  if (o->libvirt_xml) {
    CLEANUP_FREE char *xml = libvirt_domain_xml (m, &qo, id);
    if (!xml)
      goto out;
    fputs (xml, stdout);
    ret = EXIT_OK;
    goto out;
  }
  if (o->print_command) {
    CLEANUP_FREE char *line = qemu_command_string (argv.v);
    printf ("%s\n", line);
    ret = EXIT_OK;
    goto out;
  }

  /* How to reach it. */
  if (!STREQ (d.kind, "none")) {
    CLEANUP_FREE char *cmd = display_connect_command (&d);
    info ("display: %s", cmd);
    if (d.password_file)
      info ("display password: in %s%s", d.password_file,
            d.generated ? " (generated for this run)" : "");
  }
  if (qo.gdb_port) {
    /* Debian's plain gdb knows only the host's architecture. */
    const char *gdb = arch_host () == arch_find (m->arch)
      ? "gdb" : "gdb-multiarch";
    vmlinux = find_vmlinux (m);
    info ("gdb stub on 127.0.0.1:%d%s; attach with:", qo.gdb_port,
          o->gdb_wait ? " (the CPU waits for 'continue')" : "");
    if (vmlinux)
      info ("  %s %s -ex 'target remote 127.0.0.1:%d'", gdb, vmlinux,
            qo.gdb_port);
    else
      info ("  %s -ex 'target remote 127.0.0.1:%d'   (no vmlinux with "
            "symbols found: set vmlinux in the machine)", gdb, qo.gdb_port);
  }

  if (o->daemonize) {
    /* qemu forks into the background once it is set up. */
    if (child_run ((const char *const *) argv.v, NULL) == -1)
      goto out;
    info ("running in the background: pid file %s, QMP socket %s, "
          "console %s", pidfile, qmp, console);
    printf ("%s\n", pidfile);
    ret = EXIT_OK;
    goto out;
  }
  if (console)
    /* Console in a file: Ctrl-C and SIGTERM come to us, we stop qemu. */
    copts.new_session = true;
  else {
    info ("the console is on this terminal: Ctrl-a x quits, Ctrl-a c "
          "switches to the QEMU monitor");
    copts.stdin_fd = STDIN_FILENO;
  }
  pid = child_start ((const char *const *) argv.v, &copts);
  if (pid == -1)
    goto out;
  if (child_wait (pid, &status) == -1)
    goto out;
  if (child_check_status (m->qemu, status) == -1)
    goto out;
  ret = EXIT_OK;

 out:
  display_free (&d);
  return ret;
}

static int
handle_option (poptContext ctx, int val, void *opaque)
{
  struct run_opts *o = opaque;
  char *arg = (char *) poptGetOptArg (ctx);
  int r = 0;

  if (val == 's')
    strv_add (&o->sets, arg);
  else if (val == 'f')
    strv_add (&o->forwards, arg);
  else if (val == 'g') {
    free (o->gdb);
    if (arg && arg[strspn (arg, "0123456789")] != '\0') {
      /* "--gdb IMAGE": popt took the next word as PORT; give it back. */
      const char *back[] = { arg, NULL };
      poptStuffArgs (ctx, back);
      o->gdb = xstrdup ("");
    }
    else
      o->gdb = xstrdup (arg ? arg : "");
  }
  else
    r = -1;
  free (arg);
  return r;
}

int
cmd_run (int argc, char **argv)
{
  struct run_opts o = { 0 };
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = {
    { "machine", '\0', POPT_ARG_STRING, &o.machine, 0,
      "Read the machine description from FILE (default: IMAGE.machine)",
      "FILE" },
    { "memory", 'm', POPT_ARG_STRING, &o.memory, 0,
      "Memory for this run (e.g. 2G)", "SIZE" },
    { "cpus", '\0', POPT_ARG_STRING, &o.cpus, 0, "CPUs for this run", "N" },
    { "set", 's', POPT_ARG_STRING, NULL, 's',
      "Override a machine key for this run", "machine.KEY=VALUE" },
    { "forward", '\0', POPT_ARG_STRING, NULL, 'f',
      "Forward 127.0.0.1:HOSTPORT to the guest's GUESTPORT (repeatable)",
      "tcp:HOSTPORT:GUESTPORT" },
    { "display", '\0', POPT_ARG_STRING, &o.display, 0,
      "none, vnc or spice", "DISPLAY" },
    { "listen", '\0', POPT_ARG_STRING, &o.listen, 0,
      "Where VNC or SPICE listens (default 127.0.0.1; unix: a socket)",
      "ADDRESS" },
    { "password-file", '\0', POPT_ARG_STRING, &o.password_file, 0,
      "The display password (default: generated)", "FILE" },
    { "console", '\0', POPT_ARG_STRING, &o.console, 0,
      "Write the serial console to FILE instead of the terminal", "FILE" },
    { "daemonize", 'd', POPT_ARG_NONE, &o.daemonize, 0,
      "Run in the background (pid file, QMP socket, console log)", NULL },
    { "run-dir", '\0', POPT_ARG_STRING, &o.run_dir, 0,
      "Where --daemonize puts its files", "DIR" },
    { "snapshot", '\0', POPT_ARG_NONE, &o.snapshot, 0,
      "Discard the guest's changes to the image", NULL },
    { "overlay", '\0', POPT_ARG_STRING, &o.overlay, 0,
      "Write changes to FILE, a qcow2 overlay of the image", "FILE" },
    { "print-command", '\0', POPT_ARG_NONE, &o.print_command, 0,
      "Print the qemu command line and exit", NULL },
    { "libvirt-xml", '\0', POPT_ARG_NONE, &o.libvirt_xml, 0,
      "Print a libvirt domain XML for the machine and exit", NULL },
    { "gdb", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, 'g',
      "Start QEMU's gdb stub on 127.0.0.1:PORT (default 1234)", "PORT" },
    { "gdb-wait", '\0', POPT_ARG_NONE, &o.gdb_wait, 0,
      "Halt the CPU at start until gdb continues", NULL },
    { "qemu-wrapper", '\0', POPT_ARG_STRING, &o.wrapper, 0,
      "Run QEMU under CMD, split at spaces (e.g. 'strace -f')", "CMD" },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  const char **args;
  int r, ret = EXIT_USAGE;

  r = cli_parse (&ctx, "run", argc, argv, options, "IMAGE [OPTIONS]",
                 handle_option, &o);
  if (r != 0) {
    ret = r == 1 ? EXIT_OK : EXIT_USAGE;
    goto out;
  }
  args = poptGetArgs (ctx);
  if (args && args[0] && args[1]) {
    usage_error ("run", "one IMAGE only");
    goto out;
  }
  o.image = args ? args[0] : NULL;
  if (!o.image && !o.machine) {
    usage_error ("run", "an IMAGE (or --machine FILE) is needed");
    goto out;
  }
  if (o.print_command && o.libvirt_xml) {
    usage_error ("run", "--print-command or --libvirt-xml, not both");
    goto out;
  }
  if (o.snapshot && o.overlay) {
    usage_error ("run", "--snapshot or --overlay, not both");
    goto out;
  }
  ret = do_run (&o);

 out:
  free (o.machine);
  free (o.memory);
  free (o.cpus);
  strv_free (&o.sets);
  strv_free (&o.forwards);
  free (o.display);
  free (o.listen);
  free (o.password_file);
  free (o.console);
  free (o.run_dir);
  free (o.overlay);
  free (o.gdb);
  free (o.wrapper);
  return ret;
}
