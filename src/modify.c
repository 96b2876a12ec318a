/* mkvmimg modify: change an existing image in place, without booting it.
 *
 * The image gets a qcow2 overlay (qemu-img create -b), served read-write
 * by qemu-nbd; its ext4 root is changed through libext2fs over NBD
 * (nbd-io.c): removals first, then every addition as entries into the
 * ext4 sink.  What depends on the change is regenerated: depmod's files
 * for a new module, grub.cfg for a new command line, the initramfs with
 * the initramfs engine, the machine description.  Only when all of it
 * succeeded is the overlay committed into the image (qemu-img commit),
 * or kept with --overlay; on any failure the image is untouched.
 */
#include <config.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "mkvmimg.h"
#include "child.h"
#include "cli.h"
#include "entries.h"
#include "ext4.h"
#include "grub.h"
#include "image-open.h"
#include "initramfs.h"
#include "kernel.h"
#include "machine.h"
#include "modify.h"
#include "modules.h"
#include "nbd_output.h"
#include "nbd-io.h"
#include "profile.h"
#include "tempfiles.h"

/* What phase 1 (reading the image) finds for phase 2 (writing). */
struct target {
  struct image *img;
  const struct image_partition *root;   /* NULL: the whole disk */
  uint64_t offset, size;
  char uuid[40];                /* of the root filesystem */
  char *release;                /* the kernel release in the image */
  char *modules_prefix;         /* "lib/modules" or "usr/lib/modules" */
  char *modules_copy;           /* host copy of lib/modules/REL */
  struct strv add_dests;        /* --add DESTs, parents resolved */
  struct strv initrds;          /* /boot/initrd.img-* (image paths) */
  struct strv initrd_copies;    /* their host copies, patched */
  char *grub_cfg;               /* the new grub.cfg text, or NULL */
  char *shadow;                 /* the new /etc/shadow, or NULL */
  struct ext2_inode shadow_inode;
  char *authorized_keys;        /* the new /root/.ssh/authorized_keys */
  char *machine_initrd;         /* the patched direct-boot initrd */
};

static void
target_free (struct target *t)
{
  free (t->release);
  free (t->modules_prefix);
  free (t->modules_copy);
  strv_free (&t->add_dests);
  strv_free (&t->initrds);
  strv_free (&t->initrd_copies);
  free (t->grub_cfg);
  if (t->shadow) {
    explicit_bzero (t->shadow, strlen (t->shadow));
    free (t->shadow);
  }
  free (t->authorized_keys);
  free (t->machine_initrd);
}

/* ---- sinks that change entries on their way ---- */

struct change_sink {
  struct entry_sink sink;
  struct entry_sink *next;
  const char *prefix;           /* prepended to paths ("." becomes it) */
  bool set_owner;
  uid_t uid;
  gid_t gid;
  bool set_mode;                /* for regular files only */
  mode_t mode;
};

static int
change_put (struct entry_sink *sink, struct archive_entry *e,
            struct entry_data *data)
{
  struct change_sink *c = sink->opaque;

  if (c->prefix) {
    const char *p = archive_entry_pathname (e);
    CLEANUP_FREE char *n = STREQ (p, ".") ? xstrdup (c->prefix) :
      xasprintf ("%s/%s", c->prefix, p);
    archive_entry_copy_pathname (e, n);
  }
  if (c->set_owner) {
    archive_entry_set_uid (e, c->uid);
    archive_entry_set_gid (e, c->gid);
  }
  if (c->set_mode && archive_entry_filetype (e) == AE_IFREG)
    archive_entry_set_perm (e, c->mode);
  return c->next->put (c->next, e, data);
}

static void
change_sink_init (struct change_sink *c, struct entry_sink *next)
{
  memset (c, 0, sizeof *c);
  c->next = next;
  c->sink.put = change_put;
  c->sink.opaque = c;
}

/* ---- parsing ---- */

int
modify_parse_add (const char *arg, struct modify_add *a)
{
  CLEANUP_STRV_STRUCT struct strv parts = { 0 };
  CLEANUP_FREE char *copy = xstrdup (arg);
  char *save, *tok;

  memset (a, 0, sizeof *a);
  for (tok = strtok_r (copy, ":", &save); tok; tok = strtok_r (NULL, ":", &save))
    strv_add (&parts, tok);
  if (parts.len < 2 || parts.len == 4 || parts.len > 5) {
    usage_error ("modify", "--add %s: SRC:DEST[:MODE[:UID:GID]] expected",
                 arg);
    return -1;
  }
  if (parts.len >= 3) {
    char *end;
    unsigned long m = strtoul (parts.v[2], &end, 8);
    if (*end || m > 07777) {
      usage_error ("modify", "--add %s: bad mode %s", arg, parts.v[2]);
      return -1;
    }
    a->set_mode = true;
    a->mode = m;
  }
  if (parts.len == 5) {
    char *e1, *e2;
    unsigned long u = strtoul (parts.v[3], &e1, 10);
    unsigned long g = strtoul (parts.v[4], &e2, 10);
    if (*e1 || *e2 || !*parts.v[3] || !*parts.v[4]) {
      usage_error ("modify", "--add %s: bad UID:GID", arg);
      return -1;
    }
    a->set_owner = true;
    a->uid = u;
    a->gid = g;
  }
  a->dest = entry_path_normalise (parts.v[1]);
  if (!a->dest)
    return -1;
  a->src = xstrdup (parts.v[0]);
  return 0;
}

void
modify_add_free (struct modify_add *a)
{
  free (a->src);
  free (a->dest);
  memset (a, 0, sizeof *a);
}

/* ---- phase 1: read what the changes depend on; removals ---- */

/* Remove ino (named name in directory parent), and what is under it. */
static int
remove_inode (ext2_filsys fs, ext2_ino_t parent, const char *name,
              ext2_ino_t ino, const char *path, int depth);

