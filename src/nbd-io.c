/* An ext2fs io_manager over libnbd.
 *
 * Every block read or written is one NBD request at the partition's
 * offset.  A small direct-mapped cache of blocks saves the round trips
 * of libext2fs reading the same group descriptors, inode table blocks
 * and directory blocks again; writes go through it to the server at
 * once (write-through), so flush only has to ask the server to flush.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include <et/com_err.h>
#include <ext2fs/ext2_io.h>
#include <ext2fs/ext2fs.h>
#include <libnbd.h>

#include "mkvmimg.h"
#include "nbd-io.h"

#define CACHE_SLOTS 1024

struct cache_slot {
  unsigned long long block;     /* in units of the channel's block size */
  bool valid;
  char *data;
};

struct nbd_io {
  struct nbd_handle *h;
  uint64_t offset, size;        /* the partition inside the export */
  bool readonly;
  struct cache_slot cache[CACHE_SLOTS];
  struct struct_io_stats stats_buf;
};

char *
nbd_io_name (struct nbd_handle *h, uint64_t offset, uint64_t size)
{
  return xasprintf ("nbd:%p:%" PRIu64 ":%" PRIu64, (void *) h, offset, size);
}

static void
cache_drop (struct nbd_io *io)
{
  for (size_t i = 0; i < CACHE_SLOTS; ++i) {
    free (io->cache[i].data);
    io->cache[i].data = NULL;
    io->cache[i].valid = false;
  }
}

static errcode_t
nbd_io_open (const char *name, int flags, io_channel *channel)
{
  struct nbd_io *io;
  io_channel ch;
  void *h;
  uint64_t offset, size;

  if (!name || sscanf (name, "nbd:%p:%" SCNu64 ":%" SCNu64, &h, &offset,
                       &size) != 3)
    return EXT2_ET_BAD_DEVICE_NAME;
  io = calloc (1, sizeof *io);
  ch = calloc (1, sizeof *ch);
  if (!io || !ch) {
    free (io);
    free (ch);
    return EXT2_ET_NO_MEMORY;
  }
  ch->name = strdup (name);
  if (!ch->name) {
    free (io);
    free (ch);
    return EXT2_ET_NO_MEMORY;
  }
  io->h = h;
  io->offset = offset;
  io->size = size;
  io->readonly = !(flags & IO_FLAG_RW);
  if (!io->readonly && nbd_is_read_only (io->h) > 0) {
    free (ch->name);
    free (io);
    free (ch);
    return EXT2_ET_RO_FILSYS;
  }
  io->stats_buf.num_fields = 2;
  ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  ch->manager = nbd_io_manager;
  ch->block_size = 1024;
  ch->refcount = 1;
  ch->flags = flags;
  ch->private_data = io;
  *channel = ch;
  return 0;
}

static errcode_t
nbd_io_close (io_channel ch)
{
  struct nbd_io *io = ch->private_data;

  if (--ch->refcount > 0)
    return 0;
  cache_drop (io);
  free (io);
  free (ch->name);
  free (ch);
  return 0;
}

static errcode_t
nbd_io_set_blksize (io_channel ch, int blksize)
{
  struct nbd_io *io = ch->private_data;

  if (ch->block_size != blksize) {
    cache_drop (io);
    ch->block_size = blksize;
  }
  return 0;
}

/* Bytes [off, off + len) of the partition: check they are inside it. */
static errcode_t
check_range (struct nbd_io *io, uint64_t off, uint64_t len)
{
  if (off > io->size || len > io->size - off)
    return EXT2_ET_LLSEEK_FAILED;
  return 0;
}

static errcode_t
raw_read (io_channel ch, uint64_t off, size_t len, void *data)
{
  struct nbd_io *io = ch->private_data;
  errcode_t err = check_range (io, off, len);

  if (err) {
    /* Past the end of the partition: what a short read gives. */
    memset (data, 0, len);
    return EXT2_ET_SHORT_READ;
  }
  if (nbd_pread (io->h, data, len, io->offset + off, 0) == -1) {
    debug ("nbd io: read %zu bytes at %" PRIu64 ": %s", len,
           io->offset + off, nbd_get_error ());
    return nbd_get_errno () ? nbd_get_errno () : EIO;
  }
  io->stats_buf.bytes_read += len;
  return 0;
}

