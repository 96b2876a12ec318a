/* Out-of-tree driver modules: build, check, depmod, install. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "child.h"
#include "entries.h"
#include "modules.h"
#include "tempfiles.h"

static bool
is_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

static bool
is_dir (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* The kernel build directory that out-of-tree modules compile against:
 * [module] kdir, the [kernel] tree, or the headers of that release.
 */
static char *
kernel_build_dir (const struct profile *p, const char *name,
                  const char *release)
{
  CLEANUP_FREE char *kdir = NULL;
  CLEANUP_FREE char *tree = NULL;
  char *dir;

  if (profile_get_path (p, "module", name, "kdir", &kdir) == -1 ||
      profile_get_path (p, "kernel", NULL, "tree", &tree) == -1)
    return NULL;
  if (kdir)
    dir = xstrdup (kdir);
  else if (tree)
    dir = xstrdup (tree);
  else
    dir = xasprintf ("/lib/modules/%s/build", release);
  if (!is_file (dir) && !is_dir (dir)) {
    error ("module %s: no kernel build directory %s for release %s "
           "(install linux-headers-%s, or set [module %s] kdir)",
           name, dir, release, release, name);
    free (dir);
    return NULL;
  }
  return dir;
}

/* Run a build tool with its output kept in a log file, shown only when
 * it fails (or under -v), so that a good build stays quiet.
 */
static int
run_logged (const char *const *argv, const char *dir)
{
  CLEANUP_FREE char *log = xasprintf ("%s.log", dir);
  CLEANUP_CLOSE int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                               0600);
  struct child_opts o = CHILD_OPTS_INIT;
  int r;

  if (fd == -1) {
    error_errno ("%s", log);
    return -1;
  }
  o.stdout_fd = o.stderr_fd = fd;
  o.own_group = true;           /* make's compilers die with it */
  r = child_run (argv, &o);
  if (r == -1 || verbose) {
    CLEANUP_FREE char *text = read_whole_file (log, NULL);
    if (text)
      fputs (text, stderr);
  }
  return r;
}

/* Build a Kbuild directory out of tree, in a private copy, so the
 * user's source tree is not written to.  The .ko files are appended to
 * kos.
 */
static int
build_module (const struct profile *p, const char *name, const char *source,
              const char *release, struct strv *kos)
{
  CLEANUP_FREE char *kbuild = xasprintf ("%s/Kbuild", source);
  CLEANUP_FREE char *makefile = xasprintf ("%s/Makefile", source);
  CLEANUP_FREE char *kdir = NULL;
  CLEANUP_FREE char *copy = NULL;
  CLEANUP_FREE char *marg = NULL;
  DIR *dir;
  struct dirent *d;
  size_t before = kos->len;

  if (!is_dir (source)) {
    error ("module %s: source %s: not a directory (%s)", name, source,
           profile_where (p, "module", name, "source"));
    return -1;
  }
  if (!is_file (kbuild) && !is_file (makefile)) {
    error ("module %s: source %s has neither a Kbuild nor a Makefile",
           name, source);
    return -1;
  }
  kdir = kernel_build_dir (p, name, release);
  if (!kdir)
    return -1;
  {
    CLEANUP_FREE char *leaf = xasprintf ("module-%s", name);
    copy = tmpdir_path (leaf);
    if (!copy)
      return -1;
  }
  {
    CLEANUP_FREE char *src = xasprintf ("%s/.", source);
    const char *cp_argv[] = { "cp", "-a", "--", src, copy, NULL };
    if (mkdir (copy, 0700) == -1) {
      error_errno ("mkdir %s", copy);
      return -1;
    }
    if (child_run (cp_argv, NULL) == -1)
      return -1;
  }
  info ("building module %s against %s", name, kdir);
  marg = xasprintf ("M=%s", copy);
  {
    const char *make_argv[] = { "make", "-s", "-C", kdir, marg, "modules",
                                NULL };
    if (run_logged (make_argv, copy) == -1) {
      error ("module %s: the build failed (compiler output above)", name);
      return -1;
    }
  }
  dir = opendir (copy);
  if (!dir) {
    error_errno ("%s", copy);
    return -1;
  }
  while ((d = readdir (dir)) != NULL) {
    size_t n = strlen (d->d_name);
    if (n > 3 && STREQ (d->d_name + n - 3, ".ko"))
      strv_addf (kos, "%s/%s", copy, d->d_name);
  }
  closedir (dir);
  if (kos->len == before) {
    error ("module %s: the build made no .ko file in %s", name, source);
    return -1;
  }
  return 0;
}