struct rm_ctx {
  ext2_filsys fs;
  const char *path;
  struct strv names;
  int depth;
};

static int
rm_collect (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
            int offset, int blocksize, char *buf, void *priv)
{
  struct rm_ctx *ctx = priv;
  int len = ext2fs_dirent_name_len (dirent);

  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  strv_addf (&ctx->names, "%u %.*s", dirent->inode, len, dirent->name);
  return 0;
}

static int
remove_inode (ext2_filsys fs, ext2_ino_t parent, const char *name,
              ext2_ino_t ino, const char *path, int depth)
{
  struct ext2_inode in;
  errcode_t err;
  bool dir;

  if (depth > 256) {
    error ("remove %s: too deep", path);
    return -1;
  }
  err = ext2fs_read_inode (fs, ino, &in);
  if (err)
    goto fail;
  dir = LINUX_S_ISDIR (in.i_mode);
  if (dir) {
    struct rm_ctx ctx = { .fs = fs, .path = path };
    int r = 0;
    err = ext2fs_dir_iterate2 (fs, ino, 0, NULL, rm_collect, &ctx);
    if (err) {
      strv_free (&ctx.names);
      goto fail;
    }
    for (size_t i = 0; r == 0 && i < ctx.names.len; ++i) {
      unsigned child;
      int n;
      if (sscanf (ctx.names.v[i], "%u %n", &child, &n) != 1)
        continue;
      CLEANUP_FREE char *cpath = xasprintf ("%s/%s", path, ctx.names.v[i] + n);
      r = remove_inode (fs, ino, ctx.names.v[i] + n, child, cpath, depth + 1);
    }
    strv_free (&ctx.names);
    if (r == -1)
      return -1;
    err = ext2fs_read_inode (fs, ino, &in);
    if (err)
      goto fail;
  }
  err = ext2fs_unlink (fs, parent, name, ino, 0);
  if (err)
    goto fail;
  if (dir) {
    struct ext2_inode pin;
    in.i_links_count = 0;
    err = ext2fs_read_inode (fs, parent, &pin);
    if (err)
      goto fail;
    if (pin.i_links_count > 2)
      pin.i_links_count--;
    err = ext2fs_write_inode (fs, parent, &pin);
    if (err)
      goto fail;
  }
  else if (in.i_links_count > 0)
    in.i_links_count--;
  if (in.i_links_count == 0) {
    blk64_t acl = ext2fs_file_acl_block (fs, &in);
    if (ext2fs_inode_has_valid_blocks2 (fs, &in)) {
      err = ext2fs_punch (fs, ino, &in, NULL, 0, ~0ULL);
      if (err)
        goto fail;
    }
    if (acl) {
      __u32 count;
      char *block = xmalloc (fs->blocksize);
      err = ext2fs_adjust_ea_refcount3 (fs, acl, block, -1, &count, ino);
      free (block);
      if (err)
        goto fail;
      if (count == 0)
        ext2fs_block_alloc_stats2 (fs, acl, -1);
      ext2fs_file_acl_block_set (fs, &in, 0);
    }
    in.i_dtime = fs->now ? fs->now : time (NULL);
    ext2fs_inode_alloc_stats2 (fs, ino, -1, dir);
  }
  err = ext2fs_write_inode (fs, ino, &in);
  if (err)
    goto fail;
  return 0;

 fail:
  error ("remove %s: %s", path, error_message (err));
  return -1;
}

static int
remove_path (ext2_filsys fs, const char *arg)
{
  CLEANUP_FREE char *rel = entry_path_normalise (arg);
  CLEANUP_FREE char *parent_path = NULL;
  const char *name, *slash;
  ext2_ino_t parent, ino;
  errcode_t err;
  int r;

  if (!rel)
    return -1;
  if (STREQ (rel, ".")) {
    error ("remove %s: that is the root directory", arg);
    return -1;
  }
  slash = strrchr (rel, '/');
  parent_path = slash ? xasprintf ("/%.*s", (int) (slash - rel), rel)
    : xstrdup ("/");
  name = slash ? slash + 1 : rel;
  r = ext2_lookup (fs, parent_path, true, &parent);
  if (r > 0) {
    error ("remove /%s: no such file or directory", rel);
    return -1;
  }
  if (r == -1)
    return -1;
  err = ext2fs_lookup (fs, parent, name, strlen (name), NULL, &ino);
  if (err == EXT2_ET_FILE_NOT_FOUND) {
    error ("remove /%s: no such file or directory", rel);
    return -1;
  }
  if (err) {
    error ("remove /%s: %s", rel, error_message (err));
    return -1;
  }
  {
    CLEANUP_FREE char *path = xasprintf ("/%s", rel);
    info ("removing %s", path);
    return remove_inode (fs, parent, name, ino, path, 0);
  }
}

/* Copy a directory of the image (recursively, regular files and
 * directories; symlinks as symlinks) to the host.
 */
static int
copy_tree_out (ext2_filsys fs, const char *path, const char *host, int depth)
{
  CLEANUP_STRV_STRUCT struct strv names = { 0 };
  int r;

  if (depth > 32)
    return 0;
  if (mkdir (host, 0755) == -1 && errno != EEXIST) {
    error_errno ("mkdir %s", host);
    return -1;
  }
  r = ext2_list_dir (fs, path, &names);
  if (r != 0)
    return r > 0 ? 0 : -1;
  for (size_t i = 0; i < names.len; ++i) {
    CLEANUP_FREE char *p = xasprintf ("%s/%s", path, names.v[i]);
    CLEANUP_FREE char *h = xasprintf ("%s/%s", host, names.v[i]);
    struct ext2_inode in;
    ext2_ino_t ino;
    errcode_t err;

    if (ext2_lookup (fs, p, false, &ino) != 0)
      return -1;
    err = ext2fs_read_inode (fs, ino, &in);
    if (err) {
      error ("read %s: %s", p, error_message (err));
      return -1;
    }
    if (LINUX_S_ISDIR (in.i_mode)) {
      if (copy_tree_out (fs, p, h, depth + 1) == -1)
        return -1;
    }
    else if (LINUX_S_ISREG (in.i_mode)) {
      if (ext2_copy_out (fs, ino, p, h) == -1)
        return -1;
    }
    /* Symlinks (build, source) are not needed by depmod. */
  }
  return 0;
}

