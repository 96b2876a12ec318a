/* How big an ext4 filesystem the entries need: a sink that counts while
 * they stream past, and a model of the filesystems ext4_mkfs makes.
 *
 * Every count errs on the large side: a filesystem of
 * ext4_size_for (est, 0) bytes must hold the entries.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "mkvmimg.h"
#include "entries.h"
#include "ext4.h"
#include "ext4-int.h"
#include "ext4-paths.h"

#define BS EXT4_BLOCK_SIZE
/* Extents in a leaf block, counting half-full nodes after a split. */
#define EXTENTS_PER_LEAF 170
/* Room for xattrs in a 256-byte inode: after the 128 + 32 bytes of
 * inode, a 4-byte magic and a 4-byte end marker.
 */
#define INODE_XATTR_ROOM (EXT4_INODE_SIZE - 128 - 32 - 8)

struct est_sink {
  struct entry_sink sink;
  struct ext4_estimate *est;
  struct ext4_paths paths;      /* every path seen, with its type */
  uint64_t data_blocks;         /* file data, holes excluded */
  uint64_t extra_blocks;        /* extent tree, long symlink, xattr blocks */
  uint64_t dir_bytes;           /* directory entries */
  uint64_t dirs;
  uint64_t inodes;
};

static uint64_t
div_up (uint64_t a, uint64_t b)
{
  return (a + b - 1) / b;
}

static uint64_t
dirent_size (size_t name_len)
{
  return (8 + name_len + 3) & ~(uint64_t) 3;
}

static void
update (struct est_sink *s)
{
  /* Each directory: its first block (".", "..") and a partly filled
   * last block; entries do not straddle blocks, and the metadata_csum
   * tail takes 12 bytes of each.  Directories grow a block at a time,
   * each block possibly its own extent: leaf blocks for big ones.
   */
  uint64_t dir_blocks = 2 * s->dirs + div_up (s->dir_bytes, BS - 12 - 264);

  dir_blocks += dir_blocks / 5 + 1;
  s->est->data_bytes = (s->data_blocks + s->extra_blocks + dir_blocks) * BS;
  s->est->inodes = s->inodes;
}

/* Extent tree blocks of a file of blocks blocks in runs runs (pieces
 * between holes).  Allocation may split a run wherever the allocator
 * meets metadata: counted generously.
 */
static uint64_t
extent_blocks (uint64_t blocks, uint64_t runs)
{
  uint64_t extents = runs + blocks / 16384 + 1;
  uint64_t leaves;

  if (extents <= 4)             /* in the inode */
    return 0;
  leaves = div_up (extents, EXTENTS_PER_LEAF);
  return leaves + (leaves > 4 ? div_up (leaves, EXTENTS_PER_LEAF) : 0) + 1;
}

/* Blocks and runs of a host file, from its holes (nothing is read). */
static int
count_host_file (const char *path, uint64_t *blocks, uint64_t *runs)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  off_t pos = 0, data, hole;
  struct stat st;

  if (fd == -1 || fstat (fd, &st) == -1) {
    error_errno ("estimate ext4: %s", path);
    return -1;
  }
  for (;;) {
    data = lseek (fd, pos, SEEK_DATA);
    if (data == -1) {
      if (errno == ENXIO)
        return 0;
      data = pos;               /* no SEEK_DATA: all of it is data */
      hole = st.st_size;
    }
    else {
      hole = lseek (fd, data, SEEK_HOLE);
      if (hole == -1)
        hole = st.st_size;
    }
    if (hole <= data)
      return 0;
    *blocks += div_up (hole, BS) - data / BS;
    *runs += 1;
    pos = hole;
  }
}

/* Blocks of a regular file's data, holes excluded. */
static int
count_data (struct est_sink *s, struct archive_entry *e,
            struct entry_data *data)
{
  uint64_t blocks = 0, runs = 0;
  int64_t last = -1;            /* last block counted */
  const void *buf;
  size_t len;
  int64_t off;
  int r;

