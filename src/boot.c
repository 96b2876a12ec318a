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
#include "net.h"
#include "qemu.h"
#include "tempfiles.h"

#define DEFAULT_TIMEOUT 300     /* seconds */
#define LAST_LINES 20           /* shown when the boot fails */
#define WINDOW (256 * 1024)     /* cleaned console text kept */
#define PANIC "Kernel panic - not syncing"
#define PANIC_GRACE 2           /* seconds to collect the panic message */

/* One step of the console script: --expect, --send, --send-file, in
 * the order given.
 */
enum step_kind { STEP_EXPECT, STEP_SEND, STEP_SEND_FILE };

struct step {
  enum step_kind kind;
  char *arg;                    /* REGEX, TEXT (escapes decoded), or FILE */
  size_t len;                   /* STEP_SEND: bytes in arg */
};

struct boot_opts {
  const char *image;            /* IMAGE */
  struct step *steps;           /* --expect, --send, --send-file, in order */
  size_t nsteps;
  const char *expect;           /* the last --expect, or NULL */
  struct strv forwards;         /* --forward tcp:HOSTPORT:GUESTPORT */
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
  regex_t *re;                  /* the --expect waited for, or NULL */
  bool re_multiline;            /* the pattern has a newline in it */
  size_t search_from;           /* text before this offset was matched */
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
  c->search_from = c->search_from > cut ? c->search_from - cut : 0;
}

/* Look for the regular expression and the panic message in the text
 * from offset from on (never before search_from, the end of the last
 * match).
 */
static void
console_search (struct console *c, size_t from)
{
  const char *panic;
  regmatch_t match;
  bool found = false;

  if (c->re && c->re_multiline)
    from = 0;
  panic = strstr (c->text + from, PANIC);
  if (from < c->search_from)
    from = c->search_from;
  if (c->re) {
    /* A search starting inside a line: ^ does not match there. */
    int flags = REG_NOTEOL;
    if (from > 0 && c->text[from - 1] != '\n')
      flags |= REG_NOTBOL;
    if (regexec (c->re, c->text + from, 1, &match, flags) == 0)
      found = true;
  }
  if (found && (!panic || c->text + from + match.rm_so < panic)) {
    c->matched = true;
    c->search_from = from + match.rm_eo;
  }
  else if (panic)
    c->panicked = true;
}

static void
console_feed (struct console *c, const char *buf, size_t n)
{
  size_t old_len = c->len, from;

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
  console_search (c, from);
  trim (c);
}

/* Wait for the next --expect: search the text already received after
 * the last match.
 */
