/* Logging, allocation, cleanup helpers and small utilities. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mkvmimg.h"

const char *program_name = "mkvmimg";
int verbose;
int quiet;

static void
vmessage (const char *prefix, const char *fs, va_list args, int errnum)
{
  fprintf (stderr, "%s: %s", program_name, prefix);
  vfprintf (stderr, fs, args);
  if (errnum)
    fprintf (stderr, ": %s", strerror (errnum));
  fputc ('\n', stderr);
}

void
error (const char *fs, ...)
{
  va_list args;
  va_start (args, fs);
  vmessage ("", fs, args, 0);
  va_end (args);
}

void
error_errno (const char *fs, ...)
{
  int errnum = errno;
  va_list args;
  va_start (args, fs);
  vmessage ("", fs, args, errnum);
  va_end (args);
}

void
warning (const char *fs, ...)
{
  va_list args;
  va_start (args, fs);
  vmessage ("warning: ", fs, args, 0);
  va_end (args);
}

void
info (const char *fs, ...)
{
  va_list args;
  if (quiet)
    return;
  va_start (args, fs);
  vmessage ("", fs, args, 0);
  va_end (args);
}

void
debug (const char *fs, ...)
{
  va_list args;
  if (!verbose)
    return;
  va_start (args, fs);
  vmessage ("debug: ", fs, args, 0);
  va_end (args);
}

static void
out_of_memory (void)
{
  fprintf (stderr, "%s: out of memory\n", program_name);
  abort ();
}

void *
xmalloc (size_t n)
{
  void *p = malloc (n ? n : 1);
  if (!p)
    out_of_memory ();
  return p;
}

void *
xcalloc (size_t n, size_t s)
{
  void *p = calloc (n ? n : 1, s ? s : 1);
  if (!p)
    out_of_memory ();
  return p;
}

void *
xrealloc (void *p, size_t n)
{
  p = realloc (p, n ? n : 1);
  if (!p)
    out_of_memory ();
  return p;
}

char *
xstrdup (const char *s)
{
  char *r = strdup (s);
  if (!r)
    out_of_memory ();
  return r;
}

char *
xasprintf (const char *fs, ...)
{
  va_list args;
  char *r;
  va_start (args, fs);
  if (vasprintf (&r, fs, args) == -1)
    out_of_memory ();
  va_end (args);
  return r;
}

void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
cleanup_fclose (void *ptr)
{
  FILE *fp = *(FILE **) ptr;
  if (fp)
    fclose (fp);
}

void
cleanup_close (void *ptr)
{
  int fd = *(int *) ptr;
  if (fd >= 0)
    close (fd);
}

void
cleanup_strv (void *ptr)
{
  char **v = *(char ***) ptr;
  if (v) {
    for (size_t i = 0; v[i]; ++i)
      free (v[i]);
    free (v);
  }
}

void
strv_add (struct strv *s, const char *str)
{
  if (s->len + 2 > s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    s->v = xrealloc (s->v, s->cap * sizeof (char *));
  }
  s->v[s->len++] = xstrdup (str);
  s->v[s->len] = NULL;
}

void
strv_addf (struct strv *s, const char *fs, ...)
{
  va_list args;
  char *str;
  va_start (args, fs);
  if (vasprintf (&str, fs, args) == -1)
    out_of_memory ();
  va_end (args);
  strv_add (s, str);
  free (str);
}

void
strv_free (struct strv *s)
{
  for (size_t i = 0; i < s->len; ++i)
    free (s->v[i]);
  free (s->v);
  s->v = NULL;
  s->len = s->cap = 0;
}

void
cleanup_strv_struct (void *ptr)
{
  strv_free (ptr);
}

char *
read_whole_file (const char *path, size_t *len_rtn)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  char *buf = NULL;
  size_t len = 0, cap = 0;

  if (fd == -1) {
    error_errno ("open: %s", path);
    return NULL;
  }
  for (;;) {
    ssize_t r;
    if (len + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      buf = xrealloc (buf, cap);
    }
    r = read (fd, buf + len, cap - len - 1);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno ("read: %s", path);
      free (buf);
      return NULL;
    }
    if (r == 0)
      break;
    len += r;
  }
  if (!buf)
    buf = xmalloc (1);
  buf[len] = '\0';
  if (len_rtn)
    *len_rtn = len;
  return buf;
}

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t r = write (fd, p, len);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += r;
    len -= r;
  }
  return 0;
}

int
parse_size (const char *str, unsigned long long *rtn)
{
  char *end;
  unsigned long long n, mult = 1;

  if (!str || !isdigit ((unsigned char) *str))
    return -1;
  errno = 0;
  n = strtoull (str, &end, 10);
  if (errno)
    return -1;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': mult = 1ULL << 10; end++; break;
  case 'm': case 'M': mult = 1ULL << 20; end++; break;
  case 'g': case 'G': mult = 1ULL << 30; end++; break;
  case 't': case 'T': mult = 1ULL << 40; end++; break;
  default: return -1;
  }
  /* Accept "4G", "4GB", "4GiB". */
  if (mult > 1 && (STREQ (end, "iB") || STREQ (end, "B")))
    end += strlen (end);
  if (*end != '\0')
    return -1;
  if (n > ~0ULL / mult)
    return -1;
  *rtn = n * mult;
  return 0;
}