  if (!data)
    return 0;
  if (data->ar && archive_entry_sparse_count (e) == 0 &&
      archive_entry_size_is_set (e)) {
    /* Dense archive member: no need to read it. */
    blocks = div_up (archive_entry_size (e), BS);
    runs = blocks > 0;
  }
  else if (data->host_path) {
    if (count_host_file (data->host_path, &blocks, &runs) == -1)
      return -1;
  }
  else {
    while ((r = entry_data_next (data, &buf, &len, &off)) == 1) {
      int64_t first, lastb;

      if (len == 0)
        continue;
      first = off / BS;
      lastb = (off + (int64_t) len - 1) / BS;
      if (first <= last)
        first = last + 1;
      if (first > lastb)
        continue;
      if (first != last + 1 || last == -1)
        runs++;
      blocks += lastb - first + 1;
      last = lastb;
    }
    if (r == -1)
      return -1;
  }
  s->data_blocks += blocks;
  s->extra_blocks += extent_blocks (blocks, runs);
  return 0;
}

/* An xattr block if the entry's xattrs do not fit in the inode. */
static void
count_xattrs (struct est_sink *s, struct archive_entry *e)
{
  const char *name;
  const void *value;
  size_t size, room = 0;

  if (archive_entry_xattr_reset (e) == 0)
    return;
  while (archive_entry_xattr_next (e, &name, &value, &size) == ARCHIVE_OK)
    room += 16 + ((strlen (name) + 3) & ~(size_t) 3) + ((size + 3) & ~(size_t) 3);
  if (room > INODE_XATTR_ROOM)
    s->extra_blocks += 1;
}

static int
est_put (struct entry_sink *sink, struct archive_entry *e,
         struct entry_data *data)
{
  struct est_sink *s = sink->opaque;
  const char *path = archive_entry_pathname (e);
  unsigned type = archive_entry_filetype (e);
  struct ext4_path *old;
  const char *p, *slash;
  int r = 0;

  if (!path || !*path || STREQ (path, "."))
    goto out;

  /* Missing parents become directories.  A parent is recorded with all
   * of its own parents, so a known parent means nothing is missing: 2000
   * nested directories stay linear in the path length, not cubic.
   */
  slash = strrchr (path, '/');
  if (slash && ext4_paths_get (&s->paths, path, slash - path))
    slash = NULL;
  for (p = path; slash && (slash = strchr (p, '/')) != NULL; p = slash + 1) {
    size_t len = slash - path;
    if (ext4_paths_get (&s->paths, path, len))
      continue;
    ext4_paths_put (&s->paths, path, len, 0, S_IFDIR | 0755);
    s->dirs++;
    s->inodes++;
    s->dir_bytes += dirent_size (slash - p);
  }
  old = ext4_paths_get (&s->paths, path, strlen (path));
  slash = strrchr (path, '/');

  if (archive_entry_hardlink (e)) {
    if (!old)
      s->dir_bytes += dirent_size (strlen (slash ? slash + 1 : path));
    ext4_paths_put (&s->paths, path, strlen (path), 0, S_IFREG);
    r = count_data (s, e, data);
    goto out;
  }
  if (old && S_ISDIR (old->mode) && type == AE_IFDIR) {
    count_xattrs (s, e);
    goto out;
  }
  s->inodes++;
  s->dir_bytes += dirent_size (strlen (slash ? slash + 1 : path));
  ext4_paths_put (&s->paths, path, strlen (path), 0, type);
  count_xattrs (s, e);
  switch (type) {
  case AE_IFDIR:
    s->dirs++;
    break;
  case AE_IFREG:
    r = count_data (s, e, data);
    break;
  case AE_IFLNK: {
    const char *target = archive_entry_symlink (e);
    if (target && strlen (target) >= 60)
      s->extra_blocks += 1;
    break;
  }
  default:
    break;
  }
 out:
  if (data)
    entry_data_close (data);
  update (s);
  return r;
}

struct entry_sink *
ext4_estimate_sink_new (struct ext4_estimate *est)
{
  struct est_sink *s = xcalloc (1, sizeof *s);

  memset (est, 0, sizeof *est);
  s->est = est;
  ext4_paths_init (&s->paths);
  s->sink.put = est_put;
  s->sink.finish = NULL;
  s->sink.opaque = s;
  update (s);
  return &s->sink;
}

