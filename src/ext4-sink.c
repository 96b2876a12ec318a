/* The ext4 sink: write entries into an ext4 filesystem (made by
 * ext4_mkfs) through libext2fs, at a byte offset inside an image file.
 * No mount, no loop device, no root.
 *
 * Regular file data is gathered into runs of up to WBUF_SIZE bytes;
 * each run gets contiguous blocks (ext2fs_new_range) written with one
 * io_channel write, and the extents are inserted into the inode's extent
 * tree directly.  Holes are only what the source says is a hole: a gap
 * between the data blocks it gives.  Blocks of zeros it gives are
 * written.
 *
 * Paths are resolved through a table of what has been written (see
 * ext4-paths.h), never by following anything in the filesystem, so a
 * symlink in the middle of a path is recognised and refused.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "mkvmimg.h"
#include "entries.h"
#include "ext4.h"
#include "ext4-paths.h"

#define WBUF_SIZE (4 << 20)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Inode flags an entry may carry (chattr +i, +a, +d, +A). */
#define FFLAGS_MASK (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL | EXT2_NODUMP_FL | \
                     EXT2_NOATIME_FL)

struct ext4_sink {
  struct entry_sink sink;       /* handed out; opaque points back here */
  char *image;
  ext2_filsys fs;               /* NULL once closed */
  struct ext4_paths paths;      /* every path in the filesystem */
  struct ext4_path *root;       /* the record of "." */
  char *wbuf;                   /* a run of file data, WBUF_SIZE bytes */
  char *dbuf;                   /* a directory block */
  blk64_t goal;                 /* where the next run of data should go */
  int64_t now;                  /* times of what no entry describes */
  size_t isize;                 /* on-disk inode size */
  bool no_sync;                 /* a working file: close without fsync */
};

/* The image file that the host refused a write to (a full disk), so
 * that the error names it rather than blaming the ext4 filesystem.
 */
static const char *host_write_failed;

/* Called by the unix io manager when a write to the image fails.  A
 * write that a full disk cut short comes as a "short write", without
 * errno: then the host filesystem's free space tells.
 */
static errcode_t
host_write_error (io_channel channel, unsigned long block, int count,
                  const void *data, size_t size, int actual, errcode_t err)
{
  struct ext4_sink *s = channel->app_data;
  struct statvfs sv;

  if (err == EXT2_ET_SHORT_WRITE && statvfs (s->image, &sv) == 0 &&
      (geteuid () == 0 ? sv.f_bfree : sv.f_bavail) == 0)
    err = ENOSPC;
  if (!host_write_failed)
    host_write_failed = s->image;
  return err;
}

/* Report a libext2fs error about an entry, with its own text. */
static void
fs_error (const char *path, errcode_t err)
{
  if (host_write_failed)
    error ("populate ext4: %s: writing %s: %s", path, host_write_failed,
           error_message (err));
  else if (err == EXT2_ET_BLOCK_ALLOC_FAIL ||
           err == EXT2_ET_INODE_ALLOC_FAIL || err == ENOSPC)
    error ("populate ext4: %s: %s (the filesystem is too small for the "
           "entries)", path, error_message (err));
  else
    error ("populate ext4: %s: %s", path, error_message (err));
}

static int
file_type (unsigned mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return EXT2_FT_REG_FILE;
  case S_IFDIR: return EXT2_FT_DIR;
  case S_IFLNK: return EXT2_FT_SYMLINK;
  case S_IFCHR: return EXT2_FT_CHRDEV;
  case S_IFBLK: return EXT2_FT_BLKDEV;
  case S_IFIFO: return EXT2_FT_FIFO;
  case S_IFSOCK: return EXT2_FT_SOCK;
  default: return EXT2_FT_UNKNOWN;
  }
}

static const char *
type_name (unsigned mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return "regular file";
  case S_IFDIR: return "directory";
  case S_IFLNK: return "symbolic link";
  case S_IFCHR: return "character device";
  case S_IFBLK: return "block device";
  case S_IFIFO: return "fifo";
  case S_IFSOCK: return "socket";
  default: return "file of unknown type";
  }
}

/* ext4 time: 32 bits of seconds (signed), and in the extra field 2
 * epoch bits (seconds >> 32, added) and the nanoseconds.
 */
static void
set_time (__u32 *lo, __u32 *extra, int64_t sec, long nsec)
{
  const int64_t min = INT32_MIN;
  const int64_t max = 3 * (INT64_C (1) << 32) + INT32_MAX;
  int64_t epoch;

  if (nsec < 0 || nsec > 999999999)
    nsec = 0;
  if (sec < min) {
    sec = min;
    nsec = 0;
  }
  if (sec > max) {
    sec = max;
    nsec = 999999999;
  }
  *lo = (uint32_t) sec;
  epoch = (sec - (int32_t) (uint32_t) sec) >> 32;
  *extra = (uint32_t) (epoch & EXT4_EPOCH_MASK) |
    ((uint32_t) nsec << EXT4_EPOCH_BITS);
}

/* Owner, mode, times and flags of an entry into an inode (type bits are
 * taken from the entry too; the caller has checked they agree).
 */
