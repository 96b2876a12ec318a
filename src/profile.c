/* Build profiles: the parser, --set, validation against the schema
 * (profile-keys.c), printing and lookups.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "mkvmimg.h"
#include "profile.h"
#include "profile-keys.h"

#define MAX_LINE 4096                   /* bytes, without the newline */
#define MAX_PROFILE (1024 * 1024)       /* bytes */
#define MAX_ERRORS 20                   /* then stop reporting */

struct pvalue {
  char *key;
  char *value;
  char *where;                  /* "FILE:LINE" or "--set" */
  const char *file;             /* the file, for relative paths, or NULL */
};

struct psection {
  char *section;                /* "partition" */
  char *name;                   /* "root", NULL for unnamed sections */
  char *where;
  struct pvalue *values;
  size_t nvalues;
};

struct profile {
  char *source;                 /* file name, "<built-in>" or "<stdin>" */
  bool source_is_file;          /* relative paths are relative to it */
  struct psection *sections;
  size_t nsections;
};

/* A programming error in a caller (a key not in the schema). */
static void __attribute__((noreturn))
internal_error (const char *what, const char *section, const char *name,
                const char *key)
{
  error ("internal error: profile lookup of %s.%s%s%s: %s", section,
         name ? name : "", name ? "." : "", key, what);
  abort ();
}

/* Section and key names: [a-z][a-z0-9_-]*. */
static bool
valid_identifier (const char *s)
{
  if (!islower ((unsigned char) *s))
    return false;
  for (++s; *s; ++s)
    if (!islower ((unsigned char) *s) && !isdigit ((unsigned char) *s)
        && *s != '_' && *s != '-')
      return false;
  return true;
}

/* The offset of the first byte that is not printable UTF-8 text (tab
 * allowed), or -1 if there is none.
 */
static ptrdiff_t
bad_byte (const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *) str;
  size_t i = 0;

  while (i < len) {
    unsigned char c = s[i];
    size_t n, j;
    uint32_t cp;

    if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    }
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    }
    else
      return i;
    if (len - i <= n)
      return i;
    for (j = 1; j <= n; ++j) {
      if ((s[i + j] & 0xc0) != 0x80)
        return i;
      cp = (cp << 6) | (s[i + j] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
      return i;
    i += n + 1;
  }
  return -1;
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static char *
skip_blanks (const char *s)
{
  while (is_blank (*s))
    s++;
  return (char *) s;
}

static void
trim_end (char *s)
{
  size_t n = strlen (s);
  while (n > 0 && is_blank (s[n - 1]))
    s[--n] = '\0';
}

/* "[partition root]" in messages. */
static char *
section_label (const char *section, const char *name)
{
  return name ? xasprintf ("[%s %s]", section, name)
    : xasprintf ("[%s]", section);
}

static bool
name_eq (const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return STREQ (a, b);
}

static struct psection *
find_section (const struct profile *p, const char *section, const char *name)
{
  for (size_t i = 0; i < p->nsections; ++i)
    if (STREQ (p->sections[i].section, section)
        && name_eq (p->sections[i].name, name))
      return &p->sections[i];
  return NULL;
}

static struct pvalue *
find_value (const struct psection *s, const char *key)
{
  for (size_t i = 0; i < s->nvalues; ++i)
    if (STREQ (s->values[i].key, key))
      return &s->values[i];
  return NULL;
}

static struct psection *
add_section (struct profile *p, const char *section, const char *name,
             char *where)
{
  struct psection *s;

  p->sections = xrealloc (p->sections,
                          (p->nsections + 1) * sizeof *p->sections);
  s = &p->sections[p->nsections++];
  s->section = xstrdup (section);
  s->name = name ? xstrdup (name) : NULL;
  s->where = where;
  s->values = NULL;
  s->nvalues = 0;
  return s;
}

static void
add_value (struct psection *s, const char *key, char *value, char *where,
           const char *file)
{
  struct pvalue *v;

  s->values = xrealloc (s->values, (s->nvalues + 1) * sizeof *s->values);
  v = &s->values[s->nvalues++];
  v->key = xstrdup (key);
  v->value = value;
  v->where = where;
  v->file = file;
}

void
profile_free (struct profile *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->nsections; ++i) {
    struct psection *s = &p->sections[i];
    for (size_t j = 0; j < s->nvalues; ++j) {
      free (s->values[j].key);
      free (s->values[j].value);
      free (s->values[j].where);
    }
    free (s->values);
    free (s->section);
    free (s->name);
    free (s->where);
  }
  free (p->sections);
  free (p->source);
  free (p);
}