void
ext4_estimate_sink_free (struct entry_sink *sink)
{
  struct est_sink *s;

  if (!sink)
    return;
  s = sink->opaque;
  ext4_paths_free (&s->paths);
  free (s);
}

/* The layout mke2fs gives a filesystem of B 4k blocks with the options
 * ext4_mkfs passes: usable (free) blocks and inodes.
 */
static bool
has_super (uint64_t g)
{
  static const unsigned bases[] = { 3, 5, 7 };

  if (g <= 1)
    return true;
  for (size_t i = 0; i < 3; ++i) {
    uint64_t n = bases[i];
    while (n < g)
      n *= bases[i];
    if (n == g)
      return true;
  }
  return false;
}

static void
model (uint64_t blocks, uint64_t *free_rtn, uint64_t *inodes_rtn)
{
  const uint64_t bpg = BS * 8;                  /* blocks per group */
  const uint64_t ipb = BS / EXT4_INODE_SIZE;    /* inodes per block */
  const uint64_t gdpb = BS / 64;                /* 64-bit descriptors */
  uint64_t groups, ipg, itb, gdt, rsv, rem, max_blocks, meta, backups = 0;
  int64_t journal;

 again:
  groups = div_up (blocks, bpg);
  ipg = div_up (blocks * BS / EXT4_INODE_RATIO, groups);
  ipg = div_up (ipg, ipb) * ipb;
  if (ipg > bpg)
    ipg = bpg;
  itb = ipg / ipb;
  gdt = div_up (groups, gdpb);
  max_blocks = blocks * 1024 < UINT32_MAX ? blocks * 1024 : UINT32_MAX;
  rsv = div_up (div_up (max_blocks, bpg), gdpb);
  rsv = rsv > gdt ? rsv - gdt : 0;
  if (rsv > BS / 4)
    rsv = BS / 4;
  /* mke2fs drops a last group too small for its own metadata. */
  rem = blocks % bpg;
  if (rem && groups > 1) {
    uint64_t overhead = 2 + itb;
    if (has_super (groups - 1))
      overhead += 1 + gdt + rsv;
    if (rem < overhead + 50) {
      blocks -= rem;
      goto again;
    }
  }
  for (uint64_t g = 0; g < groups; ++g)
    if (has_super (g))
      backups++;
  meta = groups * (2 + itb) + backups * (1 + gdt + rsv);
  journal = ext2fs_default_journal_size (blocks);
  if (journal < 0)
    journal = 0;
  /* Root, lost+found (4 blocks), the resize inode, the journal's
   * extent tree.
   */
  meta += journal + 1 + 4 + 1 + 2;
  *free_rtn = blocks > meta ? blocks - meta : 0;
  *inodes_rtn = ipg * groups;
}

uint64_t
ext4_size_for (const struct ext4_estimate *est, uint64_t margin_bytes)
{
  /* Blocks the entries need, with room for the allocator's slack. */
  uint64_t need = div_up (est->data_bytes, BS);
  uint64_t need_inodes = est->inodes + EXT2_GOOD_OLD_FIRST_INO + 1 + 16;
  uint64_t blocks;

  need += need / 200 + 256 + div_up (margin_bytes, BS);
  blocks = need > EXT4_MIN_SIZE / BS ? need : EXT4_MIN_SIZE / BS;
  for (;;) {
    uint64_t free_blocks, inodes, usable;

    blocks = div_up (blocks, 256) * 256;        /* whole MiB */
    model (blocks, &free_blocks, &inodes);
    usable = free_blocks - blocks * EXT4_RESERVED_PERCENT / 100;
    if (free_blocks < blocks * EXT4_RESERVED_PERCENT / 100)
      usable = 0;
    if (usable >= need && inodes >= need_inodes)
      break;
    if (usable < need)
      blocks += need - usable;
    if (inodes < need_inodes)
      blocks += div_up ((need_inodes - inodes) * EXT4_INODE_RATIO, BS);
  }
  return blocks * BS;
}
