/* Child processes: start, log, register, reap, kill on exit. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "mkvmimg.h"
#include "child.h"
#include "tempfiles.h"

/* A fixed table: register/unregister and the signal handler must not
 * allocate.
 */
#define MAX_CHILDREN 64
static volatile pid_t children[MAX_CHILDREN];
/* The child leads a process group: signals go to the whole group. */
static volatile bool group[MAX_CHILDREN];
/* Ticks of 10 ms between SIGTERM and SIGKILL, and the program's name
 * for the message when that is longer than the default.
 */
#define DEFAULT_CLEANUP_TICKS 200
static volatile unsigned cleanup_ticks[MAX_CHILDREN];
static char names[MAX_CHILDREN][32];

static void
register_child (pid_t pid, bool own_group, unsigned cleanup_seconds,
                const char *name)
{
  for (size_t i = 0; i < MAX_CHILDREN; ++i)
    if (children[i] == 0) {
      const char *base = strrchr (name, '/');
      group[i] = own_group;
      cleanup_ticks[i] = cleanup_seconds ? cleanup_seconds * 100
                                         : DEFAULT_CLEANUP_TICKS;
      snprintf (names[i], sizeof names[i], "%s", base ? base + 1 : name);
      children[i] = pid;
      return;
    }
  /* More than 64 live children is a bug in mkvmimg. */
  abort ();
}

void
child_register (pid_t pid)
{
  register_child (pid, false, 0, "qemu-nbd");
}

/* The whole group when the child leads one (a child killed before its
 * setsid() has no group yet: then the child alone).
 */
static void
signal_child (size_t i, int sig)
{
  pid_t pid = children[i];

  if (!group[i] || kill (-pid, sig) == -1)
    kill (pid, sig);
}

void
child_unregister (pid_t pid)
{
  for (size_t i = 0; i < MAX_CHILDREN; ++i)
    if (children[i] == pid)
      children[i] = 0;
}

void
child_kill_all (void)
{
  bool any = false;
  struct timespec ts = { 0, 10 * 1000 * 1000 };

  for (size_t i = 0; i < MAX_CHILDREN; ++i)
    if (children[i] > 0) {
      signal_child (i, SIGTERM);
      /* A stopped child acts on SIGTERM only once continued. */
      signal_child (i, SIGCONT);
      any = true;
    }
  /* Each child gets its cleanup time (qemu-nbd flushing, qemu quitting,
   * mmdebstrap unmounting its chroot), then SIGKILL.
   */
  for (unsigned tick = 0; any; ++tick) {
    any = false;
    for (size_t i = 0; i < MAX_CHILDREN; ++i) {
      pid_t pid = children[i];
      if (pid <= 0)
        continue;
      if (waitpid (pid, NULL, WNOHANG) != 0)
        children[i] = 0;
      else if (tick >= cleanup_ticks[i]) {
        signal_child (i, SIGKILL);
        waitpid (pid, NULL, 0);
        children[i] = 0;
      }
      else {
        if (tick == DEFAULT_CLEANUP_TICKS) {
          /* write(2): this may run in a signal handler. */
          static const char head[] = ": waiting for ";
          static const char tail[] = " to clean up\n";
          (void) !write (2, program_name, strlen (program_name));
          (void) !write (2, head, sizeof head - 1);
          (void) !write (2, names[i], strlen (names[i]));
          (void) !write (2, tail, sizeof tail - 1);
        }
        any = true;
      }
    }
    if (any)
      nanosleep (&ts, NULL);
  }
}

static void
log_argv (const char *const *argv)
{
  CLEANUP_FREE char *line = NULL;
  size_t len = 0;
  FILE *fp;

  if (!verbose)
    return;
  fp = open_memstream (&line, &len);
  if (!fp)
    return;
  for (size_t i = 0; argv[i]; ++i) {
    CLEANUP_FREE char *q = shell_quote (argv[i]);
    fprintf (fp, "%s%s", i ? " " : "", q);
  }
  fclose (fp);
  debug ("running: %s", line);
}

static void
move_fd (int from, int to)
{
  if (from == to) {
    int flags = fcntl (from, F_GETFD);
    fcntl (from, F_SETFD, flags & ~FD_CLOEXEC);
    return;
  }
  dup2 (from, to);
}

