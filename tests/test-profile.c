/* Unit test of the profile accessors: values, defaults (static and
 * computed), sizes, lists, named sections in order, profile_where,
 * --set, relative paths, and every schema example and default.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mkvmimg.h"
#include "profile.h"
#include "profile-keys.h"

static int failures;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
               #cond);                                                  \
      failures++;                                                       \
    }                                                                   \
  } while (0)

#define CHECK_STR(a, b)                                                 \
  do {                                                                  \
    const char *a_ = (a), *b_ = (b);                                    \
    if (!a_ || !b_ || strcmp (a_, b_) != 0) {                           \
      fprintf (stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n",        \
               __FILE__, __LINE__, #a, a_ ? a_ : "(null)",              \
               b_ ? b_ : "(null)");                                     \
      failures++;                                                       \
    }                                                                   \
  } while (0)

static const char text[] =
  "# a test profile\n"                                  /* 1 */
  "[image]\n"                                           /* 2 */
  "size = 8G\n"                                         /* 3 */
  "seed = \"a \\\"quoted\\\" # seed\"   # comment\n"    /* 4 */
  "[rootfs]\n"                                          /* 5 */
  "source = tar:root.tar\n"                             /* 6 */
  "label = myroot\n"                                    /* 7 */
  "[partition bios]\n"                                  /* 8 */
  "size = 1M\n"                                         /* 9 */
  "[partition esp]\n"                                   /* 10 */
  "size = 128M\n"                                       /* 11 */
  "[partition root]\n"                                  /* 12 */
  "bootable = on\n"                                     /* 13 */
  "size = 2G\n"                                         /* 14 */
  "[device edu0]\n"                                     /* 15 */
  "type = edu\n"                                        /* 16 */
  "props = a=1, b=2  c=3,,d=4\n"                        /* 17 */
  "[machine]\n"                                         /* 18 */
  "cpus = 4\n";                                         /* 19 */

static void
test_accessors (void)
{
  CLEANUP_PROFILE struct profile *p = profile_parse_string (text, "test");
  CLEANUP_STRV char **props = NULL, **empty = NULL;

  CHECK (p != NULL);
  if (!p)
    return;
  CHECK (profile_set (p, "machine.memory=2G") == 0);
  CHECK (profile_set (p, "partition.data.size=1G") == 0);
  CHECK (profile_set (p, "partition.a.b.c.type=swap") == 0);
  CHECK (profile_set (p, "image.seed=other") == 0);
  CHECK (profile_validate (p) == 0);

  /* Values and sizes. */
  CHECK (profile_get_size (p, "image", NULL, "size") == 8ULL << 30);
  CHECK_STR (profile_get (p, "image", NULL, "size"), "8G");
  CHECK (profile_get_size (p, "machine", NULL, "memory") == 2ULL << 30);
  CHECK (profile_get_int (p, "machine", NULL, "cpus") == 4);
  CHECK_STR (profile_get (p, "image", NULL, "seed"), "other");

  /* Defaults. */
  CHECK_STR (profile_get (p, "image", NULL, "format"), "qcow2");
  CHECK (profile_get (p, "image", NULL, "output") == NULL);
  CHECK (profile_get_int (p, "boot", NULL, "timeout") == 1);
  CHECK_STR (profile_get (p, "kernel", NULL, "cmdline"),
             "console=tty0 console=ttyS0,115200");
  CHECK (profile_get_size_relative (p, "image", NULL, "margin", 1000) == 200);
  CHECK (profile_get_size_relative (p, "image", NULL, "margin",
                                    10ULL << 30) == 2ULL << 30);
  CHECK (!profile_is_set (p, "image", NULL, "format"));
  CHECK (profile_is_set (p, "image", NULL, "size"));

  /* Computed defaults of partitions. */
  CHECK_STR (profile_get (p, "partition", "bios", "type"), "bios");
  CHECK_STR (profile_get (p, "partition", "bios", "fs"), "none");
  CHECK (profile_get (p, "partition", "bios", "mount") == NULL);
  CHECK_STR (profile_get (p, "partition", "esp", "type"), "esp");
  CHECK_STR (profile_get (p, "partition", "esp", "fs"), "vfat");
  CHECK_STR (profile_get (p, "partition", "esp", "mount"), "/boot/efi");
  CHECK_STR (profile_get (p, "partition", "root", "type"), "linux");
  CHECK_STR (profile_get (p, "partition", "root", "fs"), "ext4");
  CHECK_STR (profile_get (p, "partition", "root", "mount"), "/");
  CHECK_STR (profile_get (p, "partition", "root", "label"), "myroot");
  CHECK (profile_get (p, "partition", "data", "mount") == NULL);
  CHECK (profile_get (p, "partition", "esp", "label") == NULL);
  CHECK (profile_get_bool (p, "partition", "root", "bootable"));
  CHECK (!profile_get_bool (p, "partition", "esp", "bootable"));
  CHECK (profile_get_size (p, "partition", "root", "size") == 2ULL << 30);
  CHECK (profile_get_size (p, "partition", "a.b.c", "size") == 0);
  CHECK (!profile_is_set (p, "partition", "a.b.c", "size"));
  CHECK_STR (profile_get (p, "partition", "a.b.c", "type"), "swap");
  CHECK_STR (profile_get (p, "partition", "a.b.c", "fs"), "swap");
  CHECK (profile_get (p, "partition", "a.b.c", "mount") == NULL);

  /* Named sections, in order; --set appends new ones. */
  CHECK (profile_count (p, "partition") == 5);
  CHECK_STR (profile_section_name (p, "partition", 0), "bios");
  CHECK_STR (profile_section_name (p, "partition", 1), "esp");
  CHECK_STR (profile_section_name (p, "partition", 2), "root");
  CHECK_STR (profile_section_name (p, "partition", 3), "data");
  CHECK_STR (profile_section_name (p, "partition", 4), "a.b.c");
  CHECK (profile_section_name (p, "partition", 5) == NULL);
  CHECK (profile_count (p, "device") == 1);
  CHECK (profile_has_section (p, "partition", "esp"));
  CHECK (!profile_has_section (p, "partition", "swap"));
  CHECK (profile_has_section (p, "image", NULL));
  CHECK (!profile_has_section (p, "boot", NULL));

  /* Lists. */
  props = profile_get_list (p, "device", "edu0", "props");
  CHECK (props && props[0] && props[1] && props[2] && props[3] && !props[4]);
  if (props && props[0] && props[1] && props[2] && props[3]) {
    CHECK_STR (props[0], "a=1");
    CHECK_STR (props[1], "b=2");
    CHECK_STR (props[2], "c=3");
    CHECK_STR (props[3], "d=4");
  }
  empty = profile_get_list (p, "device", "edu0", "bus");
  CHECK (empty != NULL && empty[0] == NULL);

  /* Where values come from. */
  CHECK_STR (profile_where (p, "image", NULL, "size"), "test:3");
  CHECK_STR (profile_where (p, "device", "edu0", "props"), "test:17");
  CHECK_STR (profile_where (p, "image", NULL, "seed"), "--set");
  CHECK_STR (profile_where (p, "machine", NULL, "memory"), "--set");
  CHECK_STR (profile_where (p, "image", NULL, "format"), "default");
  CHECK_STR (profile_where (p, "partition", "root", "type"), "default");
}