void
cleanup_profile (void *ptr)
{
  profile_free (*(struct profile **) ptr);
}

/*----------------------------------------------------------------------
 * The parser.
 */

struct parser {
  struct profile *p;
  size_t lineno;
  ptrdiff_t cur;                /* current section, -1: none yet, -2: bad */
  int errors;
};

static void parse_error (struct parser *ps, const char *fs, ...)
  ATTRIBUTE_PRINTF (2, 3);

static void
parse_error (struct parser *ps, const char *fs, ...)
{
  va_list args;
  char *msg;

  ps->errors++;
  if (ps->errors > MAX_ERRORS)
    return;
  if (ps->errors == MAX_ERRORS) {
    error ("%s:%zu: too many errors, giving up", ps->p->source, ps->lineno);
    return;
  }
  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  va_end (args);
  error ("%s:%zu: %s", ps->p->source, ps->lineno, msg ? msg : fs);
  free (msg);
}

/* A value after '=': "text", text # comment, "quoted \" text" # comment.
 * Returns the value (caller frees) or NULL with *why_rtn set.
 */
static char *
parse_value (const char *s, const char **why_rtn)
{
  char *r, *q;
  const char *start;

  s = skip_blanks (s);
  if (*s == '"') {
    q = r = xmalloc (strlen (s) + 1);
    for (s++; *s != '"'; s++) {
      if (*s == '\0') {
        *why_rtn = "unterminated quote";
        free (r);
        return NULL;
      }
      if (*s == '\\') {
        s++;
        if (*s != '"' && *s != '\\') {
          *why_rtn = "unknown escape in quoted value (only \\\" and \\\\)";
          free (r);
          return NULL;
        }
      }
      *q++ = *s;
    }
    *q = '\0';
    s = skip_blanks (s + 1);
    if (*s != '\0' && *s != '#') {
      *why_rtn = "text after the closing quote";
      free (r);
      return NULL;
    }
    return r;
  }

  /* Unquoted: a '#' at the start or after white space begins a comment. */
  start = s;
  for (; *s; s++)
    if (*s == '#' && (s == start || is_blank (s[-1])))
      break;
  r = xmalloc (s - start + 1);
  memcpy (r, start, s - start);
  r[s - start] = '\0';
  trim_end (r);
  return r;
}

static void
parse_section_header (struct parser *ps, char *line)
{
  const struct profile_section_def *def;
  struct psection *other;
  char *end, *type, *name = NULL, *rest;

  ps->cur = -2;                 /* keys below a bad header are ignored */
  end = strchr (line, ']');
  if (!end) {
    parse_error (ps, "missing ']' in section header");
    return;
  }
  rest = skip_blanks (end + 1);
  if (*rest != '\0' && *rest != '#') {
    parse_error (ps, "text after ']' in section header");
    return;
  }
  *end = '\0';
  type = skip_blanks (line + 1);
  trim_end (type);
  for (char *s = type; *s; s++)
    if (is_blank (*s)) {
      *s = '\0';
      name = skip_blanks (s + 1);
      break;
    }
  if (*type == '\0') {
    parse_error (ps, "empty section header");
    return;
  }
  if (!valid_identifier (type) || !(def = profile_find_section (type))) {
    parse_error (ps, "unknown section [%s]", type);
    return;
  }
  if (def->named && !name) {
    parse_error (ps, "section [%s] needs a name: [%s NAME]", type, type);
    return;
  }
  if (!def->named && name) {
    parse_error (ps, "section [%s] takes no name", type);
    return;
  }
  other = find_section (ps->p, type, name);
  if (other) {
    CLEANUP_FREE char *label = section_label (type, name);
    parse_error (ps, "duplicate section %s (first at %s)", label,
                 other->where);
    return;
  }
  add_section (ps->p, type, name,
               xasprintf ("%s:%zu", ps->p->source, ps->lineno));
  ps->cur = ps->p->nsections - 1;
}