static errcode_t
raw_write (io_channel ch, uint64_t off, size_t len, const void *data)
{
  struct nbd_io *io = ch->private_data;
  errcode_t err = check_range (io, off, len);

  if (err)
    return EXT2_ET_SHORT_WRITE;
  if (io->readonly)
    return EXT2_ET_RO_FILSYS;
  if (nbd_pwrite (io->h, data, len, io->offset + off, 0) == -1) {
    debug ("nbd io: write %zu bytes at %" PRIu64 ": %s", len,
           io->offset + off, nbd_get_error ());
    return nbd_get_errno () ? nbd_get_errno () : EIO;
  }
  io->stats_buf.bytes_written += len;
  return 0;
}

/* count < 0 means -count bytes (libext2fs's convention). */
static size_t
count_bytes (io_channel ch, int count)
{
  return count < 0 ? (size_t) -count : (size_t) count * ch->block_size;
}

static errcode_t
nbd_io_read_blk64 (io_channel ch, unsigned long long block, int count,
                   void *data)
{
  struct nbd_io *io = ch->private_data;
  size_t len = count_bytes (ch, count);
  uint64_t off = block * ch->block_size;
  struct cache_slot *slot;
  errcode_t err;

  if (count != 1) {
    /* Serve what the cache holds newer than the server?  The cache is
     * write-through, so the server is never older: read directly.
     */
    err = raw_read (ch, off, len, data);
    if (err && ch->read_error)
      err = ch->read_error (ch, block, count, data, len, 0, err);
    return err;
  }
  slot = &io->cache[block % CACHE_SLOTS];
  if (slot->valid && slot->block == block) {
    memcpy (data, slot->data, len);
    return 0;
  }
  err = raw_read (ch, off, len, data);
  if (err) {
    if (ch->read_error)
      err = ch->read_error (ch, block, count, data, len, 0, err);
    return err;
  }
  if (!slot->data) {
    slot->data = malloc (ch->block_size);
    if (!slot->data)
      return 0;
  }
  memcpy (slot->data, data, len);
  slot->block = block;
  slot->valid = true;
  return 0;
}

static errcode_t
nbd_io_read_blk (io_channel ch, unsigned long block, int count, void *data)
{
  return nbd_io_read_blk64 (ch, block, count, data);
}

/* Keep cached copies of blocks [block, block + n) in step with data. */
static void
cache_update (io_channel ch, unsigned long long block, unsigned long long n,
              const char *data)
{
  struct nbd_io *io = ch->private_data;

  for (unsigned long long i = 0; i < n; ++i) {
    struct cache_slot *slot = &io->cache[(block + i) % CACHE_SLOTS];
    if (slot->valid && slot->block == block + i) {
      if (data)
        memcpy (slot->data, data + i * ch->block_size, ch->block_size);
      else
        slot->valid = false;
    }
  }
}

static errcode_t
nbd_io_write_blk64 (io_channel ch, unsigned long long block, int count,
                    const void *data)
{
  size_t len = count_bytes (ch, count);
  errcode_t err;

  err = raw_write (ch, block * ch->block_size, len, data);
  if (err) {
    if (ch->write_error)
      err = ch->write_error (ch, block, count, data, len, 0, err);
    return err;
  }
  if (count < 0)
    cache_update (ch, block, (len + ch->block_size - 1) / ch->block_size,
                  NULL);
  else
    cache_update (ch, block, count, data);
  return 0;
}

static errcode_t
nbd_io_write_blk (io_channel ch, unsigned long block, int count,
                  const void *data)
{
  return nbd_io_write_blk64 (ch, block, count, data);
}

static errcode_t
nbd_io_write_byte (io_channel ch, unsigned long offset, int count,
                   const void *data)
{
  errcode_t err = raw_write (ch, offset, count, data);

  if (err)
    return err;
  /* Forget the cached blocks this touched. */
  cache_update (ch, offset / ch->block_size,
                (offset % ch->block_size + count + ch->block_size - 1) /
                ch->block_size, NULL);
  return 0;
}