static void
console_next (struct console *c, regex_t *re, bool multiline)
{
  size_t from = c->search_from;

  c->re = re;
  c->re_multiline = multiline;
  c->matched = false;
  if (!c->text)
    return;                     /* nothing received yet */
  while (from > 0 && c->text[from - 1] != '\n')
    from--;
  if (!c->panicked)
    console_search (c, from);
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

/* Which machine, and which image: see the man page. */
static struct machine *
choose_machine (const struct boot_opts *o, char **image_rtn)
{
  return qemu_choose_machine (o->image, o->machine, image_rtn);
}

/* --send TEXT: \n \r \t \\ are decoded.  Caller frees.  NULL on an
 * unknown escape (a usage error, reported).
 */
static char *
decode_send (const char *text, size_t *len_rtn)
{
  char *r = xmalloc (strlen (text) + 1), *p = r;

  for (const char *c = text; *c; ++c) {
    if (*c != '\\') {
      *p++ = *c;
      continue;
    }
    switch (*++c) {
    case 'n': *p++ = '\n'; break;
    case 'r': *p++ = '\r'; break;
    case 't': *p++ = '\t'; break;
    case '\\': *p++ = '\\'; break;
    default:
      usage_error ("boot", "--send '%s': unknown escape '\\%.1s' "
                   "(\\n \\r \\t \\\\ are known)", text, c);
      free (r);
      return NULL;
    }
  }
  *p = '\0';
  *len_rtn = p - r;
  return r;
}

/* The --expect patterns compiled, one per step (unused for sends). */
struct script {
  regex_t *res;
  bool *compiled;
  size_t n;
  char **data;                  /* --send-file contents (wiped when freed) */
  size_t *data_len;
};

static void
script_free (struct script *sc)
{
  for (size_t i = 0; i < sc->n; ++i) {
    if (sc->compiled && sc->compiled[i])
      regfree (&sc->res[i]);
    if (sc->data && sc->data[i]) {
      explicit_bzero (sc->data[i], sc->data_len[i]);
      free (sc->data[i]);
    }
  }
  free (sc->res);
  free (sc->compiled);
  free (sc->data);
  free (sc->data_len);
}

/* Compile the patterns (a usage error: EXIT_USAGE) and read the
 * --send-file files (EXIT_FAIL).  0 when all is well.
 */
static int
script_prepare (const struct boot_opts *o, struct script *sc)
{
  sc->n = o->nsteps;
  sc->res = xcalloc (o->nsteps + 1, sizeof *sc->res);
  sc->compiled = xcalloc (o->nsteps + 1, sizeof *sc->compiled);
  sc->data = xcalloc (o->nsteps + 1, sizeof *sc->data);
  sc->data_len = xcalloc (o->nsteps + 1, sizeof *sc->data_len);
  for (size_t i = 0; i < o->nsteps; ++i) {
    const struct step *st = &o->steps[i];

    if (st->kind == STEP_EXPECT) {
      int e = regcomp (&sc->res[i], st->arg, REG_EXTENDED | REG_NEWLINE);
      if (e != 0) {
        char msg[256];
        regerror (e, &sc->res[i], msg, sizeof msg);
        usage_error ("boot", "--expect '%s': %s", st->arg, msg);
        return EXIT_USAGE;
      }
      sc->compiled[i] = true;
    }
    else if (st->kind == STEP_SEND_FILE) {
      sc->data[i] = read_whole_file (st->arg, &sc->data_len[i]);
      if (!sc->data[i])
        return EXIT_FAIL;
    }
  }
  return 0;
}

/* Send the --send steps from *step up to the next --expect (never
 * logging what a --send-file sends).  -1 with the error reported.
 */
static int
script_send (const struct boot_opts *o, const struct script *sc,
             size_t *step, int wfd)
{
  for (; *step < o->nsteps && o->steps[*step].kind != STEP_EXPECT;
       ++*step) {
    const struct step *st = &o->steps[*step];
    const char *buf;
    size_t len;

    if (st->kind == STEP_SEND) {
      CLEANUP_FREE char *q = shell_quote (o->steps[*step].arg);
      debug ("sending %s to the console", q);
      buf = st->arg;
      len = st->len;
    }
    else {
      debug ("sending the content of %s to the console (not shown)",
             st->arg);
      buf = sc->data[*step];
      len = sc->data_len[*step];
    }
    if (write_all (wfd, buf, len) == -1) {
      if (st->kind == STEP_SEND)
        error_errno ("send to the console");
      else
        error_errno ("send %s to the console", st->arg);
      return -1;
    }
  }
  return 0;
}

static int
do_boot (const struct boot_opts *o)
{
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_FREE char *image = NULL;
  CLEANUP_FREE char *qmp_path = NULL;
  CLEANUP_FREE char *id = NULL;
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_CLOSE int log_fd = -1;
  CLEANUP_CLOSE int rfd = -1;
  CLEANUP_CLOSE int wfd = -1;
  CLEANUP_CLOSE int stdin_fd = -1;
  struct child_opts copts = CHILD_OPTS_INIT;
  struct console c = { .log_fd = -1 };
  struct qemu_opts qo = { .snapshot = o->snapshot, .headless = true,
                          .dry_run = o->print_command,
                          .forwards = o->forwards.v };
  struct script sc = { 0 };
  const char *expect = NULL;    /* the --expect waited for */
  bool sends = false;
  size_t step = 0;
  int timeout, status = 0, r, fds[2], ret = EXIT_FAIL;
  double start, deadline = 0;
  CLEANUP_FREE char *what = NULL;
  pid_t pid;

  if (parse_timeout (o->timeout, &timeout) == -1)
    return EXIT_USAGE;
  r = script_prepare (o, &sc);
  if (r != 0) {
    ret = r;
    goto out;
  }
  for (size_t i = 0; i < o->nsteps; ++i)
    if (o->steps[i].kind != STEP_EXPECT)
      sends = true;

  m = choose_machine (o, &image);
  if (!m)
    goto out;
  if (image && access (image, R_OK) == -1) {
    error_errno ("%s", image);
    goto out;
  }
  qo.image = image;
  id = qemu_vm_id (m, image, o->machine ? o->machine : o->image);
  qo.id = id;
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
  for (size_t i = 0; i < o->forwards.len; ++i)
    if (net_check_forward (o->forwards.v[i]) == -1)
      goto out;
  {
    CLEANUP_FREE struct machine_nic *nics = NULL;
    size_t n;
    bool vde = false;

    nics = machine_nics (m, &n);
    for (size_t i = 0; i < n; ++i)
      if (STRPREFIX (nics[i].net, "vde:"))
        vde = true;
    if (vde && net_qemu_has_vde (m->qemu) == -1)
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

  if (sends) {
    /* What --send sends goes to qemu's stdin: the serial port. */
    if (pipe2 (fds, O_CLOEXEC) == -1) {
      error_errno ("pipe");
      goto out;
    }
    stdin_fd = fds[0];
    wfd = fds[1];
    copts.stdin_fd = stdin_fd;
  }
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
  if (stdin_fd >= 0) {
    close (stdin_fd);
    stdin_fd = -1;
  }
  if (timeout > 0)
    deadline = start + timeout;

  /* The script: sends up to the first --expect, wait for it, the sends
   * after it, and so on.  After the last --expect, the sends that follow
   * it (if any), then wait for qemu to exit.
   */
  for (;;) {
    if (script_send (o, &sc, &step, wfd) == -1) {
      stop_qemu (pid, rfd, &c, qmp_path, &status);
      goto out;
    }
    if (step < o->nsteps) {
      expect = o->steps[step].arg;
      console_next (&c, &sc.res[step], strchr (expect, '\n') != NULL);
    }
    else {
      expect = NULL;
      c.re = NULL;
      c.matched = false;
    }
    r = read_console (rfd, &c, deadline, matched_or_panicked);
    if (r != 0 || !c.matched || step + 1 == o->nsteps)
      break;
    /* Matched, and the script goes on. */
    info ("found '%s' on the console after %.1f s", expect, now () - start);
    step++;
  }
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
    info ("found '%s' on the console after %.1f s", expect, now () - start);
    ret = EXIT_OK;
    goto out;
  }
  if (c.panicked) {
    CLEANUP_FREE char *line = panic_line (&c);
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    print_last_lines (&c);
    if (expect)
      error ("kernel panic on the console before '%s' appeared: %s",
             expect, line);
    else
      error ("kernel panic on the console: %s", line);
    goto out;
  }
  if (r == 0) {
    /* Timed out: qemu still running. */
    stop_qemu (pid, rfd, &c, qmp_path, &status);
    print_last_lines (&c);
    if (expect)
      error ("timed out after %d s waiting for '%s' on the console",
             timeout, expect);
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
  if (!expect) {
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
         expect);

 out:
  script_free (&sc);
  free (c.text);
  return ret;
}

static int
handle_option (poptContext ctx, int val, void *opaque)
{
  struct boot_opts *o = opaque;
  char *arg = (char *) poptGetOptArg (ctx);
  struct step st = { .arg = arg };

  switch (val) {
  case 'e':
    st.kind = STEP_EXPECT;
    o->expect = arg;
    break;
  case 's':
    st.kind = STEP_SEND;
    st.arg = decode_send (arg, &st.len);
    free (arg);
    if (!st.arg)
      return -1;
    break;
  case 'F':
    st.kind = STEP_SEND_FILE;
    break;
  case 'f':
    strv_add (&o->forwards, arg);
    free (arg);
    return 0;
  default:
    free (arg);
    return -1;
  }
  o->steps = xrealloc (o->steps, (o->nsteps + 1) * sizeof *o->steps);
  o->steps[o->nsteps++] = st;
  return 0;
}

int
cmd_boot (int argc, char **argv)
{
  struct boot_opts o = { 0 };
  CLEANUP_POPT poptContext ctx = NULL;
  const struct poptOption options[] = {
    { "expect", '\0', POPT_ARG_STRING, NULL, 'e',
      "Wait until the console matches REGEX (POSIX extended); the last "
      "one decides success", "REGEX" },
    { "send", '\0', POPT_ARG_STRING, NULL, 's',
      "Type TEXT on the console (\\n \\r \\t \\\\ escapes), after the "
      "--expect before it", "TEXT" },
    { "send-file", '\0', POPT_ARG_STRING, NULL, 'F',
      "Type the content of FILE on the console (never logged)", "FILE" },
    { "forward", '\0', POPT_ARG_STRING, NULL, 'f',
      "Forward 127.0.0.1:HOSTPORT to the guest's GUESTPORT (repeatable)",
      "tcp:HOSTPORT:GUESTPORT" },
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
                 handle_option, &o);
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
  for (size_t i = 0; i < o.nsteps; ++i)
    free (o.steps[i].arg);
  free (o.steps);
  strv_free (&o.forwards);
  free (o.timeout);
  free (o.console);
  free (o.machine);
  return ret;
}