/* The kernel release: the one directory under lib/modules, or the
 * release of the one /boot/vmlinuz-*.
 */
static char *
find_release (ext2_filsys fs)
{
  CLEANUP_STRV_STRUCT struct strv rels = { 0 };
  CLEANUP_STRV_STRUCT struct strv boot = { 0 };
  char *found = NULL;
  int n = 0;

  if (ext2_list_dir (fs, "/lib/modules", &rels) == -1 ||
      ext2_list_dir (fs, "/boot", &boot) == -1)
    return NULL;
  for (size_t i = 0; i < boot.len; ++i)
    if (STRPREFIX (boot.v[i], "vmlinuz-")) {
      free (found);
      found = xstrdup (boot.v[i] + 8);
      n++;
    }
  if (n == 1)
    return found;
  free (found);
  found = NULL;
  if (rels.len == 1)
    return xstrdup (rels.v[0]);
  error ("modify: cannot tell the kernel release of the image: %d kernels "
         "in /boot and %zu directories in /lib/modules", n, rels.len);
  return NULL;
}

/* "set timeout=N" of a grub.cfg. */
static int
grub_timeout (const char *text)
{
  const char *p = strstr (text, "set timeout=");
  return p ? atoi (p + 12) : 5;
}

/* The argument of the first "WORD ARG" line (single quotes removed). */
static char *
grub_word_arg (const char *text, const char *word)
{
  size_t wl = strlen (word);

  for (const char *l = text; l && *l;
       l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL) {
    const char *p = l + strspn (l, " \t");
    if (strncmp (p, word, wl) != 0 || (p[wl] != ' ' && p[wl] != '\t'))
      continue;
    p += wl;
    p += strspn (p, " \t");
    if (*p == '\'') {
      size_t n = strcspn (p + 1, "'");
      return xasprintf ("%.*s", (int) n, p + 1);
    }
    return xasprintf ("%.*s", (int) strcspn (p, " \t\n"), p);
  }
  return NULL;
}

/* A grub.cfg with a new command line: regenerated when mkvmimg wrote
 * it, else each "linux" line keeps its kernel, root= and ro/rw and gets
 * the new words.
 */
char *
modify_new_grub_cfg (const char *old, const char *uuid, const char *cmdline)
{
  struct strv out = { 0 };
  size_t len = 0;
  char *text, *p;

  if (STRPREFIX (old, "# grub.cfg, generated by mkvmimg.")) {
    CLEANUP_FREE char *kernel = grub_word_arg (old, "linux");
    CLEANUP_FREE char *initrd = grub_word_arg (old, "initrd");
    struct grub_config cfg = {
      .root_uuid = uuid, .boot_prefix = "/boot", .kernel = kernel,
      .initrd = initrd, .cmdline = cmdline, .timeout = grub_timeout (old),
    };
    return grub_cfg_text (&cfg);
  }
  for (const char *l = old; *l; ) {
    size_t n = strcspn (l, "\n");
    const char *q = l + strspn (l, " \t");
    if (STRPREFIX (q, "linux") && (q[5] == ' ' || q[5] == '\t')) {
      CLEANUP_FREE char *line = xasprintf ("%.*s", (int) n, l);
      struct strv keep = { 0 };
      char *save, *w;
      size_t words = 0;
      for (w = strtok_r (line, " \t", &save); w;
           w = strtok_r (NULL, " \t", &save), ++words)
        if (words < 2 || STRPREFIX (w, "root=") || STREQ (w, "ro") ||
            STREQ (w, "rw"))
          strv_add (&keep, w);
      {
        size_t ind = q - l;
        CLEANUP_FREE char *s = NULL;
        size_t sl = 0;
        FILE *fp = open_memstream (&s, &sl);
        fprintf (fp, "%.*s", (int) ind, l);
        for (size_t i = 0; i < keep.len; ++i)
          fprintf (fp, "%s%s", i ? " " : "", keep.v[i]);
        if (*cmdline)
          fprintf (fp, " %s", cmdline);
        fclose (fp);
        strv_add (&out, s);
      }
      strv_free (&keep);
    }
    else
      strv_addf (&out, "%.*s", (int) n, l);
    l += n;
    if (*l == '\n')
      l++;
  }
  for (size_t i = 0; i < out.len; ++i)
    len += strlen (out.v[i]) + 1;
  text = p = xmalloc (len + 1);
  for (size_t i = 0; i < out.len; ++i)
    p += sprintf (p, "%s\n", out.v[i]);
  *p = '\0';
  strv_free (&out);
  return text;
}

/* The first line of the password file, hashed with yescrypt. */
char *
modify_hash_password (const char *file)
{
  CLEANUP_FREE char *pw = NULL;
  CLEANUP_FREE char *setting = NULL;
  struct crypt_data *cd;
  size_t len = 0;
  char *hash = NULL;

  pw = read_whole_file (file, &len);
  if (!pw)
    return NULL;
  pw[strcspn (pw, "\r\n")] = '\0';
  if (!*pw) {
    error ("%s: the password is empty", file);
    explicit_bzero (pw, len);
    return NULL;
  }
  setting = crypt_gensalt_ra ("$y$", 0, NULL, 0);
  if (!setting) {
    error_errno ("crypt_gensalt_ra");
    explicit_bzero (pw, len);
    return NULL;
  }
  cd = xcalloc (1, sizeof *cd);
  if (crypt_rn (pw, setting, cd, sizeof *cd) && cd->output[0] != '*')
    hash = xstrdup (cd->output);
  else
    error ("hash the root password: crypt_rn failed");
  explicit_bzero (pw, len);
  explicit_bzero (cd, sizeof *cd);
  free (cd);
  return hash;
}