static errcode_t
nbd_io_flush (io_channel ch)
{
  struct nbd_io *io = ch->private_data;

  if (io->readonly || nbd_can_flush (io->h) <= 0)
    return 0;
  if (nbd_flush (io->h, 0) == -1) {
    debug ("nbd io: flush: %s", nbd_get_error ());
    return EIO;
  }
  return 0;
}

static errcode_t
nbd_io_set_option (io_channel ch, const char *option, const char *arg)
{
  return EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t
nbd_io_get_stats (io_channel ch, io_stats *stats)
{
  struct nbd_io *io = ch->private_data;

  if (stats)
    *stats = &io->stats_buf;
  return 0;
}

static errcode_t
nbd_io_zeroout (io_channel ch, unsigned long long block,
                unsigned long long count)
{
  struct nbd_io *io = ch->private_data;
  uint64_t off = block * ch->block_size, len = count * ch->block_size;
  errcode_t err = check_range (io, off, len);

  if (err)
    return err;
  if (io->readonly)
    return EXT2_ET_RO_FILSYS;
  if (nbd_can_zero (io->h) <= 0)
    return EXT2_ET_UNIMPLEMENTED;
  if (nbd_zero (io->h, len, io->offset + off, 0) == -1) {
    debug ("nbd io: zero %" PRIu64 " bytes at %" PRIu64 ": %s", len,
           io->offset + off, nbd_get_error ());
    return nbd_get_errno () ? nbd_get_errno () : EIO;
  }
  cache_update (ch, block, count, NULL);
  return 0;
}

static struct struct_io_manager nbd_io_struct = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "mkvmimg NBD I/O manager",
  .open = nbd_io_open,
  .close = nbd_io_close,
  .set_blksize = nbd_io_set_blksize,
  .read_blk = nbd_io_read_blk,
  .write_blk = nbd_io_write_blk,
  .flush = nbd_io_flush,
  .write_byte = nbd_io_write_byte,
  .set_option = nbd_io_set_option,
  .get_stats = nbd_io_get_stats,
  .read_blk64 = nbd_io_read_blk64,
  .write_blk64 = nbd_io_write_blk64,
  .zeroout = nbd_io_zeroout,
};

io_manager nbd_io_manager = &nbd_io_struct;

int
nbd_ext2_open (struct nbd_handle *h, uint64_t offset, uint64_t size,
               bool rw, const char *what, ext2_filsys *fs_rtn)
{
  CLEANUP_FREE char *name = nbd_io_name (h, offset, size);
  ext2_filsys fs;
  errcode_t err;
  int flags = EXT2_FLAG_64BITS | (rw ? EXT2_FLAG_RW : 0);

  initialize_ext2_error_table ();
  err = ext2fs_open2 (name, NULL, flags, 0, 0, nbd_io_manager, &fs);
  if (err) {
    error ("open the filesystem of %s: %s", what, error_message (err));
    return -1;
  }
  if (rw) {
    err = ext2fs_read_bitmaps (fs);
    if (err) {
      error ("open the filesystem of %s: read bitmaps: %s", what,
             error_message (err));
      ext2fs_free (fs);
      return -1;
    }
  }
  *fs_rtn = fs;
  return 0;
}

int
ext2_lookup (ext2_filsys fs, const char *path, bool follow,
             ext2_ino_t *ino_rtn)
{
  errcode_t err;

  if (follow)
    err = ext2fs_namei_follow (fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path,
                               ino_rtn);
  else
    err = ext2fs_namei (fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino_rtn);
  if (err == EXT2_ET_FILE_NOT_FOUND)
    return ENOENT;
  if (err == EXT2_ET_NO_DIRECTORY)
    return ENOTDIR;
  if (err) {
    error ("look up %s: %s", path, error_message (err));
    return -1;
  }
  return 0;
}