static void
parse_key_value (struct parser *ps, char *line)
{
  struct psection *s;
  struct pvalue *other;
  char *eq, *key, *value;
  const char *why = NULL;

  eq = strchr (line, '=');
  if (!eq) {
    parse_error (ps, "expected 'key = value' or '[section]'");
    return;
  }
  *eq = '\0';
  key = line;
  trim_end (key);
  if (*key == '\0') {
    parse_error (ps, "missing key before '='");
    return;
  }
  if (ps->cur == -1) {
    parse_error (ps, "key '%s' outside any section", key);
    return;
  }
  if (ps->cur == -2)
    return;
  s = &ps->p->sections[ps->cur];
  if (!valid_identifier (key) || !profile_find_key (s->section, key)) {
    parse_error (ps, "unknown key '%s' in section [%s]", key, s->section);
    return;
  }
  value = parse_value (eq + 1, &why);
  if (!value) {
    parse_error (ps, "%s: %s", key, why);
    return;
  }
  other = find_value (s, key);
  if (other) {
    parse_error (ps, "duplicate key '%s' (first at %s)", key, other->where);
    free (value);
    return;
  }
  add_value (s, key, value, xasprintf ("%s:%zu", ps->p->source, ps->lineno),
             ps->p->source_is_file ? ps->p->source : NULL);
}

static void
parse_line (struct parser *ps, char *line)
{
  line = skip_blanks (line);
  if (*line == '\0' || *line == '#')
    return;
  if (*line == '[')
    parse_section_header (ps, line);
  else
    parse_key_value (ps, line);
}

static struct profile *
parse_buffer (const char *text, size_t len, const char *source, bool is_file)
{
  struct profile *p = xcalloc (1, sizeof *p);
  struct parser ps = { .p = p, .lineno = 0, .cur = -1, .errors = 0 };
  CLEANUP_FREE char *line = xmalloc (MAX_LINE + 1);
  size_t pos = 0;

  p->source = xstrdup (source);
  p->source_is_file = is_file;
  while (pos < len) {
    const char *start = text + pos;
    const char *nl = memchr (start, '\n', len - pos);
    size_t n = nl ? (size_t) (nl - start) : len - pos;
    ptrdiff_t bad;

    pos += n + (nl ? 1 : 0);
    ps.lineno++;
    if (n > 0 && start[n - 1] == '\r')  /* CRLF */
      n--;
    if (n > MAX_LINE) {
      parse_error (&ps, "line longer than %d bytes", MAX_LINE);
      continue;
    }
    bad = bad_byte (start, n);
    if (bad >= 0) {
      if (start[bad] == '\0')
        parse_error (&ps, "NUL byte at column %td", bad + 1);
      else
        parse_error (&ps, "invalid byte 0x%02x at column %td "
                     "(a profile is UTF-8 text)",
                     (unsigned char) start[bad], bad + 1);
      continue;
    }
    memcpy (line, start, n);
    line[n] = '\0';
    parse_line (&ps, line);
  }
  if (ps.errors > 0) {
    profile_free (p);
    return NULL;
  }
  return p;
}

struct profile *
profile_parse_string (const char *text, const char *name)
{
  return parse_buffer (text, strlen (text), name, false);
}

struct profile *
profile_parse_file (const char *path)
{
  bool is_stdin = STREQ (path, "-");
  const char *source = is_stdin ? "<stdin>" : path;
  CLEANUP_CLOSE int fd = -1;
  CLEANUP_FREE char *buf = xmalloc (MAX_PROFILE + 1);
  size_t len = 0;

  if (!is_stdin) {
    fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
      error_errno ("opening profile %s", path);
      return NULL;
    }
  }
  for (;;) {
    ssize_t r = read (is_stdin ? STDIN_FILENO : fd, buf + len,
                      MAX_PROFILE + 1 - len);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno ("reading profile %s", source);
      return NULL;
    }
    if (r == 0)
      break;
    len += r;
    if (len > MAX_PROFILE) {
      error ("reading profile %s: larger than %d bytes", source, MAX_PROFILE);
      return NULL;
    }
  }
  return parse_buffer (buf, len, source, !is_stdin);
}

struct profile *
profile_load (const char *path_or_null)
{
  if (!path_or_null)
    return profile_parse_string (profile_default_text, "<built-in>");
  return profile_parse_file (path_or_null);
}

/*----------------------------------------------------------------------
 * --set SECTION[.NAME].KEY=VALUE
 */