static void
apply_metadata (struct ext4_sink *s, struct ext2_inode_large *in,
                struct archive_entry *e)
{
  uint32_t uid = (uint32_t) archive_entry_uid (e);
  uint32_t gid = (uint32_t) archive_entry_gid (e);
  int64_t mtime = s->now, t;
  long mtime_ns = 0, ns;
  unsigned long set, clear;

  in->i_mode = (archive_entry_filetype (e) & S_IFMT) |
    (archive_entry_perm (e) & 07777);
  in->i_uid = uid & 0xffff;
  in->osd2.linux2.l_i_uid_high = uid >> 16;
  in->i_gid = gid & 0xffff;
  in->osd2.linux2.l_i_gid_high = gid >> 16;

  if (archive_entry_mtime_is_set (e)) {
    mtime = archive_entry_mtime (e);
    mtime_ns = archive_entry_mtime_nsec (e);
  }
  set_time (&in->i_mtime, &in->i_mtime_extra, mtime, mtime_ns);
  t = mtime, ns = mtime_ns;
  if (archive_entry_atime_is_set (e))
    t = archive_entry_atime (e), ns = archive_entry_atime_nsec (e);
  set_time (&in->i_atime, &in->i_atime_extra, t, ns);
  t = mtime, ns = mtime_ns;
  if (archive_entry_ctime_is_set (e))
    t = archive_entry_ctime (e), ns = archive_entry_ctime_nsec (e);
  set_time (&in->i_ctime, &in->i_ctime_extra, t, ns);
  t = s->now, ns = 0;
  if (archive_entry_birthtime_is_set (e))
    t = archive_entry_birthtime (e), ns = archive_entry_birthtime_nsec (e);
  set_time (&in->i_crtime, &in->i_crtime_extra, t, ns);

  archive_entry_fflags (e, &set, &clear);
  in->i_flags = (in->i_flags & ~FFLAGS_MASK) | (set & FFLAGS_MASK);
}

static int
read_inode (struct ext4_sink *s, const char *path, ext2_ino_t ino,
            struct ext2_inode_large *in)
{
  errcode_t err = ext2fs_read_inode_full (s->fs, ino, (struct ext2_inode *) in,
                                          s->isize);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  return 0;
}

static int
write_inode (struct ext4_sink *s, const char *path, ext2_ino_t ino,
             struct ext2_inode_large *in)
{
  errcode_t err = ext2fs_write_inode_full (s->fs, ino,
                                           (struct ext2_inode *) in, s->isize);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  return 0;
}

/* A zeroed buffer for one on-disk inode; caller frees. */
static struct ext2_inode_large *
new_inode_buf (struct ext4_sink *s)
{
  struct ext2_inode_large *in = xcalloc (1, s->isize);

  in->i_extra_isize = sizeof (struct ext2_inode_large) -
    EXT2_GOOD_OLD_INODE_SIZE;
  return in;
}

/* Extended attributes of the entry onto the inode.  replace: remove
 * those the inode has first (metadata of a directory over a directory).
 */
static int
xattr_collect (char *name, char *value, size_t len, void *data)
{
  strv_add (data, name);
  return 0;
}

static int
set_xattrs (struct ext4_sink *s, const char *path, ext2_ino_t ino,
            struct archive_entry *e, bool replace)
{
  struct ext2_xattr_handle *h = NULL;
  CLEANUP_STRV_STRUCT struct strv old = { 0 };
  const char *name;
  const void *value;
  size_t size;
  errcode_t err;
  int n = archive_entry_xattr_reset (e);

  if (n == 0 && !replace)
    return 0;
  err = ext2fs_xattrs_open (s->fs, ino, &h);
  if (!err)
    err = ext2fs_xattrs_read (h);
  if (!err && replace)
    err = ext2fs_xattrs_iterate (h, xattr_collect, &old);
  for (size_t i = 0; !err && i < old.len; ++i)
    err = ext2fs_xattr_remove (h, old.v[i]);
  if (err)
    goto error;
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK) {
    err = ext2fs_xattr_set (h, name, value, size);
    if (err) {
      error ("populate ext4: %s: extended attribute %s: %s", path, name,
             error_message (err));
      ext2fs_xattrs_close (&h);
      return -1;
    }
  }
  err = ext2fs_xattrs_close (&h);
  if (err)
    goto error;
  return 0;

 error:
  if (h)
    ext2fs_xattrs_close (&h);
  fs_error (path, err);
  return -1;
}

/* File data: gathered into runs, written and mapped by extents. */
struct writer {
  struct ext4_sink *s;
  const char *path;
  struct ext2_inode_large *in;
  ext2_extent_handle_t handle;
  struct ext2fs_extent ext;     /* the extent being grown; e_len 0: none */
  uint64_t run;                 /* logical block of wbuf[0] */
  size_t fill;                  /* bytes in wbuf */
  bool have_run;
};

static int
writer_insert (struct writer *w)
{
  errcode_t err;

  if (w->ext.e_len == 0)
    return 0;
  err = ext2fs_extent_insert (w->handle, EXT2_EXTENT_INSERT_AFTER, &w->ext);
  if (!err)
    err = ext2fs_extent_fix_parents (w->handle);
  if (err) {
    fs_error (w->path, err);
    return -1;
  }
  w->ext.e_len = 0;
  return 0;
}

