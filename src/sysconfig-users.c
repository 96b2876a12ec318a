/* System configuration: passwords and the account databases. */
#include <config.h>

#include <crypt.h>
#include <errno.h>
#include <string.h>

#include "mkvmimg.h"
#include "cache.h"
#include "sysconfig-int.h"

char *
sysconfig_hash_password (const struct profile *p, const char *clear,
                         const char *salt_name)
{
  const char *seed = profile_get (p, "image", NULL, "seed");
  unsigned char rbytes[16];
  CLEANUP_FREE char *setting = NULL;
  struct crypt_data *data;
  char *hash = NULL;

  if (seed) {
    /* Reproducible: the salt is derived from the seed (and differs per
     * account).  Without a seed libcrypt takes random bytes.
     */
    CLEANUP_FREE char *text = xasprintf ("mkvmimg password salt\n%s\n%s\n",
                                         seed, salt_name);
    CLEANUP_FREE char *hex = sha256_string (text);
    if (!hex)
      return NULL;
    for (size_t i = 0; i < sizeof rbytes; ++i) {
      unsigned v;
      sscanf (hex + 2 * i, "%2x", &v);
      rbytes[i] = (unsigned char) v;
    }
    setting = crypt_gensalt_ra ("$y$", 0, (const char *) rbytes,
                                sizeof rbytes);
  }
  else
    setting = crypt_gensalt_ra ("$y$", 0, NULL, 0);
  if (!setting) {
    error_errno ("hashing the password of %s: crypt_gensalt", salt_name);
    return NULL;
  }
  data = xcalloc (1, sizeof *data);
  if (crypt_rn (clear, setting, data, sizeof *data) == NULL ||
      data->output[0] == '*') {
    error_errno ("hashing the password of %s: crypt", salt_name);
  }
  else
    hash = xstrdup (data->output);
  explicit_bzero (data, sizeof *data);
  free (data);
  return hash;
}

char *
sysconfig_hash_password_file (const struct profile *p, const char *path,
                              const char *what, const char *salt_name)
{
  size_t len = 0;
  char *clear = read_whole_file (path, &len);
  char *hash;

  if (!clear) {
    error_errno ("%s: password file %s", what, path);
    return NULL;
  }
  /* One line: the password, without its newline. */
  len = strcspn (clear, "\n");
  if (len > 0 && clear[len - 1] == '\r')
    len--;
  if (len == 0) {
    error ("%s: password file %s is empty", what, path);
    free (clear);
    return NULL;
  }
  clear[len] = '\0';
  hash = sysconfig_hash_password (p, clear, salt_name);
  explicit_bzero (clear, len);
  free (clear);
  return hash;
}

/* Lines of a database, split into fields: a small editable table. */
struct table {
  struct strv lines;
};

static void
table_load (struct table *t, const struct captured *c)
{
  const char *s = c->buf ? c->buf : "";
  const char *end = s + c->len;

  memset (t, 0, sizeof *t);
  while (s < end) {
    const char *nl = memchr (s, '\n', end - s);
    size_t n = nl ? (size_t) (nl - s) : (size_t) (end - s);
    char *line = xmalloc (n + 1);
    memcpy (line, s, n);
    line[n] = '\0';
    if (n > 0)
      strv_add (&t->lines, line);
    free (line);
    s += n + 1;
  }
}

static void
table_store (struct table *t, struct captured *c)
{
  size_t len = 0;
  char *buf;

  for (size_t i = 0; i < t->lines.len; ++i)
    len += strlen (t->lines.v[i]) + 1;
  buf = xmalloc (len + 1);
  len = 0;
  for (size_t i = 0; i < t->lines.len; ++i) {
    size_t n = strlen (t->lines.v[i]);
    memcpy (buf + len, t->lines.v[i], n);
    buf[len + n] = '\n';
    len += n + 1;
  }
  buf[len] = '\0';
  if (c->buf)
    explicit_bzero (c->buf, c->len);
  free (c->buf);
  c->buf = buf;
  c->len = len;
  strv_free (&t->lines);
}