int
profile_set (struct profile *p, const char *assignment)
{
  const char *eq = strchr (assignment, '=');
  const char *dot1, *dot2;
  const struct profile_section_def *def;
  CLEANUP_FREE char *section = NULL, *name = NULL, *key = NULL;
  struct psection *s;
  struct pvalue *v;
  ptrdiff_t bad;

  if (!eq || !(dot1 = memchr (assignment, '.', eq - assignment))) {
    error ("--set %s: expected SECTION[.NAME].KEY=VALUE", assignment);
    return -1;
  }
  for (dot2 = eq - 1; *dot2 != '.'; dot2--)
    ;
  section = strndup (assignment, dot1 - assignment);
  key = strndup (dot2 + 1, eq - dot2 - 1);
  if (!section || !key)
    abort ();
  if (dot2 > dot1) {
    name = strndup (dot1 + 1, dot2 - dot1 - 1);
    if (!name)
      abort ();
    trim_end (name);
    if (*skip_blanks (name) == '\0' || strchr (name, ']')
        || bad_byte (name, strlen (name)) >= 0) {
      error ("--set %s: invalid section name '%s'", assignment, name);
      return -1;
    }
    memmove (name, skip_blanks (name), strlen (skip_blanks (name)) + 1);
  }
  if (!valid_identifier (section) || !(def = profile_find_section (section))) {
    error ("--set %s: unknown section [%s]", assignment, section);
    return -1;
  }
  if (def->named && !name) {
    error ("--set %s: section [%s] needs a name: %s.NAME.%s=...",
           assignment, section, section, key);
    return -1;
  }
  if (!def->named && name) {
    error ("--set %s: section [%s] takes no name", assignment, section);
    return -1;
  }
  if (!valid_identifier (key) || !profile_find_key (section, key)) {
    error ("--set %s: unknown key '%s' in section [%s]", assignment, key,
           section);
    return -1;
  }
  bad = bad_byte (eq + 1, strlen (eq + 1));
  if (bad >= 0) {
    error ("--set %s.%s: invalid byte 0x%02x in the value", section, key,
           (unsigned char) eq[1 + bad]);
    return -1;
  }

  s = find_section (p, section, name);
  if (!s)
    s = add_section (p, section, name, xstrdup ("--set"));
  v = find_value (s, key);
  if (v) {
    free (v->value);
    free (v->where);
    v->value = xstrdup (eq + 1);
    v->where = xstrdup ("--set");
    v->file = NULL;
  }
  else
    add_value (s, key, xstrdup (eq + 1), xstrdup ("--set"), NULL);
  return 0;
}

/*----------------------------------------------------------------------
 * Types.
 */

static int
parse_bool (const char *s, bool *rtn)
{
  static const char *const yes[] = { "yes", "true", "1", "on", NULL };
  static const char *const no[] = { "no", "false", "0", "off", NULL };

  for (size_t i = 0; yes[i]; ++i)
    if (strcasecmp (s, yes[i]) == 0) {
      *rtn = true;
      return 0;
    }
  for (size_t i = 0; no[i]; ++i)
    if (strcasecmp (s, no[i]) == 0) {
      *rtn = false;
      return 0;
    }
  return -1;
}

static int
parse_int (const char *s, long long *rtn)
{
  char *end;

  if (!*s || isspace ((unsigned char) *s))
    return -1;
  errno = 0;
  *rtn = strtoll (s, &end, 10);
  if (errno || *end)
    return -1;
  return 0;
}

