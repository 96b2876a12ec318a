/* mkvmimg boot: boot an image headless and watch its serial console. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "mkvmimg.h"
#include "child.h"
#include "cli.h"
#include "machine.h"
#include "qemu.h"
#include "tempfiles.h"

#define DEFAULT_TIMEOUT 300     /* seconds */
#define LAST_LINES 20           /* shown when the boot fails */
#define WINDOW (256 * 1024)     /* cleaned console text kept */
#define PANIC "Kernel panic - not syncing"
#define PANIC_GRACE 2           /* seconds to collect the panic message */

struct boot_opts {
  const char *image;            /* IMAGE */
  char *expect;                 /* --expect REGEX */
  char *timeout;                /* --timeout S */
  char *console;                /* --console FILE */
  char *machine;                /* --machine FILE */
  int snapshot;                 /* --snapshot */
  int print_command;            /* --print-command */
};

/* The console as it arrives: raw bytes to the log and stdout, cleaned
 * text (no CR, no ANSI escape sequences) in a rolling window where the
 * regular expression and the panic message are looked for.
 */
enum esc_state { ESC_NONE, ESC_START, ESC_CSI, ESC_STRING, ESC_STRING_ESC,
                 ESC_SKIP_ONE };

struct console {
  int log_fd;                   /* --console FILE, or -1 */
  bool echo;                    /* copy to stdout (not with -q) */
  char *text;                   /* cleaned text, NUL-terminated */
  size_t len, cap;
  enum esc_state esc;
  regex_t *re;                  /* --expect, or NULL */
  bool re_multiline;            /* the pattern has a newline in it */
  bool matched, panicked;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
text_add (struct console *c, char ch)
{
  if (c->len + 2 > c->cap) {
    c->cap = c->cap ? c->cap * 2 : 65536;
    c->text = xrealloc (c->text, c->cap);
  }
  c->text[c->len++] = ch;
  c->text[c->len] = '\0';
}

/* Strip CR, other control characters and ANSI/VT100 escape sequences. */
static void
clean (struct console *c, const char *buf, size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    unsigned char ch = buf[i];

    switch (c->esc) {
    case ESC_NONE:
      if (ch == 0x1b)
        c->esc = ESC_START;
      else if (ch == '\n' || ch == '\t' || ch >= 0x20)
        text_add (c, ch);
      break;
    case ESC_START:
      if (ch == '[')
        c->esc = ESC_CSI;
      else if (ch == ']' || ch == 'P' || ch == 'X' || ch == '^' || ch == '_')
        c->esc = ESC_STRING;
      else if (ch == '(' || ch == ')' || ch == '*' || ch == '+' || ch == '#'
               || ch == '%')
        c->esc = ESC_SKIP_ONE;
      else
        c->esc = ESC_NONE;
      break;
    case ESC_CSI:               /* parameters, then a final 0x40-0x7e */
      if (ch >= 0x40 && ch <= 0x7e)
        c->esc = ESC_NONE;
      else if (ch < 0x20 && ch != 0x1b)
        ;                       /* C0 controls inside a CSI are ignored */
      else if (ch == 0x1b)
        c->esc = ESC_START;
      break;
    case ESC_STRING:            /* OSC, DCS...: ends with BEL or ESC \ */
      if (ch == 0x07)
        c->esc = ESC_NONE;
      else if (ch == 0x1b)
        c->esc = ESC_STRING_ESC;
      break;
    case ESC_STRING_ESC:
      c->esc = ch == '\\' ? ESC_NONE : ESC_STRING;
      break;
    case ESC_SKIP_ONE:
      c->esc = ESC_NONE;
      break;
    }
  }
}

/* Keep the last half of the window, cut at a line boundary. */
static void
trim (struct console *c)
{
  char *nl;
  size_t cut;

  if (c->len <= WINDOW)
    return;
  nl = strchr (c->text + c->len - WINDOW / 2, '\n');
  cut = nl ? (size_t) (nl + 1 - c->text) : c->len - WINDOW / 2;
  memmove (c->text, c->text + cut, c->len - cut + 1);
  c->len -= cut;
}