/* Field n of a line (caller frees). */
static char *
field (const char *line, int n)
{
  const char *s = line;
  for (int i = 0; i < n && s; ++i) {
    s = strchr (s, ':');
    if (s)
      s++;
  }
  if (!s)
    return xstrdup ("");
  {
    size_t len = strcspn (s, ":");
    char *r = xmalloc (len + 1);
    memcpy (r, s, len);
    r[len] = '\0';
    return r;
  }
}

/* Replace field n of line i. */
static void
set_field (struct table *t, size_t i, int n, const char *value)
{
  char *line = t->lines.v[i];
  char *s = line, *e, *r;
  for (int k = 0; k < n; ++k) {
    char *c = strchr (s, ':');
    if (!c) {
      /* Too few fields: pad. */
      char *padded = xasprintf ("%s:", line);
      free (line);
      t->lines.v[i] = line = padded;
      set_field (t, i, n, value);
      return;
    }
    s = c + 1;
  }
  e = s + strcspn (s, ":");
  r = xasprintf ("%.*s%s%s", (int) (s - line), line, value, e);
  free (line);
  t->lines.v[i] = r;
}

static ssize_t
table_find (const struct table *t, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; i < t->lines.len; ++i)
    if (strncmp (t->lines.v[i], name, n) == 0 && t->lines.v[i][n] == ':')
      return (ssize_t) i;
  return -1;
}

/* Is id used in field n of any line? */
static bool
table_id_used (const struct table *t, int n, long long id)
{
  for (size_t i = 0; i < t->lines.len; ++i) {
    CLEANUP_FREE char *f = field (t->lines.v[i], n);
    if (*f && strtoll (f, NULL, 10) == id)
      return true;
  }
  return false;
}

int
sysconfig_lookup_id (const struct captured *db, const char *name,
                     long long *id_rtn)
{
  struct table t;
  ssize_t i;
  char *end;

  errno = 0;
  *id_rtn = strtoll (name, &end, 10);
  if (*name && *end == '\0' && errno == 0 && *id_rtn >= 0)
    return 0;
  table_load (&t, db);
  i = table_find (&t, name);
  if (i >= 0) {
    CLEANUP_FREE char *f = field (t.lines.v[i], 2);
    *id_rtn = strtoll (f, NULL, 10);
  }
  strv_free (&t.lines);
  return i >= 0 ? 0 : -1;
}

/* Add name to the member list (field n) of line i. */
static void
add_member (struct table *t, size_t i, int n, const char *name)
{
  CLEANUP_FREE char *members = field (t->lines.v[i], n);
  CLEANUP_FREE char *list = NULL;
  char *tok, *save = NULL;

  for (tok = strtok_r (members, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save))
    if (STREQ (tok, name))
      return;
  list = field (t->lines.v[i], n);
  free (members);
  members = *list ? xasprintf ("%s,%s", list, name) : xstrdup (name);
  set_field (t, i, n, members);
}