static int
writer_add_extent (struct writer *w, blk64_t lblk, blk64_t pblk, blk64_t len)
{
  while (len > 0) {
    blk64_t n;

    if (w->ext.e_len && w->ext.e_len < EXT_INIT_MAX_LEN &&
        w->ext.e_lblk + w->ext.e_len == lblk &&
        w->ext.e_pblk + w->ext.e_len == pblk) {
      n = MIN (len, EXT_INIT_MAX_LEN - w->ext.e_len);
      w->ext.e_len += n;
    }
    else {
      if (writer_insert (w) == -1)
        return -1;
      n = MIN (len, EXT_INIT_MAX_LEN);
      w->ext.e_lblk = lblk;
      w->ext.e_pblk = pblk;
      w->ext.e_len = n;
      w->ext.e_flags = 0;
    }
    lblk += n;
    pblk += n;
    len -= n;
  }
  return 0;
}

/* Write the buffered run (its last block padded with zeros). */
static int
writer_flush (struct writer *w)
{
  ext2_filsys fs = w->s->fs;
  unsigned bs = fs->blocksize;
  blk64_t count, lblk;
  char *p = w->s->wbuf;

  if (!w->have_run || w->fill == 0) {
    w->have_run = false;
    return 0;
  }
  count = (w->fill + bs - 1) / bs;
  memset (p + w->fill, 0, count * bs - w->fill);
  lblk = w->run;
  while (count > 0) {
    blk64_t pblk, plen;
    errcode_t err;

    if (w->s->goal >= ext2fs_blocks_count (fs->super))
      w->s->goal = fs->super->s_first_data_block;
    err = ext2fs_new_range (fs, 0, w->s->goal, count, NULL, &pblk, &plen);
    if (err) {
      fs_error (w->path, err);
      return -1;
    }
    if (plen > count)
      plen = count;
    ext2fs_block_alloc_stats_range (fs, pblk, plen, +1);
    err = io_channel_write_blk64 (fs->io, pblk, plen, p);
    if (!err)
      err = ext2fs_iblk_add_blocks (fs, (struct ext2_inode *) w->in, plen);
    if (err) {
      fs_error (w->path, err);
      return -1;
    }
    if (writer_add_extent (w, lblk, pblk, plen) == -1)
      return -1;
    w->s->goal = pblk + plen;
    lblk += plen;
    p += plen * bs;
    count -= plen;
  }
  w->have_run = false;
  w->fill = 0;
  return 0;
}

static int
writer_put (struct writer *w, const char *buf, size_t len, uint64_t off)
{
  size_t bs = w->s->fs->blocksize;
  char *wbuf = w->s->wbuf;

  if (w->have_run) {
    uint64_t pos = w->run * bs + w->fill;

    if (off < pos) {
      error ("populate ext4: %s: the data blocks are out of order", w->path);
      return -1;
    }
    if (off / bs <= pos / bs) {         /* same or next block: no hole */
      size_t to = off - w->run * bs;
      memset (wbuf + w->fill, 0, to - w->fill);
      w->fill = to;
    }
    else if (writer_flush (w) == -1)    /* a hole */
      return -1;
  }
  if (!w->have_run) {
    w->run = off / bs;
    w->fill = off % bs;
    memset (wbuf, 0, w->fill);
    w->have_run = true;
  }
  while (len > 0) {
    size_t n = MIN (len, WBUF_SIZE - w->fill);

    memcpy (wbuf + w->fill, buf, n);
    w->fill += n;
    buf += n;
    len -= n;
    if (w->fill == WBUF_SIZE) {
      uint64_t next = w->run + WBUF_SIZE / bs;
      if (writer_flush (w) == -1)
        return -1;
      w->run = next;
      w->have_run = true;
    }
  }
  return 0;
}

/* Write the data of a regular file (or a long symlink) into inode ino,
 * whose extent tree is empty and which is already on disk; then write
 * the inode with its size.  data may be NULL (no data).  size: the size
 * the entry declares, or -1.
 */