/* /etc/shadow with root's password field replaced. */
char *
modify_new_shadow (const char *old, const char *hash)
{
  CLEANUP_FREE char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);
  bool done = false;

  for (const char *l = old; l && *l; ) {
    size_t n = strcspn (l, "\n");
    if (!done && n > 5 && STRPREFIX (l, "root:")) {
      const char *rest = memchr (l + 5, ':', n - 5);
      fprintf (fp, "root:%s%.*s\n", hash,
               rest ? (int) (l + n - rest) : 0, rest ? rest : "");
      done = true;
    }
    else
      fprintf (fp, "%.*s\n", (int) n, l);
    l += n;
    if (*l == '\n')
      l++;
  }
  if (!done)
    fprintf (fp, "root:%s:%lld:0:99999:7:::\n", hash,
             (long long) (time (NULL) / 86400));
  fclose (fp);
  return xstrdup (text);
}

char *
modify_authorized_keys (const char *old, const struct strv *files)
{
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);

  if (old && *old)
    fprintf (fp, "%s%s", old, old[strlen (old) - 1] == '\n' ? "" : "\n");
  for (size_t i = 0; i < files->len; ++i) {
    CLEANUP_FREE char *key = read_whole_file (files->v[i], NULL);
    if (!key) {
      fclose (fp);
      free (text);
      return NULL;
    }
    if (!STRPREFIX (key, "ssh-") && !STRPREFIX (key, "ecdsa-") &&
        !STRPREFIX (key, "sk-")) {
      error ("%s: not an SSH public key", files->v[i]);
      fclose (fp);
      free (text);
      return NULL;
    }
    if (old && strstr (old, key))
      continue;
    fprintf (fp, "%s%s", key, key[strlen (key) - 1] == '\n' ? "" : "\n");
  }
  fclose (fp);
  return text;
}

/* Find the root: the first ext2/3/4 filesystem with /etc or /sbin/init,
 * of a partition or of the whole disk.  Opens it read-write.  0 found,
 * 1 not found but other (non-zero) data is there, 2 nothing, -1 error.
 */