/* modinfo -F FIELD KO: one value a line.  Caller frees. */
static char *
modinfo (const char *ko, const char *field)
{
  const char *argv[] = { "modinfo", "-F", field, ko, NULL };
  return child_run_capture (argv, NULL);
}

/* A prebuilt module must be for this kernel: the first word of its
 * vermagic is the release.
 */
static int
check_vermagic (const char *name, const char *ko, const char *release)
{
  CLEANUP_FREE char *vermagic = modinfo (ko, "vermagic");
  size_t n;

  if (!vermagic)
    return -1;
  n = strcspn (vermagic, " \n");
  if (n != strlen (release) || strncmp (vermagic, release, n) != 0) {
    error ("module %s: %s was built for kernel %.*s, but the image's "
           "kernel is %s", name, ko, (int) n, vermagic, release);
    return -1;
  }
  return 0;
}

static int
run_depmod (struct module_set *set, const struct kernel *k)
{
  CLEANUP_FREE char *moddir = xasprintf ("%s/lib/modules/%s", set->staging,
                                         set->release);
  CLEANUP_FREE char *updates = xasprintf ("%s/updates", moddir);
  const char *depmod_argv[] = { "depmod", "-a", "-b", set->staging,
                                set->release, NULL };

  if (mkdir_p (updates, 0755) == -1) {
    error_errno ("mkdir %s", updates);
    return -1;
  }
  /* depmod wants the kernel's own modules beside ours to resolve
   * symbols; link (or copy) them into the staging tree.
   */
  if (k && k->modules) {
    CLEANUP_FREE char *src = xasprintf ("%s/.", k->modules);
    const char *link_argv[] = { "cp", "-al", "--", src, moddir, NULL };
    const char *copy_argv[] = { "cp", "-a", "--", src, moddir, NULL };
    struct child_opts quiet_opts = CHILD_OPTS_INIT;
    CLEANUP_CLOSE int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    quiet_opts.stderr_fd = devnull;
    if (child_run (link_argv, &quiet_opts) == -1 &&
        child_run (copy_argv, NULL) == -1)
      return -1;
  }
  else {
    /* No module tree of the kernel: depmod still wants to know what is
     * built in (from the host when it has that release), and an order.
     */
    static const char *const files[] = {
      "modules.order", "modules.builtin", "modules.builtin.modinfo", NULL
    };
    for (const char *const *f = files; *f; ++f) {
      CLEANUP_FREE char *host = xasprintf ("/lib/modules/%s/%s", set->release,
                                           *f);
      CLEANUP_FREE char *dest = xasprintf ("%s/%s", moddir, *f);
      const char *cp_argv[] = { "cp", "--", host, dest, NULL };
      if (is_file (host) && !STREQ (*f, "modules.order")) {
        if (child_run (cp_argv, NULL) == -1)
          return -1;
      }
      else {
        int fd = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd == -1) {
          error_errno ("%s", dest);
          return -1;
        }
        close (fd);
      }
    }
  }
  for (size_t i = 0; i < set->kos.len; ++i) {
    const char *base = strrchr (set->kos.v[i], '/') + 1;
    CLEANUP_FREE char *dest = xasprintf ("%s/%s", updates, base);
    const char *cp_argv[] = { "cp", "--", set->kos.v[i], dest, NULL };
    if (child_run (cp_argv, NULL) == -1)
      return -1;
  }
  return child_run (depmod_argv, NULL);
}

int
modules_prepare (const struct profile *p, const struct kernel *k,
                 const char *release, struct module_set *set)
{
  size_t n = profile_count (p, "module");

  memset (set, 0, sizeof *set);
  if (n == 0)
    return 0;
  if (!release) {
    error ("[module] sections need a kernel: set [kernel] image "
           "(or a root filesystem with /boot/vmlinuz-*)");
    return -1;
  }
  set->release = xstrdup (release);
  for (size_t i = 0; i < n; ++i) {
    const char *name = profile_section_name (p, "module", i);
    CLEANUP_FREE char *source = NULL;
    CLEANUP_FREE char *ko = NULL;
    size_t first = set->kos.len;

    if (profile_get_path (p, "module", name, "source", &source) == -1 ||
        profile_get_path (p, "module", name, "ko", &ko) == -1)
      return -1;
    if (!!source == !!ko) {
      error ("%s: module %s: give exactly one of source = DIR and ko = FILE",
             profile_where (p, "module", name, source ? "source" : "ko"),
             name);
      return -1;
    }
    strv_add (&set->names, name);
    if (source) {
      if (build_module (p, name, source, release, &set->kos) == -1)
        return -1;
    }
    else {
      if (!is_file (ko)) {
        error ("module %s: %s: no such file (%s)", name, ko,
               profile_where (p, "module", name, "ko"));
        return -1;
      }
      strv_add (&set->kos, ko);
    }
    for (size_t j = first; j < set->kos.len; ++j) {
      CLEANUP_FREE char *aliases = NULL;
      strv_add (&set->ko_section, name);
      char *line, *save;
      if (check_vermagic (name, set->kos.v[j], release) == -1)
        return -1;
      aliases = modinfo (set->kos.v[j], "alias");
      if (!aliases)
        return -1;
      for (line = strtok_r (aliases, "\n", &save); line;
           line = strtok_r (NULL, "\n", &save))
        strv_addf (&set->aliases, "%s %s", name, line);
    }
  }
  set->staging = tmpdir_path ("modules-staging");
  if (!set->staging)
    return -1;
  return run_depmod (set, k);
}