static int
write_data (struct ext4_sink *s, const char *path, ext2_ino_t ino,
            struct ext2_inode_large *in, struct entry_data *data,
            int64_t size)
{
  struct writer w = { .s = s, .path = path, .in = in };
  /* Extents address blocks with 32 bits, less one block so that the
   * last extent can reach the end: the kernel's largest ext4 file.
   */
  uint64_t max = ((1ULL << 32) - 1) * s->fs->blocksize;
  uint64_t end = 0;
  errcode_t err;
  int r = -1;

  if (size > 0 && (uint64_t) size > max) {
    error ("populate ext4: %s: the file claims %lld bytes, more than the "
           "largest ext4 file (%llu bytes with %u-byte blocks)", path,
           (long long) size, (unsigned long long) max, s->fs->blocksize);
    if (data)
      entry_data_close (data);
    return -1;
  }
  err = ext2fs_extent_open2 (s->fs, ino, (struct ext2_inode *) in, &w.handle);
  if (err) {
    fs_error (path, err);
    if (data)
      entry_data_close (data);
    return -1;
  }
  if (data) {
    const void *buf;
    size_t len;
    int64_t off;

    while ((r = entry_data_next (data, &buf, &len, &off)) == 1) {
      if (off < 0) {
        error ("populate ext4: %s: data at a negative offset", path);
        entry_data_close (data);
        r = -1;
        break;
      }
      if (len == 0)
        continue;
      if ((uint64_t) off + len > max) {
        error ("populate ext4: %s: data at offset %lld, beyond the largest "
               "ext4 file (%llu bytes with %u-byte blocks)", path,
               (long long) off, (unsigned long long) max, s->fs->blocksize);
        entry_data_close (data);
        r = -1;
        break;
      }
      if (writer_put (&w, buf, len, off) == -1) {
        entry_data_close (data);
        r = -1;
        break;
      }
      if ((uint64_t) off + len > end)
        end = off + len;
    }
    if (r == -1)
      goto out;
  }
  if (writer_flush (&w) == -1 || writer_insert (&w) == -1)
    goto out;
  if (size > 0 && (uint64_t) size > end)
    end = size;
  err = ext2fs_inode_size_set (s->fs, (struct ext2_inode *) in, end);
  if (err) {
    fs_error (path, err);
    goto out;
  }
  r = 0;
 out:
  ext2fs_extent_free (w.handle);
  if (r == 0)
    r = write_inode (s, path, ino, in);
  return r;
}

/* A directory whose last block is never appended to by hand (htree,
 * inline data, or a layout not understood): ext2fs_link does it.
 */
#define TAIL_NONE UINT64_MAX

/* Find the last block of a directory. */
static int
find_tail (struct ext4_sink *s, const char *path, struct ext4_path *dir)
{
  struct ext2_inode in;
  blk64_t pblk = 0;
  uint64_t size;
  errcode_t err;

  err = ext2fs_read_inode (s->fs, dir->ino, &in);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  size = EXT2_I_SIZE (&in);
  dir->tail = TAIL_NONE;
  if ((in.i_flags & (EXT2_INDEX_FL | EXT4_INLINE_DATA_FL)) ||
      size < s->fs->blocksize || size % s->fs->blocksize)
    return 0;
  err = ext2fs_bmap2 (s->fs, dir->ino, &in, NULL, 0,
                      size / s->fs->blocksize - 1, NULL, &pblk);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  if (pblk)
    dir->tail = pblk;
  return 0;
}

/* Append an entry to the last block of a directory: one block read and
 * written, where ext2fs_link scans the whole directory (quadratic for
 * big ones).  Returns 1 if done, 0 if it does not fit (or the block is
 * not as expected), -1 on error.
 */
static int
append_dirent (struct ext4_sink *s, const char *path, struct ext4_path *dir,
               const char *name, ext2_ino_t ino, int ft)
{
  ext2_filsys fs = s->fs;
  unsigned end = fs->blocksize;
  size_t len = strlen (name);
  unsigned need = EXT2_DIR_REC_LEN (len), off = 0, rec_len = 0, used;
  struct ext2_dir_entry *d;
  errcode_t err;

  if (dir->tail == 0 && find_tail (s, path, dir) == -1)
    return -1;
  if (dir->tail == TAIL_NONE)
    return 0;
  if (ext2fs_has_feature_metadata_csum (fs->super))
    end -= sizeof (struct ext2_dir_entry_tail);
  err = ext2fs_read_dir_block4 (fs, dir->tail, s->dbuf, 0, dir->ino);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  for (;;) {                    /* to the last entry */
    d = (struct ext2_dir_entry *) (s->dbuf + off);
    if (ext2fs_get_rec_len (fs, d, &rec_len) || rec_len < 8 ||
        off + rec_len > end)
      return 0;
    if (off + rec_len == end)
      break;
    off += rec_len;
  }
  used = d->inode ? EXT2_DIR_REC_LEN (ext2fs_dirent_name_len (d)) : 0;
  if (rec_len < used + need)
    return 0;
  if (used) {
    ext2fs_set_rec_len (fs, used, d);
    d = (struct ext2_dir_entry *) (s->dbuf + off + used);
    ext2fs_set_rec_len (fs, rec_len - used, d);
  }
  d->inode = ino;
  ext2fs_dirent_set_name_len (d, len);
  ext2fs_dirent_set_file_type (d, ext2fs_has_feature_filetype (fs->super) ?
                               ft : 0);
  memset (d->name, 0, need - 8);
  memcpy (d->name, name, len);
  err = ext2fs_write_dir_block4 (fs, dir->tail, s->dbuf, 0, dir->ino);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  return 1;
}

