/* The path table of the ext4 sink and estimate: a chained hash table. */
#include <config.h>

#include <string.h>

#include "mkvmimg.h"
#include "ext4-paths.h"

static uint32_t
hash_path (const char *p, size_t len)
{
  uint32_t h = 2166136261u;     /* FNV-1a */

  for (size_t i = 0; i < len; ++i) {
    h ^= (unsigned char) p[i];
    h *= 16777619u;
  }
  return h;
}

void
ext4_paths_init (struct ext4_paths *t)
{
  t->nbuckets = 1024;
  t->buckets = xcalloc (t->nbuckets, sizeof t->buckets[0]);
  t->count = 0;
}

void
ext4_paths_free (struct ext4_paths *t)
{
  if (!t->buckets)
    return;
  for (size_t i = 0; i < t->nbuckets; ++i) {
    struct ext4_path *p = t->buckets[i];
    while (p) {
      struct ext4_path *next = p->next;
      free (p);
      p = next;
    }
  }
  free (t->buckets);
  t->buckets = NULL;
  t->count = 0;
}

static struct ext4_path **
find_slot (const struct ext4_paths *t, const char *path, size_t len,
           uint32_t h)
{
  struct ext4_path **pp = &t->buckets[h & (t->nbuckets - 1)];

  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->hash == h && strncmp ((*pp)->name, path, len) == 0 &&
        (*pp)->name[len] == '\0')
      break;
  return pp;
}

struct ext4_path *
ext4_paths_get (const struct ext4_paths *t, const char *path, size_t len)
{
  return *find_slot (t, path, len, hash_path (path, len));
}

static void
grow (struct ext4_paths *t)
{
  size_t n = t->nbuckets * 2;
  struct ext4_path **b = xcalloc (n, sizeof b[0]);

  for (size_t i = 0; i < t->nbuckets; ++i) {
    struct ext4_path *p = t->buckets[i];
    while (p) {
      struct ext4_path *next = p->next;
      p->next = b[p->hash & (n - 1)];
      b[p->hash & (n - 1)] = p;
      p = next;
    }
  }
  free (t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

struct ext4_path *
ext4_paths_put (struct ext4_paths *t, const char *path, size_t len,
                uint32_t ino, uint32_t mode)
{
  uint32_t h = hash_path (path, len);
  struct ext4_path **pp = find_slot (t, path, len, h);
  struct ext4_path *p = *pp;

  if (!p) {
    if (t->count >= t->nbuckets) {
      grow (t);
      pp = find_slot (t, path, len, h);
    }
    p = xmalloc (sizeof *p + len + 1);
    memcpy (p->name, path, len);
    p->name[len] = '\0';
    p->hash = h;
    p->next = NULL;
    p->tail = 0;
    *pp = p;
    t->count++;
  }
  p->ino = ino;
  p->mode = mode;
  return p;
}

void
ext4_paths_del (struct ext4_paths *t, const char *path, size_t len)
{
  struct ext4_path **pp = find_slot (t, path, len, hash_path (path, len));
  struct ext4_path *p = *pp;

  if (!p)
    return;
  *pp = p->next;
  free (p);
  t->count--;
}
