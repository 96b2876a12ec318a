/* System configuration: a transform sink over the root's entries. */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "profile-keys.h"
#include "sysconfig-int.h"

bool
sysconfig_wanted (const struct profile *p)
{
  const char *source = profile_get (p, "rootfs", NULL, "source");

  if ((source && STREQ (source, "debootstrap")) ||
      profile_count (p, "user") > 0 || profile_count (p, "file") > 0)
    return true;
  /* A [system] key set to something else than its default ("profile
   * check" prints every default: that alone changes nothing).
   */
  for (const struct profile_key *k = profile_keys; k->section; ++k)
    if (STREQ (k->section, "system") &&
        profile_is_set (p, "system", NULL, k->key) &&
        (!k->def || !STREQ (k->def, profile_get (p, "system", NULL, k->key))))
      return true;
  return false;
}

/* An authorized_keys file: read and check that it holds keys. */
static char *
read_keys (const char *path, const char *what)
{
  size_t len;
  char *text = read_whole_file (path, &len);

  if (!text) {
    error_errno ("%s: %s", what, path);
    return NULL;
  }
  if (!strstr (text, "ssh-") && !strstr (text, "ecdsa-") &&
      !strstr (text, "sk-")) {
    error ("%s: %s holds no SSH public key", what, path);
    free (text);
    return NULL;
  }
  if (len > 0 && text[len - 1] != '\n') {
    char *t = xasprintf ("%s\n", text);
    free (text);
    text = t;
  }
  return text;
}

/* "$y$...", "$6$...", "!", "*": a crypt hash or a lock, one field. */
static int
check_hash (const char *hash, const char *what)
{
  if (strpbrk (hash, ":\n") ||
      (hash[0] != '$' && hash[0] != '!' && hash[0] != '*')) {
    error ("%s: not a crypt hash (such as one made by 'mkpasswd' or "
           "'openssl passwd -6'); for a clear text password use a "
           "password file", what);
    return -1;
  }
  return 0;
}

/* The hash of root's or a user's password, from the hash key or the
 * file key.  0 with *hash_rtn NULL when neither is set.
 */
static int
password_of (const struct profile *p, const char *section, const char *name,
             const char *hash_key, const char *file_key, const char *salt,
             char **hash_rtn)
{
  const char *hash = profile_get (p, section, name, hash_key);
  CLEANUP_FREE char *file = NULL;
  CLEANUP_FREE char *what = NULL;

  *hash_rtn = NULL;
  if (profile_get_path (p, section, name, file_key, &file) == -1)
    return -1;
  what = name ? xasprintf ("[%s %s] %s", section, name, file ? file_key
                           : hash_key)
    : xasprintf ("[%s] %s", section, file ? file_key : hash_key);
  if (hash && file) {
    error ("%s: set %s or %s, not both", what, hash_key, file_key);
    return -1;
  }
  if (hash) {
    if (check_hash (hash, what) == -1)
      return -1;
    *hash_rtn = xstrdup (hash);
    return 0;
  }
  if (file) {
    *hash_rtn = sysconfig_hash_password_file (p, file, what, salt);
    return *hash_rtn ? 0 : -1;
  }
  return 0;
}

static int
parse_owner (const char *owner, char **user_rtn, char **group_rtn)
{
  const char *colon = strchr (owner, ':');

  if (colon) {
    *user_rtn = xasprintf ("%.*s", (int) (colon - owner), owner);
    *group_rtn = xstrdup (colon + 1);
  }
  else {
    *user_rtn = xstrdup (owner);
    *group_rtn = xstrdup (owner);
  }
  return 0;
}