/* Link ino into dir as name, growing the directory when it is full. */
static int
link_name (struct ext4_sink *s, const char *path, struct ext4_path *dir,
           const char *name, ext2_ino_t ino, unsigned mode)
{
  errcode_t err;
  int r = append_dirent (s, path, dir, name, ino, file_type (mode));

  if (r != 0)
    return r == 1 ? 0 : -1;
  if (dir->tail != TAIL_NONE) {         /* the last block is full */
    err = ext2fs_expand_dir (s->fs, dir->ino);
    if (err) {
      fs_error (path, err);
      return -1;
    }
    dir->tail = 0;
    r = append_dirent (s, path, dir, name, ino, file_type (mode));
    if (r != 0)
      return r == 1 ? 0 : -1;
  }
  err = ext2fs_link (s->fs, dir->ino, name, ino, file_type (mode));
  if (err == EXT2_ET_DIR_NO_SPACE) {
    err = ext2fs_expand_dir (s->fs, dir->ino);
    if (!err)
      err = ext2fs_link (s->fs, dir->ino, name, ino, file_type (mode));
  }
  if (err) {
    fs_error (path, err);
    return -1;
  }
  return 0;
}

/* Make directory name in parent with the entry's metadata. */
static int
make_dir (struct ext4_sink *s, const char *path, struct ext4_path *parent,
          const char *name, struct archive_entry *e, ext2_ino_t *ino_rtn)
{
  CLEANUP_FREE struct ext2_inode_large *in = NULL;
  ext2_ino_t ino;
  errcode_t err;

  /* ext2fs_mkdir makes "." and "..", counts the link to the parent;
   * the name is linked here, without ext2fs_mkdir's lookup.
   */
  err = ext2fs_new_inode (s->fs, parent->ino, LINUX_S_IFDIR | 0755, NULL,
                          &ino);
  if (!err)
    err = ext2fs_mkdir (s->fs, parent->ino, ino, NULL);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  if (link_name (s, path, parent, name, ino, LINUX_S_IFDIR) == -1)
    return -1;
  in = new_inode_buf (s);
  if (read_inode (s, path, ino, in) == -1)
    return -1;
  apply_metadata (s, in, e);
  if (write_inode (s, path, ino, in) == -1 ||
      set_xattrs (s, path, ino, e, false) == -1)
    return -1;
  *ino_rtn = ino;
  return 0;
}

/* Metadata of a directory entry over an existing directory. */
static int
update_dir (struct ext4_sink *s, const char *path, ext2_ino_t ino,
            struct archive_entry *e)
{
  CLEANUP_FREE struct ext2_inode_large *in = new_inode_buf (s);

  if (read_inode (s, path, ino, in) == -1)
    return -1;
  apply_metadata (s, in, e);
  if (write_inode (s, path, ino, in) == -1)
    return -1;
  return set_xattrs (s, path, ino, e, true);
}

/* Make parent directory path[0..len) (and its own parents) if missing,
 * and return its inode.  A symlink or a file on the way is refused.
 */
static int
resolve_dir (struct ext4_sink *s, const char *entry, const char *path,
             size_t len, struct ext4_path **dir_rtn)
{
  struct ext4_path *p, *parent;
  const char *slash;
  ext2_ino_t ino;
  CLEANUP_FREE char *dir = NULL;
  struct archive_entry *e;
  int r;

  if (len == 0) {
    *dir_rtn = s->root;
    return 0;
  }
  p = ext4_paths_get (&s->paths, path, len);
  if (p) {
    if (S_ISDIR (p->mode)) {
      *dir_rtn = p;
      return 0;
    }
    if (S_ISLNK (p->mode))
      error ("populate ext4: %s: refusing the entry: %.*s is a symbolic "
             "link, which is never followed", entry, (int) len, path);
    else
      error ("populate ext4: %s: %.*s is a %s, not a directory", entry,
             (int) len, path, type_name (p->mode));
    return -1;
  }
  slash = memrchr (path, '/', len);
  if (resolve_dir (s, entry, path, slash ? (size_t) (slash - path) : 0,
                   &parent) == -1)
    return -1;
  dir = strndup (path, len);
  if (!dir) {
    error_errno ("strndup");
    return -1;
  }
  /* A missing parent: 0755 root:root. */
  e = archive_entry_new ();
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  r = make_dir (s, dir, parent, slash ? dir + (slash - path) + 1 : dir, e,
                &ino);
  archive_entry_free (e);
  if (r == -1)
    return -1;
  *dir_rtn = ext4_paths_put (&s->paths, path, len, ino, LINUX_S_IFDIR | 0755);
  return 0;
}

static int
count_entry (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
             int offset, int blocksize, char *buf, void *priv)
{
  int len = ext2fs_dirent_name_len (dirent);

  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  *(bool *) priv = true;
  return DIRENT_ABORT;
}

/* Free an inode whose last link went away: its blocks, its xattrs. */
static int
release_inode (struct ext4_sink *s, const char *path, ext2_ino_t ino,
               struct ext2_inode_large *in)
{
  bool isdir = LINUX_S_ISDIR (in->i_mode);
  errcode_t err = 0;

  if (ext2fs_inode_has_valid_blocks2 (s->fs, (struct ext2_inode *) in))
    err = ext2fs_punch (s->fs, ino, (struct ext2_inode *) in, NULL, 0, ~0ULL);
  if (!err)
    err = ext2fs_free_ext_attr (s->fs, ino, in);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  in->i_links_count = 0;
  in->i_dtime = (uint32_t) s->now;
  if (write_inode (s, path, ino, in) == -1)
    return -1;
  ext2fs_inode_alloc_stats2 (s->fs, ino, -1, isdir);
  return 0;
}

