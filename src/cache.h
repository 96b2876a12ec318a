/* The base cache: bootstrapped root filesystems (tarballs) kept under
 * $XDG_CACHE_HOME/mkvmimg (or ~/.cache/mkvmimg), keyed by the sha256 of
 * everything that determines them.  Each entry KEY.tar has a sidecar
 * KEY.tar.sha256 (sha256sum's format) written after it, and KEY.info, a
 * one-line description for "mkvmimg cache list".  Entries are written
 * under a temporary name and renamed into place; an entry whose sidecar
 * is missing or does not match is removed and rebuilt, never used.
 * KEY.tar.stamp records the file's size, inode, mtime and ctime when its
 * checksum was last seen to hold: while they are unchanged the entry is
 * used without hashing it again (a change through the filesystem always
 * moves the ctime; what the disk corrupts underneath is not seen).
 */
#ifndef MKVMIMG_CACHE_H
#define MKVMIMG_CACHE_H

#include "tempfiles.h"

/* The cache directory (created, mode 0700).  Caller frees; NULL on error
 * (reported).
 */
char *cache_dir (void);

/* The sha256 of a file (hex), through openssl (or sha256sum).  Caller
 * frees; NULL on error (reported).
 */
char *sha256_file (const char *path);

/* The sha256 (hex) of a string.  Caller frees; NULL on error. */
char *sha256_string (const char *text);

/* Look up KEY.  Returns 1 with *path_rtn (caller frees) when a verified
 * entry exists, 0 when there is none (a corrupt one is removed, with a
 * warning), -1 on error.
 */
int cache_lookup (const char *key, char **path_rtn);

/* Start writing KEY.tar: out->tmp is the file to fill.  -1 on error. */
int cache_store_begin (const char *key, struct atomic_output *out);
/* Give the entry its sidecar and description and rename it into place.
 * On error the entry is removed.  *path_rtn (caller frees) is the final
 * path.
 */
int cache_store_commit (const char *key, struct atomic_output *out,
                        const char *info, char **path_rtn);

/* Memos: a value found out about a file (a tool's version, from running
 * it), kept in the cache directory for as long as the file is unchanged
 * (same path, size, inode, mtime and ctime).  The lookup returns NULL
 * when there is none for the file as it is now (caller frees the
 * value); storing is only a speed-up, and fails silently.
 */
char *cache_memo_lookup (const char *name, const char *file);
void cache_memo_store (const char *name, const char *file,
                       const char *value);

#endif /* MKVMIMG_CACHE_H */
