/* mkvmimg inspect: what is in an image, read directly through libnbd
 * (qemu-nbd --read-only for a local file) and libext2fs, no appliance.
 *
 * The same walk prints text (indented "key: value" lines) or, with
 * --json, one JSON object: a small writer does both.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "mkvmimg.h"
#include "arch.h"
#include "cli.h"
#include "image-open.h"
#include "machine.h"
#include "nbd-io.h"

/* ---- output: JSON or text from the same calls ---- */

#define MAX_DEPTH 16

struct out {
  FILE *fp;
  bool json;
  int depth;
  bool first[MAX_DEPTH];        /* no member written yet at this depth */
  bool array[MAX_DEPTH];
};

static void
json_string (FILE *fp, const char *s)
{
  fputc ('"', fp);
  for (const unsigned char *p = (const unsigned char *) s; *p; ++p) {
    if (*p == '"' || *p == '\\')
      fprintf (fp, "\\%c", *p);
    else if (*p == '\n')
      fputs ("\\n", fp);
    else if (*p == '\t')
      fputs ("\\t", fp);
    else if (*p < 0x20)
      fprintf (fp, "\\u%04x", *p);
    else
      fputc (*p, fp);
  }
  fputc ('"', fp);
}

/* Start a member (key may be NULL inside an array). */
static void
member_sep (struct out *o, const char *key, const char *sep)
{
  if (o->json) {
    if (!o->first[o->depth])
      fputc (',', o->fp);
    o->first[o->depth] = false;
    fprintf (o->fp, "\n%*s", 2 * o->depth, "");
    if (key && !o->array[o->depth]) {
      json_string (o->fp, key);
      fputs (": ", o->fp);
    }
  }
  else {
    fprintf (o->fp, "%*s", 2 * (o->depth > 0 ? o->depth - 1 : 0), "");
    if (o->array[o->depth])
      fputs ("- ", o->fp);
    if (key)
      fprintf (o->fp, "%s:%s", key, sep);
  }
}

static void
member (struct out *o, const char *key)
{
  member_sep (o, key, " ");
}

static void
open_container (struct out *o, const char *key, bool array)
{
  if (o->json) {
    if (o->depth > 0)
      member (o, key);
    fputc (array ? '[' : '{', o->fp);
  }
  else if (o->depth > 0 && o->array[o->depth] && !key)
    fprintf (o->fp, "%*s-\n", 2 * (o->depth - 1), "");
  else if (o->depth > 0) {
    member_sep (o, key, "");
    fputc ('\n', o->fp);
  }
  o->depth++;
  o->first[o->depth] = true;
  o->array[o->depth] = array;
}

static void
obj_begin (struct out *o, const char *key)
{
  open_container (o, key, false);
}

static void
arr_begin (struct out *o, const char *key)
{
  open_container (o, key, true);
}

static void
end (struct out *o)
{
  bool was_array = o->array[o->depth], empty = o->first[o->depth];

  o->depth--;
  if (o->json) {
    if (!empty)
      fprintf (o->fp, "\n%*s", 2 * o->depth, "");
    fputc (was_array ? ']' : '}', o->fp);
    if (o->depth == 0)
      fputc ('\n', o->fp);
  }
}

static void
kv_str (struct out *o, const char *key, const char *val)
{
  member (o, key);
  if (o->json) {
    if (val)
      json_string (o->fp, val);
    else
      fputs ("null", o->fp);
  }
  else
    fprintf (o->fp, "%s\n", val ? val : "-");
}

static void
kv_u64 (struct out *o, const char *key, uint64_t val)
{
  member (o, key);
  fprintf (o->fp, o->json ? "%" PRIu64 : "%" PRIu64 "\n", val);
}

static void
kv_bool (struct out *o, const char *key, bool val)
{
  member (o, key);
  fprintf (o->fp, o->json ? "%s" : "%s\n", val ? "true" : "false");
}

static void
kv_null (struct out *o, const char *key)
{
  member (o, key);
  fputs (o->json ? "null" : "-\n", o->fp);
}

/* ---- filesystems from their superblocks ---- */