/* Read an inode's data: call fn for each chunk.  0 or -1 (reported). */
static int
read_inode_data (ext2_filsys fs, ext2_ino_t ino, const char *what,
                 int (*fn) (void *opaque, const char *buf, size_t len),
                 void *opaque)
{
  ext2_file_t f;
  errcode_t err;
  CLEANUP_FREE char *buf = xmalloc (1 << 20);
  unsigned int got;
  int r = 0;

  err = ext2fs_file_open (fs, ino, 0, &f);
  if (err) {
    error ("read %s: %s", what, error_message (err));
    return -1;
  }
  for (;;) {
    err = ext2fs_file_read (f, buf, 1 << 20, &got);
    if (err) {
      error ("read %s: %s", what, error_message (err));
      r = -1;
      break;
    }
    if (got == 0)
      break;
    if (fn (opaque, buf, got) == -1) {
      r = -1;
      break;
    }
  }
  ext2fs_file_close (f);
  return r;
}

struct membuf {
  char *data;
  size_t len, max;
  const char *what;
};

static int
append_mem (void *opaque, const char *buf, size_t len)
{
  struct membuf *m = opaque;

  if (m->len + len > m->max) {
    error ("read %s: larger than %zu bytes", m->what, m->max);
    return -1;
  }
  m->data = xrealloc (m->data, m->len + len + 1);
  memcpy (m->data + m->len, buf, len);
  m->len += len;
  m->data[m->len] = '\0';
  return 0;
}

char *
ext2_read_file (ext2_filsys fs, const char *path, size_t max,
                size_t *len_rtn)
{
  struct membuf m = { .max = max, .what = path };
  ext2_ino_t ino;
  struct ext2_inode in;
  errcode_t err;
  int r;

  r = ext2_lookup (fs, path, true, &ino);
  if (r != 0) {
    if (r > 0)
      errno = ENOENT;
    return NULL;
  }
  err = ext2fs_read_inode (fs, ino, &in);
  if (err) {
    error ("read %s: %s", path, error_message (err));
    return NULL;
  }
  if (!LINUX_S_ISREG (in.i_mode)) {
    error ("read %s: not a regular file", path);
    return NULL;
  }
  if (read_inode_data (fs, ino, path, append_mem, &m) == -1) {
    free (m.data);
    return NULL;
  }
  if (!m.data)
    m.data = xstrdup ("");
  if (len_rtn)
    *len_rtn = m.len;
  return m.data;
}

struct fdbuf {
  int fd;
  const char *host_path;
};

static int
append_fd (void *opaque, const char *buf, size_t len)
{
  struct fdbuf *f = opaque;

  if (write_all (f->fd, buf, len) == -1) {
    error_errno ("write %s", f->host_path);
    return -1;
  }
  return 0;
}

int
ext2_copy_out (ext2_filsys fs, ext2_ino_t ino, const char *what,
               const char *host_path)
{
  struct fdbuf f = { .host_path = host_path };
  int r;

  f.fd = open (host_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (f.fd == -1) {
    error_errno ("create %s", host_path);
    return -1;
  }
  r = read_inode_data (fs, ino, what, append_fd, &f);
  if (close (f.fd) == -1 && r == 0) {
    error_errno ("close %s", host_path);
    r = -1;
  }
  return r;
}

struct list_ctx {
  struct strv *names;
};

static int
list_entry (ext2_ino_t dir, int entry, struct ext2_dir_entry *dirent,
            int offset, int blocksize, char *buf, void *priv)
{
  struct list_ctx *ctx = priv;
  int len = ext2fs_dirent_name_len (dirent);

  if ((len == 1 && dirent->name[0] == '.') ||
      (len == 2 && dirent->name[0] == '.' && dirent->name[1] == '.'))
    return 0;
  strv_addf (ctx->names, "%.*s", len, dirent->name);
  return 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
ext2_list_dir (ext2_filsys fs, const char *path, struct strv *names)
{
  struct list_ctx ctx = { .names = names };
  size_t before = names->len;
  ext2_ino_t ino;
  errcode_t err;
  int r;

  r = ext2_lookup (fs, path, true, &ino);
  if (r != 0)
    return r;
  err = ext2fs_dir_iterate2 (fs, ino, 0, NULL, list_entry, &ctx);
  if (err == EXT2_ET_NO_DIRECTORY)
    return ENOTDIR;
  if (err) {
    error ("list %s: %s", path, error_message (err));
    return -1;
  }
  if (names->len > before)
    qsort (names->v + before, names->len - before, sizeof (char *),
           compare_names);
  return 0;
}

/* Split path on "/" onto the stack, applying "." and "..". */
static void
push_components (struct strv *stack, const char *path)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  char *save, *c;

  for (c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save)) {
    if (STREQ (c, "."))
      continue;
    if (STREQ (c, "..")) {
      if (stack->len > 0) {
        free (stack->v[--stack->len]);
        stack->v[stack->len] = NULL;
      }
      continue;
    }
    strv_add (stack, c);
  }
}