/* depmod's output files, as entries under prefix/KVER/. */
static int
depmod_entries (const struct module_set *set, const char *prefix,
                struct entry_sink *sink)
{
  CLEANUP_FREE char *moddir = xasprintf ("%s/lib/modules/%s", set->staging,
                                         set->release);
  DIR *dir = opendir (moddir);
  struct dirent *d;
  int r = 0;

  if (!dir) {
    error_errno ("%s", moddir);
    return -1;
  }
  while (r == 0 && (d = readdir (dir)) != NULL) {
    if (!STRPREFIX (d->d_name, "modules."))
      continue;
    CLEANUP_FREE char *src = xasprintf ("%s/%s", moddir, d->d_name);
    CLEANUP_FREE char *dest = xasprintf ("%s/%s/%s", prefix, set->release,
                                         d->d_name);
    if (is_file (src))
      r = entry_emit_host_file (sink, dest, 0644, src);
  }
  closedir (dir);
  return r;
}

int
modules_entries (const struct profile *p, const struct module_set *set,
                 const char *prefix, struct entry_sink *sink)
{
  if (set->names.len == 0)
    return 0;
  for (size_t i = 0; i < set->kos.len; ++i) {
    const char *base = strrchr (set->kos.v[i], '/');
    CLEANUP_FREE char *dest = xasprintf ("%s/%s/updates/%s", prefix,
                                         set->release,
                                         base ? base + 1 : set->kos.v[i]);
    if (entry_emit_host_file (sink, dest, 0644, set->kos.v[i]) == -1)
      return -1;
  }
  if (depmod_entries (set, prefix, sink) == -1)
    return -1;
  for (size_t i = 0; i < set->names.len; ++i) {
    const char *name = set->names.v[i];
    const char *load = profile_get (p, "module", name, "load");
    const char *options = profile_get (p, "module", name, "options");

    if (load && STREQ (load, "boot")) {
      CLEANUP_FREE char *path = xasprintf ("etc/modules-load.d/%s.conf", name);
      CLEANUP_FREE char *text = NULL;
      size_t len = 0;
      FILE *fp = open_memstream (&text, &len);
      if (!fp) {
        error_errno ("open_memstream");
        return -1;
      }
      fprintf (fp, "# written by mkvmimg for [module %s]\n", name);
      for (size_t j = 0; j < set->kos.len; ++j)
        if (STREQ (set->ko_section.v[j], name)) {
          const char *base = strrchr (set->kos.v[j], '/');
          base = base ? base + 1 : set->kos.v[j];
          fprintf (fp, "%.*s\n", (int) (strlen (base) - 3), base);
        }
      fclose (fp);
      if (entry_emit_file (sink, path, 0644, text, len) == -1)
        return -1;
    }
    if (options) {
      CLEANUP_FREE char *path = xasprintf ("etc/modprobe.d/%s.conf", name);
      CLEANUP_FREE char *text = xasprintf ("# written by mkvmimg\n"
                                           "options %s %s\n", name, options);
      if (entry_emit_file (sink, path, 0644, text, strlen (text)) == -1)
        return -1;
    }
  }
  return 0;
}

bool
modules_want_initramfs (const struct profile *p)
{
  for (size_t i = 0; i < profile_count (p, "module"); ++i) {
    const char *load = profile_get (p, "module",
                                    profile_section_name (p, "module", i),
                                    "load");
    if (load && STREQ (load, "initramfs"))
      return true;
  }
  return false;
}

void
module_set_free (struct module_set *set)
{
  free (set->release);
  free (set->staging);
  strv_free (&set->names);
  strv_free (&set->kos);
  strv_free (&set->ko_section);
  strv_free (&set->aliases);
  memset (set, 0, sizeof *set);
}