static int
find_root (struct target *t, ext2_filsys *fs_rtn)
{
  struct image *img = t->img;
  size_t n = img->table ? img->nparts : 1;
  bool other = false;

  for (size_t i = 0; i < n; ++i) {
    const struct image_partition *p = img->table ? &img->parts[i] : NULL;
    uint64_t off = p ? p->start : 0, size = p ? p->size : img->size;
    unsigned char sb[1024];
    ext2_filsys fs;
    ext2_ino_t ino;
    CLEANUP_FREE char *what = NULL;

    if (p && (STREQ (p->kind, "extended") || STREQ (p->kind, "swap") ||
              STREQ (p->kind, "bios-boot")))
      continue;
    if (size < 2048 || image_pread (img, sb, sizeof sb, off + 1024) == -1)
      continue;
    if (sb[56] != 0x53 || sb[57] != 0xef) {
      /* Something else is there (not zeros): libguestfs may know it. */
      static const unsigned char zero[1024];
      uint64_t probe = size < 0x11000 ? size : 0x11000;
      for (uint64_t o = 0; o + 1024 <= probe && !other; o += 1024)
        if (image_pread (img, sb, sizeof sb, off + o) == 0 &&
            memcmp (sb, zero, sizeof sb) != 0)
          other = true;
      continue;
    }
    what = p ? xasprintf ("partition %d of %s", p->number, img->name)
      : xstrdup (img->name);
    if (nbd_ext2_open (img->h, off, size, true, what, &fs) == -1)
      return -1;
    if (ext2_lookup (fs, "/etc", false, &ino) == 0 ||
        ext2_lookup (fs, "/sbin/init", false, &ino) == 0) {
      if (ext2fs_has_feature_journal_needs_recovery (fs->super)) {
        error ("modify %s: the journal of %s needs recovery (the system "
               "was not shut down cleanly): run e2fsck on it first",
               img->name, what);
        ext2fs_free (fs);
        return -1;
      }
      {
        const unsigned char *u = fs->super->s_uuid;
        snprintf (t->uuid, sizeof t->uuid,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                  "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
                  u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
      }
      t->root = p;
      t->offset = off;
      t->size = size;
      *fs_rtn = fs;
      return 0;
    }
    ext2fs_free (fs);
  }
  return other ? 1 : 2;
}

/* Copy an initrd out of the image and patch it with the initramfs
 * engine (mkvmimg initramfs patch): a new host file in *out_rtn.
 */
static int
patch_initrd (const char *in, const struct strv *adds, char **out_rtn)
{
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  char *out = tmpdir_path ("initrd.patched");
  int r;

  if (!out)
    return -1;
  strv_add (&argv, "patch");
  strv_add (&argv, in);
  strv_add (&argv, "-o");
  strv_add (&argv, out);
  strv_add (&argv, "--force");         /* tmpdir_path made it */
  for (size_t i = 0; i < adds->len; ++i) {
    strv_add (&argv, "--add");
    strv_add (&argv, adds->v[i]);
  }
  if (quiet)
    strv_add (&argv, "-q");
  r = cmd_initramfs_patch (argv.len, argv.v);
  /* popt keeps state in the context only: nothing to reset. */
  if (r != EXIT_OK) {             /* reported by the initramfs engine */
    free (out);
    return -1;
  }
  *out_rtn = out;
  return 0;
}

/* Phase 1: with the root open read-write, remove what is to be removed
 * and read what the additions need.
 */
static int
prepare (struct target *t, const struct modify_opts *o, ext2_filsys fs,
         bool want_modules, struct machine *m)
{
  for (size_t i = 0; i < o->removes.len; ++i)
    if (remove_path (fs, o->removes.v[i]) == -1)
      return -1;

  /* The sink refuses a path through a symlink: resolve the parents of
   * each DEST in the image (merged /usr: bin/x is usr/bin/x).
   */
  for (size_t i = 0; i < o->adds.len; ++i) {
    struct modify_add a;
    char *dest;
    if (modify_parse_add (o->adds.v[i], &a) == -1)
      return -1;
    dest = ext2_resolve_parents (fs, a.dest);
    modify_add_free (&a);
    if (!dest)
      return -1;
    strv_add (&t->add_dests, dest);
    free (dest);
  }

  if (want_modules) {
    CLEANUP_FREE char *dir = NULL;
    ext2_ino_t ino;
    struct ext2_inode in;

    t->release = find_release (fs);
    if (!t->release)
      return -1;
    t->modules_prefix = xstrdup ("lib/modules");
    if (ext2_lookup (fs, "/lib", false, &ino) == 0 &&
        ext2fs_read_inode (fs, ino, &in) == 0 && LINUX_S_ISLNK (in.i_mode)) {
      free (t->modules_prefix);
      t->modules_prefix = xstrdup ("usr/lib/modules");
    }
    dir = xasprintf ("/lib/modules/%s", t->release);
    t->modules_copy = tmpdir_path ("image-modules");
    if (!t->modules_copy)
      return -1;
    info ("reading %s from the image", dir);
    if (copy_tree_out (fs, dir, t->modules_copy, 0) == -1)
      return -1;
  }

  if (o->cmdline) {
    CLEANUP_FREE char *old = ext2_read_file (fs, "/boot/grub/grub.cfg",
                                             1 << 20, NULL);
    if (!old && errno != ENOENT)
      return -1;
    if (old) {
      t->grub_cfg = modify_new_grub_cfg (old, t->uuid, o->cmdline);
      if (!t->grub_cfg)
        return -1;
    }
    else if (!m || !m->firmware || !STREQ (m->firmware, "direct")) {
      error ("modify --cmdline: the image has no /boot/grub/grub.cfg and "
             "no direct-boot machine description: nothing holds a command "
             "line");
      return -1;
    }
  }

  if (o->password_file) {
    CLEANUP_FREE char *hash = modify_hash_password (o->password_file);
    CLEANUP_FREE char *old = NULL;
    ext2_ino_t ino;

    if (!hash)
      return -1;
    old = ext2_read_file (fs, "/etc/shadow", 16 << 20, NULL);
    if (!old && errno != ENOENT)
      return -1;
    memset (&t->shadow_inode, 0, sizeof t->shadow_inode);
    t->shadow_inode.i_mode = LINUX_S_IFREG | 0640;
    if (old && ext2_lookup (fs, "/etc/shadow", true, &ino) == 0)
      ext2fs_read_inode (fs, ino, &t->shadow_inode);
    t->shadow = modify_new_shadow (old ? old : "", hash);
    if (old)
      explicit_bzero (old, strlen (old));
    explicit_bzero (hash, strlen (hash));
  }

  if (o->ssh_keys.len) {
    CLEANUP_FREE char *old = ext2_read_file (fs,
                                             "/root/.ssh/authorized_keys",
                                             16 << 20, NULL);

    if (!old && errno != ENOENT)
      return -1;
    t->authorized_keys = modify_authorized_keys (old, &o->ssh_keys);
    if (!t->authorized_keys)
      return -1;
  }

  if (o->initramfs_adds.len) {
    CLEANUP_STRV_STRUCT struct strv boot = { 0 };
    if (ext2_list_dir (fs, "/boot", &boot) == -1)
      return -1;
    for (size_t i = 0; i < boot.len; ++i) {
      CLEANUP_FREE char *path = NULL;
      CLEANUP_FREE char *copy = NULL;
      char *patched = NULL;
      ext2_ino_t ino;
      struct ext2_inode in;

      if (!STRPREFIX (boot.v[i], "initrd.img") &&
          !STRPREFIX (boot.v[i], "initramfs"))
        continue;
      path = xasprintf ("/boot/%s", boot.v[i]);
      if (ext2_lookup (fs, path, false, &ino) != 0 ||
          ext2fs_read_inode (fs, ino, &in) != 0 || !LINUX_S_ISREG (in.i_mode))
        continue;
      copy = tmpdir_path ("initrd.image");
      if (!copy || ext2_copy_out (fs, ino, path, copy) == -1)
        return -1;
      info ("patching %s", path);
      if (patch_initrd (copy, &o->initramfs_adds, &patched) == -1)
        return -1;
      strv_add (&t->initrds, path + 1);
      strv_add (&t->initrd_copies, patched);
      free (patched);
    }
    if (m && m->initrd) {
      info ("patching %s", m->initrd);
      if (patch_initrd (m->initrd, &o->initramfs_adds,
                        &t->machine_initrd) == -1)
        return -1;
    }
    if (t->initrds.len == 0 && !t->machine_initrd) {
      error ("modify --initramfs-add: no initrd in /boot of the image nor "
             "in its machine description");
      return -1;
    }
  }
  return 0;
}

static int add_parsed (struct entry_sink *sink, const struct modify_add *a,
                       struct change_sink *c0);

/* One --add: a host file or directory at DEST. */
static int
add_one (struct entry_sink *sink, const char *arg, const char *dest)
{
  struct modify_add a;
  struct change_sink c;
  int r;

  if (modify_parse_add (arg, &a) == -1)
    return -1;
  free (a.dest);
  a.dest = xstrdup (dest);
  change_sink_init (&c, sink);
  c.set_mode = a.set_mode;
  c.mode = a.mode;
  c.set_owner = a.set_owner;
  c.uid = a.uid;
  c.gid = a.gid;
  r = add_parsed (sink, &a, &c);
  modify_add_free (&a);
  return r;
}

static int
add_parsed (struct entry_sink *sink, const struct modify_add *a,
            struct change_sink *c0)
{
  const char *src = a->src, *dest = a->dest;
  struct change_sink c = *c0;
  struct stat st;

  c.sink.opaque = &c;
  if (stat (src, &st) == -1) {
    error_errno ("--add %s", src);
    return -1;
  }
  info ("adding /%s", dest);
  if (S_ISDIR (st.st_mode)) {
    if (!c.set_owner) {
      c.set_owner = true;
      c.uid = c.gid = 0;
    }
    c.prefix = dest;
    return source_directory (src, &c.sink);
  }
  if (!S_ISREG (st.st_mode)) {
    error ("--add %s: not a regular file or directory", src);
    return -1;
  }
  {
    struct archive_entry *e = archive_entry_new ();
    struct entry_data data = ENTRY_DATA_NONE;
    int r;

    archive_entry_copy_pathname (e, dest);
    archive_entry_set_filetype (e, AE_IFREG);
    archive_entry_set_perm (e, c.set_mode ? c.mode : st.st_mode & 07777);
    archive_entry_set_uid (e, c.set_owner ? c.uid : 0);
    archive_entry_set_gid (e, c.set_owner ? c.gid : 0);
    archive_entry_set_mtime (e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size (e, st.st_size);
    data.host_path = src;
    r = sink->put (sink, e, &data);
    entry_data_close (&data);
    archive_entry_free (e);
    return r;
  }
}

/* Phase 2: every addition, as entries into the ext4 sink over NBD. */
static int
write_changes (struct target *t, const struct modify_opts *o,
               const struct profile *p, const struct module_set *set)
{
  CLEANUP_FREE char *name = nbd_io_name (t->img->h, t->offset, t->size);
  CLEANUP_FREE char *what = t->root ?
    xasprintf ("partition %d of %s", t->root->number, t->img->name) :
    xstrdup (t->img->name);
  struct entry_sink *sink;
  int r = 0;

  sink = ext4_sink_open (name, NULL, nbd_io_manager, what);
  if (!sink)
    return -1;
  for (size_t i = 0; r == 0 && i < o->adds.len; ++i)
    r = add_one (sink, o->adds.v[i], t->add_dests.v[i]);
  if (r == 0 && t->authorized_keys) {
    info ("adding SSH keys to /root/.ssh/authorized_keys");
    r = entry_emit_dir (sink, "root/.ssh", 0700);
    if (r == 0)
      r = entry_emit_file (sink, "root/.ssh/authorized_keys", 0600,
                           t->authorized_keys, strlen (t->authorized_keys));
  }
  if (r == 0 && t->shadow) {
    struct change_sink c;
    change_sink_init (&c, sink);
    c.set_owner = true;
    c.uid = inode_uid (t->shadow_inode);
    c.gid = inode_gid (t->shadow_inode);
    info ("setting the root password in /etc/shadow");
    r = entry_emit_file (&c.sink, "etc/shadow",
                         t->shadow_inode.i_mode & 07777, t->shadow,
                         strlen (t->shadow));
  }
  if (r == 0 && t->grub_cfg) {
    info ("writing /boot/grub/grub.cfg");
    r = entry_emit_file (sink, "boot/grub/grub.cfg", 0644, t->grub_cfg,
                         strlen (t->grub_cfg));
  }
  if (r == 0 && set && set->names.len) {
    info ("installing modules under /%s/%s/updates", t->modules_prefix,
          t->release);
    r = modules_entries (p, set, t->modules_prefix, sink);
  }
  for (size_t i = 0; r == 0 && i < t->initrds.len; ++i)
    r = entry_emit_host_file (sink, t->initrds.v[i], 0644,
                              t->initrd_copies.v[i]);
  if (r == 0)
    r = sink->finish (sink);
  ext4_sink_free (sink);
  return r;
}

/* The profile of --module and --profile: [module] sections. */
static struct profile *
modules_profile (const struct modify_opts *o)
{
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE char *frag = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);
  struct profile *p;

  for (size_t i = 0; i < o->modules.len; ++i) {
    CLEANUP_FREE char *abs = realpath (o->modules.v[i], NULL);
    CLEANUP_FREE char *base = NULL;
    struct stat st;
    char *dot;

    if (!abs || stat (abs, &st) == -1) {
      error_errno ("--module %s", o->modules.v[i]);
      fclose (fp);
      return NULL;
    }
    base = xstrdup (strrchr (abs, '/') + 1);
    dot = strstr (base, ".ko");
    if (dot && S_ISREG (st.st_mode))
      *dot = '\0';
    for (char *c = base; *c; ++c)
      if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
          !(*c >= '0' && *c <= '9') && *c != '_')
        *c = '_';
    fprintf (fp, "[module %s]\n%s = \"%s\"\nload = %s\n\n", base,
             S_ISDIR (st.st_mode) ? "source" : "ko", abs,
             o->load ? o->load : "auto");
  }
  if (o->profile) {
    static const char *const others[] = {
      "image", "rootfs", "partition", "boot", "machine", "device", "system",
      "user", "file", "run", NULL
    };
    struct profile *f = profile_parse_file (o->profile);
    if (!f) {
      fclose (fp);
      return NULL;
    }
    for (const char *const *sec = others; *sec; ++sec)
      if (profile_count (f, *sec) > 0 || profile_has_section (f, *sec, NULL)) {
        error ("%s: modify applies [module] sections and [kernel] cmdline "
               "only, not [%s]", o->profile, *sec);
        profile_free (f);
        fclose (fp);
        return NULL;
      }
    profile_free (f);
    frag = read_whole_file (o->profile, NULL);
    if (!frag) {
      fclose (fp);
      return NULL;
    }
    fputs (frag, fp);
  }
  /* What a whole profile needs to validate, which a fragment lacks. */
  fputs ("\n[rootfs]\nsource = busybox\n", fp);
  fclose (fp);
  p = profile_parse_string (text, o->profile ? o->profile : "modify");
  if (p && profile_validate (p) == -1) {
    profile_free (p);
    return NULL;
  }
  return p;
}