struct sysconfig *
sysconfig_prepare (const struct profile *p)
{
  struct sysconfig *c = xcalloc (1, sizeof *c);
  CLEANUP_FREE char *root_keys = NULL;

  c->p = p;
  c->hostname = profile_get (p, "system", NULL, "hostname");
  c->timezone = profile_get (p, "system", NULL, "timezone");
  c->locale = profile_get (p, "system", NULL, "locale");
  c->serial = profile_get (p, "system", NULL, "serial-console");
  c->network = profile_get (p, "system", NULL, "network");
  c->gateway = profile_get (p, "system", NULL, "gateway");
  c->addresses = profile_get_list (p, "system", NULL, "address");
  c->dns = profile_get_list (p, "system", NULL, "dns");
  if (STREQ (c->network, "static") && !c->addresses[0]) {
    error ("[system] network = static needs an address");
    goto error;
  }
  if (!STREQ (c->network, "static") && c->addresses[0]) {
    error ("[system] address is set: set network = static");
    goto error;
  }
  if (strpbrk (c->hostname, " \t/:") || !*c->hostname) {
    error ("[system] hostname = %s: not a host name", c->hostname);
    goto error;
  }
  if (password_of (p, "system", NULL, "root-password", "root-password-file",
                   "root", &c->root_hash) == -1)
    goto error;
  if (profile_get_path (p, "system", NULL, "root-ssh-key", &root_keys) == -1)
    goto error;
  if (root_keys) {
    c->root_keys = read_keys (root_keys, "[system] root-ssh-key");
    if (!c->root_keys)
      goto error;
  }

  c->nusers = profile_count (p, "user");
  c->users = xcalloc (c->nusers + 1, sizeof *c->users);
  for (size_t i = 0; i < c->nusers; ++i) {
    struct user_cfg *u = &c->users[i];
    const char *name = profile_section_name (p, "user", i);
    CLEANUP_FREE char *keys = NULL;

    u->name = name;
    if (!*name || strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789_-")
        != strlen (name) || name[0] == '-' || strlen (name) > 32) {
      error ("[user %s]: not a user name (lower case letters, digits, "
             "'_' and '-')", name);
      goto error;
    }
    u->uid = profile_is_set (p, "user", name, "uid")
      ? profile_get_int (p, "user", name, "uid") : -1;
    u->groups = profile_get_list (p, "user", name, "groups");
    u->shell = profile_get (p, "user", name, "shell");
    u->comment = profile_get (p, "user", name, "comment");
    u->home = profile_is_set (p, "user", name, "home")
      ? xstrdup (profile_get (p, "user", name, "home"))
      : xasprintf ("/home/%s", name);
    if ((u->comment && strpbrk (u->comment, ":\n")) ||
        strpbrk (u->shell, ":\n") ||
        strpbrk (u->home, ":\n") || u->home[0] != '/' ||
        STREQ (u->home, "/")) {
      error ("[user %s]: comment, shell and home may not hold ':'; home "
             "is an absolute path", name);
      goto error;
    }
    if (password_of (p, "user", name, "password", "password-file", name,
                     &u->hash) == -1)
      goto error;
    if (profile_get_path (p, "user", name, "ssh-key", &keys) == -1)
      goto error;
    if (keys) {
      CLEANUP_FREE char *what = xasprintf ("[user %s] ssh-key", name);
      u->keys = read_keys (keys, what);
      if (!u->keys)
        goto error;
    }
  }

  c->nfiles = profile_count (p, "file");
  c->files = xcalloc (c->nfiles + 1, sizeof *c->files);
  for (size_t i = 0; i < c->nfiles; ++i) {
    struct file_cfg *f = &c->files[i];
    const char *name = profile_section_name (p, "file", i);
    const char *type = profile_get (p, "file", name, "type");
    const char *mode = profile_get (p, "file", name, "mode");
    const char *owner = profile_get (p, "file", name, "owner");
    char *end;

    f->name = name;
    if (name[0] != '/') {
      error ("[file %s]: the name is an absolute path in the image", name);
      goto error;
    }
    f->path = entry_path_normalise (name);
    if (!f->path)
      goto error;
    if (STREQ (f->path, ".")) {
      error ("[file %s]: not the root directory", name);
      goto error;
    }
    f->dir = STREQ (type, "directory");
    f->content = profile_get (p, "file", name, "content");
    if (profile_get_path (p, "file", name, "source", &f->source) == -1)
      goto error;
    if (f->dir && (f->content || f->source)) {
      error ("[file %s]: a directory has no content or source", name);
      goto error;
    }
    if (!f->dir && !f->content && !f->source) {
      error ("[file %s]: set content or source", name);
      goto error;
    }
    if (f->content && f->source) {
      error ("[file %s]: set content or source, not both", name);
      goto error;
    }
    if (f->source && access (f->source, R_OK) == -1) {
      error_errno ("[file %s] source %s", name, f->source);
      goto error;
    }
    if (mode) {
      errno = 0;
      f->mode = (mode_t) strtoul (mode, &end, 8);
      if (errno || *end || f->mode > 07777 || !*mode) {
        error ("[file %s] mode = %s: not an octal mode", name, mode);
        goto error;
      }
    }
    else
      f->mode = f->dir ? 0755 : 0644;
    parse_owner (owner, &f->owner, &f->group);
  }
  return c;

 error:
  sysconfig_free (c);
  return NULL;
}

