/* Shared by sysconfig.c and sysconfig-users.c. */
#ifndef MKVMIMG_SYSCONFIG_INT_H
#define MKVMIMG_SYSCONFIG_INT_H

#include <sys/types.h>

#include "mkvmimg.h"
#include "entries.h"
#include "profile.h"
#include "sysconfig.h"

struct user_cfg {
  const char *name;
  long long uid;                /* -1: allocated */
  char **groups;                /* supplementary groups */
  const char *shell, *comment;
  char *home;                   /* absolute */
  char *hash;                   /* crypt hash, or NULL: locked */
  char *keys;                   /* authorized_keys text, or NULL */
};

struct file_cfg {
  const char *name;             /* the section name, "/etc/motd" */
  char *path;                   /* normalised: "etc/motd" */
  bool dir;
  const char *content;          /* or source */
  char *source;
  mode_t mode;
  char *owner, *group;          /* names or numbers */
};

struct sysconfig {
  const struct profile *p;
  const char *hostname, *timezone, *locale, *serial, *network, *gateway;
  char **addresses, **dns;
  char *root_hash;              /* NULL: root is locked */
  char *root_keys;              /* authorized_keys text, or NULL */
  struct user_cfg *users;
  size_t nusers;
  struct file_cfg *files;
  size_t nfiles;
};

/* A captured file: its entry (for the metadata) and its data. */
struct captured {
  struct archive_entry *e;
  char *buf;
  size_t len;
};

/* The account databases from the stream. */
struct accounts {
  struct captured passwd, shadow, group, gshadow;
};

/* Hash a clear-text password (yescrypt); with [image] seed set, the
 * salt comes from the seed and salt_name.  Caller frees.  NULL on error.
 */
char *sysconfig_hash_password (const struct profile *p, const char *clear,
                               const char *salt_name);

/* Read a password file, hash it, wipe the clear text.  NULL on error. */
char *sysconfig_hash_password_file (const struct profile *p,
                                    const char *path, const char *what,
                                    const char *salt_name);

/* Edit the account databases: root's password, the [user]s.  The uid
 * and gid of each user are returned in the arrays (nusers long).  0 or
 * -1.
 */
int sysconfig_edit_accounts (const struct sysconfig *c, struct accounts *a,
                             uid_t *uids, gid_t *gids);

/* uid/gid of a user or group name in the databases (or a number). */
int sysconfig_lookup_id (const struct captured *db, const char *name,
                         long long *id_rtn);

#endif /* MKVMIMG_SYSCONFIG_INT_H */