static int
commit (const char *image, const char *overlay_tmp, struct atomic_output *out)
{
  if (out) {
    if (atomic_output_commit (out, 0644) == -1)
      return -1;
    info ("kept the changes in %s (backed by %s)", out->final, image);
    return 0;
  }
  {
    const char *argv[] = { "qemu-img", "commit", "-q", overlay_tmp, NULL };
    info ("committing the changes to %s", image);
    if (child_run (argv, NULL) == -1)
      return -1;
    unlink (overlay_tmp);
  }
  return 0;
}

/* A new command line keeps the root= and ro/rw words of the old one. */
static char *
machine_cmdline (const char *old, const char *cmdline)
{
  CLEANUP_FREE char *copy = xstrdup (old ? old : "");
  CLEANUP_FREE char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);
  char *save, *w;
  bool first = true;

  for (w = strtok_r (copy, " \t", &save); w; w = strtok_r (NULL, " \t", &save))
    if (STRPREFIX (w, "root=") || STREQ (w, "ro") || STREQ (w, "rw")) {
      fprintf (fp, "%s%s", first ? "" : " ", w);
      first = false;
    }
  if (*cmdline)
    fprintf (fp, "%s%s", first ? "" : " ", cmdline);
  fclose (fp);
  return xstrdup (text);
}