void
sysconfig_free (struct sysconfig *c)
{
  if (!c)
    return;
  for (char **s = c->addresses; s && *s; ++s)
    free (*s);
  free (c->addresses);
  for (char **s = c->dns; s && *s; ++s)
    free (*s);
  free (c->dns);
  if (c->root_hash)
    explicit_bzero (c->root_hash, strlen (c->root_hash));
  free (c->root_hash);
  free (c->root_keys);
  for (size_t i = 0; i < c->nusers; ++i) {
    struct user_cfg *u = &c->users[i];
    for (char **s = u->groups; s && *s; ++s)
      free (*s);
    free (u->groups);
    free (u->hash);
    free (u->keys);
    free (u->home);
  }
  free (c->users);
  for (size_t i = 0; i < c->nfiles; ++i) {
    free (c->files[i].path);
    free (c->files[i].source);
    free (c->files[i].owner);
    free (c->files[i].group);
  }
  free (c->files);
  free (c);
}

/* The transform. */

struct sc_sink {
  struct entry_sink sink;
  struct entry_sink *next;
  struct sysconfig *c;
  struct accounts acc;
  struct captured *skel;        /* etc/skel's regular files */
  size_t nskel;
  bool has_sshd, has_systemd, has_dbus, tz_found, has_home;
};

static void
captured_free (struct captured *c)
{
  if (c->e)
    archive_entry_free (c->e);
  if (c->buf)
    explicit_bzero (c->buf, c->len);
  free (c->buf);
  memset (c, 0, sizeof *c);
}

/* Read an entry's data into memory. */
static int
capture (struct captured *c, struct archive_entry *e, struct entry_data *data)
{
  const void *buf;
  size_t len;
  int64_t off;
  int r;

  captured_free (c);
  c->e = archive_entry_clone (e);
  c->buf = xmalloc (1);
  c->len = 0;
  while (data && (r = entry_data_next (data, &buf, &len, &off)) == 1) {
    size_t end = (size_t) off + len;
    if (end > c->len) {
      c->buf = xrealloc (c->buf, end + 1);
      memset (c->buf + c->len, 0, end - c->len);
      c->len = end;
    }
    memcpy (c->buf + off, buf, len);
  }
  if (data && r == -1)
    return -1;
  c->buf[c->len] = '\0';
  return 0;
}

static bool
generated_path (const struct sc_sink *s, const char *path)
{
  static const char *const paths[] = {
    "etc/hostname", "etc/hosts", "etc/machine-id", "etc/timezone",
    "etc/localtime", "etc/default/locale", "var/lib/dbus/machine-id",
    "etc/systemd/network/80-mkvmimg.network",
    NULL
  };
  for (size_t i = 0; paths[i]; ++i)
    if (STREQ (path, paths[i]))
      return true;
  for (size_t i = 0; i < s->c->nfiles; ++i)
    if (STREQ (path, s->c->files[i].path))
      return true;
  return false;
}

static int
sc_put (struct entry_sink *sink, struct archive_entry *e,
        struct entry_data *data)
{
  struct sc_sink *s = sink->opaque;
  const char *path = archive_entry_pathname (e);
  mode_t type = archive_entry_filetype (e);
  struct captured *db = NULL;

  if (STREQ (path, "usr/sbin/sshd"))
    s->has_sshd = true;
  else if (STREQ (path, "lib/systemd/systemd") ||
           STREQ (path, "usr/lib/systemd/systemd"))
    s->has_systemd = true;
  else if (STREQ (path, "var/lib/dbus"))
    s->has_dbus = true;
  else if (STREQ (path, "home") && type == AE_IFDIR)
    s->has_home = true;
  else if (STRPREFIX (path, "usr/share/zoneinfo/") &&
           STREQ (path + strlen ("usr/share/zoneinfo/"), s->c->timezone))
    s->tz_found = true;

