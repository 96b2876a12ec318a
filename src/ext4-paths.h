/* A table of the paths written so far into an ext4 filesystem (or seen
 * by the estimate): path -> inode number and file type.  The ext4 sink
 * resolves every parent through it instead of scanning directories, and
 * it is how a symlink in the middle of a path is recognised.  Memory
 * grows with the number of entries, never with their data.
 */
#ifndef MKVMIMG_EXT4_PATHS_H
#define MKVMIMG_EXT4_PATHS_H

#include <stddef.h>
#include <stdint.h>

struct ext4_path {
  struct ext4_path *next;       /* hash chain */
  uint32_t hash;
  uint32_t ino;
  uint32_t mode;                /* S_IFMT bits (and permissions) */
  uint64_t tail;                /* directory: its last block, 0 unknown */
  char name[];                  /* the path, NUL-terminated */
};

struct ext4_paths {
  struct ext4_path **buckets;
  size_t nbuckets;
  size_t count;
};

void ext4_paths_init (struct ext4_paths *t);
void ext4_paths_free (struct ext4_paths *t);
/* The first len bytes of path (not NUL-terminated), or NULL. */
struct ext4_path *ext4_paths_get (const struct ext4_paths *t,
                                  const char *path, size_t len);
/* Add or update path (the first len bytes).  Returns the record. */
struct ext4_path *ext4_paths_put (struct ext4_paths *t, const char *path,
                                  size_t len, uint32_t ino, uint32_t mode);
void ext4_paths_del (struct ext4_paths *t, const char *path, size_t len);

#endif /* MKVMIMG_EXT4_PATHS_H */
