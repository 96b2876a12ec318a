/* The gen_init_cpio spec source. */
#include <config.h>

#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "cpio-spec.h"

struct spec_line {
  const char *spec;
  size_t lineno;
  char **w;                     /* the words */
  size_t n;
};

static int
parse_num (const struct spec_line *l, size_t i, int base, const char *what,
           unsigned long max, unsigned long *rtn)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (l->w[i], &end, base);
  if (errno || end == l->w[i] || *end || l->w[i][0] == '-' || v > max) {
    error ("%s:%zu: %s: not a valid %s", l->spec, l->lineno, l->w[i], what);
    return -1;
  }
  *rtn = v;
  return 0;
}

/* A NAME of the spec, normalised; ".." is refused with file:line. */
static char *
spec_name (const struct spec_line *l, const char *name)
{
  for (const char *p = name; (p = strstr (p, "..")) != NULL; p += 2)
    if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) {
      error ("%s:%zu: %s: refusing a name with \"..\"", l->spec, l->lineno,
             name);
      return NULL;
    }
  return entry_path_normalise (name);
}

/* NAME MODE UID GID starting at word i (for file, LOCATION sits between
 * NAME and MODE; for slink, TARGET).
 */
static int
parse_common (const struct spec_line *l, size_t mode_i,
              struct archive_entry *e, mode_t type)
{
  unsigned long mode, uid, gid;
  CLEANUP_FREE char *name = NULL;

  if (parse_num (l, mode_i, 8, "mode (octal)", 07777, &mode) == -1 ||
      parse_num (l, mode_i + 1, 10, "uid", UINT32_MAX, &uid) == -1 ||
      parse_num (l, mode_i + 2, 10, "gid", UINT32_MAX, &gid) == -1)
    return -1;
  name = spec_name (l, l->w[1]);
  if (!name)
    return -1;
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, mode);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_nlink (e, type == AE_IFDIR ? 2 : 1);
  return 0;
}

/* ${NAME} in a file's LOCATION is replaced by the environment variable,
 * as gen_init_cpio does.  Caller frees.
 */
static char *
expand_env (const char *word)
{
  char *out = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&out, &len);

  if (!fp)
    return xstrdup (word);
  for (const char *p = word; *p; ) {
    const char *end;
    if (p[0] == '$' && p[1] == '{' && (end = strchr (p + 2, '}')) != NULL) {
      CLEANUP_FREE char *name = xasprintf ("%.*s", (int) (end - p - 2), p + 2);
      const char *v = getenv (name);
      fputs (v ? v : "", fp);
      p = end + 1;
    }
    else
      fputc (*p++, fp);
  }
  fclose (fp);
  return out;
}

static int
expect_words (const struct spec_line *l, size_t min, size_t max,
              const char *usage)
{
  if (l->n < min || l->n > max) {
    error ("%s:%zu: expected '%s'", l->spec, l->lineno, usage);
    return -1;
  }
  return 0;
}

static int
do_line (const struct spec_line *l, const char *dir, time_t now,
         struct entry_sink *sink)
{
  const char *kind = l->w[0];
  struct archive_entry *e = archive_entry_new ();
  struct entry_data data = ENTRY_DATA_NONE;
  CLEANUP_FREE char *host = NULL;
  int ret = -1;