static uint16_t
le16 (const unsigned char *p)
{
  return p[0] | p[1] << 8;
}

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static void
uuid_string (const unsigned char *u, char *out)
{
  snprintf (out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
            u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* A label of at most n bytes, NUL or space padded. */
static char *
label_string (const unsigned char *p, size_t n, bool trim_spaces)
{
  size_t len = strnlen ((const char *) p, n);

  while (trim_spaces && len > 0 && p[len - 1] == ' ')
    len--;
  return len ? xasprintf ("%.*s", (int) len, (const char *) p) : NULL;
}

struct fs_info {
  const char *type;             /* "ext4", "vfat", "swap", NULL: unknown */
  char *label;
  char uuid[40];
  uint64_t size, used, free;    /* bytes; used/free 0 when unknown */
  bool has_usage;
  /* vfat geometry for the directory reader */
  unsigned fat_bits, bps, spc;
  uint64_t fat_offset, fat_bytes, root_offset, root_bytes, data_offset;
  uint32_t root_cluster, clusters;
};

static void
fs_info_free (struct fs_info *fs)
{
  free (fs->label);
}

/* The FAT: first copy, read whole (small for any ESP). */
static unsigned char *
fat_read_table (struct image *img, uint64_t base, const struct fs_info *fi)
{
  unsigned char *fat;

  if (fi->fat_bytes > (64 << 20))
    return NULL;
  fat = xmalloc (fi->fat_bytes);
  if (image_pread (img, fat, fi->fat_bytes, base + fi->fat_offset) == -1) {
    free (fat);
    return NULL;
  }
  return fat;
}

static uint32_t
fat_next (const struct fs_info *fi, const unsigned char *fat, uint32_t c)
{
  switch (fi->fat_bits) {
  case 12: {
    uint64_t off = c + c / 2;
    if (off + 1 >= fi->fat_bytes)
      return 0x0fffffff;
    uint16_t v = le16 (fat + off);
    v = (c & 1) ? v >> 4 : v & 0xfff;
    return v >= 0xff8 ? 0x0fffffff : v;
  }
  case 16: {
    if ((uint64_t) c * 2 + 1 >= fi->fat_bytes)
      return 0x0fffffff;
    uint16_t v = le16 (fat + c * 2);
    return v >= 0xfff8 ? 0x0fffffff : v;
  }
  default: {
    if ((uint64_t) c * 4 + 3 >= fi->fat_bytes)
      return 0x0fffffff;
    uint32_t v = le32 (fat + c * 4) & 0x0fffffff;
    return v >= 0x0ffffff8 ? 0x0fffffff : v;
  }
  }
}

static void
probe_vfat (struct image *img, uint64_t base, const unsigned char *b,
            uint64_t part_size, struct fs_info *fi)
{
  unsigned bps = le16 (b + 11), spc = b[13], reserved = le16 (b + 14);
  unsigned nfats = b[16], root_entries = le16 (b + 17);
  uint64_t total = le16 (b + 19) ? le16 (b + 19) : le32 (b + 32);
  uint64_t fatsz = le16 (b + 22) ? le16 (b + 22) : le32 (b + 36);
  uint64_t root_secs, data_secs;
  const unsigned char *ext;
  uint32_t serial;

  if (b[510] != 0x55 || b[511] != 0xaa || bps < 512 || bps > 4096 ||
      (bps & (bps - 1)) || spc == 0 || (spc & (spc - 1)) || nfats == 0 ||
      reserved == 0 || total == 0 || fatsz == 0)
    return;
  root_secs = ((uint64_t) root_entries * 32 + bps - 1) / bps;
  if (reserved + nfats * fatsz + root_secs >= total)
    return;
  data_secs = total - reserved - nfats * fatsz - root_secs;
  fi->clusters = data_secs / spc;
  fi->fat_bits = fi->clusters < 4085 ? 12 : fi->clusters < 65525 ? 16 : 32;
  ext = fi->fat_bits == 32 ? b + 64 : b + 36;
  if (memcmp (ext + 18, "FAT", 3) != 0 && ext[2] != 0x29)
    return;
  fi->type = "vfat";
  serial = le32 (ext + 3);
  snprintf (fi->uuid, sizeof fi->uuid, "%04X-%04X", serial >> 16,
            serial & 0xffff);
  fi->label = label_string (ext + 7, 11, true);
  if (fi->label && STREQ (fi->label, "NO NAME")) {
    free (fi->label);
    fi->label = NULL;
  }
  fi->bps = bps;
  fi->spc = spc;
  fi->fat_offset = (uint64_t) reserved * bps;
  fi->fat_bytes = fatsz * bps;
  fi->root_offset = (reserved + nfats * fatsz) * bps;
  fi->root_bytes = root_secs * bps;
  fi->data_offset = fi->root_offset + fi->root_bytes;
  fi->root_cluster = fi->fat_bits == 32 ? le32 (b + 44) : 0;
  fi->size = total * bps;
  if (fi->size > part_size)
    fi->size = part_size;
  {
    CLEANUP_FREE unsigned char *fat = fat_read_table (img, base, fi);
    uint64_t nfree = 0;
    if (fat) {
      for (uint32_t c = 2; c < fi->clusters + 2; ++c) {
        uint32_t v;
        if (fi->fat_bits == 12) {
          uint64_t off = c + c / 2;
          if (off + 1 >= fi->fat_bytes)
            break;
          v = le16 (fat + off);
          v = (c & 1) ? v >> 4 : v & 0xfff;
        }
        else if (fi->fat_bits == 16)
          v = (uint64_t) c * 2 + 1 < fi->fat_bytes ? le16 (fat + c * 2) : 1;
        else
          v = (uint64_t) c * 4 + 3 < fi->fat_bytes ?
            le32 (fat + c * 4) & 0x0fffffff : 1;
        if (v == 0)
          nfree++;
      }
      fi->free = nfree * spc * bps;
      fi->used = (fi->clusters - nfree) * (uint64_t) spc * bps;
      fi->has_usage = true;
    }
  }
}

/* Identify the filesystem at base (size bytes).  0 (fi->type NULL when
 * unknown) or -1 on a read error.
 */
static int
probe_fs (struct image *img, uint64_t base, uint64_t size, struct fs_info *fi)
{
  unsigned char b[4096];
  size_t n = size < sizeof b ? size : sizeof b;

  memset (fi, 0, sizeof *fi);
  if (n < 2048)
    return 0;
  if (image_pread (img, b, n, base) == -1)
    return -1;
  /* ext2/3/4: the superblock at 1024. */
  if (le16 (b + 1024 + 56) == 0xef53) {
    const unsigned char *sb = b + 1024;
    uint32_t compat = le32 (sb + 92), incompat = le32 (sb + 96);
    uint64_t bs = 1024ULL << le32 (sb + 24);
    uint64_t blocks = le32 (sb + 4), freeb = le32 (sb + 12);
    if (incompat & 0x80) {      /* 64bit */
      blocks |= (uint64_t) le32 (sb + 0x150) << 32;
      freeb |= (uint64_t) le32 (sb + 0x158) << 32;
    }
    fi->type = (incompat & (0x40 | 0x80 | 0x200)) ? "ext4" :
      (compat & 4) ? "ext3" : "ext2";
    uuid_string (sb + 104, fi->uuid);
    fi->label = label_string (sb + 120, 16, false);
    fi->size = blocks * bs;
    fi->free = freeb * bs;
    fi->used = fi->size - fi->free;
    fi->has_usage = true;
    return 0;
  }
  /* Linux swap: the signature at the end of the first 4k page. */
  if (n == 4096 && memcmp (b + 4086, "SWAPSPACE2", 10) == 0) {
    fi->type = "swap";
    uuid_string (b + 1024 + 12, fi->uuid);
    fi->label = label_string (b + 1024 + 28, 16, false);
    fi->size = ((uint64_t) le32 (b + 1024 + 4) + 1) * 4096;
    return 0;
  }
  /* XFS, named only: its primary superblock at 0. */
  if (memcmp (b, "XFSB", 4) == 0) {
    uint64_t bs = (uint64_t) b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7];
    uint64_t blocks = 0, freeb = 0;
    for (int i = 0; i < 8; ++i) {
      blocks = blocks << 8 | b[8 + i];
      freeb = freeb << 8 | b[144 + i];
    }
    fi->type = "xfs";
    uuid_string (b + 32, fi->uuid);
    fi->label = label_string (b + 108, 12, false);
    fi->size = blocks * bs;
    fi->free = freeb * bs;
    fi->used = fi->size - fi->free;
    fi->has_usage = fi->free <= fi->size;
    return 0;
  }
  /* btrfs, named only: its superblock at 64 KiB. */
  if (size >= 0x10000 + 4096) {
    unsigned char bt[4096];
    if (image_pread (img, bt, sizeof bt, base + 0x10000) == -1)
      return -1;
    if (memcmp (bt + 0x40, "_BHRfS_M", 8) == 0) {
      uint64_t total = le32 (bt + 0x70) | (uint64_t) le32 (bt + 0x74) << 32;
      uint64_t used = le32 (bt + 0x78) | (uint64_t) le32 (bt + 0x7c) << 32;
      fi->type = "btrfs";
      uuid_string (bt + 0x20, fi->uuid);
      fi->label = label_string (bt + 0x12b, 256, false);
      fi->size = total;
      fi->used = used;
      fi->free = total - used;
      fi->has_usage = used <= total;
      return 0;
    }
  }
  probe_vfat (img, base, b, size, fi);
  return 0;
}

/* Read a whole vfat directory: the fixed FAT12/16 root when cluster
 * is 0, else the cluster chain.  Caller frees.  NULL on a read error.
 */
static unsigned char *
fat_read_dir (struct image *img, uint64_t base, const struct fs_info *fi,
              const unsigned char *fat, uint32_t cluster, uint64_t *len_rtn)
{
  uint64_t cluster_bytes = (uint64_t) fi->spc * fi->bps;
  unsigned char *dir = NULL;
  uint64_t len = 0;

  if (cluster == 0) {
    len = fi->root_bytes;
    dir = xmalloc (len ? len : 1);
    if (image_pread (img, dir, len, base + fi->root_offset) == -1) {
      free (dir);
      return NULL;
    }
  }
  else {
    for (int guard = 0; cluster >= 2 && cluster < fi->clusters + 2 &&
           guard < 4096; ++guard) {
      dir = xrealloc (dir, len + cluster_bytes);
      if (image_pread (img, dir + len, cluster_bytes,
                       base + fi->data_offset +
                       (uint64_t) (cluster - 2) * cluster_bytes) == -1) {
        free (dir);
        return NULL;
      }
      len += cluster_bytes;
      cluster = fat_next (fi, fat, cluster);
    }
  }
  *len_rtn = len;
  return dir;
}

/* Find a path (components separated by "/", matched case-insensitively
 * against 8.3 short names) in a vfat filesystem.  1 found (a file; its
 * size in *size_rtn), 0 not found, -1 on a read error.
 */
static int
fat_find (struct image *img, uint64_t base, const struct fs_info *fi,
          const char *path, uint64_t *size_rtn)
{
  CLEANUP_FREE unsigned char *fat = fat_read_table (img, base, fi);
  CLEANUP_FREE char *copy = xstrdup (path);
  CLEANUP_STRV_STRUCT struct strv comps = { 0 };
  uint32_t cluster = fi->fat_bits == 32 ? fi->root_cluster : 0;
  char *save, *comp;

  if (!fat)
    return -1;
  for (comp = strtok_r (copy, "/", &save); comp;
       comp = strtok_r (NULL, "/", &save))
    strv_add (&comps, comp);
  for (size_t c = 0; c < comps.len; ++c) {
    const char *name = comps.v[c];
    const char *dot = strrchr (name, '.');
    size_t nlen = dot ? (size_t) (dot - name) : strlen (name);
    bool last = c + 1 == comps.len;
    CLEANUP_FREE unsigned char *dir = NULL;
    uint64_t dir_bytes = 0;
    char want[11];
    bool found = false;

    memset (want, ' ', 11);
    for (size_t i = 0; i < nlen && i < 8; ++i)
      want[i] = toupper ((unsigned char) name[i]);
    for (size_t i = 0; dot && dot[1 + i] && i < 3; ++i)
      want[8 + i] = toupper ((unsigned char) dot[1 + i]);
    dir = fat_read_dir (img, base, fi, fat, cluster, &dir_bytes);
    if (!dir)
      return -1;
    for (uint64_t off = 0; off + 32 <= dir_bytes; off += 32) {
      const unsigned char *e = dir + off;
      if (e[0] == 0)
        break;
      if (e[0] == 0xe5 || e[11] == 0x0f || (e[11] & 0x08))
        continue;
      if (memcmp (e, want, 11) != 0)
        continue;
      if (last) {
        if (e[11] & 0x10)
          return 0;
        *size_rtn = le32 (e + 28);
        return 1;
      }
      if (!(e[11] & 0x10))
        return 0;
      cluster = (uint32_t) le16 (e + 20) << 16 | le16 (e + 26);
      found = true;
      break;
    }
    if (!found)
      return 0;
  }
  return 0;
}

/* ---- the installed system, through libext2fs ---- */

struct ko_walk {
  ext2_filsys fs;
  uint64_t count;
  struct strv *found;           /* relative paths of modules, or NULL */
  const char *prefix;
  struct strv subdirs;
  errcode_t err;
};

static bool
is_module_name (const char *name, size_t len)
{
  static const char *const exts[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz",
                                      NULL };
  for (const char *const *e = exts; *e; ++e) {
    size_t n = strlen (*e);
    if (len > n && memcmp (name + len - n, *e, n) == 0)
      return true;
  }
  return false;
}

static int
ko_entry (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
          int offset, int blocksize, char *buf, void *priv)
{
  struct ko_walk *w = priv;
  int len = ext2fs_dirent_name_len (dirent);
  int type = ext2fs_dirent_file_type (dirent);

  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  if (type == EXT2_FT_UNKNOWN) {
    struct ext2_inode in;
    w->err = ext2fs_read_inode (w->fs, dirent->inode, &in);
    if (w->err)
      return DIRENT_ABORT;
    type = LINUX_S_ISDIR (in.i_mode) ? EXT2_FT_DIR :
      LINUX_S_ISREG (in.i_mode) ? EXT2_FT_REG_FILE : EXT2_FT_SYMLINK;
  }
  if (type == EXT2_FT_DIR)
    strv_addf (&w->subdirs, "%u %.*s", dirent->inode, len, dirent->name);
  else if (type == EXT2_FT_REG_FILE && is_module_name (dirent->name, len)) {
    w->count++;
    if (w->found)
      strv_addf (w->found, "%s%.*s", w->prefix, len, dirent->name);
  }
  return 0;
}

/* Count the modules under directory ino (not following symlinks). */
static int
count_modules (ext2_filsys fs, ext2_ino_t ino, const char *prefix,
               uint64_t *count, struct strv *found, int depth)
{
  struct ko_walk w = { .fs = fs, .found = found, .prefix = prefix };
  errcode_t err;
  int r = 0;

  if (depth > 32)
    return 0;
  err = ext2fs_dir_iterate2 (fs, ino, 0, NULL, ko_entry, &w);
  if (!err)
    err = w.err;
  if (err) {
    error ("read /lib/modules: %s", error_message (err));
    strv_free (&w.subdirs);
    return -1;
  }
  *count += w.count;
  for (size_t i = 0; r == 0 && i < w.subdirs.len; ++i) {
    unsigned sub;
    int n;
    if (sscanf (w.subdirs.v[i], "%u %n", &sub, &n) != 1)
      continue;
    CLEANUP_FREE char *p = xasprintf ("%s%s/", prefix, w.subdirs.v[i] + n);
    r = count_modules (fs, sub, p, count, found, depth + 1);
  }
  strv_free (&w.subdirs);
  return r;
}

/* "KEY=value" or KEY="value" from os-release text. */
static char *
os_release_get (const char *text, const char *key)
{
  size_t klen = strlen (key);

  for (const char *l = text; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL) {
    size_t n = strcspn (l, "\n");
    if (n > klen && strncmp (l, key, klen) == 0 && l[klen] == '=') {
      const char *v = l + klen + 1;
      size_t vlen = n - klen - 1;
      if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
        v++;
        vlen -= 2;
      }
      return xasprintf ("%.*s", (int) vlen, v);
    }
  }
  return NULL;
}