  if (STREQ (path, "etc/passwd"))
    db = &s->acc.passwd;
  else if (STREQ (path, "etc/shadow"))
    db = &s->acc.shadow;
  else if (STREQ (path, "etc/group"))
    db = &s->acc.group;
  else if (STREQ (path, "etc/gshadow"))
    db = &s->acc.gshadow;
  if (db) {
    if (type != AE_IFREG) {
      error ("system configuration: /%s is not a regular file", path);
      return -1;
    }
    return capture (db, e, data);
  }
  /* Host keys are made at first boot, so that no two images share them. */
  if (STRPREFIX (path, "etc/ssh/ssh_host_"))
    return 0;
  if (generated_path (s, path))
    return 0;
  if (STRPREFIX (path, "etc/skel/") && type == AE_IFREG &&
      !archive_entry_hardlink (e) && archive_entry_size (e) < 1024 * 1024) {
    struct captured *c;
    s->skel = xrealloc (s->skel, (s->nskel + 1) * sizeof *s->skel);
    c = &s->skel[s->nskel++];
    memset (c, 0, sizeof *c);
    if (capture (c, e, data) == -1)
      return -1;
    /* Pass the file on from memory. */
    {
      struct entry_data d = ENTRY_DATA_NONE;
      d.buf = c->buf;
      d.len = c->len;
      return s->next->put (s->next, e, &d);
    }
  }
  return s->next->put (s->next, e, data);
}

struct entry_sink *
sysconfig_sink_new (struct sysconfig *c, struct entry_sink *next)
{
  struct sc_sink *s = xcalloc (1, sizeof *s);

  s->sink.put = sc_put;
  s->sink.finish = NULL;
  s->sink.opaque = s;
  s->next = next;
  s->c = c;
  return &s->sink;
}

void
sysconfig_sink_free (struct entry_sink *sink)
{
  struct sc_sink *s;

  if (!sink)
    return;
  s = sink->opaque;
  captured_free (&s->acc.passwd);
  captured_free (&s->acc.shadow);
  captured_free (&s->acc.group);
  captured_free (&s->acc.gshadow);
  for (size_t i = 0; i < s->nskel; ++i)
    captured_free (&s->skel[i]);
  free (s->skel);
  free (s);
}

/* An entry with an owner and mode, timestamps as generated entries. */
static struct archive_entry *
new_entry (const char *path, mode_t type, mode_t mode, long long uid,
           long long gid)
{
  struct archive_entry *e = archive_entry_new ();
  time_t t = entry_epoch ();

  archive_entry_copy_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, mode & 07777);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, t, 0);
  archive_entry_set_atime (e, t, 0);
  archive_entry_set_ctime (e, t, 0);
  return e;
}

static int
emit_owned (struct entry_sink *next, const char *path, mode_t type,
            mode_t mode, long long uid, long long gid, const void *buf,
            size_t len)
{
  struct archive_entry *e = new_entry (path, type, mode, uid, gid);
  struct entry_data d = ENTRY_DATA_NONE;
  int r;

  if (type == AE_IFREG) {
    archive_entry_set_size (e, len);
    d.buf = buf;
    d.len = len;
  }
  r = next->put (next, e, type == AE_IFREG ? &d : NULL);
  archive_entry_free (e);
  return r;
}

/* A captured database, written back with its own metadata. */
static int
emit_captured (struct entry_sink *next, const struct captured *c)
{
  struct entry_data d = ENTRY_DATA_NONE;
  struct archive_entry *e;
  int r;

  if (!c->e)
    return 0;
  e = archive_entry_clone (c->e);
  archive_entry_set_size (e, c->len);
  d.buf = c->buf;
  d.len = c->len;
  r = next->put (next, e, &d);
  archive_entry_free (e);
  return r;
}

static int
emit_text (struct entry_sink *next, const char *path, mode_t mode,
           const char *text)
{
  return entry_emit_file (next, path, mode, text, strlen (text));
}

static const char ssh_keygen_unit[] =
  "# Generated by mkvmimg: the image carries no SSH host keys, so that\n"
  "# no two machines share them; they are made at the first boot.\n"
  "[Unit]\n"
  "Description=Generate SSH host keys\n"
  "DefaultDependencies=no\n"
  "After=local-fs.target\n"
  "Before=ssh.service sshd.service multi-user.target\n"
  "ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key\n"
  "\n"
  "[Service]\n"
  "Type=oneshot\n"
  "ExecStart=/usr/bin/ssh-keygen -A\n"
  "RemainAfterExit=yes\n"
  "\n"
  "[Install]\n"
  "WantedBy=multi-user.target ssh.service\n";