static void
test_quotes (void)
{
  CLEANUP_PROFILE struct profile *p = profile_parse_string (text, "test");

  CHECK (p != NULL);
  if (!p)
    return;
  CHECK_STR (profile_get (p, "image", NULL, "seed"), "a \"quoted\" # seed");
}

static void
test_relative_paths (void)
{
  char dir[] = "/tmp/test-profile.XXXXXX";
  CLEANUP_FREE char *file = NULL, *path = NULL, *tar = NULL;
  CLEANUP_PROFILE struct profile *p = NULL;
  FILE *fp;

  CHECK (mkdtemp (dir) != NULL);
  file = xasprintf ("%s/p.conf", dir);
  fp = fopen (file, "w");
  CHECK (fp != NULL);
  if (!fp)
    return;
  fputs ("[rootfs]\nsource = tar:rootfs.tar\n"
         "[kernel]\ninitrd = initrd.img\nmodules = /abs/modules\n", fp);
  fclose (fp);
  p = profile_parse_file (file);
  CHECK (p != NULL);
  if (p) {
    CHECK (profile_set (p, "kernel.image=vmlinuz") == 0);
    CHECK (profile_validate (p) == 0);
    CHECK (profile_get_path (p, "kernel", NULL, "initrd", &path) == 0);
    CLEANUP_FREE char *expect = xasprintf ("%s/initrd.img", dir);
    CHECK_STR (path, expect);
    free (path);
    CHECK (profile_get_path (p, "kernel", NULL, "modules", &path) == 0);
    CHECK_STR (path, "/abs/modules");
    free (path);
    /* From --set: relative to the current directory. */
    CHECK (profile_get_path (p, "kernel", NULL, "image", &path) == 0);
    CHECK_STR (path, "vmlinuz");
    free (path);
    CHECK (profile_get_path (p, "image", NULL, "output", &path) == 0);
    CHECK (path == NULL);
    tar = profile_resolve_path (p, "rootfs", NULL, "source", "rootfs.tar");
    CLEANUP_FREE char *expect_tar = xasprintf ("%s/rootfs.tar", dir);
    CHECK_STR (tar, expect_tar);
    CLEANUP_FREE char *where = xasprintf ("%s:4", file);
    CHECK_STR (profile_where (p, "kernel", NULL, "initrd"), where);
  }
  unlink (file);
  rmdir (dir);
}