/* Install a host file at dest atomically (cp, then rename). */
static int
replace_file (const char *src, const char *dest)
{
  struct atomic_output out;
  const char *argv[] = { "cp", "--", src, NULL, NULL };

  if (atomic_output_begin (&out, dest, true) == -1)
    return -1;
  argv[3] = out.tmp;
  if (child_run (argv, NULL) == -1 || atomic_output_commit (&out, 0644) == -1) {
    atomic_output_abort (&out);
    return -1;
  }
  return 0;
}

static int
modify_opt (poptContext ctx, int val, void *opaque)
{
  struct modify_opts *o = opaque;
  char *arg = poptGetOptArg (ctx);
  struct strv *list = NULL;

  switch (val) {
  case 'a': list = &o->adds; break;
  case 'r': list = &o->removes; break;
  case 'm': list = &o->modules; break;
  case 'k': list = &o->ssh_keys; break;
  case 'i': list = &o->initramfs_adds; break;
  default:
    free (arg);
    usage_error ("modify", "unexpected option %s", poptBadOption (ctx, 0));
    return -1;
  }
  strv_add (list, arg);
  free (arg);
  return 0;
}

static int
do_modify (const char *image, struct modify_opts *o)
{
  CLEANUP_FREE char *abs = realpath (image, NULL);
  CLEANUP_FREE char *overlay_tmp = NULL;
  CLEANUP_FREE char *machine_path = xasprintf ("%s.machine", image);
  CLEANUP_MACHINE struct machine *m = NULL;
  struct atomic_output out = { 0 };
  bool keep = o->overlay != NULL;
  struct target t = { 0 };
  struct profile *p = NULL;
  struct module_set set = { 0 };
  ext2_filsys fs = NULL;
  const char *format = o->format;
  const char *overlay;
  int r = -1;

  if (!abs) {
    error_errno ("modify %s", image);
    return -1;
  }
  if (!format) {
    format = image_probe_format (abs);
    if (!format)
      return -1;
  }
  if (access (machine_path, F_OK) == 0) {
    m = machine_read (machine_path);
    if (!m)
      return -1;
  }
  if (o->modules.len || o->profile) {
    p = modules_profile (o);
    if (!p)
      return -1;
    if (!o->cmdline && profile_is_set (p, "kernel", NULL, "cmdline"))
      o->cmdline = xstrdup (profile_get (p, "kernel", NULL, "cmdline"));
  }

  /* The overlay. */
  if (keep) {
    if (atomic_output_begin (&out, o->overlay, false) == -1)
      goto out;
    overlay = out.tmp;
  }
  else {
    overlay_tmp = tmpdir_path ("overlay.qcow2");
    if (!overlay_tmp)
      goto out;
    overlay = overlay_tmp;
  }
  {
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2",
                           "-b", abs, "-F", format, overlay, NULL };
    if (child_run (argv, NULL) == -1)
      goto out;
  }
  t.img = image_open (overlay, "qcow2", false);
  if (!t.img)
    goto out;
  free (t.img->name);
  t.img->name = xstrdup (image);

  r = find_root (&t, &fs);
  if (r == -1)
    goto out;
  if (r == 2) {
    error ("modify %s: no ext2/3/4 root filesystem, and no other "
           "filesystem either", image);
    r = -1;
    goto out;
  }
  if (r == 1) {
    /* Not ext2/3/4: libguestfs works on the same overlay. */
    struct image *img = t.img;
    t.img = NULL;
    r = -1;
    if (image_close (img, false) == -1 ||
        modify_guestfs (image, overlay, o) == -1 ||
        commit (image, overlay, keep ? &out : NULL) == -1)
      goto out;
    r = 0;
    goto out;
  }
  r = -1;
  if (prepare (&t, o, fs, p && profile_count (p, "module") > 0, m) == -1)
    goto out;
  {
    errcode_t err = ext2fs_close_free (&fs);
    if (err) {
      error ("modify %s: write the filesystem: %s", image,
             error_message (err));
      goto out;
    }
  }
  if (p && profile_count (p, "module") > 0) {
    CLEANUP_FREE char *builtin = xasprintf ("%s/modules.builtin",
                                            t.modules_copy);
    struct kernel k = { .modules = t.modules_copy, .release = t.release };
    /* A root without the kernel's modules (its initrd has them): depmod
     * then takes what is built in from the host, as build does.
     */
    if (access (builtin, F_OK) == -1)
      k.modules = NULL;
    if (modules_prepare (p, &k, t.release, &set) == -1)
      goto out;
  }
  if (write_changes (&t, o, p, &set) == -1)
    goto out;
  {
    struct image *img = t.img;
    t.img = NULL;
    if (image_close (img, false) == -1)
      goto out;
  }

  /* Everything worked: commit, then the files beside the image. */
  if (commit (image, overlay, keep ? &out : NULL) == -1)
    goto out;
  if (m && (o->cmdline || t.machine_initrd)) {
    const char *target = keep ? o->overlay : image;
    CLEANUP_FREE char *mpath = xasprintf ("%s.machine", target);
    if (t.machine_initrd) {
      CLEANUP_FREE char *dest = keep ? xasprintf ("%s.initrd", target)
        : xstrdup (m->initrd);
      if (replace_file (t.machine_initrd, dest) == -1)
        goto out;
      free (m->initrd);
      m->initrd = xstrdup (dest);
    }
    if (o->cmdline && m->firmware && STREQ (m->firmware, "direct")) {
      char *c = machine_cmdline (m->cmdline, o->cmdline);
      free (m->cmdline);
      m->cmdline = c;
    }
    if (machine_write (m, mpath) == -1)
      goto out;
  }
  else if (m && keep) {
    CLEANUP_FREE char *mpath = xasprintf ("%s.machine", o->overlay);
    if (machine_write (m, mpath) == -1)
      goto out;
  }
  r = 0;

 out:
  if (fs)
    ext2fs_free (fs);
  if (t.img)
    image_close (t.img, true);
  if (r == -1 && keep)
    atomic_output_abort (&out);
  target_free (&t);
  module_set_free (&set);
  if (p)
    profile_free (p);
  return r;
}

