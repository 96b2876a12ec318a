/* The private working directory, atomic outputs, and the exit and signal
 * handlers that remove them and kill children.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mkvmimg.h"
#include "child.h"
#include "tempfiles.h"

/* Paths to remove, kept in fixed storage so the signal handler can use
 * them without allocating.
 */
#define MAX_TEMP_PATHS 32
static char *temp_files[MAX_TEMP_PATHS];
static char *working_dir;

/* Paths that a library creates and removes itself (libnbd's socket
 * directory), removed here only if the process dies first.
 */
#define MAX_FOREIGN_PATHS 8
static char *foreign_paths[MAX_FOREIGN_PATHS];

/* While deferred, SIGINT/SIGTERM/SIGHUP are noted and acted on when the
 * deferral ends.
 */
static volatile sig_atomic_t defer_depth;
static volatile sig_atomic_t deferred_signal;

static mode_t
umask_get (void)
{
  mode_t m = umask (0);
  umask (m);
  return m;
}

static void
temp_file_register (char *path)
{
  for (size_t i = 0; i < MAX_TEMP_PATHS; ++i)
    if (temp_files[i] == NULL) {
      temp_files[i] = path;
      return;
    }
  abort ();
}

static void
temp_file_unregister (const char *path)
{
  for (size_t i = 0; i < MAX_TEMP_PATHS; ++i)
    if (temp_files[i] == path)
      temp_files[i] = NULL;
}

const char *
tmpdir_get (void)
{
  const char *base;
  CLEANUP_FREE char *templ = NULL;

  if (working_dir)
    return working_dir;
  /* Images are large: prefer /var/tmp (disk) over /tmp (often tmpfs). */
  base = getenv ("TMPDIR");
  if (!base || !*base)
    base = access ("/var/tmp", W_OK) == 0 ? "/var/tmp" : "/tmp";
  templ = xasprintf ("%s/mkvmimg.XXXXXX", base);
  /* Known to the signal handler as soon as it exists. */
  signals_defer ();
  if (mkdtemp (templ) == NULL) {
    signals_undefer ();
    error_errno ("create a working directory in %s", base);
    return NULL;
  }
  working_dir = templ;
  templ = NULL;
  signals_undefer ();
  debug ("working directory %s", working_dir);
  return working_dir;
}

char *
tmpdir_path (const char *name)
{
  const char *dir = tmpdir_get ();
  if (!dir)
    return NULL;
  return xasprintf ("%s/%s", dir, name);
}

int
atomic_output_begin (struct atomic_output *out, const char *final,
                     bool force)
{
  CLEANUP_FREE char *copy1 = xstrdup (final);
  CLEANUP_FREE char *copy2 = xstrdup (final);
  const char *dir = dirname (copy1), *base = basename (copy2);
  struct stat st;
  int fd;

  memset (out, 0, sizeof *out);
  if (!force && lstat (final, &st) == 0) {
    error ("%s: output exists (use --force to replace it)", final);
    return -1;
  }
  out->final = xstrdup (final);
  out->tmp = xasprintf ("%s/.%s.mkvmimg-XXXXXX", dir, base);
  out->force = force;
  signals_defer ();
  fd = mkostemp (out->tmp, O_CLOEXEC);
  if (fd == -1) {
    signals_undefer ();
    error_errno ("create a temporary file in %s", dir);
    free (out->final);
    free (out->tmp);
    memset (out, 0, sizeof *out);
    return -1;
  }
  close (fd);
  temp_file_register (out->tmp);
  signals_undefer ();
  return 0;
}

int
atomic_output_commit (struct atomic_output *out, mode_t mode)
{
  int fd;

  fd = open (out->tmp, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fsync (fd) == -1) {
    error_errno ("%s: sync", out->tmp);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  if (chmod (out->tmp, mode & ~umask_get ()) == -1) {
    error_errno ("%s: chmod", out->tmp);
    return -1;
  }
  if (out->force) {
    if (rename (out->tmp, out->final) == -1) {
      error_errno ("rename %s to %s", out->tmp, out->final);
      return -1;
    }
  }
  else if (renameat2 (AT_FDCWD, out->tmp, AT_FDCWD, out->final,
                      RENAME_NOREPLACE) == -1) {
    if (errno == EEXIST)
      error ("%s: output appeared while it was being written; "
             "not replaced (use --force)", out->final);
    else
      error_errno ("rename %s to %s", out->tmp, out->final);
    return -1;
  }
  temp_file_unregister (out->tmp);
  free (out->tmp);
  out->tmp = NULL;
  free (out->final);
  out->final = NULL;
  return 0;
}

void
atomic_output_abort (struct atomic_output *out)
{
  if (out->tmp) {
    unlink (out->tmp);
    temp_file_unregister (out->tmp);
    free (out->tmp);
    out->tmp = NULL;
  }
  free (out->final);
  out->final = NULL;
}

/* Remove the working directory with "rm -rf": fork and exec are safe in
 * a signal handler, a recursive walk with opendir is not.  Never into
 * another filesystem: a chroot killed with its /dev bind-mounted must
 * not cost the host its device nodes.
 */
static void
remove_working_dir (void)
{
  pid_t pid;

  if (!working_dir)
    return;
  pid = fork ();
  if (pid == 0) {
    execl ("/bin/rm", "rm", "-rf", "--one-file-system", "--", working_dir,
           (char *) NULL);
    _exit (127);
  }
  if (pid > 0)
    waitpid (pid, NULL, 0);
  working_dir = NULL;
}

void
temp_foreign_register (const char *path)
{
  char *copy = xstrdup (path);

  signals_defer ();
  for (size_t i = 0; i < MAX_FOREIGN_PATHS; ++i)
    if (foreign_paths[i] == NULL) {
      foreign_paths[i] = copy;
      copy = NULL;
      break;
    }
  signals_undefer ();
  free (copy);                  /* the table is full: best effort */
}

void
temp_foreign_forget (void)
{
  signals_defer ();
  for (size_t i = 0; i < MAX_FOREIGN_PATHS; ++i) {
    free (foreign_paths[i]);
    foreign_paths[i] = NULL;
  }
  signals_undefer ();
}

/* Async-signal-safe part of the cleanups.  Children first: they may
 * hold the files.
 */
static void
cleanup_children_and_files (void)
{
  child_kill_all ();
  for (size_t i = 0; i < MAX_TEMP_PATHS; ++i)
    if (temp_files[i]) {
      unlink (temp_files[i]);
      temp_files[i] = NULL;
    }
  /* Registered files before their directories. */
  for (size_t i = 0; i < MAX_FOREIGN_PATHS; ++i)
    if (foreign_paths[i] && unlink (foreign_paths[i]) == -1)
      rmdir (foreign_paths[i]);
}

void
cleanup_run (void)
{
  char *dir = working_dir;

  cleanup_children_and_files ();
  remove_working_dir ();
  free (dir);
}

static void
die_of_signal (int sig)
{
  /* No free() in a signal handler: the process is about to die. */
  cleanup_children_and_files ();
  remove_working_dir ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
signal_handler (int sig)
{
  if (defer_depth > 0) {
    if (!deferred_signal)
      deferred_signal = sig;
    return;
  }
  die_of_signal (sig);
}

void
signals_defer (void)
{
  defer_depth++;
}

void
signals_undefer (void)
{
  int sig;

  if (--defer_depth > 0)
    return;
  sig = deferred_signal;
  if (sig)
    die_of_signal (sig);
}

void
cleanup_install_handlers (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = signal_handler;
  sigfillset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
  atexit (cleanup_run);
}