static char *
join_components (const struct strv *s, size_t from, size_t to)
{
  size_t len = 1;
  char *r, *p;

  for (size_t i = from; i < to; ++i)
    len += strlen (s->v[i]) + 1;
  r = p = xmalloc (len);
  *p = '\0';
  for (size_t i = from; i < to; ++i)
    p += sprintf (p, "%s%s", i > from ? "/" : "", s->v[i]);
  return r;
}

/* The target of a symlink inode.  Caller frees; NULL on error. */
static char *
read_link (ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *in)
{
  char *buf = xcalloc (1, fs->blocksize + 1);
  errcode_t err;

  if (ext2fs_is_fast_symlink (in))
    memcpy (buf, (char *) in->i_block,
            EXT2_I_SIZE (in) < sizeof in->i_block ? EXT2_I_SIZE (in)
            : sizeof in->i_block);
  else if (in->i_flags & EXT4_INLINE_DATA_FL) {
    size_t size;
    err = ext2fs_inline_data_get (fs, ino, in, buf, &size);
    if (err) {
      free (buf);
      return NULL;
    }
    buf[size < fs->blocksize ? size : fs->blocksize] = '\0';
  }
  else {
    blk64_t blk;
    err = ext2fs_bmap2 (fs, ino, in, NULL, 0, 0, NULL, &blk);
    if (!err && blk)
      err = io_channel_read_blk64 (fs->io, blk, 1, buf);
    if (err || !blk) {
      free (buf);
      return NULL;
    }
    buf[EXT2_I_SIZE (in) < fs->blocksize ? EXT2_I_SIZE (in) : fs->blocksize]
      = '\0';
  }
  return buf;
}

char *
ext2_resolve_parents (ext2_filsys fs, const char *rel)
{
  CLEANUP_STRV_STRUCT struct strv comps = { 0 };
  int links = 0;

  push_components (&comps, rel);
 restart:
  {
    ext2_ino_t dir = EXT2_ROOT_INO;
    for (size_t i = 0; i + 1 < comps.len; ++i) {
      ext2_ino_t ino;
      struct ext2_inode in;
      const char *name = comps.v[i];
      CLEANUP_FREE char *target = NULL;
      struct strv next = { 0 };

      if (ext2fs_lookup (fs, dir, name, strlen (name), NULL, &ino) != 0 ||
          ext2fs_read_inode (fs, ino, &in) != 0)
        break;                  /* not there (yet): kept as it is */
      if (LINUX_S_ISDIR (in.i_mode)) {
        dir = ino;
        continue;
      }
      if (!LINUX_S_ISLNK (in.i_mode))
        break;
      target = read_link (fs, ino, &in);
      if (!target || ++links > 40) {
        CLEANUP_FREE char *p = join_components (&comps, 0, i + 1);
        error ("resolve /%s: %s", p, target ? "too many levels of symbolic "
               "links" : "cannot read the symbolic link");
        return NULL;
      }
      /* prefix (unless absolute) + target + the rest */
      if (target[0] != '/')
        for (size_t j = 0; j < i; ++j)
          strv_add (&next, comps.v[j]);
      push_components (&next, target);
      for (size_t j = i + 1; j < comps.len; ++j)
        strv_add (&next, comps.v[j]);
      strv_free (&comps);
      comps = next;
      goto restart;
    }
  }
  return comps.len ? join_components (&comps, 0, comps.len) : xstrdup (".");
}
