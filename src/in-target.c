/* In-target steps: [run NAME] commands run inside the target. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "child.h"
#include "in-target.h"

char *
in_target_describe (const struct profile *p)
{
  size_t n = profile_count (p, "run");
  char *text = xstrdup ("");

  for (size_t i = 0; i < n; ++i) {
    const char *name = profile_section_name (p, "run", i);
    const char *cmd = profile_get (p, "run", name, "command");
    char *t = xasprintf ("%srun %s: %s\n", text, name, cmd ? cmd : "");
    free (text);
    text = t;
  }
  return text;
}

void
in_target_mmdebstrap_hooks (const struct profile *p, char *const *exclude,
                            struct strv *argv, struct strv *env)
{
  size_t n = profile_count (p, "run");

  if (exclude && exclude[0]) {
    size_t len = 0;
    char *list;

    for (size_t i = 0; exclude[i]; ++i)
      len += strlen (exclude[i]) + 1;
    list = xcalloc (1, len + 1);
    for (size_t i = 0; exclude[i]; ++i) {
      if (i)
        strcat (list, " ");
      strcat (list, exclude[i]);
    }
    strv_addf (env, "MKVMIMG_EXCLUDE=%s", list);
    free (list);
    /* Package names are checked words: splitting them is intended. */
    strv_add (argv, "--customize-hook=chroot \"$1\" apt-get -y -q "
              "--allow-remove-essential purge $MKVMIMG_EXCLUDE >&2");
  }
  for (size_t i = 0; i < n; ++i) {
    const char *name = profile_section_name (p, "run", i);
    const char *cmd = profile_get (p, "run", name, "command");

    strv_addf (env, "MKVMIMG_RUN_%zu=%s", i, cmd ? cmd : "true");
    strv_addf (env, "MKVMIMG_RUN_NAME_%zu=%s", i, name);
    /* The hook's standard output would go into the tarball on
     * mmdebstrap's standard output: send it to stderr.
     */
    strv_addf (argv,
               "--customize-hook=echo \"mkvmimg: [run $MKVMIMG_RUN_NAME_%zu]\" >&2; "
               "chroot \"$1\" /bin/sh -ec \"$MKVMIMG_RUN_%zu\" >&2 || "
               "{ echo \"mkvmimg: [run $MKVMIMG_RUN_NAME_%zu] failed "
               "(exit status $?)\" >&2; exit 1; }", i, i, i);
  }
}

struct mount_point {
  const char *dir;              /* relative to the root */
  const char *const *argv;      /* mount arguments before the target */
};

static const char *const proc_args[] = { "mount", "-t", "proc", "proc", NULL };
static const char *const sys_args[] = { "mount", "-t", "sysfs", "sysfs",
                                        NULL };
static const char *const dev_args[] = { "mount", "--rbind", "/dev", NULL };

static const struct mount_point mounts[] = {
  { "proc", proc_args },
  { "sys", sys_args },
  { "dev", dev_args },
};
#define NMOUNTS (sizeof mounts / sizeof mounts[0])

static int
do_mount (const struct mount_point *m, const char *root)
{
  CLEANUP_FREE char *target = xasprintf ("%s/%s", root, m->dir);
  const char *argv[8];
  size_t n = 0;

  for (; m->argv[n]; ++n)
    argv[n] = m->argv[n];
  argv[n++] = target;
  argv[n] = NULL;
  if (mkdir_p (target, 0755) == -1) {
    error_errno ("%s", target);
    return -1;
  }
  return child_run (argv, NULL);
}

static void
do_umount (const struct mount_point *m, const char *root)
{
  CLEANUP_FREE char *target = xasprintf ("%s/%s", root, m->dir);
  const char *argv[] = { "umount", "-R", target, NULL };
  const char *lazy[] = { "umount", "-R", "-l", target, NULL };

  if (child_run (argv, NULL) == -1)
    child_run (lazy, NULL);
}

int
in_target_run_chroot (const struct profile *p, const char *root)
{
  size_t n = profile_count (p, "run");
  CLEANUP_FREE char *policy = xasprintf ("%s/usr/sbin/policy-rc.d", root);
  static const char policy_text[] = "#!/bin/sh\n# mkvmimg: no services "
    "start while steps run in the target\nexit 101\n";
  size_t mounted = 0;
  int fd, r = 0;

  if (n == 0)
    return 0;
  fd = open (policy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (fd == -1 || write_all (fd, policy_text, strlen (policy_text)) == -1) {
    error_errno ("writing %s", policy);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  close (fd);
  for (; mounted < NMOUNTS; ++mounted)
    if (do_mount (&mounts[mounted], root) == -1) {
      r = -1;
      break;
    }
  for (size_t i = 0; r == 0 && i < n; ++i) {
    const char *name = profile_section_name (p, "run", i);
    const char *cmd = profile_get (p, "run", name, "command");
    const char *argv[] = { "chroot", root, "/bin/sh", "-ec", cmd, NULL };
    struct child_opts o = CHILD_OPTS_INIT;
    o.own_group = true;            /* its workers die with it */
    pid_t pid;
    int status;

    info ("running [run %s] in the target", name);
    o.stdout_fd = 2;
    pid = child_start (argv, &o);
    if (pid == -1 || child_wait (pid, &status) == -1)
      r = -1;
    else if (status != 0) {
      CLEANUP_FREE char *what = xasprintf ("[run %s]", name);
      child_check_status (what, status);
      r = -1;
    }
  }
  while (mounted > 0)
    do_umount (&mounts[--mounted], root);
  if (unlink (policy) == -1 && r == 0) {
    error_errno ("removing %s", policy);
    r = -1;
  }
  return r;
}