/* "N%" with 0 <= N <= 1000. */
static int
parse_percent (const char *s, unsigned *rtn)
{
  size_t n = strlen (s);
  unsigned v = 0;

  if (n < 2 || n > 5 || s[n - 1] != '%')
    return -1;
  for (size_t i = 0; i < n - 1; ++i) {
    if (!isdigit ((unsigned char) s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v > 1000)
    return -1;
  *rtn = v;
  return 0;
}

/* A "MIN..MAX" range; a missing end is unbounded.  For PT_SIZE the ends
 * are sizes, otherwise integers.  lo_rtn and hi_rtn get their text.
 */
static void
parse_range (const struct profile_key *k, long long *min, long long *max,
             bool *has_min, bool *has_max, char **lo_rtn, const char **hi_rtn)
{
  const char *dots = k->allowed ? strstr (k->allowed, "..") : NULL;
  char *lo;
  unsigned long long u;

  *has_min = *has_max = false;
  *lo_rtn = NULL;
  *hi_rtn = NULL;
  if (!dots)
    return;
  lo = *lo_rtn = strndup (k->allowed, dots - k->allowed);
  *hi_rtn = dots + 2;
  if (!lo)
    abort ();
  if (*lo) {
    *has_min = true;
    if (k->type == PT_SIZE) {
      if (parse_size (lo, &u) == -1)
        abort ();
      *min = u;
    }
    else if (parse_int (lo, min) == -1)
      abort ();
  }
  if (dots[2]) {
    *has_max = true;
    if (k->type == PT_SIZE) {
      if (parse_size (dots + 2, &u) == -1)
        abort ();
      *max = u;
    }
    else if (parse_int (dots + 2, max) == -1)
      abort ();
  }
}

static bool
enum_allows (const char *allowed, const char *value)
{
  size_t n = strlen (value);

  for (const char *a = allowed; *a;) {
    size_t len = strcspn (a, "|");
    if (len == n && strncmp (a, value, n) == 0)
      return true;
    a += len;
    if (*a == '|')
      a++;
  }
  return false;
}

static char **
split_list (const char *value)
{
  struct strv v = { 0 };

  for (const char *s = value; *s;) {
    size_t n;
    s += strspn (s, ", \t");
    n = strcspn (s, ", \t");
    if (n > 0) {
      CLEANUP_FREE char *word = strndup (s, n);
      if (!word)
        abort ();
      strv_add (&v, word);
    }
    s += n;
  }
  if (!v.v)
    return xcalloc (1, sizeof (char *));
  return v.v;
}

/* Check one value.  NULL if it is good, else why not (caller frees). */
static char *
check_value (const struct profile_key *k, const char *value)
{
  long long min = 0, max = 0, n;
  bool has_min, has_max, b;
  unsigned long long size;
  unsigned pct;
  CLEANUP_STRV char **list = NULL;
  CLEANUP_FREE char *lo = NULL;
  const char *hi;

  parse_range (k, &min, &max, &has_min, &has_max, &lo, &hi);
  switch (k->type) {
  case PT_STRING:
    if (k->flags & PK_PCI_ID) {
      bool ok = strlen (value) == 9 && value[4] == ':';
      for (size_t i = 0; ok && i < 9; ++i)
        ok = i == 4 || isxdigit ((unsigned char) value[i]);
      if (!ok)
        return xasprintf ("'%s' is not a PCI ID (VVVV:DDDD, hexadecimal)",
                          value);
    }
    n = strlen (value);
    if (has_min && n < min)
      return min == 1 ? xstrdup ("must not be empty")
        : xasprintf ("'%s' is shorter than %lld bytes", value, min);
    if (has_max && n > max)
      return xasprintf ("'%s' is longer than %lld bytes", value, max);
    return NULL;

  case PT_PATH:
    if (*value == '\0')
      return xstrdup ("must not be empty");
    return NULL;

  case PT_SIZE:
    if (parse_size (value, &size) == -1)
      return xasprintf ("'%s' is not a size (such as 512M or 4G)", value);
    if (has_min && size < (unsigned long long) min)
      return xasprintf ("%s is less than the minimum, %s", value, lo);
    if (has_max && size > (unsigned long long) max)
      return xasprintf ("%s is more than the maximum, %s", value, hi);
    return NULL;

  case PT_INT:
    if (parse_int (value, &n) == -1)
      return xasprintf ("'%s' is not an integer", value);
    if ((has_min && n < min) || (has_max && n > max))
      return xasprintf ("%s is out of range %s", value, k->allowed);
    return NULL;

  case PT_BOOL:
    if (parse_bool (value, &b) == -1)
      return xasprintf ("'%s' is not a boolean (yes, no, true, false, "
                        "on, off, 1, 0)", value);
    return NULL;

  case PT_ENUM:
    if (!enum_allows (k->allowed, value)) {
      CLEANUP_FREE char *list_text = xstrdup (k->allowed);
      for (char *s = list_text; *s; s++)
        if (*s == '|')
          *s = ',';
      return xasprintf ("'%s' is not one of: %s", value, list_text);
    }
    return NULL;

  case PT_LIST:
    list = split_list (value);
    if (k->flags & PK_KEYVALUE)
      for (size_t i = 0; list[i]; ++i) {
        const char *eq = strchr (list[i], '=');
        if (!eq || eq == list[i])
          return xasprintf ("'%s' is not key=value", list[i]);
      }
    return NULL;

  case PT_SIZE_OR_PERCENT:
    if (parse_percent (value, &pct) == 0 || parse_size (value, &size) == 0)
      return NULL;
    return xasprintf ("'%s' is neither a size (such as 512M) nor a "
                      "percentage (0%% to 1000%%)", value);
  }
  abort ();
}

/* Roughly the number of UTF-16 code units (a GPT name holds 36). */
static size_t
utf16_length (const char *s)
{
  size_t n = 0;
  for (const unsigned char *u = (const unsigned char *) s; *u; ++u)
    if ((*u & 0xc0) != 0x80)
      n += *u >= 0xf0 ? 2 : 1;
  return n;
}

int
profile_validate (struct profile *p)
{
  int errors = 0;
  size_t last_partition = SIZE_MAX;

  for (size_t i = 0; i < p->nsections; ++i)
    if (STREQ (p->sections[i].section, "partition"))
      last_partition = i;

  /* Every value set, against its type. */
  for (size_t i = 0; i < p->nsections; ++i) {
    const struct psection *s = &p->sections[i];
    CLEANUP_FREE char *label = section_label (s->section, s->name);

    for (size_t j = 0; j < s->nvalues; ++j) {
      const struct pvalue *v = &s->values[j];
      const struct profile_key *k = profile_find_key (s->section, v->key);
      CLEANUP_FREE char *why = NULL;

      if (!k)                   /* the parser and profile_set check this */
        abort ();
      why = check_value (k, v->value);
      if (why) {
        error ("%s: %s %s: %s", v->where, label, v->key, why);
        errors++;
      }
    }

    /* Sections' own checks. */
    if (STREQ (s->section, "kernel") && find_value (s, "image")
        && find_value (s, "tree")) {
      error ("%s: [kernel] takes image or tree, not both",
             find_value (s, "tree")->where);
      errors++;
    }
    if (STREQ (s->section, "module")
        && !find_value (s, "source") == !find_value (s, "ko")) {
      error ("%s: %s: give exactly one of source = DIR and ko = FILE",
             s->where, label);
      errors++;
    }
    if (STREQ (s->section, "partition")) {
      if (utf16_length (s->name) > 36) {
        error ("%s: %s: a partition name has at most 36 characters",
               s->where, label);
        errors++;
      }
      if (i != last_partition && !find_value (s, "size")) {
        error ("%s: %s: size is required (only the last partition takes "
               "the rest of the disk)", s->where, label);
        errors++;
      }
    }
  }

  /* Required keys: in unnamed sections whether present or not, in named
   * sections for each one present.
   */
  for (const struct profile_key *k = profile_keys; k->section; ++k) {
    const struct profile_section_def *def;

    if (!(k->flags & PK_REQUIRED))
      continue;
    def = profile_find_section (k->section);
    if (!def->named) {
      const struct psection *s = find_section (p, k->section, NULL);
      const struct pvalue *v = s ? find_value (s, k->key) : NULL;
      if (!v || !*v->value) {
        error ("%s: [%s] %s is required", s ? s->where : p->source,
               k->section, k->key);
        errors++;
      }
      continue;
    }
    for (size_t i = 0; i < p->nsections; ++i) {
      const struct psection *s = &p->sections[i];
      const struct pvalue *v;
      if (!STREQ (s->section, k->section))
        continue;
      v = find_value (s, k->key);
      if (!v || !*v->value) {
        error ("%s: [%s %s] %s is required", s->where, s->section, s->name,
               k->key);
        errors++;
      }
    }
  }
  return errors ? -1 : 0;
}

/*----------------------------------------------------------------------
 * Lookups.
 */

static const struct profile_key *
lookup_key (const char *section, const char *name, const char *key)
{
  const struct profile_section_def *def = profile_find_section (section);
  const struct profile_key *k = profile_find_key (section, key);

  if (!def || !k)
    internal_error ("no such key in the schema", section, name, key);
  if (def->named != (name != NULL))
    internal_error (def->named ? "a name is needed" : "no name is allowed",
                    section, name, key);
  return k;
}

static const struct pvalue *
lookup_value (const struct profile *p, const char *section, const char *name,
              const char *key)
{
  const struct psection *s = find_section (p, section, name);
  return s ? find_value (s, key) : NULL;
}

const char *
profile_get (const struct profile *p, const char *section, const char *name,
             const char *key)
{
  const struct profile_key *k = lookup_key (section, name, key);
  const struct pvalue *v = lookup_value (p, section, name, key);

  if (v)
    return v->value;
  if (k->compute)
    return k->compute (p, name);
  return k->def;
}

bool
profile_is_set (const struct profile *p, const char *section,
                const char *name, const char *key)
{
  lookup_key (section, name, key);
  return lookup_value (p, section, name, key) != NULL;
}

bool
profile_get_bool (const struct profile *p, const char *section,
                  const char *name, const char *key)
{
  const char *value = profile_get (p, section, name, key);
  bool b = false;

  if (value && parse_bool (value, &b) == -1)
    return false;
  return b;
}

unsigned long long
profile_get_size (const struct profile *p, const char *section,
                  const char *name, const char *key)
{
  const char *value = profile_get (p, section, name, key);
  unsigned long long size = 0;

  if (value && parse_size (value, &size) == -1)
    return 0;
  return size;
}

unsigned long long
profile_get_size_relative (const struct profile *p, const char *section,
                           const char *name, const char *key,
                           unsigned long long base)
{
  const char *value = profile_get (p, section, name, key);
  unsigned pct;

  if (value && parse_percent (value, &pct) == 0) {
    /* base * pct / 100 without overflow for any realistic base. */
    return base / 100 * pct + base % 100 * pct / 100;
  }
  return profile_get_size (p, section, name, key);
}

long long
profile_get_int (const struct profile *p, const char *section,
                 const char *name, const char *key)
{
  const char *value = profile_get (p, section, name, key);
  long long n = 0;

  if (value && parse_int (value, &n) == -1)
    return 0;
  return n;
}

char **
profile_get_list (const struct profile *p, const char *section,
                  const char *name, const char *key)
{
  const char *value = profile_get (p, section, name, key);

  return split_list (value ? value : "");
}

size_t
profile_count (const struct profile *p, const char *section)
{
  size_t n = 0;

  for (size_t i = 0; i < p->nsections; ++i)
    if (STREQ (p->sections[i].section, section))
      n++;
  return n;
}

const char *
profile_section_name (const struct profile *p, const char *section, size_t i)
{
  for (size_t j = 0; j < p->nsections; ++j)
    if (STREQ (p->sections[j].section, section) && i-- == 0)
      return p->sections[j].name;
  return NULL;
}

bool
profile_has_section (const struct profile *p, const char *section,
                     const char *name)
{
  return find_section (p, section, name) != NULL;
}

const char *
profile_where (const struct profile *p, const char *section, const char *name,
               const char *key)
{
  const struct pvalue *v;

  lookup_key (section, name, key);
  v = lookup_value (p, section, name, key);
  return v ? v->where : "default";
}

char *
profile_resolve_path (const struct profile *p, const char *section,
                      const char *name, const char *key, const char *path)
{
  const struct pvalue *v;
  const char *slash;

  lookup_key (section, name, key);
  v = lookup_value (p, section, name, key);
  /* The built-in profile names files shipped with mkvmimg (the edu
   * example driver): in the source tree when running from a build,
   * else in the installed data directory.
   */
  if (path[0] != '/' && v && STRPREFIX (v->where, "<built-in>:")) {
    char *in_tree = xasprintf ("%s/%s", ABS_TOP_SRCDIR, path);
    if (access (in_tree, F_OK) == 0)
      return in_tree;
    free (in_tree);
    return xasprintf ("%s/%s", PKGDATADIR, path);
  }
  if (path[0] == '/' || !v || !v->file || !(slash = strrchr (v->file, '/')))
    return xstrdup (path);
  return xasprintf ("%.*s/%s", (int) (slash - v->file), v->file, path);
}

int
profile_get_path (const struct profile *p, const char *section,
                  const char *name, const char *key, char **path_rtn)
{
  const struct profile_key *k = lookup_key (section, name, key);
  const char *value = profile_get (p, section, name, key);

  *path_rtn = NULL;
  if (!value)
    return 0;
  if ((k->flags & PK_HOST) && (STREQ (value, "host") || STREQ (value, "none")
                                || STREQ (value, "busybox")))
    *path_rtn = xstrdup (value);
  else
    *path_rtn = profile_resolve_path (p, section, name, key, value);
  return 0;
}

/*----------------------------------------------------------------------
 * Printing.
 */

static bool
needs_quotes (const char *value)
{
  size_t n = strlen (value);

  return n == 0 || is_blank (value[0]) || is_blank (value[n - 1])
    || value[0] == '"' || strpbrk (value, "#\\\"") != NULL;
}

static void
print_value (const char *value, FILE *fp)
{
  if (!needs_quotes (value)) {
    fputs (value, fp);
    return;
  }
  fputc ('"', fp);
  for (const char *s = value; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc ('\\', fp);
    fputc (*s, fp);
  }
  fputc ('"', fp);
}

static void
print_section (const struct profile *p, const char *section,
               const char *name, FILE *fp)
{
  if (name)
    fprintf (fp, "[%s %s]\n", section, name);
  else
    fprintf (fp, "[%s]\n", section);
  for (const struct profile_key *k = profile_keys; k->section; ++k) {
    const char *value;
    if (!STREQ (k->section, section))
      continue;
    value = profile_get (p, section, name, k->key);
    if (!value)
      fprintf (fp, "# %s = (unset)\n", k->key);
    else {
      fprintf (fp, "%s = ", k->key);
      print_value (value, fp);
      fputc ('\n', fp);
    }
  }
}

void
profile_print (const struct profile *p, FILE *fp)
{
  bool first = true;

  for (const struct profile_section_def *d = profile_sections;
       d->section; ++d) {
    if (!d->named) {
      if (!first)
        fputc ('\n', fp);
      print_section (p, d->section, NULL, fp);
      first = false;
      continue;
    }
    for (size_t i = 0; i < p->nsections; ++i)
      if (STREQ (p->sections[i].section, d->section)) {
        if (!first)
          fputc ('\n', fp);
        print_section (p, d->section, p->sections[i].name, fp);
        first = false;
      }
  }
}

static void
json_string (const char *s, FILE *fp)
{
  fputc ('"', fp);
  for (; *s; s++) {
    unsigned char c = *s;
    if (c == '"' || c == '\\')
      fprintf (fp, "\\%c", c);
    else if (c < 0x20)
      fprintf (fp, "\\u%04x", c);
    else
      fputc (c, fp);
  }
  fputc ('"', fp);
}

static void
json_value (const struct profile_key *k, const char *value, FILE *fp)
{
  unsigned long long size;
  long long n;
  bool b;

  if (!value) {
    fputs ("null", fp);
    return;
  }
  switch (k->type) {
  case PT_SIZE:
    if (parse_size (value, &size) == 0) {
      fprintf (fp, "%llu", size);
      return;
    }
    break;
  case PT_INT:
    if (parse_int (value, &n) == 0) {
      fprintf (fp, "%lld", n);
      return;
    }
    break;
  case PT_BOOL:
    if (parse_bool (value, &b) == 0) {
      fputs (b ? "true" : "false", fp);
      return;
    }
    break;
  case PT_LIST: {
    CLEANUP_STRV char **list = split_list (value);
    fputc ('[', fp);
    for (size_t i = 0; list[i]; ++i) {
      if (i)
        fputs (", ", fp);
      json_string (list[i], fp);
    }
    fputc (']', fp);
    return;
  }
  case PT_STRING: case PT_PATH: case PT_ENUM: case PT_SIZE_OR_PERCENT:
    break;
  }
  json_string (value, fp);
}

static void
json_section (const struct profile *p, const char *section, const char *name,
              const char *indent, FILE *fp)
{
  bool first = true;

  fputs ("{\n", fp);
  if (name) {
    fprintf (fp, "%s  \"name\": ", indent);
    json_string (name, fp);
    first = false;
  }
  for (const struct profile_key *k = profile_keys; k->section; ++k) {
    if (!STREQ (k->section, section))
      continue;
    fprintf (fp, "%s%s  \"%s\": ", first ? "" : ",\n", indent, k->key);
    json_value (k, profile_get (p, section, name, k->key), fp);
    first = false;
  }
  fprintf (fp, "\n%s}", indent);
}

void
profile_print_json (const struct profile *p, FILE *fp)
{
  bool first = true;

  fputs ("{\n", fp);
  for (const struct profile_section_def *d = profile_sections;
       d->section; ++d) {
    fprintf (fp, "%s  \"%s\": ", first ? "" : ",\n", d->section);
    first = false;
    if (!d->named) {
      json_section (p, d->section, NULL, "  ", fp);
      continue;
    }
    bool any = false;
    fputc ('[', fp);
    for (size_t i = 0; i < p->nsections; ++i)
      if (STREQ (p->sections[i].section, d->section)) {
        fputs (any ? ",\n    " : "\n    ", fp);
        json_section (p, d->section, p->sections[i].name, "    ", fp);
        any = true;
      }
    fputs (any ? "\n  ]" : "]", fp);
  }
  fputs ("\n}\n", fp);
}
