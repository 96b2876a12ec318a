/* [rootfs] source = debootstrap: mmdebstrap or debootstrap output as an
 * entry stream, through the base cache.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mkvmimg.h"
#include "arch.h"
#include "cache.h"
#include "child.h"
#include "debootstrap.h"
#include "in-target.h"
#include "tempfiles.h"

/* After SIGTERM a bootstrapper unmounts /proc, /sys and /dev from its
 * chroot and removes it; killed sooner, it leaves them mounted.
 */
#define BOOTSTRAP_CLEANUP_SECONDS 60

static enum base_cache_mode cache_mode = BASE_CACHE_USE;
/* The base tarball of this process: in the cache or the working dir. */
static char *base_path;

void
debootstrap_set_cache_mode (enum base_cache_mode mode)
{
  cache_mode = mode;
}

void
debootstrap_reset (void)
{
  free (base_path);
  base_path = NULL;
}

/* Everything that determines the base. */
struct base_spec {
  const char *tool;             /* "mmdebstrap" or "debootstrap" */
  char *tool_version;
  const char *suite, *mirror, *variant, *arch;
  const char *security_mirror;  /* NULL: no SUITE-security/-updates */
  struct strv components, include, exclude;
  char *run;                    /* in_target_describe */
};

static void
base_spec_free (struct base_spec *s)
{
  free (s->tool_version);
  strv_free (&s->components);
  strv_free (&s->include);
  strv_free (&s->exclude);
  free (s->run);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Add the words of a list key, checked, without duplicates. */
static int
add_words (struct strv *s, const struct profile *p, const char *section,
           const char *key, const char *what)
{
  CLEANUP_STRV char **list = profile_get_list (p, section, NULL, key);

  for (size_t i = 0; list[i]; ++i) {
    const char *w = list[i];
    bool dup = false;
    if (w[0] == '-' || strspn (w, "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "+.:=~/_-") != strlen (w)) {
      error ("%s: [%s] %s: '%s' is not a %s name", profile_where (p, section,
             NULL, key), section, key, w, what);
      return -1;
    }
    for (size_t j = 0; j < s->len; ++j)
      if (STREQ (s->v[j], w))
        dup = true;
    if (!dup)
      strv_add (s, w);
  }
  return 0;
}

static char *
join (const struct strv *s, const char *sep)
{
  size_t len = 1;
  char *r;

  for (size_t i = 0; i < s->len; ++i)
    len += strlen (s->v[i]) + strlen (sep);
  r = xcalloc (1, len);
  for (size_t i = 0; i < s->len; ++i) {
    if (i)
      strcat (r, sep);
    strcat (r, s->v[i]);
  }
  return r;
}

/* Where PATH finds tool, or NULL.  Caller frees. */
static char *
tool_path (const char *tool)
{
  const char *path = getenv ("PATH");
  CLEANUP_FREE char *copy = xstrdup (path ? path
                                     : "/usr/local/bin:/usr/bin:/bin");
  char *dir, *save;

  for (dir = strtok_r (copy, ":", &save); dir;
       dir = strtok_r (NULL, ":", &save)) {
    char *p = xasprintf ("%s/%s", dir, tool);
    if (access (p, X_OK) == 0)
      return p;
    free (p);
  }
  return NULL;
}

/* The first line of "TOOL --version".  Starting mmdebstrap (perl) only
 * to ask costs seconds on a busy machine, on every warm build: the
 * answer is kept in the cache for as long as the program file does not
 * change.
 */
static char *
tool_version (const char *tool)
{
  const char *argv[] = { tool, "--version", NULL };
  CLEANUP_FREE char *file = cache_mode == BASE_CACHE_OFF ? NULL
    : tool_path (tool);
  CLEANUP_FREE char *name = xasprintf ("%s-version", tool);
  char *out;

  if (file) {
    out = cache_memo_lookup (name, file);
    if (out)
      return out;
  }
  out = child_run_capture (argv, NULL);
  if (!out)
    return NULL;
  out[strcspn (out, "\n")] = '\0';
  if (file)
    cache_memo_store (name, file, out);
  return out;
}

/* Whether the suite has SUITE-security and SUITE-updates (every
 * release does; the development suites do not).
 */
static bool
has_updates (const char *suite)
{
  return !STREQ (suite, "sid") && !STREQ (suite, "unstable") &&
    !STREQ (suite, "experimental") && !STREQ (suite, "rc-buggy");
}

static int
base_spec_of (const struct profile *p, struct base_spec *s)
{
  const char *bootstrap = profile_get (p, "rootfs", NULL, "bootstrap");
  const char *kpkg = profile_get (p, "kernel", NULL, "package");
  const struct arch *a;

  memset (s, 0, sizeof *s);
  if (STREQ (bootstrap, "auto"))
    s->tool = program_exists ("mmdebstrap") ? "mmdebstrap" : "debootstrap";
  else
    s->tool = bootstrap;
  if (!program_exists (s->tool)) {
    error ("[rootfs] source = debootstrap: %s is not installed%s", s->tool,
           STREQ (bootstrap, "auto") ? " (nor mmdebstrap)" : "");
    return -1;
  }
  if (STREQ (s->tool, "debootstrap") && geteuid () != 0) {
    error ("[rootfs] source = debootstrap: debootstrap needs root; run "
           "mkvmimg as root, or install mmdebstrap, which bootstraps "
           "without root (--mode=unshare)");
    return -1;
  }
  s->suite = profile_get (p, "rootfs", NULL, "suite");
  s->mirror = profile_get (p, "rootfs", NULL, "mirror");
  if (profile_get_bool (p, "rootfs", NULL, "updates") &&
      has_updates (profile_get (p, "rootfs", NULL, "suite")))
    s->security_mirror = profile_get (p, "rootfs", NULL, "security-mirror");
  s->variant = profile_get (p, "rootfs", NULL, "variant");
  s->arch = profile_get (p, "rootfs", NULL, "architecture");
  a = arch_find_debian (s->arch);
  if (!a) {
    error ("%s: [rootfs] architecture %s is not one mkvmimg knows",
           profile_where (p, "rootfs", NULL, "architecture"), s->arch);
    return -1;
  }
  if (!STREQ (a->name, profile_get (p, "image", NULL, "arch"))) {
    error ("%s: [rootfs] architecture = %s does not match [image] arch "
           "= %s (%s)", profile_where (p, "rootfs", NULL, "architecture"),
           s->arch, profile_get (p, "image", NULL, "arch"),
           profile_where (p, "image", NULL, "arch"));
    return -1;
  }
  /* Package scripts run inside the foreign root: binfmt_misc. */
  if (arch_check_foreign_exec (a, "[rootfs] source = debootstrap") == -1)
    return -1;
  if (!kpkg)
    kpkg = a->kernel_package;
  if (strspn (s->suite, "abcdefghijklmnopqrstuvwxyz0123456789-.") !=
      strlen (s->suite) || !*s->suite) {
    error ("%s: [rootfs] suite: '%s' is not a suite name",
           profile_where (p, "rootfs", NULL, "suite"), s->suite);
    return -1;
  }
  if (strpbrk (s->mirror, " \t\n'\"\\") || !strstr (s->mirror, ":")) {
    error ("%s: [rootfs] mirror: '%s' is not a URL",
           profile_where (p, "rootfs", NULL, "mirror"), s->mirror);
    return -1;
  }
  if (s->security_mirror &&
      (strpbrk (s->security_mirror, " \t\n'\"\\") ||
       !strstr (s->security_mirror, ":"))) {
    error ("%s: [rootfs] security-mirror: '%s' is not a URL",
           profile_where (p, "rootfs", NULL, "security-mirror"),
           s->security_mirror);
    return -1;
  }
  if (s->security_mirror && STREQ (s->tool, "debootstrap")) {
    warning ("[rootfs] updates: debootstrap bootstraps %s alone, without "
             "%s-security and %s-updates (install mmdebstrap, or set "
             "updates = no)", s->suite, s->suite, s->suite);
    s->security_mirror = NULL;
  }
  if (STREQ (s->tool, "debootstrap") &&
      !STREQ (s->variant, "minbase") && !STREQ (s->variant, "buildd") &&
      !STREQ (s->variant, "important")) {
    error ("[rootfs] variant = %s needs mmdebstrap (debootstrap makes "
           "minbase, buildd and important)", s->variant);
    return -1;
  }
  if (add_words (&s->components, p, "rootfs", "components", "component")
      == -1 ||
      add_words (&s->include, p, "rootfs", "include", "package") == -1 ||
      add_words (&s->exclude, p, "rootfs", "exclude", "package") == -1)
    return -1;
  if (s->components.len == 0)
    strv_add (&s->components, "main");
  /* The kernel, and the init that the system configuration expects
   * (package = none: a base for a kernel from elsewhere, no init added).
   */
  if (!STREQ (kpkg, "none")) {
    strv_add (&s->include, kpkg);
    strv_add (&s->include, "systemd-sysv");
  }
  if (s->include.len > 1)
    qsort (s->include.v, s->include.len, sizeof (char *), cmp_str);
  for (size_t i = 1; i < s->include.len; )
    if (STREQ (s->include.v[i], s->include.v[i - 1])) {
      free (s->include.v[i]);
      memmove (&s->include.v[i], &s->include.v[i + 1],
               (s->include.len - i) * sizeof (char *));
      s->include.len--;
    }
    else
      i++;
  if (s->exclude.len > 1)
    qsort (s->exclude.v, s->exclude.len, sizeof (char *), cmp_str);
  s->tool_version = tool_version (s->tool);
  if (!s->tool_version)
    return -1;
  s->run = in_target_describe (p);
  return 0;
}

static char *
base_key_text (const struct base_spec *s)
{
  CLEANUP_FREE char *components = join (&s->components, ",");
  CLEANUP_FREE char *include = join (&s->include, ",");
  CLEANUP_FREE char *exclude = join (&s->exclude, ",");
  const char *epoch = getenv ("SOURCE_DATE_EPOCH");

  return xasprintf ("mkvmimg debian base 1\ntool=%s\nsuite=%s\nmirror=%s\n"
                    "variant=%s\narchitecture=%s\ncomponents=%s\n"
                    "include=%s\nexclude=%s\nsource-date-epoch=%s\n"
                    "security-mirror=%s\n%s",
                    s->tool_version, s->suite, s->mirror, s->variant,
                    s->arch, components, include, exclude,
                    epoch ? epoch : "",
                    s->security_mirror ? s->security_mirror : "", s->run);
}

static char *
base_info_text (const struct base_spec *s)
{
  CLEANUP_FREE char *include = join (&s->include, ",");
  size_t nrun = 0;

  for (const char *r = s->run; (r = strstr (r, "run ")) != NULL; r += 4)
    nrun++;
  return xasprintf ("%s %s %s %s%s%s%s%s%s (%s)\n", s->suite, s->variant,
                    s->arch, s->mirror,
                    s->security_mirror ? " +updates" : "",
                    *include ? " +" : "", include,
                    s->exclude.len ? " -excludes" : "",
                    nrun ? " +run" : "", s->tool_version);
}

/* Fetch the suite's Release file, to tell a wrong suite or an
 * unreachable mirror clearly before the bootstrap starts.
 */
static int
check_mirror (const struct base_spec *s)
{
  static const char helper[] = "/usr/lib/apt/apt-helper";
  CLEANUP_FREE char *url = NULL, *dest = NULL, *log = NULL, *text = NULL;
  struct child_opts o = CHILD_OPTS_INIT;
  o.own_group = true;            /* its workers die with it */
  const char *argv[] = { helper, "download-file", NULL, NULL, NULL };
  pid_t pid;
  int fd, status;

  if (!STRPREFIX (s->mirror, "http://") && !STRPREFIX (s->mirror, "https://"))
    return 0;
  if (access (helper, X_OK) == -1)
    return 0;
  url = xasprintf ("%s%sdists/%s/Release", s->mirror,
                   s->mirror[strlen (s->mirror) - 1] == '/' ? "" : "/",
                   s->suite);
  dest = tmpdir_path ("Release");
  log = tmpdir_path ("Release.log");
  if (!dest || !log)
    return -1;
  fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("%s", log);
    return -1;
  }
  argv[2] = url;
  argv[3] = dest;
  o.stdout_fd = fd;
  o.stderr_fd = fd;
  pid = child_start (argv, &o);
  close (fd);
  if (pid == -1 || child_wait (pid, &status) == -1)
    return -1;
  if (status == 0)
    return 0;
  text = read_whole_file (log, NULL);
  if (text && (strstr (text, " 404 ") || strstr (text, "404  Not Found"))) {
    error ("[rootfs] suite = %s: the mirror %s has no such suite "
           "(%s: not found)", s->suite, s->mirror, url);
    return -1;
  }
  if (text) {
    /* The last "E: " line says why. */
    char *e = NULL;
    for (char *q = text; (q = strstr (q, "E: ")) != NULL; q += 3)
      e = q + 3;
    if (e)
      e[strcspn (e, "\n")] = '\0';
    error ("[rootfs] mirror = %s: cannot fetch %s: %s", s->mirror, url,
           e ? e : "download failed");
  }
  else
    error ("[rootfs] mirror = %s: cannot fetch %s", s->mirror, url);
  return -1;
}

static int
run_mmdebstrap (const struct profile *p, const struct base_spec *s, int fd)
{
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_STRV_STRUCT struct strv env = { 0 };
  CLEANUP_FREE char *components = join (&s->components, ",");
  CLEANUP_FREE char *include = join (&s->include, ",");
  struct child_opts o = CHILD_OPTS_INIT;
  o.own_group = true;            /* its workers die with it */
  o.cleanup_seconds = BOOTSTRAP_CLEANUP_SECONDS;
  pid_t pid;
  int status;

  strv_add (&argv, "mmdebstrap");
  strv_addf (&argv, "--variant=%s", s->variant);
  strv_addf (&argv, "--architectures=%s", s->arch);
  strv_addf (&argv, "--components=%s", components);
  if (*include)
    strv_addf (&argv, "--include=%s", include);
  strv_add (&argv, "--format=tar");
  if (geteuid () != 0)
    strv_add (&argv, "--mode=unshare");
  if (quiet)
    strv_add (&argv, "--quiet");
  else if (verbose > 1)
    strv_add (&argv, "--verbose");
  in_target_mmdebstrap_hooks (p, s->exclude.v, &argv, &env);
  strv_add (&argv, s->suite);
  strv_add (&argv, "-");
  if (s->security_mirror) {
    /* Full sources lines: they also become the image's APT sources. */
    CLEANUP_FREE char *words = join (&s->components, " ");
    strv_addf (&argv, "deb %s %s %s", s->mirror, s->suite, words);
    strv_addf (&argv, "deb %s %s-updates %s", s->mirror, s->suite, words);
    strv_addf (&argv, "deb %s %s-security %s", s->security_mirror, s->suite,
               words);
  }
  else
    strv_add (&argv, s->mirror);
  o.stdout_fd = fd;
  o.env = env.v;
  pid = child_start ((const char *const *) argv.v, &o);
  if (pid == -1 || child_wait (pid, &status) == -1)
    return -1;
  if (status != 0) {
    child_check_status ("mmdebstrap", status);
    error ("bootstrapping Debian %s failed (see mmdebstrap's messages "
           "above: a package that does not exist, a failing [run] step, "
           "or the mirror)", s->suite);
    return -1;
  }
  return 0;
}

static int
run_debootstrap (const struct profile *p, const struct base_spec *s, int fd)
{
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_FREE char *components = join (&s->components, ",");
  CLEANUP_FREE char *root = tmpdir_path ("debootstrap-root");
  struct child_opts o = CHILD_OPTS_INIT;
  o.own_group = true;            /* its workers die with it */
  o.cleanup_seconds = BOOTSTRAP_CLEANUP_SECONDS;
  int r = -1;

  if (!root)
    return -1;
  strv_add (&argv, "debootstrap");
  if (!STREQ (s->variant, "important"))
    strv_addf (&argv, "--variant=%s", s->variant);
  strv_addf (&argv, "--arch=%s", s->arch);
  strv_addf (&argv, "--components=%s", components);
  if (s->include.len) {
    CLEANUP_FREE char *include = join (&s->include, ",");
    strv_addf (&argv, "--include=%s", include);
  }
  if (s->exclude.len) {
    CLEANUP_FREE char *exclude = join (&s->exclude, ",");
    strv_addf (&argv, "--exclude=%s", exclude);
  }
  strv_add (&argv, s->suite);
  strv_add (&argv, root);
  strv_add (&argv, s->mirror);
  if (child_run ((const char *const *) argv.v, &o) == -1) {
    error ("bootstrapping Debian %s with debootstrap failed (its log: "
           "%s/debootstrap/debootstrap.log)", s->suite, root);
    goto out;
  }
  if (in_target_run_chroot (p, root) == -1)
    goto out;
  {
    const char *tar[] = { "tar", "--create", "--file=-", "--numeric-owner",
                          "--xattrs", "--xattrs-include=*", "--sort=name",
                          "-C", root, ".", NULL };
    o.stdout_fd = fd;
    if (child_run (tar, &o) == -1)
      goto out;
  }
  r = 0;
 out:
  {
    const char *rm[] = { "rm", "-rf", "--one-file-system", root, NULL };
    child_run (rm, NULL);
  }
  return r;
}

/* Bootstrap into path (opened for writing). */
static int
bootstrap_into (const struct profile *p, const struct base_spec *s,
                const char *path)
{
  int fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  time_t t0 = time (NULL);
  int r;

  if (fd == -1) {
    error_errno ("%s", path);
    return -1;
  }
  info ("bootstrapping Debian %s (%s, %s) with %s", s->suite, s->variant,
        s->arch, s->tool);
  if (STREQ (s->tool, "mmdebstrap"))
    r = run_mmdebstrap (p, s, fd);
  else
    r = run_debootstrap (p, s, fd);
  if (r == 0 && fsync (fd) == -1 && errno != EINVAL) {
    error_errno ("writing %s", path);
    r = -1;
  }
  close (fd);
  if (r == 0)
    info ("bootstrapped Debian %s in %lld s", s->suite,
          (long long) (time (NULL) - t0));
  return r;
}

static int
make_base (const struct profile *p)
{
  struct base_spec s;
  CLEANUP_FREE char *text = NULL, *key = NULL, *desc = NULL;
  struct atomic_output out;
  int r, ret = -1;

  if (base_spec_of (p, &s) == -1)
    goto out;
  text = base_key_text (&s);
  debug ("base cache key text:\n%s", text);
  if (cache_mode != BASE_CACHE_OFF) {
    key = sha256_string (text);
    if (!key)
      goto out;
  }
  if (cache_mode == BASE_CACHE_USE) {
    r = cache_lookup (key, &base_path);
    if (r == -1)
      goto out;
    if (r == 1) {
      info ("using the cached base %.12s (Debian %s)", key, s.suite);
      ret = 0;
      goto out;
    }
  }
  if (check_mirror (&s) == -1)
    goto out;
  if (cache_mode == BASE_CACHE_OFF) {
    int fd;
    base_path = tmpdir_path ("base.tar");
    if (!base_path)
      goto out;
    fd = open (base_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1) {
      error_errno ("%s", base_path);
      goto out;
    }
    close (fd);
    if (bootstrap_into (p, &s, base_path) == -1)
      goto out;
    ret = 0;
    goto out;
  }
  if (cache_store_begin (key, &out) == -1)
    goto out;
  if (bootstrap_into (p, &s, out.tmp) == -1) {
    atomic_output_abort (&out);
    goto out;
  }
  desc = base_info_text (&s);
  if (cache_store_commit (key, &out, desc, &base_path) == -1)
    goto out;
  info ("cached the base as %.12s", key);
  ret = 0;
 out:
  if (ret == -1)
    debootstrap_reset ();
  base_spec_free (&s);
  return ret;
}

int
source_debootstrap (const struct profile *p, struct entry_sink *sink)
{
  if (!base_path && make_base (p) == -1)
    return -1;
  return source_archive (base_path, sink);
}