static void
console_feed (struct console *c, const char *buf, size_t n)
{
  size_t old_len = c->len, from;
  const char *panic;
  regmatch_t match;
  bool found = false;

  if (c->log_fd >= 0 && write_all (c->log_fd, buf, n) == -1) {
    warning ("write console log: %s; the log stops here", strerror (errno));
    close (c->log_fd);
    c->log_fd = -1;
  }
  if (c->echo && write_all (STDOUT_FILENO, buf, n) == -1) {
    warning ("write console to stdout: %s; not echoed any more",
             strerror (errno));
    c->echo = false;
  }

  clean (c, buf, n);
  if (c->len == old_len || c->matched || c->panicked)
    return;

  /* Look again from the start of the line the new text continues. */
  from = old_len;
  while (from > 0 && c->text[from - 1] != '\n')
    from--;
  if (c->re && c->re_multiline)
    from = 0;
  panic = strstr (c->text + from, PANIC);
  if (c->re && regexec (c->re, c->text + from, 1, &match, REG_NOTEOL) == 0)
    found = true;
  if (found && (!panic || c->text + from + match.rm_so < panic))
    c->matched = true;
  else if (panic)
    c->panicked = true;
  trim (c);
}

static void
print_last_lines (const struct console *c)
{
  const char *start;
  size_t end = c->len;
  int lines = 0;

  if (end > 0 && c->text[end - 1] == '\n')
    end--;
  if (end == 0) {
    fprintf (stderr, "%s: the console printed nothing\n", program_name);
    return;
  }
  start = c->text + end;
  while (start > c->text) {
    if (start[-1] == '\n' && ++lines == LAST_LINES)
      break;
    start--;
  }
  fprintf (stderr, "%s: last lines of the console:\n%.*s\n", program_name,
           (int) (c->text + end - start), start);
}

/* The panic message: "Kernel panic - not syncing: REASON".  Caller frees. */
static char *
panic_line (const struct console *c)
{
  const char *p = strstr (c->text, PANIC);

  if (!p)
    return xstrdup (PANIC);
  return xasprintf ("%.*s", (int) strcspn (p, "\n"), p);
}

/* Read the console into c until EOF or the deadline (0: none).  Returns
 * 1 on EOF, 0 when the deadline passed, or stop() said so, -1 on error.
 */
static int
read_console (int fd, struct console *c, double deadline,
              bool (*stop) (const struct console *c))
{
  char buf[65536];

  for (;;) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int ms = -1, r;
    ssize_t n;

    if (stop && stop (c))
      return 0;
    if (deadline > 0) {
      double left = deadline - now ();
      if (left <= 0)
        return 0;
      ms = (int) (left * 1000) + 1;
    }
    r = poll (&pfd, 1, ms);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno ("poll");
      return -1;
    }
    if (r == 0)
      continue;                 /* the deadline is checked above */
    n = read (fd, buf, sizeof buf);
    if (n == -1) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      error_errno ("read the console");
      return -1;
    }
    if (n == 0)
      return 1;
    console_feed (c, buf, n);
  }
}

static bool
matched_or_panicked (const struct console *c)
{
  return c->matched || c->panicked;
}

/* Wait up to secs for pid to exit, still draining the console so that
 * qemu never blocks writing it.  true if it exited (status in *status).
 */