pid_t
child_start (const char *const *argv, const struct child_opts *opts)
{
  struct child_opts defaults = CHILD_OPTS_INIT;
  pid_t pid;

  if (!opts)
    opts = &defaults;
  log_argv (argv);
  fflush (stdout);
  fflush (stderr);

  /* A signal between fork and register_child would leave the child
   * unknown to the handler that kills children.
   */
  signals_defer ();
  pid = fork ();
  if (pid == -1) {
    signals_undefer ();
    error_errno ("fork: %s", argv[0]);
    return -1;
  }
  if (pid == 0) {
    /* Child: only async-signal-safe calls until exec. */
    sigset_t empty;
    sigemptyset (&empty);
    sigprocmask (SIG_SETMASK, &empty, NULL);
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    signal (SIGPIPE, SIG_DFL);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (opts->new_session)
      setsid ();
    else if (opts->own_group)
      setpgid (0, 0);
    if (opts->stdin_fd >= 0)
      move_fd (opts->stdin_fd, 0);
    else {
      int fd = open ("/dev/null", O_RDONLY);
      if (fd >= 0 && fd != 0) {
        dup2 (fd, 0);
        close (fd);
      }
    }
    if (opts->stdout_fd >= 0)
      move_fd (opts->stdout_fd, 1);
    if (opts->stderr_fd >= 0)
      move_fd (opts->stderr_fd, 2);
    if (opts->keep_fds)
      for (const int *fd = opts->keep_fds; *fd >= 0; ++fd)
        move_fd (*fd, *fd);
    if (opts->cwd && chdir (opts->cwd) == -1) {
      perror (opts->cwd);
      _exit (126);
    }
    if (opts->env)
      for (char *const *e = opts->env; *e; ++e)
        putenv (*e);
    execvp (argv[0], (char **) argv);
    fprintf (stderr, "%s: %s: %s\n", program_name, argv[0], strerror (errno));
    _exit (errno == ENOENT ? 127 : 126);
  }
  /* Also from the parent, so that the group exists before any kill. */
  if (opts->own_group && !opts->new_session)
    setpgid (pid, pid);
  register_child (pid, opts->own_group || opts->new_session,
                  opts->cleanup_seconds, argv[0]);
  signals_undefer ();
  return pid;
}

int
child_wait (pid_t pid, int *status_rtn)
{
  int status;

  while (waitpid (pid, &status, 0) == -1) {
    if (errno == EINTR)
      continue;
    error_errno ("waitpid");
    child_unregister (pid);
    return -1;
  }
  child_unregister (pid);
  if (status_rtn)
    *status_rtn = status;
  return 0;
}

int
child_check_status (const char *name, int status)
{
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status)) {
    if (WEXITSTATUS (status) == 127)
      error ("%s: command not found (is it installed? see setup.sh)", name);
    else
      error ("%s: exited with status %d", name, WEXITSTATUS (status));
  }
  else if (WIFSIGNALED (status))
    error ("%s: killed by signal %d (%s)", name, WTERMSIG (status),
           strsignal (WTERMSIG (status)));
  else
    error ("%s: unexpected wait status 0x%x", name, (unsigned) status);
  return -1;
}

int
child_run (const char *const *argv, const struct child_opts *opts)
{
  int status;
  pid_t pid = child_start (argv, opts);

  if (pid == -1)
    return -1;
  if (child_wait (pid, &status) == -1)
    return -1;
  return child_check_status (argv[0], status);
}

char *
child_run_capture (const char *const *argv, size_t *len_rtn)
{
  struct child_opts opts = CHILD_OPTS_INIT;
  int fds[2], status;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) == -1) {
    error_errno ("pipe");
    return NULL;
  }
  opts.stdout_fd = fds[1];
  pid = child_start (argv, &opts);
  close (fds[1]);
  if (pid == -1) {
    close (fds[0]);
    return NULL;
  }
  for (;;) {
    ssize_t r;
    if (len + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      buf = xrealloc (buf, cap);
    }
    r = read (fds[0], buf + len, cap - len - 1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += r;
  }
  close (fds[0]);
  if (child_wait (pid, &status) == -1 ||
      child_check_status (argv[0], status) == -1) {
    free (buf);
    return NULL;
  }
  if (!buf)
    buf = xmalloc (1);
  buf[len] = '\0';
  if (len_rtn)
    *len_rtn = len;
  return buf;
}

bool
program_exists (const char *name)
{
  const char *path;
  CLEANUP_FREE char *copy = NULL;
  char *dir, *save;

  if (strchr (name, '/'))
    return access (name, X_OK) == 0;
  path = getenv ("PATH");
  copy = xstrdup (path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (dir = strtok_r (copy, ":", &save); dir;
       dir = strtok_r (NULL, ":", &save)) {
    CLEANUP_FREE char *p = xasprintf ("%s/%s", dir, name);
    if (access (p, X_OK) == 0)
      return true;
  }
  return false;
}

size_t
child_list_pids (pid_t *pids, size_t max)
{
  DIR *dir = opendir ("/proc");
  struct dirent *d;
  pid_t self = getpid ();
  size_t n = 0;

  if (!dir)
    return 0;
  while ((d = readdir (dir)) != NULL && n < max) {
    char path[sizeof "/proc//stat" + 256], buf[512], *p;
    ssize_t r;
    int fd, ppid;

    if (d->d_name[0] < '0' || d->d_name[0] > '9')
      continue;
    snprintf (path, sizeof path, "/proc/%s/stat", d->d_name);
    fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
      continue;
    r = read (fd, buf, sizeof buf - 1);
    close (fd);
    if (r <= 0)
      continue;
    buf[r] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parens. */
    p = strrchr (buf, ')');
    if (!p || sscanf (p + 1, " %*c %d", &ppid) != 1)
      continue;
    if (ppid == self)
      pids[n++] = atoi (d->d_name);
  }
  closedir (dir);
  return n;
}