/* Remove an existing name that a new entry replaces.  A directory must
 * be empty.
 */
static int
remove_name (struct ext4_sink *s, const char *path, ext2_ino_t parent,
             const char *name, const struct ext4_path *old, unsigned new_mode)
{
  CLEANUP_FREE struct ext2_inode_large *in = new_inode_buf (s);
  ext2_ino_t ino = old->ino;
  bool isdir = S_ISDIR (old->mode);
  errcode_t err;

  if (isdir) {
    bool full = false;

    if (parent == EXT2_ROOT_INO && STREQ (name, "lost+found")) {
      error ("populate ext4: %s: refusing to replace lost+found with a %s",
             path, type_name (new_mode));
      return -1;
    }
    err = ext2fs_dir_iterate2 (s->fs, ino, 0, NULL, count_entry, &full);
    if (err) {
      fs_error (path, err);
      return -1;
    }
    if (full) {
      error ("populate ext4: %s: cannot replace a non-empty directory "
             "with a %s", path, type_name (new_mode));
      return -1;
    }
  }
  err = ext2fs_unlink (s->fs, parent, name, ino, 0);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  ext4_paths_del (&s->paths, path, strlen (path));
  if (read_inode (s, path, ino, in) == -1)
    return -1;
  if (isdir) {
    CLEANUP_FREE struct ext2_inode_large *pin = new_inode_buf (s);

    if (read_inode (s, path, parent, pin) == -1)
      return -1;
    if (pin->i_links_count > 2)
      pin->i_links_count--;
    if (write_inode (s, path, parent, pin) == -1)
      return -1;
    in->i_links_count = 0;
  }
  else if (in->i_links_count > 0)
    in->i_links_count--;
  if (in->i_links_count == 0)
    return release_inode (s, path, ino, in);
  return write_inode (s, path, ino, in);
}

/* A new inode for a non-directory entry (its data included). */
static int
make_inode (struct ext4_sink *s, const char *path, ext2_ino_t parent,
            struct archive_entry *e, struct entry_data *data,
            ext2_ino_t *ino_rtn)
{
  CLEANUP_FREE struct ext2_inode_large *in = new_inode_buf (s);
  unsigned type = archive_entry_filetype (e);
  ext2_ino_t ino;
  errcode_t err;

  err = ext2fs_new_inode (s->fs, parent, type | 0600, NULL, &ino);
  if (err) {
    fs_error (path, err);
    return -1;
  }
  ext2fs_inode_alloc_stats2 (s->fs, ino, +1, 0);
  *ino_rtn = ino;
  in->i_links_count = 1;
  apply_metadata (s, in, e);

  switch (type) {
  case AE_IFREG:
    in->i_flags |= EXT4_EXTENTS_FL;
    if (write_inode (s, path, ino, in) == -1)
      return -1;
    return write_data (s, path, ino, in, data,
                       archive_entry_size_is_set (e) ?
                       archive_entry_size (e) : -1);

  case AE_IFLNK: {
    const char *target = archive_entry_symlink (e);
    size_t len = target ? strlen (target) : 0;
    struct entry_data d = ENTRY_DATA_NONE;

    if (len == 0) {
      error ("populate ext4: %s: a symbolic link without a target", path);
      return -1;
    }
    if (len >= s->fs->blocksize) {
      error ("populate ext4: %s: the symbolic link target is longer than "
             "%u bytes", path, s->fs->blocksize - 1);
      return -1;
    }
    if (len < sizeof in->i_block) {   /* fast symlink: in the inode */
      memcpy (in->i_block, target, len);
      in->i_size = len;
      return write_inode (s, path, ino, in);
    }
    in->i_flags |= EXT4_EXTENTS_FL;
    if (write_inode (s, path, ino, in) == -1)
      return -1;
    d.buf = target;
    d.len = len;
    return write_data (s, path, ino, in, &d, len);
  }

  case AE_IFCHR:
  case AE_IFBLK: {
    unsigned major = archive_entry_rdevmajor (e);
    unsigned minor = archive_entry_rdevminor (e);

    if (major < 256 && minor < 256)
      in->i_block[0] = major << 8 | minor;
    else
      in->i_block[1] = (minor & 0xff) | (major << 8) |
        ((minor & ~0xffu) << 12);
    return write_inode (s, path, ino, in);
  }

  default:                      /* fifo, socket */
    return write_inode (s, path, ino, in);
  }
}

/* A hard link: another name for an inode already written. */
static int
put_hardlink (struct ext4_sink *s, const char *path, struct ext4_path *parent,
              const char *name, const struct ext4_path *old,
              struct archive_entry *e, struct entry_data *data)
{
  const char *target = archive_entry_hardlink (e);
  CLEANUP_FREE struct ext2_inode_large *in = new_inode_buf (s);
  struct ext4_path *t = ext4_paths_get (&s->paths, target, strlen (target));
  ext2_ino_t ino;
  unsigned mode;

