/* mkvmimg modify: what the native path (modify.c) and the libguestfs
 * fallback (modify-guestfs.c) share.
 */
#ifndef MKVMIMG_MODIFY_H
#define MKVMIMG_MODIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "mkvmimg.h"

struct modify_opts {
  struct strv adds;             /* --add SRC:DEST[:MODE[:UID:GID]] */
  struct strv removes;          /* --remove PATH */
  struct strv modules;          /* --module DIR|KO */
  char *load;                   /* --load auto|boot */
  struct strv ssh_keys;         /* --ssh-key FILE */
  char *password_file;          /* --root-password-file FILE */
  char *cmdline;                /* --cmdline TEXT */
  struct strv initramfs_adds;   /* --initramfs-add SRC:DEST */
  char *profile;                /* --profile FRAGMENT */
  char *overlay;                /* --overlay OUT */
  char *format;                 /* --format */
};

/* One --add argument: SRC, DEST (normalised, relative), and the mode and
 * owner when given.  -1 on a usage error (reported).
 */
struct modify_add {
  char *src, *dest;
  bool set_mode, set_owner;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};
int modify_parse_add (const char *arg, struct modify_add *a);
void modify_add_free (struct modify_add *a);

/* The first line of the file, hashed with yescrypt.  Caller frees. */
char *modify_hash_password (const char *file);
/* /etc/shadow text with root's password field set to hash.  Caller
 * frees.
 */
char *modify_new_shadow (const char *old, const char *hash);
/* A grub.cfg with a new command line (regenerated when mkvmimg wrote
 * it).  Caller frees; NULL with the error reported.
 */
char *modify_new_grub_cfg (const char *old, const char *uuid,
                           const char *cmdline);
/* authorized_keys text with the keys of the files appended (those not
 * there yet).  Caller frees; NULL with the error reported.
 */
char *modify_authorized_keys (const char *old, const struct strv *files);

/* Make the changes through libguestfs on the overlay (qcow2) of image,
 * for roots that are not ext2/3/4.  0 or -1 (reported).
 */
int modify_guestfs (const char *image, const char *overlay,
                    const struct modify_opts *o);

#endif /* MKVMIMG_MODIFY_H */