char *
shell_quote (const char *word)
{
  size_t i, n = 3;
  bool safe = *word != '\0';
  char *r, *p;

  for (i = 0; word[i]; ++i) {
    unsigned char c = word[i];
    if (!(isalnum (c) || strchr ("@%+=:,./-_", c)))
      safe = false;
    n += c == '\'' ? 4 : 1;
  }
  if (safe)
    return xstrdup (word);
  p = r = xmalloc (n);
  *p++ = '\'';
  for (i = 0; word[i]; ++i) {
    if (word[i] == '\'') {
      memcpy (p, "'\\''", 4);
      p += 4;
    }
    else
      *p++ = word[i];
  }
  *p++ = '\'';
  *p = '\0';
  return r;
}

int
version_cmp (const char *a, const char *b)
{
  while (*a && *b) {
    if (isdigit ((unsigned char) *a) && isdigit ((unsigned char) *b)) {
      char *ea, *eb;
      unsigned long long na = strtoull (a, &ea, 10);
      unsigned long long nb = strtoull (b, &eb, 10);
      if (na != nb)
        return na < nb ? -1 : 1;
      a = ea;
      b = eb;
    }
    else if (*a != *b)
      return (unsigned char) *a - (unsigned char) *b;
    else
      a++, b++;
  }
  return (unsigned char) *a - (unsigned char) *b;
}

int
mkdir_p (const char *path, mode_t mode)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  char *p;

  for (p = copy + 1; *p; ++p) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir (copy, mode) == -1 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  if (mkdir (copy, mode) == -1 && errno != EEXIST)
    return -1;
  return 0;
}

bool
progress_enabled (void)
{
  return !quiet && isatty (STDERR_FILENO);
}

static bool progress_shown;

void
progress (const char *what, unsigned long long done, unsigned long long total)
{
  static struct timespec last;
  struct timespec now;
  unsigned pct;

  if (!progress_enabled () || total == 0)
    return;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (progress_shown && done < total &&
      (now.tv_sec - last.tv_sec) * 1000000000LL + (now.tv_nsec - last.tv_nsec)
      < 200000000LL)
    return;
  last = now;
  pct = done >= total ? 100 : (unsigned) (done * 100 / total);
  fprintf (stderr, "\r%s: %s: %3u%%", program_name, what, pct);
  progress_shown = true;
}

void
progress_end (void)
{
  if (progress_shown) {
    fputc ('\n', stderr);
    progress_shown = false;
  }
}
