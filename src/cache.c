/* The base cache, and "mkvmimg cache list|clean". */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mkvmimg.h"
#include "cache.h"
#include "child.h"
#include "cli.h"
#include "entries.h"
#include "tempfiles.h"

char *
cache_dir (void)
{
  const char *xdg = getenv ("XDG_CACHE_HOME");
  const char *home = getenv ("HOME");
  char *dir;

  if (xdg && *xdg == '/')
    dir = xasprintf ("%s/mkvmimg", xdg);
  else if (home && *home)
    dir = xasprintf ("%s/.cache/mkvmimg", home);
  else {
    error ("the base cache: neither $XDG_CACHE_HOME nor $HOME is set "
           "(or use --no-cache)");
    return NULL;
  }
  if (mkdir_p (dir, 0700) == -1) {
    error_errno ("creating the cache directory %s", dir);
    free (dir);
    return NULL;
  }
  return dir;
}

char *
sha256_file (const char *path)
{
  /* openssl uses the CPU's SHA instructions (about 3 times faster than
   * coreutils' sha256sum here); both print the digest first.  path is
   * always absolute, so it cannot be taken for an option.
   */
  const char *openssl[] = { "openssl", "dgst", "-sha256", "-r", path, NULL };
  const char *sha256sum[] = { "sha256sum", "--", path, NULL };
  CLEANUP_FREE char *out = NULL;
  size_t n;

  out = child_run_capture (program_exists ("openssl") && path[0] == '/'
                           ? openssl : sha256sum, NULL);

  if (!out)
    return NULL;
  n = strspn (out, "0123456789abcdef");
  if (n != 64) {
    error ("sha256 of %s: unexpected output", path);
    return NULL;
  }
  out[64] = '\0';
  return xstrdup (out);
}

char *
sha256_string (const char *text)
{
  CLEANUP_FREE char *path = tmpdir_path ("key.txt");
  int fd;

  if (!path)
    return NULL;
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("%s", path);
    return NULL;
  }
  if (write_all (fd, text, strlen (text)) == -1) {
    error_errno ("writing %s", path);
    close (fd);
    return NULL;
  }
  close (fd);
  return sha256_file (path);
}

/* Remove an entry and its sidecars. */
static void
cache_remove (const char *dir, const char *key)
{
  static const char *const suffixes[] = { ".tar.sha256", ".tar.stamp",
                                          ".tar", ".info", NULL };
  for (size_t i = 0; suffixes[i]; ++i) {
    CLEANUP_FREE char *p = xasprintf ("%s/%s%s", dir, key, suffixes[i]);
    if (unlink (p) == -1 && errno != ENOENT)
      warning ("removing %s: %s", p, strerror (errno));
  }
}

/* The stamp of an entry: its checksum and what stat says of the file
 * once the checksum was known to hold.  Any write, truncation or
 * replacement changes the ctime (which no one can set back) or the
 * inode, so an entry whose stamp still matches needs no new pass over
 * its data.  Caller frees.
 */