static int
emit_network (struct sc_sink *s)
{
  struct sysconfig *c = s->c;
  struct entry_sink *next = s->next;
  CLEANUP_FREE char *text = NULL;

  if (STREQ (c->network, "none") || !s->has_systemd)
    return 0;
  text = xstrdup ("# Generated by mkvmimg.\n[Match]\nName=en* eth*\n\n"
                  "[Network]\n");
  if (STREQ (c->network, "dhcp")) {
    char *t = xasprintf ("%sDHCP=yes\n", text);
    free (text);
    text = t;
  }
  else {
    for (size_t i = 0; c->addresses[i]; ++i) {
      char *t = xasprintf ("%sAddress=%s\n", text, c->addresses[i]);
      free (text);
      text = t;
    }
    if (c->gateway) {
      char *t = xasprintf ("%sGateway=%s\n", text, c->gateway);
      free (text);
      text = t;
    }
  }
  for (size_t i = 0; c->dns[i]; ++i) {
    char *t = xasprintf ("%sDNS=%s\n", text, c->dns[i]);
    free (text);
    text = t;
  }
  if (emit_text (next, "etc/systemd/network/80-mkvmimg.network", 0644,
                 text) == -1 ||
      entry_emit_symlink (next,
                          "etc/systemd/system/multi-user.target.wants/"
                          "systemd-networkd.service",
                          "/lib/systemd/system/systemd-networkd.service")
      == -1 ||
      entry_emit_symlink (next,
                          "etc/systemd/system/sockets.target.wants/"
                          "systemd-networkd.socket",
                          "/lib/systemd/system/systemd-networkd.socket")
      == -1)
    return -1;
  return 0;
}

/* A home directory with /etc/skel's files and authorized keys. */
static int
emit_home (struct sc_sink *s, const char *home, const char *keys,
           long long uid, long long gid, bool skel)
{
  struct entry_sink *next = s->next;
  const char *rel = home + 1;

  if (skel) {
    if (emit_owned (next, rel, AE_IFDIR, 0700, uid, gid, NULL, 0) == -1)
      return -1;
    for (size_t i = 0; i < s->nskel; ++i) {
      const struct captured *c = &s->skel[i];
      const char *name = archive_entry_pathname (c->e) + strlen ("etc/skel/");
      CLEANUP_FREE char *path = xasprintf ("%s/%s", rel, name);
      if (strchr (name, '/'))
        continue;
      if (emit_owned (next, path, AE_IFREG,
                      archive_entry_perm (c->e), uid, gid, c->buf, c->len)
          == -1)
        return -1;
    }
  }
  if (keys) {
    CLEANUP_FREE char *dir = xasprintf ("%s/.ssh", rel);
    CLEANUP_FREE char *file = xasprintf ("%s/.ssh/authorized_keys", rel);
    if (emit_owned (next, dir, AE_IFDIR, 0700, uid, gid, NULL, 0) == -1 ||
        emit_owned (next, file, AE_IFREG, 0600, uid, gid, keys,
                    strlen (keys)) == -1)
      return -1;
  }
  return 0;
}

static int
emit_files (struct sc_sink *s)
{
  struct sysconfig *c = s->c;

  for (size_t i = 0; i < c->nfiles; ++i) {
    const struct file_cfg *f = &c->files[i];
    long long uid, gid;
    int r;

    if (sysconfig_lookup_id (&s->acc.passwd, f->owner, &uid) == -1) {
      error ("[file %s] owner: no user '%s' in the image", f->name,
             f->owner);
      return -1;
    }
    if (sysconfig_lookup_id (&s->acc.group, f->group, &gid) == -1) {
      error ("[file %s] owner: no group '%s' in the image", f->name,
             f->group);
      return -1;
    }
    if (f->dir)
      r = emit_owned (s->next, f->path, AE_IFDIR, f->mode, uid, gid, NULL, 0);
    else if (f->content) {
      CLEANUP_FREE char *text = NULL;
      size_t n = strlen (f->content);
      text = n && f->content[n - 1] != '\n'
        ? xasprintf ("%s\n", f->content) : xstrdup (f->content);
      r = emit_owned (s->next, f->path, AE_IFREG, f->mode, uid, gid, text,
                      strlen (text));
    }
    else {
      size_t len;
      CLEANUP_FREE char *buf = read_whole_file (f->source, &len);
      if (!buf) {
        error_errno ("[file %s] source %s", f->name, f->source);
        return -1;
      }
      r = emit_owned (s->next, f->path, AE_IFREG, f->mode, uid, gid, buf,
                      len);
    }
    if (r == -1)
      return -1;
  }
  return 0;
}