/* The special words of [kernel] paths are kept as they are. */
static void
test_special_paths (void)
{
  CLEANUP_PROFILE struct profile *p =
    profile_parse_string ("[rootfs]\nsource = none\n[kernel]\nimage = host\n"
                          "initrd = none\nmodules = host\n", "host");
  char *path = NULL;

  CHECK (p && profile_validate (p) == 0);
  if (!p)
    return;
  CHECK (profile_get_path (p, "kernel", NULL, "image", &path) == 0);
  CHECK_STR (path, "host");
  free (path);
  CHECK (profile_get_path (p, "kernel", NULL, "initrd", &path) == 0);
  CHECK_STR (path, "none");
  free (path);
  CHECK (profile_get_path (p, "kernel", NULL, "modules", &path) == 0);
  CHECK_STR (path, "host");
  free (path);
}

/* A minimal valid profile with "KEY = VALUE" in KEY's section. */
static char *
profile_with (const struct profile_key *k, bool named, const char *value)
{
  bool rootfs = STREQ (k->section, "rootfs");
  bool device = STREQ (k->section, "device");
  bool module = STREQ (k->section, "module");

  return xasprintf ("[%s%s]\n%s = \"%s\"\n%s%s%s", k->section,
                    named ? " x" : "", k->key, value,
                    device && !STREQ (k->key, "type") ? "type = edu\n" : "",
                    module && !STREQ (k->key, "source")
                    && !STREQ (k->key, "ko") ? "ko = x.ko\n" : "",
                    !rootfs ? "[rootfs]\nsource = none\n"
                    : STREQ (k->key, "source") ? "" : "source = none\n");
}

/* Every schema example and every static default is a valid value. */
static void
test_schema (void)
{
  for (const struct profile_key *k = profile_keys; k->section; ++k) {
    const struct profile_section_def *d = profile_find_section (k->section);
    const char *values[] = { k->example, k->def };

    CHECK (d != NULL);
    CHECK (k->doc && *k->doc);
    CHECK (k->example != NULL);
    CHECK (!(k->flags & PK_REQUIRED) || (!k->def && !k->compute));
    CHECK (profile_find_key (k->section, k->key) == k);
    if (!d)
      continue;
    for (size_t i = 0; i < 2; ++i) {
      CLEANUP_FREE char *t = NULL;
      CLEANUP_PROFILE struct profile *p = NULL;

      if (!values[i])
        continue;
      t = profile_with (k, d->named, values[i]);
      p = profile_parse_string (t, "schema");
      CHECK (p != NULL);
      if (p && profile_validate (p) == -1) {
        fprintf (stderr, "%s.%s: '%s' does not validate\n", k->section,
                 k->key, values[i]);
        failures++;
      }
      if (p)
        CHECK_STR (profile_get (p, k->section, d->named ? "x" : NULL,
                                k->key), values[i]);
    }
  }
}

/* Errors come back as -1 / NULL (the messages are tested by
 * tests/profile-errors.sh).
 */
static void
test_errors (void)
{
  CLEANUP_PROFILE struct profile *p =
    profile_parse_string ("[rootfs]\nsource = none\n", "e");

  CHECK (p != NULL);
  if (!p)
    return;
  CHECK (profile_set (p, "image.nosuchkey=1") == -1);
  CHECK (profile_set (p, "nosuchsection.key=1") == -1);
  CHECK (profile_set (p, "partition.size=1G") == -1);
  CHECK (profile_set (p, "image.x.size=1G") == -1);
  CHECK (profile_set (p, "image.size") == -1);
  CHECK (profile_set (p, "imagesize=1") == -1);
  CHECK (profile_validate (p) == 0);
  CHECK (profile_set (p, "machine.cpus=65") == 0);
  CHECK (profile_validate (p) == -1);
  CHECK (profile_set (p, "machine.cpus=64") == 0);
  CHECK (profile_validate (p) == 0);
  CHECK (profile_set (p, "partition.first.type=swap") == 0);
  CHECK (profile_set (p, "partition.second.size=1G") == 0);
  CHECK (profile_validate (p) == -1);   /* first: no size, not last */
  CHECK (profile_parse_string ("[image]\n[image]\n", "e") == NULL);
  CHECK (profile_parse_string ("size = 1\n", "e") == NULL);
}

int
main (void)
{
  test_accessors ();
  test_quotes ();
  test_relative_paths ();
  test_special_paths ();
  test_schema ();
  test_errors ();
  if (failures) {
    fprintf (stderr, "test-profile: %d failures\n", failures);
    return 1;
  }
  printf ("test-profile: OK\n");
  return 0;
}