  if (!t) {
    error ("populate ext4: %s: hard link to %s, which is not in the "
           "filesystem", path, target);
    return -1;
  }
  if (S_ISDIR (t->mode)) {
    error ("populate ext4: %s: hard link to the directory %s", path, target);
    return -1;
  }
  ino = t->ino;
  mode = t->mode;
  if (!old || old->ino != ino) {
    if (read_inode (s, path, ino, in) == -1)
      return -1;
    if (in->i_links_count >= EXT2_LINK_MAX) {
      error ("populate ext4: %s: %s has too many hard links", path, target);
      return -1;
    }
    if (old && remove_name (s, path, parent->ino, name, old, mode) == -1)
      return -1;
    if (link_name (s, path, parent, name, ino, mode) == -1)
      return -1;
    ext4_paths_put (&s->paths, path, strlen (path), ino, mode);
    if (read_inode (s, path, ino, in) == -1)
      return -1;
    in->i_links_count++;
    if (write_inode (s, path, ino, in) == -1)
      return -1;
  }

  /* cpio carries a hard-linked file's data with its last name. */
  if (data && S_ISREG (mode) && archive_entry_size_is_set (e) &&
      archive_entry_size (e) > 0) {
    errcode_t err;

    if (read_inode (s, path, ino, in) == -1)
      return -1;
    err = ext2fs_punch (s->fs, ino, (struct ext2_inode *) in, NULL, 0, ~0ULL);
    if (err) {
      fs_error (path, err);
      return -1;
    }
    if (write_inode (s, path, ino, in) == -1)
      return -1;
    return write_data (s, path, ino, in, data, archive_entry_size (e));
  }
  return 0;
}

/* Every component: not empty, not "." or "..", at most 255 bytes. */
static int
check_path (const char *path)
{
  const char *p = path;

  for (;;) {
    const char *end = strchrnul (p, '/');
    size_t n = end - p;

    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.')) {
      error ("populate ext4: %s: refusing a path with an empty, \".\" or "
             "\"..\" component", path);
      return -1;
    }
    if (n > EXT2_NAME_LEN) {
      error ("populate ext4: %s: a name is longer than %d bytes", path,
             EXT2_NAME_LEN);
      return -1;
    }
    if (!*end)
      return 0;
    p = end + 1;
  }
}

static int
ext4_put (struct entry_sink *sink, struct archive_entry *e,
          struct entry_data *data)
{
  struct ext4_sink *s = sink->opaque;
  const char *path = archive_entry_pathname (e);
  unsigned type = archive_entry_filetype (e);
  const char *slash, *name;
  struct ext4_path *old;
  struct ext4_path *parent;
  ext2_ino_t ino;

  if (!s->fs) {
    error ("populate ext4: the filesystem is already closed");
    return -1;
  }
  if (!path || !*path) {
    error ("populate ext4: an entry without a name");
    return -1;
  }
  if (STREQ (path, ".")) {
    if (type != AE_IFDIR || archive_entry_hardlink (e)) {
      error ("populate ext4: %s: the root must be a directory", path);
      return -1;
    }
    return update_dir (s, path, EXT2_ROOT_INO, e);
  }
  if (check_path (path) == -1)
    return -1;
  if (!archive_entry_hardlink (e) && file_type (type) == EXT2_FT_UNKNOWN) {
    error ("populate ext4: %s: unknown entry type (mode 0%o)", path,
           (unsigned) archive_entry_mode (e));
    return -1;
  }
  slash = strrchr (path, '/');
  name = slash ? slash + 1 : path;
  if (resolve_dir (s, path, path, slash ? (size_t) (slash - path) : 0,
                   &parent) == -1)
    return -1;
  old = ext4_paths_get (&s->paths, path, strlen (path));

  if (archive_entry_hardlink (e))
    return put_hardlink (s, path, parent, name, old, e, data);

  if (type == AE_IFDIR) {
    if (old && S_ISDIR (old->mode))
      return update_dir (s, path, old->ino, e);
    if (old && remove_name (s, path, parent->ino, name, old, type) == -1)
      return -1;
    if (make_dir (s, path, parent, name, e, &ino) == -1)
      return -1;
    ext4_paths_put (&s->paths, path, strlen (path), ino,
                    type | archive_entry_perm (e));
    return 0;
  }

  if (old && remove_name (s, path, parent->ino, name, old, type) == -1)
    return -1;
  if (make_inode (s, path, parent->ino, e, data, &ino) == -1 ||
      link_name (s, path, parent, name, ino, type) == -1)
    return -1;
  ext4_paths_put (&s->paths, path, strlen (path), ino,
                  type | archive_entry_perm (e));
  return set_xattrs (s, path, ino, e, false);
}

/* What the filesystem holds already (root and lost+found after mkfs)
 * goes into the path table.
 */
struct load_ctx {
  struct ext4_sink *s;
  const char *prefix;
  struct strv dirs;
  errcode_t err;
};