  archive_entry_set_mtime (e, now, 0);
  if (STREQ (kind, "dir")) {
    if (expect_words (l, 5, 5, "dir NAME MODE UID GID") == -1 ||
        parse_common (l, 2, e, AE_IFDIR) == -1)
      goto out;
  }
  else if (STREQ (kind, "pipe") || STREQ (kind, "sock")) {
    bool pipe = STREQ (kind, "pipe");
    if (expect_words (l, 5, 5, pipe ? "pipe NAME MODE UID GID"
                      : "sock NAME MODE UID GID") == -1 ||
        parse_common (l, 2, e, pipe ? AE_IFIFO : AE_IFSOCK) == -1)
      goto out;
  }
  else if (STREQ (kind, "slink")) {
    if (expect_words (l, 6, 6, "slink NAME TARGET MODE UID GID") == -1 ||
        parse_common (l, 3, e, AE_IFLNK) == -1)
      goto out;
    archive_entry_set_symlink (e, l->w[2]);
  }
  else if (STREQ (kind, "nod")) {
    unsigned long maj, min;
    if (expect_words (l, 8, 8, "nod NAME MODE UID GID b|c MAJOR MINOR") == -1)
      goto out;
    if (!STREQ (l->w[5], "b") && !STREQ (l->w[5], "c")) {
      error ("%s:%zu: %s: the device type is 'b' or 'c'", l->spec,
             l->lineno, l->w[5]);
      goto out;
    }
    if (parse_common (l, 2, e, l->w[5][0] == 'b' ? AE_IFBLK : AE_IFCHR) == -1 ||
        parse_num (l, 6, 10, "major number", 4095, &maj) == -1 ||
        parse_num (l, 7, 10, "minor number", 1048575, &min) == -1)
      goto out;
    archive_entry_set_rdevmajor (e, maj);
    archive_entry_set_rdevminor (e, min);
  }
  else if (STREQ (kind, "file")) {
    struct stat st;

    if (expect_words (l, 6, SIZE_MAX,
                      "file NAME LOCATION MODE UID GID [HARDLINK...]") == -1 ||
        parse_common (l, 3, e, AE_IFREG) == -1)
      goto out;
    {
      CLEANUP_FREE char *loc = expand_env (l->w[2]);
      host = loc[0] == '/' ? xstrdup (loc) : xasprintf ("%s/%s", dir, loc);
    }
    if (stat (host, &st) == -1) {
      error ("%s:%zu: %s: %s", l->spec, l->lineno, host, strerror (errno));
      goto out;
    }
    if (!S_ISREG (st.st_mode)) {
      error ("%s:%zu: %s: not a regular file", l->spec, l->lineno, host);
      goto out;
    }
    archive_entry_set_size (e, st.st_size);
    archive_entry_set_mtime (e, st.st_mtime, 0);
    archive_entry_set_nlink (e, 1 + (l->n - 6));
    data.host_path = host;
    if (sink->put (sink, e, &data) == -1)
      goto out;
    entry_data_close (&data);
    /* The other names: hardlinks to this one. */
    for (size_t i = 6; i < l->n; ++i) {
      struct archive_entry *h = archive_entry_clone (e);
      CLEANUP_FREE char *name = spec_name (l, l->w[i]);
      int r;

      if (!name) {
        archive_entry_free (h);
        goto out;
      }
      archive_entry_set_pathname (h, name);
      archive_entry_set_hardlink (h, archive_entry_pathname (e));
      archive_entry_set_size (h, 0);
      r = sink->put (sink, h, NULL);
      archive_entry_free (h);
      if (r == -1)
        goto out;
    }
    ret = 0;
    goto out;
  }
  else {
    error ("%s:%zu: %s: unknown entry type (file, dir, nod, slink, pipe, "
           "sock)", l->spec, l->lineno, kind);
    goto out;
  }
  ret = sink->put (sink, e, NULL);
 out:
  entry_data_close (&data);
  archive_entry_free (e);
  return ret;
}

int
source_cpio_spec (const char *spec_path, struct entry_sink *sink)
{
  CLEANUP_FCLOSE FILE *fp = fopen (spec_path, "r");
  CLEANUP_FREE char *line = NULL;
  CLEANUP_FREE char *copy = xstrdup (spec_path);
  const char *dir = dirname (copy);
  const char *sde = getenv ("SOURCE_DATE_EPOCH");
  time_t now;
  size_t cap = 0, lineno = 0;
  ssize_t len;
  struct stat st;

  if (!fp || fstat (fileno (fp), &st) == -1) {
    error_errno ("open %s", spec_path);
    return -1;
  }
  /* Not the wall clock: the same spec gives the same entries. */
  now = sde && *sde ? (time_t) strtoll (sde, NULL, 10) : st.st_mtime;
  while ((len = getline (&line, &cap, fp)) != -1) {
    CLEANUP_STRV_STRUCT struct strv words = { 0 };
    struct spec_line l = { .spec = spec_path, .lineno = ++lineno };
    char *p = line, *save;

    if (len > 0 && line[len - 1] == '\n')
      line[len - 1] = '\0';
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '#' || *p == '\0')
      continue;
    for (char *w = strtok_r (p, " \t\r", &save); w;
         w = strtok_r (NULL, " \t\r", &save))
      strv_add (&words, w);
    if (words.len == 0)
      continue;
    l.w = words.v;
    l.n = words.len;
    if (do_line (&l, dir, now, sink) == -1)
      return -1;
  }
  if (ferror (fp)) {
    error_errno ("read %s", spec_path);
    return -1;
  }
  return 0;
}