static char *
stamp_text (const char *sum, const struct stat *st)
{
  return xasprintf ("%.64s %llu %llu %llu %lld.%09ld %lld.%09ld\n", sum,
                    (unsigned long long) st->st_size,
                    (unsigned long long) st->st_dev,
                    (unsigned long long) st->st_ino,
                    (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                    (long long) st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static int write_small (const char *path, const char *text);

/* Record that tar's checksum sum holds now.  Only a speed-up: a stamp
 * that cannot be written means a full check next time.
 */
static void
write_stamp (const char *tar, const char *sum)
{
  CLEANUP_FREE char *stamp = xasprintf ("%s.stamp", tar);
  CLEANUP_FREE char *text = NULL;
  struct stat st;

  if (stat (tar, &st) == -1)
    return;
  text = stamp_text (sum, &st);
  if (write_small (stamp, text) == -1)
    unlink (stamp);
}

int
cache_lookup (const char *key, char **path_rtn)
{
  CLEANUP_FREE char *dir = cache_dir ();
  CLEANUP_FREE char *tar = NULL, *sidecar = NULL, *want = NULL;
  CLEANUP_FREE char *have = NULL, *stamp = NULL, *stamped = NULL;
  CLEANUP_FREE char *now = NULL;
  struct stat st;

  *path_rtn = NULL;
  if (!dir)
    return -1;
  tar = xasprintf ("%s/%s.tar", dir, key);
  sidecar = xasprintf ("%s/%s.tar.sha256", dir, key);
  if (access (tar, F_OK) == -1)
    return 0;
  want = read_whole_file (sidecar, NULL);
  if (!want || strspn (want, "0123456789abcdef") != 64) {
    warning ("cache entry %s has no valid checksum: rebuilding it", tar);
    cache_remove (dir, key);
    return 0;
  }
  want[64] = '\0';
  /* The data as it was when its checksum was last seen to hold: a pass
   * over hundreds of megabytes saved on every warm build.
   */
  stamp = xasprintf ("%s.stamp", tar);
  if (access (stamp, F_OK) == 0)
    stamped = read_whole_file (stamp, NULL);
  if (stamped && stat (tar, &st) == 0) {
    now = stamp_text (want, &st);
    if (STREQ (stamped, now)) {
      debug ("cached base %s: unchanged since its checksum was verified",
             tar);
      *path_rtn = tar;
      tar = NULL;
      return 1;
    }
  }
  info ("verifying the cached base %s", tar);
  have = sha256_file (tar);
  if (!have)
    return -1;
  if (!STREQ (have, want)) {
    warning ("cache entry %s is corrupt (sha256 %s, expected %s): "
             "rebuilding it", tar, have, want);
    cache_remove (dir, key);
    return 0;
  }
  write_stamp (tar, want);
  *path_rtn = tar;
  tar = NULL;
  return 1;
}

int
cache_store_begin (const char *key, struct atomic_output *out)
{
  CLEANUP_FREE char *dir = cache_dir ();
  CLEANUP_FREE char *tar = NULL;

  if (!dir)
    return -1;
  tar = xasprintf ("%s/%s.tar", dir, key);
  return atomic_output_begin (out, tar, true);
}

/* Write a small file atomically. */
static int
write_small (const char *path, const char *text)
{
  struct atomic_output out;
  int fd;

  if (atomic_output_begin (&out, path, true) == -1)
    return -1;
  fd = open (out.tmp, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd == -1 || write_all (fd, text, strlen (text)) == -1) {
    error_errno ("writing %s", out.tmp);
    if (fd >= 0)
      close (fd);
    atomic_output_abort (&out);
    return -1;
  }
  close (fd);
  if (atomic_output_commit (&out, 0644) == -1) {
    atomic_output_abort (&out);
    return -1;
  }
  return 0;
}

int
cache_store_commit (const char *key, struct atomic_output *out,
                    const char *info_text, char **path_rtn)
{
  CLEANUP_FREE char *dir = cache_dir ();
  CLEANUP_FREE char *sum = NULL, *sidecar = NULL, *line = NULL;
  CLEANUP_FREE char *infofile = NULL, *final = NULL;

  if (!dir)
    goto error;
  /* A tool that exits 0 after writing a tarball cut short must not
   * leave an entry that fails every build from now on.
   */
  if (tar_check_end (out->tmp) == -1)
    goto error;
  sum = sha256_file (out->tmp);
  if (!sum)
    goto error;
  /* The data first, then its checksum: an entry without a valid
   * checksum is never used.
   */
  final = xstrdup (out->final);
  if (atomic_output_commit (out, 0644) == -1)
    goto error;
  infofile = xasprintf ("%s/%s.info", dir, key);
  sidecar = xasprintf ("%s/%s.tar.sha256", dir, key);
  line = xasprintf ("%s  %s.tar\n", sum, key);
  if (write_small (infofile, info_text) == -1 ||
      write_small (sidecar, line) == -1) {
    cache_remove (dir, key);
    return -1;
  }
  write_stamp (final, sum);
  *path_rtn = final;
  final = NULL;
  return 0;

 error:
  atomic_output_abort (out);
  return -1;
}

/* A memo is named memo-NAME in the cache directory: the stamp of the
 * file it is about (its path, then what stat says), and the value.
 */
static char *
memo_path (const char *dir, const char *name)
{
  return xasprintf ("%s/memo-%s", dir, name);
}

static char *
memo_stamp (const char *file)
{
  CLEANUP_FREE char *real = realpath (file, NULL);
  struct stat st;

  if (!real || stat (real, &st) == -1)
    return NULL;
  return xasprintf ("%s %llu %llu %llu %lld.%09ld %lld.%09ld\n", real,
                    (unsigned long long) st.st_size,
                    (unsigned long long) st.st_dev,
                    (unsigned long long) st.st_ino,
                    (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                    (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

char *
cache_memo_lookup (const char *name, const char *file)
{
  CLEANUP_FREE char *dir = cache_dir ();
  CLEANUP_FREE char *path = NULL, *stamp = NULL, *text = NULL;
  size_t n;

  if (!dir)
    return NULL;
  path = memo_path (dir, name);
  stamp = memo_stamp (file);
  if (!stamp || access (path, F_OK) == -1)
    return NULL;
  text = read_whole_file (path, NULL);
  n = strlen (stamp);
  if (!text || strncmp (text, stamp, n) != 0 || !text[n])
    return NULL;
  return xstrdup (text + n);
}

void
cache_memo_store (const char *name, const char *file, const char *value)
{
  CLEANUP_FREE char *dir = cache_dir ();
  CLEANUP_FREE char *path = NULL, *stamp = NULL, *text = NULL;

  if (!dir)
    return;
  path = memo_path (dir, name);
  stamp = memo_stamp (file);
  if (!stamp)
    return;
  text = xasprintf ("%s%s", stamp, value);
  if (write_small (path, text) == -1)
    unlink (path);
}

/* mkvmimg cache list|clean */

static int cache_list_cmd (int argc, char **argv);
static int cache_clean_cmd (int argc, char **argv);

static const struct command cache_commands[] = {
  { "list", cache_list_cmd, "list the cached bases" },
  { "clean", cache_clean_cmd, "remove cached bases" },
  { NULL, NULL, NULL }
};

int
cmd_cache (int argc, char **argv)
{
  return cli_dispatch ("cache", cache_commands, argc, argv);
}

/* The keys of the entries (and leftovers) in the cache directory. */
static int
cache_keys (const char *dir, struct strv *keys, struct strv *stale)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  if (!d) {
    error_errno ("%s", dir);
    return -1;
  }
  while ((de = readdir (d)) != NULL) {
    size_t n = strlen (de->d_name);
    if (n == 68 && STREQ (de->d_name + 64, ".tar") &&
        strspn (de->d_name, "0123456789abcdef") == 64)
      strv_addf (keys, "%.64s", de->d_name);
    else if (stale && de->d_name[0] == '.' &&
             strstr (de->d_name, ".mkvmimg-"))
      /* Left by a build that was killed (or is running now). */
      strv_addf (stale, "%s/%s", dir, de->d_name);
    else if (stale && STRPREFIX (de->d_name, "memo-"))
      /* Remade when needed. */
      strv_addf (stale, "%s/%s", dir, de->d_name);
    else if (stale && strspn (de->d_name, "0123456789abcdef") == 64 &&
             (STREQ (de->d_name + 64, ".info") ||
              STREQ (de->d_name + 64, ".tar.sha256") ||
              STREQ (de->d_name + 64, ".tar.stamp"))) {
      CLEANUP_FREE char *tar = xasprintf ("%s/%.64s.tar", dir, de->d_name);
      if (access (tar, F_OK) == -1)
        strv_addf (stale, "%s/%s", dir, de->d_name);
    }
  }
  closedir (d);
  return 0;
}

static int
cache_list_cmd (int argc, char **argv)
{
  struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_STRV_STRUCT struct strv keys = { 0 };
  CLEANUP_FREE char *dir = NULL;
  const char **args;
  int r;

  r = cli_parse (&ctx, "cache list", argc, argv, options, "", NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (args && args[0]) {
    usage_error ("cache list", "unexpected argument '%s'", args[0]);
    return EXIT_USAGE;
  }
  dir = cache_dir ();
  if (!dir || cache_keys (dir, &keys, NULL) == -1)
    return EXIT_FAIL;
  for (size_t i = 0; i < keys.len; ++i) {
    CLEANUP_FREE char *tar = xasprintf ("%s/%s.tar", dir, keys.v[i]);
    CLEANUP_FREE char *infofile = xasprintf ("%s/%s.info", dir, keys.v[i]);
    CLEANUP_FREE char *desc = read_whole_file (infofile, NULL);
    struct stat st;
    char date[32] = "?";

    if (stat (tar, &st) == -1)
      continue;
    strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%SZ",
              gmtime (&st.st_mtime));
    if (desc)
      desc[strcspn (desc, "\n")] = '\0';
    printf ("%.12s %6lluM %s %s\n", keys.v[i],
            (unsigned long long) (st.st_size + 512 * 1024) / (1024 * 1024),
            date, desc ? desc : "(no description)");
  }
  return EXIT_OK;
}

static int
cache_clean_cmd (int argc, char **argv)
{
  struct poptOption options[] = { COMMON_OPTIONS, POPT_TABLEEND };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_STRV_STRUCT struct strv keys = { 0 };
  CLEANUP_STRV_STRUCT struct strv stale = { 0 };
  CLEANUP_FREE char *dir = NULL;
  const char **args;
  size_t removed = 0;
  int r;

  r = cli_parse (&ctx, "cache clean", argc, argv, options, "[KEY...]",
                 NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  dir = cache_dir ();
  if (!dir || cache_keys (dir, &keys, &stale) == -1)
    return EXIT_FAIL;
  for (size_t i = 0; args && args[i]; ++i) {
    size_t n = strlen (args[i]), matches = 0;
    for (size_t j = 0; j < keys.len; ++j)
      if (n >= 4 && strncmp (keys.v[j], args[i], n) == 0)
        matches++;
    if (matches != 1) {
      error ("cache clean %s: %s", args[i],
             matches ? "more than one entry has this prefix"
             : "no such entry (see 'mkvmimg cache list')");
      return EXIT_FAIL;
    }
  }
  for (size_t j = 0; j < keys.len; ++j) {
    bool chosen = !args || !args[0];
    for (size_t i = 0; args && args[i]; ++i)
      if (strncmp (keys.v[j], args[i], strlen (args[i])) == 0)
        chosen = true;
    if (chosen) {
      cache_remove (dir, keys.v[j]);
      removed++;
    }
  }
  if (!args || !args[0])
    for (size_t i = 0; i < stale.len; ++i)
      unlink (stale.v[i]);
  info ("removed %zu cached base%s", removed, removed == 1 ? "" : "s");
  return EXIT_OK;
}