static int
load_entry (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
            int offset, int blocksize, char *buf, void *priv)
{
  struct load_ctx *ctx = priv;
  int len = ext2fs_dirent_name_len (dirent);
  struct ext2_inode in;
  CLEANUP_FREE char *path = NULL;

  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  ctx->err = ext2fs_read_inode (ctx->s->fs, dirent->inode, &in);
  if (ctx->err)
    return DIRENT_ABORT;
  path = *ctx->prefix ?
    xasprintf ("%s/%.*s", ctx->prefix, len, dirent->name) :
    xasprintf ("%.*s", len, dirent->name);
  ext4_paths_put (&ctx->s->paths, path, strlen (path), dirent->inode,
                  in.i_mode);
  if (LINUX_S_ISDIR (in.i_mode))
    strv_add (&ctx->dirs, path);
  return 0;
}

static int
load_tree (struct ext4_sink *s, ext2_ino_t dir, const char *prefix)
{
  struct load_ctx ctx = { .s = s, .prefix = prefix };
  errcode_t err;
  int r = 0;

  err = ext2fs_dir_iterate2 (s->fs, dir, 0, NULL, load_entry, &ctx);
  if (!err)
    err = ctx.err;
  if (err) {
    error ("open ext4 filesystem %s: read /%s: %s", s->image, prefix,
           error_message (err));
    r = -1;
  }
  for (size_t i = 0; r == 0 && i < ctx.dirs.len; ++i) {
    struct ext4_path *p = ext4_paths_get (&s->paths, ctx.dirs.v[i],
                                          strlen (ctx.dirs.v[i]));
    r = load_tree (s, p->ino, ctx.dirs.v[i]);
  }
  strv_free (&ctx.dirs);
  return r;
}

static int
ext4_finish (struct entry_sink *sink)
{
  struct ext4_sink *s = sink->opaque;
  errcode_t err;

  if (!s->fs)
    return 0;
  ext2fs_mark_super_dirty (s->fs);
  /* ext2fs_close2 frees fs only when it succeeds. */
  err = ext2fs_close2 (s->fs, s->no_sync ? EXT2_FLAG_FLUSH_NO_SYNC : 0);
  if (err)
    ext2fs_free (s->fs);
  s->fs = NULL;
  if (err) {
    error ("populate ext4: write %s: %s", s->image, error_message (err));
    return -1;
  }
  return 0;
}

struct entry_sink *
ext4_sink_new (const char *image, uint64_t offset)
{
  CLEANUP_FREE char *io_opts = xasprintf ("offset=%" PRIu64, offset);
  CLEANUP_FREE char *what = xasprintf ("%s at offset %" PRIu64, image, offset);

  struct entry_sink *sink = ext4_sink_open (image, io_opts, unix_io_manager,
                                            what);
  if (sink)
    ((struct ext4_sink *) sink->opaque)->no_sync = true;
  return sink;
}

struct entry_sink *
ext4_sink_open (const char *name, const char *io_opts,
                struct struct_io_manager *io, const char *what)
{
  const char *image = io == unix_io_manager ? name : what;
  struct ext4_sink *s;
  ext2_filsys fs;
  errcode_t err;

  initialize_ext2_error_table ();
  err = ext2fs_open2 (name, io_opts, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
                      io, &fs);
  if (err) {
    error ("open ext4 filesystem %s: %s", what, error_message (err));
    return NULL;
  }
  if (!ext2fs_has_feature_extents (fs->super)) {
    error ("open ext4 filesystem %s: no extent feature: not ext4", what);
    ext2fs_free (fs);
    return NULL;
  }
  err = ext2fs_read_bitmaps (fs);
  if (err) {
    error ("open ext4 filesystem %s: read bitmaps: %s", image,
           error_message (err));
    ext2fs_free (fs);
    return NULL;
  }
  s = xcalloc (1, sizeof *s);
  s->image = xstrdup (image);
  s->fs = fs;
  s->isize = EXT2_INODE_SIZE (fs->super);
  if (s->isize < sizeof (struct ext2_inode_large))
    s->isize = sizeof (struct ext2_inode_large);
  /* The filesystem's own clock: reproducible when mkfs was. */
  s->now = fs->super->s_mkfs_time ? fs->super->s_mkfs_time : time (NULL);
  fs->now = s->now;
  s->wbuf = xmalloc (WBUF_SIZE);
  s->dbuf = xmalloc (fs->blocksize);
  ext4_paths_init (&s->paths);
  s->root = ext4_paths_put (&s->paths, ".", 1, EXT2_ROOT_INO,
                            LINUX_S_IFDIR | 0755);
  s->sink.put = ext4_put;
  s->sink.finish = ext4_finish;
  s->sink.opaque = s;
  host_write_failed = NULL;
  if (io == unix_io_manager) {
    fs->io->app_data = s;
    fs->io->write_error = host_write_error;
  }
  if (load_tree (s, EXT2_ROOT_INO, "") == -1) {
    ext4_sink_free (&s->sink);
    return NULL;
  }
  return &s->sink;
}

void
ext4_sink_free (struct entry_sink *sink)
{
  struct ext4_sink *s;

  if (!sink)
    return;
  s = sink->opaque;
  if (s->fs)
    ext2fs_free (s->fs);        /* not written out: the image is unfinished */
  ext4_paths_free (&s->paths);
  free (s->wbuf);
  free (s->dbuf);
  if (host_write_failed == s->image)
    host_write_failed = NULL;
  free (s->image);
  free (s);
}
