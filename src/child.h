/* Child processes: the one way mkvmimg starts another program.
 *
 * argv only (never a shell with user text), logged under -v, and every
 * child is registered so that it is killed and reaped on every exit path:
 * normal exit, error exit, SIGINT, SIGTERM, SIGHUP.  Children also get
 * PR_SET_PDEATHSIG so that they die if mkvmimg is killed with SIGKILL.
 */
#ifndef MKVMIMG_CHILD_H
#define MKVMIMG_CHILD_H

#include <sys/types.h>

struct child_opts {
  int stdin_fd;                 /* -1: /dev/null; else dup'd to 0 */
  int stdout_fd;                /* -1: inherit; else dup'd to 1 */
  int stderr_fd;                /* -1: inherit; else dup'd to 2 */
  const char *cwd;              /* NULL: inherit */
  char *const *env;             /* extra NAME=VALUE strings, or NULL */
  const int *keep_fds;          /* fds left open (and not CLOEXEC), -1 ends */
  bool new_session;             /* setsid(): not hit by the terminal's ^C */
  bool own_group;               /* a process group of its own, killed as a
                                   whole (tools that start workers of their
                                   own: mmdebstrap, debootstrap, make) */
  unsigned cleanup_seconds;     /* time it gets after SIGTERM before SIGKILL
                                   (0: 2 s; mmdebstrap unmounts and removes
                                   its chroot) */
};

#define CHILD_OPTS_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 }

/* Start argv[0] (looked up in $PATH).  Returns the pid, or -1 with the
 * error reported.
 */
pid_t child_start (const char *const *argv, const struct child_opts *opts);

/* Wait for a child started by child_start and forget it.  Returns its
 * wait status in *status_rtn.  -1 on error.
 */
int child_wait (pid_t pid, int *status_rtn);

/* Report a non-zero wait status as "mkvmimg: NAME: exited with status N"
 * (or "killed by signal S").  Returns 0 if the status was success.
 */
int child_check_status (const char *name, int status);

/* Start, wait, and check: 0 on success, -1 with the error reported. */
int child_run (const char *const *argv, const struct child_opts *opts);

/* Run and capture stdout into a NUL-terminated buffer (caller frees).
 * stderr is inherited.  NULL on error or non-zero exit.
 */
char *child_run_capture (const char *const *argv, size_t *len_rtn);

/* Register a process that something else started (libnbd's qemu-nbd)
 * so that it is killed on exit like our own children.
 */
void child_register (pid_t pid);
void child_unregister (pid_t pid);

/* The pids of this process's children as /proc shows them, at most max;
 * returns how many.  For processes a library starts (libnbd 1.14 forks
 * qemu-nbd and has no nbd_get_pid): list before and after, and the new
 * one is the difference.
 */
size_t child_list_pids (pid_t *pids, size_t max);

/* Send SIGTERM to every live child, give each its cleanup time (2 s
 * unless it asked for more), then SIGKILL, and reap them.  Safe to
 * call from a signal handler.
 */
void child_kill_all (void);

/* Is this program in $PATH (or an absolute path that exists)? */
bool program_exists (const char *name);

#endif /* MKVMIMG_CHILD_H */