int
sysconfig_sink_end (struct entry_sink *sink)
{
  struct sc_sink *s = sink->opaque;
  struct sysconfig *c = s->c;
  struct entry_sink *next = s->next;
  CLEANUP_FREE char *hosts = NULL, *hostname = NULL, *tz = NULL;
  CLEANUP_FREE char *tzlink = NULL, *locale = NULL;
  CLEANUP_FREE uid_t *uids = xcalloc (c->nusers + 1, sizeof *uids);
  CLEANUP_FREE gid_t *gids = xcalloc (c->nusers + 1, sizeof *gids);

  hostname = xasprintf ("%s\n", c->hostname);
  hosts = xasprintf ("127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
                     c->hostname);
  if (emit_text (next, "etc/hostname", 0644, hostname) == -1 ||
      emit_text (next, "etc/hosts", 0644, hosts) == -1)
    return -1;
  /* Empty: systemd makes a new ID at each machine's first boot. */
  if (emit_text (next, "etc/machine-id", 0444, "") == -1)
    return -1;
  if (s->has_dbus &&
      entry_emit_symlink (next, "var/lib/dbus/machine-id",
                          "/etc/machine-id") == -1)
    return -1;

  if (!s->tz_found)
    warning ("[system] timezone = %s: the image has no "
             "/usr/share/zoneinfo/%s (is tzdata installed?)",
             c->timezone, c->timezone);
  tz = xasprintf ("%s\n", c->timezone);
  tzlink = xasprintf ("/usr/share/zoneinfo/%s", c->timezone);
  if (emit_text (next, "etc/timezone", 0644, tz) == -1 ||
      entry_emit_symlink (next, "etc/localtime", tzlink) == -1)
    return -1;
  locale = xasprintf ("LANG=%s\n", c->locale);
  if (emit_text (next, "etc/default/locale", 0644, locale) == -1)
    return -1;

  /* What systemd-firstboot would ask on the console at the first boot
   * (with an empty machine-id) is configured here: keep it quiet.
   */
  if (s->has_systemd &&
      entry_emit_symlink (next, "etc/systemd/system/systemd-firstboot.service",
                          "/dev/null") == -1)
    return -1;
  if (s->has_systemd && !STREQ (c->serial, "none")) {
    CLEANUP_FREE char *link =
      xasprintf ("etc/systemd/system/getty.target.wants/"
                 "serial-getty@%s.service", c->serial);
    if (entry_emit_symlink (next, link,
                            "/lib/systemd/system/serial-getty@.service")
        == -1)
      return -1;
  }
  if (emit_network (s) == -1)
    return -1;
  if (s->has_sshd && s->has_systemd) {
    if (emit_text (next, "etc/systemd/system/mkvmimg-ssh-keygen.service",
                   0644, ssh_keygen_unit) == -1 ||
        entry_emit_symlink (next,
                            "etc/systemd/system/multi-user.target.wants/"
                            "mkvmimg-ssh-keygen.service",
                            "/etc/systemd/system/mkvmimg-ssh-keygen.service")
        == -1 ||
        entry_emit_symlink (next,
                            "etc/systemd/system/ssh.service.wants/"
                            "mkvmimg-ssh-keygen.service",
                            "/etc/systemd/system/mkvmimg-ssh-keygen.service")
        == -1)
      return -1;
  }
  else {
    bool keys = c->root_keys != NULL;
    for (size_t i = 0; i < c->nusers; ++i)
      keys = keys || c->users[i].keys;
    if (keys)
      warning ("SSH keys are configured but the image has no SSH server "
               "(add openssh-server to [rootfs] include)");
  }

  if (sysconfig_edit_accounts (c, &s->acc, uids, gids) == -1)
    return -1;
  if (emit_captured (next, &s->acc.passwd) == -1 ||
      emit_captured (next, &s->acc.shadow) == -1 ||
      emit_captured (next, &s->acc.group) == -1 ||
      emit_captured (next, &s->acc.gshadow) == -1)
    return -1;
  if (c->root_keys && emit_home (s, "/root", c->root_keys, 0, 0, false) == -1)
    return -1;
  for (size_t i = 0; i < c->nusers; ++i) {
    const struct user_cfg *u = &c->users[i];
    if (STRPREFIX (u->home, "/home/") && !s->has_home) {
      if (entry_emit_dir (next, "home", 0755) == -1)
        return -1;
      s->has_home = true;
    }
    if (emit_home (s, u->home, u->keys, uids[i], gids[i], true) == -1)
      return -1;
  }
  return emit_files (s);
}