int
sysconfig_edit_accounts (const struct sysconfig *c, struct accounts *a,
                         uid_t *uids, gid_t *gids)
{
  struct table passwd, shadow, group, gshadow;
  CLEANUP_FREE char *days = xasprintf ("%lld",
                                       (long long) entry_epoch () / 86400);
  ssize_t i;
  int ret = -1;

  /* A system without shadow passwords (mmdebstrap's essential variant)
   * is left as it is, unless accounts were asked for.
   */
  if (!a->shadow.e && !c->root_hash && c->nusers == 0) {
    debug ("system configuration: no /etc/shadow: accounts left alone");
    return 0;
  }
  if (!a->passwd.e || !a->shadow.e || !a->group.e) {
    error ("system configuration: the root filesystem has no %s",
           !a->passwd.e ? "/etc/passwd" : !a->shadow.e ? "/etc/shadow"
           : "/etc/group");
    return -1;
  }
  table_load (&passwd, &a->passwd);
  table_load (&shadow, &a->shadow);
  table_load (&group, &a->group);
  table_load (&gshadow, &a->gshadow);

  /* root: the password, or locked. */
  i = table_find (&shadow, "root");
  if (i < 0) {
    error ("system configuration: /etc/shadow has no root entry");
    goto out;
  }
  set_field (&shadow, i, 1, c->root_hash ? c->root_hash : "!");
  if (c->root_hash)
    set_field (&shadow, i, 2, days);

  for (size_t u = 0; u < c->nusers; ++u) {
    const struct user_cfg *uc = &c->users[u];
    long long uid = uc->uid, gid;
    ssize_t pi = table_find (&passwd, uc->name);

    if (pi >= 0) {
      /* An account of the base: keep its ids, set what was asked. */
      CLEANUP_FREE char *fu = field (passwd.lines.v[pi], 2);
      CLEANUP_FREE char *fg = field (passwd.lines.v[pi], 3);
      uid = strtoll (fu, NULL, 10);
      gid = strtoll (fg, NULL, 10);
      set_field (&passwd, pi, 6, uc->shell);
    }
    else {
      CLEANUP_FREE char *home = NULL;
      if (uid < 0) {
        /* Like adduser: the first id from 1000 free as uid and gid. */
        for (uid = 1000; uid < 60000; ++uid)
          if (!table_id_used (&passwd, 2, uid) &&
              !table_id_used (&group, 2, uid))
            break;
      }
      else if (table_id_used (&passwd, 2, uid)) {
        error ("[user %s] uid = %lld: used by another account", uc->name,
               uid);
        goto out;
      }
      gid = uid;
      if (table_find (&group, uc->name) >= 0) {
        error ("[user %s]: a group of that name exists in the root "
               "filesystem", uc->name);
        goto out;
      }
      if (table_id_used (&group, 2, gid)) {
        error ("[user %s]: gid %lld is used by another group", uc->name,
               gid);
        goto out;
      }
      strv_addf (&passwd.lines, "%s:x:%lld:%lld:%s:%s:%s", uc->name, uid,
                 gid, uc->comment ? uc->comment : "", uc->home, uc->shell);
      strv_addf (&group.lines, "%s:x:%lld:", uc->name, gid);
      strv_addf (&gshadow.lines, "%s:!::", uc->name);
    }
    i = table_find (&shadow, uc->name);
    if (i < 0) {
      strv_addf (&shadow.lines, "%s:!:%s:0:99999:7:::", uc->name, days);
      i = (ssize_t) shadow.lines.len - 1;
    }
    set_field (&shadow, i, 1, uc->hash ? uc->hash : "!");
    set_field (&shadow, i, 2, days);
    for (size_t g = 0; uc->groups[g]; ++g) {
      ssize_t gi = table_find (&group, uc->groups[g]);
      ssize_t si = table_find (&gshadow, uc->groups[g]);
      if (gi < 0) {
        error ("[user %s] groups: the root filesystem has no group '%s'",
               uc->name, uc->groups[g]);
        goto out;
      }
      add_member (&group, gi, 3, uc->name);
      if (si >= 0)
        add_member (&gshadow, si, 3, uc->name);
    }
    uids[u] = (uid_t) uid;
    gids[u] = (gid_t) gid;
  }
  table_store (&passwd, &a->passwd);
  table_store (&shadow, &a->shadow);
  table_store (&group, &a->group);
  if (a->gshadow.e)
    table_store (&gshadow, &a->gshadow);
  ret = 0;
 out:
  strv_free (&passwd.lines);
  strv_free (&shadow.lines);
  strv_free (&group.lines);
  strv_free (&gshadow.lines);
  return ret;
}