/* The kernel command line of the first "linux" line of grub.cfg. */
static char *
grub_cfg_cmdline (const char *text)
{
  for (const char *l = text; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL) {
    const char *p = l;
    size_t n;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp (p, "linux", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
      continue;
    p += 5;
    while (*p == ' ' || *p == '\t')
      p++;
    p += strcspn (p, " \t\n");          /* the kernel */
    while (*p == ' ' || *p == '\t')
      p++;
    n = strcspn (p, "\n");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    return xasprintf ("%.*s", (int) n, p);
  }
  return NULL;
}

/* The release in a bzImage's setup header (kernel_version). */
static char *
bzimage_release (ext2_filsys fs, const char *path)
{
  ext2_ino_t ino;
  ext2_file_t f;
  unsigned char hdr[1024];
  char ver[128];
  unsigned int got;
  unsigned off;
  char *r = NULL;

  if (ext2_lookup (fs, path, true, &ino) != 0 ||
      ext2fs_file_open (fs, ino, 0, &f))
    return NULL;
  if (ext2fs_file_read (f, hdr, sizeof hdr, &got) == 0 && got == sizeof hdr &&
      memcmp (hdr + 0x202, "HdrS", 4) == 0) {
    off = le16 (hdr + 0x20e) + 0x200;
    if (ext2fs_file_llseek (f, off, EXT2_SEEK_SET, NULL) == 0 &&
        ext2fs_file_read (f, ver, sizeof ver - 1, &got) == 0 && got > 0) {
      ver[got] = '\0';
      ver[strcspn (ver, " ")] = '\0';
      r = xstrdup (ver);
    }
  }
  ext2fs_file_close (f);
  return r;
}

static uint64_t
file_size (ext2_filsys fs, const char *path)
{
  ext2_ino_t ino;
  struct ext2_inode in;

  if (ext2_lookup (fs, path, true, &ino) != 0 ||
      ext2fs_read_inode (fs, ino, &in))
    return 0;
  return EXT2_I_SIZE (&in);
}

/* Is there a system (or a /boot) in this filesystem? */
static bool
looks_like_system (ext2_filsys fs)
{
  static const char *const marks[] = { "/etc", "/sbin/init", "/boot",
                                       "/lib/modules", NULL };
  ext2_ino_t ino;

  for (const char *const *m = marks; *m; ++m)
    if (ext2_lookup (fs, *m, false, &ino) == 0)
      return true;
  return false;
}

/* A kernel in /boot: Debian's vmlinuz-*, or an image named as some
 * architecture's build names it (bzImage, Image, zImage).
 */
static bool
is_kernel_name (const char *n)
{
  if (STRPREFIX (n, "vmlinuz"))
    return true;
  for (const struct arch *a = arch_next (NULL); a; a = arch_next (a))
    if (STRPREFIX (n, a->kernel_name))
      return true;
  return false;
}

static int
print_system (struct out *o, ext2_filsys fs, int partition)
{
  CLEANUP_FREE char *os = NULL;
  CLEANUP_FREE char *hostname = NULL;
  CLEANUP_FREE char *grubcfg = NULL;
  CLEANUP_STRV_STRUCT struct strv boot = { 0 };
  CLEANUP_STRV_STRUCT struct strv releases = { 0 };
  int r;

  obj_begin (o, "system");
  kv_u64 (o, "partition", partition);
  os = ext2_read_file (fs, "/etc/os-release", 1 << 20, NULL);
  if (!os && errno == ENOENT)
    os = ext2_read_file (fs, "/usr/lib/os-release", 1 << 20, NULL);
  if (os) {
    static const char *const keys[] = { "ID", "NAME", "VERSION_ID",
                                        "PRETTY_NAME", NULL };
    obj_begin (o, "os_release");
    for (const char *const *k = keys; *k; ++k) {
      CLEANUP_FREE char *v = os_release_get (os, *k);
      kv_str (o, *k, v);
    }
    end (o);
  }
  else
    kv_null (o, "os_release");
  hostname = ext2_read_file (fs, "/etc/hostname", 4096, NULL);
  if (hostname)
    hostname[strcspn (hostname, "\n")] = '\0';
  kv_str (o, "hostname", hostname);

  /* Kernels and initrds in /boot. */
  r = ext2_list_dir (fs, "/boot", &boot);
  if (r == -1)
    return -1;
  arr_begin (o, "kernels");
  for (size_t i = 0; i < boot.len; ++i) {
    const char *n = boot.v[i];
    if (!is_kernel_name (n))
      continue;
    CLEANUP_FREE char *path = xasprintf ("/boot/%s", n);
    CLEANUP_FREE char *rel = bzimage_release (fs, path);
    obj_begin (o, NULL);
    kv_str (o, "path", path);
    kv_str (o, "release", rel);
    kv_u64 (o, "size", file_size (fs, path));
    end (o);
  }
  end (o);
  arr_begin (o, "initrds");
  for (size_t i = 0; i < boot.len; ++i) {
    const char *n = boot.v[i];
    if (!STRPREFIX (n, "initrd") && !STRPREFIX (n, "initramfs"))
      continue;
    const char *dash = strchr (n, '-');
    CLEANUP_FREE char *path = xasprintf ("/boot/%s", n);
    obj_begin (o, NULL);
    kv_str (o, "path", path);
    kv_str (o, "release", dash ? dash + 1 : NULL);
    kv_u64 (o, "size", file_size (fs, path));
    end (o);
  }
  end (o);

  /* Modules. */
  r = ext2_list_dir (fs, "/lib/modules", &releases);
  if (r == -1)
    return -1;
  arr_begin (o, "modules");
  for (size_t i = 0; i < releases.len; ++i) {
    CLEANUP_FREE char *dir = xasprintf ("/lib/modules/%s", releases.v[i]);
    CLEANUP_FREE char *upd = xasprintf ("%s/updates", dir);
    CLEANUP_STRV_STRUCT struct strv updates = { 0 };
    ext2_ino_t ino;
    uint64_t count = 0, ucount = 0;

    if (ext2_lookup (fs, dir, true, &ino) != 0)
      continue;
    if (count_modules (fs, ino, "", &count, NULL, 0) == -1)
      return -1;
    if (ext2_lookup (fs, upd, true, &ino) == 0 &&
        count_modules (fs, ino, "", &ucount, &updates, 0) == -1)
      return -1;
    obj_begin (o, NULL);
    kv_str (o, "release", releases.v[i]);
    kv_u64 (o, "count", count);
    arr_begin (o, "updates");
    for (size_t j = 0; j < updates.len; ++j)
      kv_str (o, NULL, updates.v[j]);
    end (o);
    end (o);
  }
  end (o);

  /* What loads at boot. */
  {
    CLEANUP_STRV_STRUCT struct strv load = { 0 };
    if (ext2_list_dir (fs, "/etc/modules-load.d", &load) == -1)
      return -1;
    arr_begin (o, "modules_load");
    for (size_t i = 0; i < load.len; ++i) {
      CLEANUP_FREE char *p = xasprintf ("/etc/modules-load.d/%s",
                                        load.v[i]);
      CLEANUP_FREE char *text = ext2_read_file (fs, p, 1 << 20, NULL);
      for (char *l = text, *save = NULL;
           (l = strtok_r (l, "\n", &save)) != NULL; l = NULL) {
        l += strspn (l, " \t");
        if (*l && *l != '#')
          kv_str (o, NULL, l);
      }
    }
    end (o);
  }

  grubcfg = ext2_read_file (fs, "/boot/grub/grub.cfg", 1 << 20, NULL);
  if (grubcfg) {
    CLEANUP_FREE char *cmdline = grub_cfg_cmdline (grubcfg);
    obj_begin (o, "grub_cfg");
    kv_str (o, "path", "/boot/grub/grub.cfg");
    kv_str (o, "cmdline", cmdline);
    end (o);
  }
  else
    kv_null (o, "grub_cfg");
  end (o);
  return 0;
}

/* ---- the command ---- */

struct inspect_opts {
  int json;                     /* --json */
  const char *format;           /* --format */
};

static int
print_machine (struct out *o, const char *image)
{
  CLEANUP_FREE char *path = xasprintf ("%s.machine", image);
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_FREE char *mem = NULL;

  if (access (path, F_OK) == -1) {
    kv_null (o, "machine");
    return 0;
  }
  m = machine_read (path);
  if (!m)
    return -1;
  obj_begin (o, "machine");
  kv_str (o, "path", path);
  kv_str (o, "arch", m->arch);
  kv_str (o, "type", m->type);
  mem = machine_size_string (m->memory);
  kv_str (o, "memory", mem);
  kv_u64 (o, "cpus", m->cpus);
  kv_str (o, "firmware", m->firmware);
  kv_str (o, "kernel", m->kernel);
  kv_str (o, "initrd", m->initrd);
  kv_str (o, "cmdline", m->cmdline);
  kv_str (o, "disk", m->disk);
  kv_str (o, "nic", m->nic);
  arr_begin (o, "devices");
  for (size_t i = 0; i < m->ndevices; ++i) {
    obj_begin (o, NULL);
    kv_str (o, "name", m->devices[i].name);
    kv_str (o, "type", m->devices[i].type);
    end (o);
  }
  end (o);
  end (o);
  return 0;
}

/* GRUB for BIOS: its boot.img in the MBR (the "GRUB " message in the
 * code) and the core image at the sector the boot sector points to
 * (offset 0x5c), in the BIOS boot partition or the gap before the first
 * partition.
 */
static int
print_bootloader (struct out *o, struct image *img)
{
  unsigned char mbr[512];
  const char *bios = NULL;
  char *bios_where = NULL;
  int efi_part = 0;
  uint64_t efi_size = 0;
  const struct arch *efi = NULL;    /* whose boot file the ESP holds */

  if (img->size >= 512) {
    if (image_pread (img, mbr, 512, 0) == -1)
      return -1;
    if (memmem (mbr, 440, "GRUB ", 5)) {
      uint64_t sector = (uint64_t) le32 (mbr + 0x5c) |
        (uint64_t) le32 (mbr + 0x60) << 32;
      uint64_t first = UINT64_MAX;
      unsigned char core[512];
      bios = "grub";
      for (size_t i = 0; i < img->nparts; ++i) {
        const struct image_partition *p = &img->parts[i];
        if (p->start < first)
          first = p->start;
        if (sector * 512 >= p->start && sector * 512 < p->start + p->size)
          bios_where = xasprintf ("partition %d (%s)", p->number, p->kind);
      }
      if (!bios_where && sector > 0 && sector * 512 < first)
        bios_where = xasprintf ("gap before the first partition");
      if (sector > 0 && sector * 512 + 512 <= img->size) {
        static const unsigned char zero[512];
        if (image_pread (img, core, 512, sector * 512) == -1) {
          free (bios_where);
          return -1;
        }
        if (memcmp (core, zero, 512) == 0) {
          free (bios_where);
          bios_where = xstrdup ("missing (the core sector is empty)");
        }
      }
      if (!bios_where)
        bios_where = xasprintf ("sector %" PRIu64, sector);
    }
  }
  for (size_t i = 0; i < img->nparts && !efi; ++i) {
    const struct image_partition *p = &img->parts[i];
    struct fs_info fi;
    int r;
    if (!STREQ (p->kind, "esp") && !STREQ (p->kind, "basic-data"))
      continue;
    if (probe_fs (img, p->start, p->size, &fi) == -1)
      return -1;
    /* The removable-media boot file of each architecture (BOOTX64.EFI,
     * BOOTAA64.EFI, ...): the first found is reported.
     */
    for (const struct arch *a = arch_next (NULL);
         a && !efi && fi.type && STREQ (fi.type, "vfat"); a = arch_next (a)) {
      r = fat_find (img, p->start, &fi, a->efi_boot_file, &efi_size);
      if (r == -1) {
        fs_info_free (&fi);
        free (bios_where);
        return -1;
      }
      if (r == 1) {
        efi = a;
        efi_part = p->number;
      }
    }
    fs_info_free (&fi);
  }
  obj_begin (o, "bootloader");
  kv_str (o, "type", bios && efi ? "grub-bios+efi" : bios ? "grub-bios" :
          efi ? "efi" : "none");
  if (bios) {
    obj_begin (o, "bios");
    kv_str (o, "boot_img", "mbr");
    kv_str (o, "core", bios_where);
    end (o);
  }
  else
    kv_null (o, "bios");
  if (efi) {
    /* As the firmware writes it: \EFI\BOOT\BOOTX64.EFI. */
    CLEANUP_FREE char *path = xstrdup (efi->efi_boot_file);
    for (char *c = path; *c; ++c)
      if (*c == '/')
        *c = '\\';
    obj_begin (o, "efi");
    kv_u64 (o, "partition", efi_part);
    kv_str (o, "path", path);
    kv_str (o, "arch", efi->name);
    kv_u64 (o, "size", efi_size);
    end (o);
  }
  else
    kv_null (o, "efi");
  end (o);
  free (bios_where);
  return 0;
}

static void
print_fs (struct out *o, const struct fs_info *fi)
{
  if (!fi->type) {
    kv_null (o, "filesystem");
    return;
  }
  obj_begin (o, "filesystem");
  kv_str (o, "type", fi->type);
  kv_str (o, "label", fi->label);
  kv_str (o, "uuid", fi->uuid);
  kv_u64 (o, "size", fi->size);
  if (fi->has_usage) {
    kv_u64 (o, "used", fi->used);
    kv_u64 (o, "free", fi->free);
  }
  end (o);
}

static int
do_inspect (struct out *o, struct image *img, const char *path)
{
  ext2_filsys sysfs = NULL;
  int syspart = -1;
  int r = 0;

  obj_begin (o, NULL);
  obj_begin (o, "image");
  kv_str (o, "name", path);
  kv_str (o, "format", img->is_uri ? "nbd" : img->format);
  kv_u64 (o, "virtual_size", img->size);
  if (!img->is_uri)
    kv_u64 (o, "allocated", img->allocated);
  end (o);

  if (img->table) {
    obj_begin (o, "partition_table");
    kv_str (o, "type", img->table);
    kv_str (o, "uuid", img->disk_uuid);
    kv_bool (o, "hybrid_mbr", img->hybrid);
    end (o);
  }
  else
    kv_null (o, "partition_table");

  arr_begin (o, "partitions");
  /* No partition table: the whole disk as partition 0. */
  for (size_t i = 0; i < (img->table ? img->nparts : 1); ++i) {
    struct image_partition whole = { .number = 0, .start = 0,
                                     .size = img->size, .kind = "disk" };
    const struct image_partition *p = img->table ? &img->parts[i] : &whole;
    struct fs_info fi;

    if (STREQ (p->kind, "extended"))
      continue;
    if (probe_fs (img, p->start, p->size, &fi) == -1) {
      r = -1;
      break;
    }
    obj_begin (o, NULL);
    kv_u64 (o, "number", p->number);
    kv_u64 (o, "start", p->start);
    kv_u64 (o, "size", p->size);
    if (img->table) {
      kv_str (o, "type", p->type);
      kv_str (o, "kind", p->kind);
      if (p->name)
        kv_str (o, "name", p->name);
      kv_str (o, "uuid", p->uuid);
      kv_bool (o, "bootable", p->bootable);
    }
    print_fs (o, &fi);
    end (o);
    if (!sysfs && fi.type && STRPREFIX (fi.type, "ext")) {
      ext2_filsys fs;
      CLEANUP_FREE char *what = xasprintf ("partition %d of %s", p->number,
                                           path);
      if (nbd_ext2_open (img->h, p->start, p->size, false, what, &fs) == -1) {
        fs_info_free (&fi);
        r = -1;
        break;
      }
      if (looks_like_system (fs)) {
        sysfs = fs;
        syspart = p->number;
      }
      else
        ext2fs_close_free (&fs);
    }
    fs_info_free (&fi);
  }
  end (o);
  if (r == 0) {
    if (sysfs)
      r = print_system (o, sysfs, syspart);
    else
      kv_null (o, "system");
  }
  if (sysfs)
    ext2fs_close_free (&sysfs);
  if (r == 0)
    r = print_bootloader (o, img);
  if (r == 0 && !img->is_uri)
    r = print_machine (o, path);
  end (o);
  return r;
}

int
cmd_inspect (int argc, char **argv)
{
  struct inspect_opts opts = { 0 };
  CLEANUP_FREE char *format_arg = NULL;
  struct poptOption options[] = {
    { "json", '\0', POPT_ARG_NONE, &opts.json, 0,
      "Print one JSON object", NULL },
    { "format", 'f', POPT_ARG_STRING, &format_arg, 0,
      "The image format (qcow2, raw; default: probed)", "FORMAT" },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_FREE char *text = NULL;
  size_t len = 0;
  struct out o = { 0 };
  struct image *img;
  const char **args;
  int r;

  r = cli_parse (&ctx, "inspect", argc, argv, options, "IMAGE|NBD-URI",
                 NULL, NULL);
  if (r != 0)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  opts.format = format_arg;
  args = poptGetArgs (ctx);
  if (!args || !args[0] || args[1]) {
    usage_error ("inspect", "give one IMAGE or NBD URI");
    return EXIT_USAGE;
  }
  if (opts.format && !STREQ (opts.format, "qcow2") &&
      !STREQ (opts.format, "raw")) {
    usage_error ("inspect", "--format %s: qcow2 or raw", opts.format);
    return EXIT_USAGE;
  }
  img = image_open (args[0], opts.format, true);
  if (!img)
    return EXIT_FAIL;
  /* Everything goes to memory first: nothing half printed on error. */
  o.fp = open_memstream (&text, &len);
  if (!o.fp) {
    error_errno ("open_memstream");
    image_close (img, true);
    return EXIT_FAIL;
  }
  o.json = opts.json;
  r = do_inspect (&o, img, args[0]);
  fclose (o.fp);
  if (image_close (img, r == -1) == -1)
    r = -1;
  if (r == -1)
    return EXIT_FAIL;
  fwrite (text, 1, len, stdout);
  if (fflush (stdout) == EOF) {
    error_errno ("write standard output");
    return EXIT_FAIL;
  }
  return EXIT_OK;
}