int
cmd_modify (int argc, char **argv)
{
  struct modify_opts o = { 0 };
  struct poptOption options[] = {
    { "add", '\0', POPT_ARG_STRING, NULL, 'a',
      "Add (or replace) the host file or directory SRC as DEST",
      "SRC:DEST[:MODE[:UID:GID]]" },
    { "remove", '\0', POPT_ARG_STRING, NULL, 'r',
      "Remove PATH (and what is under it)", "PATH" },
    { "module", '\0', POPT_ARG_STRING, NULL, 'm',
      "Build (a Kbuild directory) or take (a .ko) a driver module and "
      "install it with depmod", "DIR|KO" },
    { "load", '\0', POPT_ARG_STRING, &o.load, 0,
      "When --module's modules load: auto (by alias) or boot", "auto|boot" },
    { "ssh-key", '\0', POPT_ARG_STRING, NULL, 'k',
      "Add the public key in FILE to root's authorized_keys", "FILE" },
    { "root-password-file", '\0', POPT_ARG_STRING, &o.password_file, 0,
      "Set root's password to the first line of FILE", "FILE" },
    { "cmdline", '\0', POPT_ARG_STRING, &o.cmdline, 0,
      "The kernel command line (after root=... ro)", "TEXT" },
    { "initramfs-add", '\0', POPT_ARG_STRING, NULL, 'i',
      "Add the host file SRC as DEST in the initramfs", "SRC:DEST" },
    { "profile", '\0', POPT_ARG_STRING, &o.profile, 0,
      "Apply a profile fragment: [module] sections, [kernel] cmdline",
      "FRAGMENT" },
    { "overlay", '\0', POPT_ARG_STRING, &o.overlay, 0,
      "Leave IMAGE alone: keep the changes in a new qcow2 overlay OUT",
      "OUT" },
    { "format", 'f', POPT_ARG_STRING, &o.format, 0,
      "The image format (qcow2, raw; default: probed)", "FORMAT" },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  const char **args;
  int r;

  r = cli_parse (&ctx, "modify", argc, argv, options, "IMAGE [OPTIONS]",
                 modify_opt, &o);
  if (r != 0) {
    r = r == 1 ? EXIT_OK : EXIT_USAGE;
    goto out;
  }
  args = poptGetArgs (ctx);
  r = EXIT_USAGE;
  if (!args || !args[0] || args[1]) {
    usage_error ("modify", "give one IMAGE");
    goto out;
  }
  if (nbd_output_is_uri (args[0])) {
    usage_error ("modify", "IMAGE must be a local file: an NBD URI cannot "
                 "get an overlay");
    goto out;
  }
  if (o.load && !STREQ (o.load, "auto") && !STREQ (o.load, "boot")) {
    usage_error ("modify", "--load %s: auto or boot", o.load);
    goto out;
  }
  if (o.format && !STREQ (o.format, "qcow2") && !STREQ (o.format, "raw")) {
    usage_error ("modify", "--format %s: qcow2 or raw", o.format);
    goto out;
  }
  if (!o.adds.len && !o.removes.len && !o.modules.len && !o.ssh_keys.len &&
      !o.password_file && !o.cmdline && !o.initramfs_adds.len && !o.profile) {
    usage_error ("modify", "nothing to do: give --add, --remove, --module, "
                 "--ssh-key, --root-password-file, --cmdline, "
                 "--initramfs-add or --profile");
    goto out;
  }
  /* Check --add arguments before anything starts. */
  for (size_t i = 0; i < o.adds.len; ++i) {
    struct modify_add a;
    if (modify_parse_add (o.adds.v[i], &a) == -1)
      goto out;
    modify_add_free (&a);
  }
  r = do_modify (args[0], &o) == -1 ? EXIT_FAIL : EXIT_OK;
  if (r == EXIT_OK)
    info ("modified %s", args[0]);

 out:
  free (o.load);
  free (o.password_file);
  free (o.cmdline);
  free (o.profile);
  free (o.overlay);
  free (o.format);
  strv_free (&o.adds);
  strv_free (&o.removes);
  strv_free (&o.modules);
  strv_free (&o.ssh_keys);
  strv_free (&o.initramfs_adds);
  return r;
}