static bool
wait_exit (pid_t pid, int fd, struct console *c, double secs, int *status)
{
  double deadline = now () + secs;
  char buf[65536];

  c->echo = false;
  while (now () < deadline) {
    pid_t r = waitpid (pid, status, WNOHANG);
    if (r == pid || (r == -1 && errno == ECHILD))
      return true;
    if (fd >= 0) {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      if (poll (&pfd, 1, 100) > 0) {
        ssize_t n = read (fd, buf, sizeof buf);
        if (n > 0)
          console_feed (c, buf, n);
        else if (n == 0)
          fd = -1;
      }
    }
    else {
      struct timespec ts = { 0, 50 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  }
  return false;
}

/* Stop qemu (QMP quit, then SIGTERM, then SIGKILL) and reap it. */
static void
stop_qemu (pid_t pid, int fd, struct console *c, const char *qmp_path,
           int *status)
{
  if (qemu_qmp_quit (qmp_path) == 0 && wait_exit (pid, fd, c, 10, status))
    goto out;
  debug ("qemu did not quit: sending SIGTERM");
  kill (pid, SIGTERM);
  if (wait_exit (pid, fd, c, 5, status))
    goto out;
  debug ("qemu did not exit on SIGTERM: sending SIGKILL");
  kill (pid, SIGKILL);
  waitpid (pid, status, 0);
 out:
  child_unregister (pid);
}

static int
parse_timeout (const char *str, int *rtn)
{
  char *end;
  long n;

  if (!str) {
    *rtn = DEFAULT_TIMEOUT;
    return 0;
  }
  errno = 0;
  n = strtol (str, &end, 10);
  if (errno || end == str || *end || n < 0 || n > 1000000) {
    usage_error ("boot", "--timeout %s: expected a number of seconds", str);
    return -1;
  }
  *rtn = n;
  return 0;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && STREQ (s + n - m, suffix);
}

/* Which machine, and which image: see the man page. */
static struct machine *
choose_machine (const struct boot_opts *o, char **image_rtn)
{
  struct machine *m;
  CLEANUP_FREE char *beside = NULL;

  *image_rtn = o->image ? xstrdup (o->image) : NULL;
  if (o->machine) {
    m = machine_read (o->machine);
    if (m && !o->image && !STREQ (m->disk, "none")) {
      error ("%s: the machine has a %s disk: give its IMAGE too",
             o->machine, m->disk);
      machine_free (m);
      return NULL;
    }
    return m;
  }
  if (has_suffix (o->image, ".machine")) {
    m = machine_read (o->image);
    if (!m)
      return NULL;
    free (*image_rtn);
    *image_rtn = NULL;
    if (!STREQ (m->disk, "none"))
      /* IMAGE.machine given: the image is beside it. */
      *image_rtn = xasprintf ("%.*s",
                              (int) (strlen (o->image) - strlen (".machine")),
                              o->image);
    return m;
  }
  beside = xasprintf ("%s.machine", o->image);
  if (access (beside, F_OK) == 0) {
    debug ("reading the machine description %s", beside);
    return machine_read (beside);
  }
  debug ("%s: no machine description: using the defaults", beside);
  return machine_new_default ();
}

static int
do_boot (const struct boot_opts *o)
{
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_FREE char *image = NULL;
  CLEANUP_FREE char *qmp_path = NULL;
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_CLOSE int log_fd = -1;
  CLEANUP_CLOSE int rfd = -1;
  struct child_opts copts = CHILD_OPTS_INIT;
  struct console c = { .log_fd = -1 };
  struct qemu_opts qo = { .snapshot = o->snapshot, .headless = true,
                          .dry_run = o->print_command };
  regex_t re;
  bool have_re = false;
  int timeout, status = 0, r, fds[2], ret = EXIT_FAIL;
  double start, deadline = 0;
  CLEANUP_FREE char *what = NULL;
  pid_t pid;

  if (parse_timeout (o->timeout, &timeout) == -1)
    return EXIT_USAGE;
  if (o->expect) {
    int e = regcomp (&re, o->expect, REG_EXTENDED | REG_NEWLINE);
    if (e != 0) {
      char msg[256];
      regerror (e, &re, msg, sizeof msg);
      usage_error ("boot", "--expect '%s': %s", o->expect, msg);
      return EXIT_USAGE;
    }
    have_re = true;
    c.re = &re;
    c.re_multiline = strchr (o->expect, '\n') != NULL;
  }

  m = choose_machine (o, &image);
  if (!m)
    goto out;
  if (image && access (image, R_OK) == -1) {
    error_errno ("%s", image);
    goto out;
  }
  qo.image = image;
  qmp_path = tmpdir_path ("qmp.sock");
  if (!qmp_path)
    goto out;
  qo.qmp_path = qmp_path;
  if (qemu_build_argv (m, &qo, &argv) == -1)
    goto out;

  if (o->print_command) {
    CLEANUP_FREE char *line = qemu_command_string (argv.v);
    printf ("%s\n", line);
    ret = EXIT_OK;
    goto out;
  }

  if (o->console) {
    log_fd = open (o->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0644);
    if (log_fd == -1) {
      error_errno ("create the console log %s", o->console);
      goto out;
    }
    c.log_fd = log_fd;
  }
  c.echo = !quiet;

  if (pipe2 (fds, O_CLOEXEC) == -1) {
    error_errno ("pipe");
    goto out;
  }
  rfd = fds[0];
  copts.stdout_fd = fds[1];
  /* Its own session: the terminal's ^C comes to us, and we stop it. */
  copts.new_session = true;
  info ("booting %s", image ? image : o->machine ? o->machine : o->image);
  start = now ();
  pid = child_start ((const char *const *) argv.v, &copts);
  close (fds[1]);
  if (pid == -1)
    goto out;
  if (timeout > 0)
    deadline = start + timeout;

  r = read_console (rfd, &c, deadline, matched_or_panicked);
  if (r == -1) {
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    goto out;
  }
  if (c.panicked) {
    /* The reason and the call trace follow the panic line. */
    double grace = now () + PANIC_GRACE;
    read_console (rfd, &c, deadline > 0 && deadline < grace ? deadline
                  : grace, NULL);
  }

  if (c.matched) {
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    info ("found '%s' on the console after %.1f s", o->expect,
          now () - start);
    ret = EXIT_OK;
    goto out;
  }
  if (c.panicked) {
    CLEANUP_FREE char *line = panic_line (&c);
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    print_last_lines (&c);
    if (have_re)
      error ("kernel panic on the console before '%s' appeared: %s",
             o->expect, line);
    else
      error ("kernel panic on the console: %s", line);
    goto out;
  }
  if (r == 0) {
    /* Timed out: qemu still running. */
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    print_last_lines (&c);
    if (have_re)
      error ("timed out after %d s waiting for '%s' on the console",
             timeout, o->expect);
    else
      error ("timed out after %d s: qemu was still running", timeout);
    goto out;
  }

  /* EOF: qemu closed its stdout, it is exiting. */
  if (!wait_exit (pid, -1, &c, 10, &status)) {
    kill (pid, SIGKILL);
    waitpid (pid, &status, 0);
  }
  child_unregister (pid);
  if (!have_re) {
    if (child_check_status (m->qemu, status) == -1) {
      print_last_lines (&c);
      goto out;
    }
    ret = EXIT_OK;
    goto out;
  }
  print_last_lines (&c);
  if (WIFEXITED (status))
    what = xasprintf ("with status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    what = xasprintf ("killed by signal %d", WTERMSIG (status));
  else
    what = xstrdup ("");
  error ("qemu exited (%s) before '%s' appeared on the console", what,
         o->expect);

 out:
  if (have_re)
    regfree (&re);
  free (c.text);
  return ret;
}

int
cmd_boot (int argc, char **argv)
{
  struct boot_opts o = { 0 };
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = {
    { "expect", '\0', POPT_ARG_STRING, &o.expect, 0,
      "Succeed as soon as the console matches REGEX (POSIX extended)",
      "REGEX" },
    { "timeout", '\0', POPT_ARG_STRING, &o.timeout, 0,
      "Fail after S seconds (default 300; 0: no limit)", "S" },
    { "console", '\0', POPT_ARG_STRING, &o.console, 0,
      "Keep the whole console output in FILE", "FILE" },
    { "machine", '\0', POPT_ARG_STRING, &o.machine, 0,
      "Read the machine description from FILE (default: IMAGE.machine)",
      "FILE" },
    { "snapshot", '\0', POPT_ARG_NONE, &o.snapshot, 0,
      "Do not write to the image (changes are discarded)", NULL },
    { "print-command", '\0', POPT_ARG_NONE, &o.print_command, 0,
      "Print the qemu command line and exit", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  const char **args;
  int r, ret;

  r = cli_parse (&ctx, "boot", argc, argv, options, "IMAGE [OPTIONS]",
                 NULL, NULL);
  if (r != 0) {
    ret = r == 1 ? EXIT_OK : EXIT_USAGE;
    goto out;
  }
  args = poptGetArgs (ctx);
  if (args && args[0] && args[1]) {
    usage_error ("boot", "one IMAGE only");
    ret = EXIT_USAGE;
    goto out;
  }
  o.image = args ? args[0] : NULL;
  if (!o.image && !o.machine) {
    usage_error ("boot", "an IMAGE (or --machine FILE) is needed");
    ret = EXIT_USAGE;
    goto out;
  }
  ret = do_boot (&o);

 out:
  free (o.expect);
  free (o.timeout);
  free (o.console);
  free (o.machine);
  return ret;
}
