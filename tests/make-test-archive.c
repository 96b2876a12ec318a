/* Write test archives (pax tar) holding every kind of entry, without
 * needing root: owners, device nodes, setuid bits and capabilities are
 * only fields in the archive.
 *
 *   make-test-archive [--compress gzip|xz|zstd] [--format cpio] VARIANT OUT
 *   make-test-archive --socket PATH       (bind a unix socket node)
 *   make-test-archive --cat ARCHIVE MEMBER (a member's data on stdout,
 *                                           holes as zeros)
 *
 * VARIANT:
 *   full      every entry type (see below; tests/ext4-roundtrip.sh)
 *   overlay   entries replacing some of "full" (tests/ext4-replace.sh)
 *   notempty  a file over the non-empty directory "etc" of "full"
 *   hostile   a symlink "evil" -> "/tmp" and then "evil/x"
 *   many      thousands of small files and a few big ones (estimate)
 *   big:N     one N MiB file
 * Hostile input (tests/hostile-*.sh):
 *   confined     names and entries that must stay inside the root and be
 *                kept as data: absolute and "./"-laden names, symlinks
 *                pointing outside (not followed), device nodes, setuid
 *                files, a hardlink to an absolute name
 *   through:DIR  a symlink "link" -> DIR, then entries through it
 *   dotdot       a name that climbs out of the root with ".."
 *   deep:N       N nested directories and a file at the bottom
 *   tiny:N       N files of a few bytes, 1000 per directory
 *   huge:N[:head] a sparse file claiming N GiB, with 4 KiB of data at
 *                its end (or its start)
 *   lying:N      a header claiming N GiB followed by 5 bytes (written by
 *                hand: tar, or newc with --format cpio, at most 4 GiB)
 * File contents are pseudo-random and the same every time.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

static struct archive *a;
static bool cpio;               /* --format cpio: newc wants every size */

static void
die (const char *what)
{
  fprintf (stderr, "make-test-archive: %s: %s\n", what,
           a ? archive_error_string (a) : "");
  exit (1);
}

/* Pseudo-random bytes, seeded by a number. */
static void
fill (char *buf, size_t len, uint64_t *state)
{
  for (size_t i = 0; i < len; ++i) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    buf[i] = (char) (x >> 24);
  }
}

static struct archive_entry *
new_entry (const char *path, unsigned type, unsigned perm)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_copy_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_set_mtime (e, 1700000000, 0);
  if (cpio)
    archive_entry_set_size (e, 0);
  return e;
}

static void
put (struct archive_entry *e)
{
  if (archive_write_header (a, e) < ARCHIVE_WARN)
    die (archive_entry_pathname (e));
  archive_entry_free (e);
}

static void
put_dir (const char *path, unsigned perm)
{
  put (new_entry (path, AE_IFDIR, perm));
}

/* A regular file of size bytes of pseudo-random data (seed), or of the
 * given text.
 */
static void
write_data (size_t size, uint64_t seed, const char *what)
{
  static char buf[65536];
  uint64_t state = seed * 2654435761u + 1;

  while (size > 0) {
    size_t n = size < sizeof buf ? size : sizeof buf;
    fill (buf, n, &state);
    if (archive_write_data (a, buf, n) != (la_ssize_t) n)
      die (what);
    size -= n;
  }
}

static void
put_file (struct archive_entry *e, size_t size, uint64_t seed)
{
  archive_entry_set_size (e, size);
  if (archive_write_header (a, e) < ARCHIVE_WARN)
    die (archive_entry_pathname (e));
  write_data (size, seed, archive_entry_pathname (e));
  archive_entry_free (e);
}

static void
put_text (const char *path, unsigned perm, const char *text)
{
  struct archive_entry *e = new_entry (path, AE_IFREG, perm);
  size_t len = strlen (text);

  archive_entry_set_size (e, len);
  if (archive_write_header (a, e) < ARCHIVE_WARN)
    die (path);
  if (len && archive_write_data (a, text, len) != (la_ssize_t) len)
    die (path);
  archive_entry_free (e);
}

static void
put_symlink (const char *path, const char *target)
{
  struct archive_entry *e = new_entry (path, AE_IFLNK, 0777);

  archive_entry_copy_symlink (e, target);
  put (e);
}

/* A sparse file: data (pseudo-random, seed) at the given ranges, holes
 * elsewhere; the writer is given every byte and stores only the data.
 */
static void
put_sparse (const char *path, int64_t size, const int64_t (*ranges)[2],
            size_t n, uint64_t seed)
{
  struct archive_entry *e = new_entry (path, AE_IFREG, 0644);
  static char zero[65536];
  int64_t pos = 0;

  archive_entry_set_size (e, size);
  for (size_t i = 0; i < n; ++i)
    archive_entry_sparse_add_entry (e, ranges[i][0], ranges[i][1]);
  if (archive_write_header (a, e) < ARCHIVE_WARN)
    die (path);
  /* A trailing hole needs no bytes: the writer ends the entry with it. */
  for (size_t i = 0; i < n; ++i) {
    int64_t start = ranges[i][0];
    while (pos < start) {
      size_t k = start - pos < (int64_t) sizeof zero ?
        (size_t) (start - pos) : sizeof zero;
      if (archive_write_data (a, zero, k) != (la_ssize_t) k)
        die (path);
      pos += k;
    }
    write_data (ranges[i][1], seed + i, path);
    pos += ranges[i][1];
  }
  archive_entry_free (e);
}

/* vfs_cap_data revision 2 for cap_net_raw=ep, as setcap writes it. */
static const unsigned char cap_net_raw[20] = {
  0x01, 0x00, 0x00, 0x02,       /* VFS_CAP_REVISION_2 | EFFECTIVE */
  0x00, 0x20, 0x00, 0x00,       /* permitted: 1 << CAP_NET_RAW (13) */
  0x00, 0x00, 0x00, 0x00,       /* inheritable */
  0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00,
};

static void
variant_full (void)
{
  struct archive_entry *e;
  char name[300], deep[400];
  static const int64_t ranges[][2] = {
    { 0, 8192 },
    { 32 * 1048576 + 100, 5000 },
    { 64 * 1048576, 17 },
  };
  char target[101];

  e = new_entry ("./", AE_IFDIR, 0755);
  archive_entry_set_mtime (e, 1234567890, 987654321);
  put (e);
  put_dir ("etc", 0755);
  put_text ("etc/hello.txt", 0644, "hello world\n");
  put_text ("empty", 0600, "");
  put_file (new_entry ("big.bin", AE_IFREG, 0644), 3 * 1048576 + 123, 1);
  put_sparse ("sparse.img", 64 * 1048576 + 17, ranges, 3, 7);
  put_dir ("dir-sgid", 02775);
  put_dir ("tmp", 01777);

  put_symlink ("link-short", "etc/hello.txt");
  memset (target, 'L', 100);
  target[0] = '/';
  target[100] = '\0';
  put_symlink ("link-long", target);

  e = new_entry ("hardlink", AE_IFREG, 0644);
  archive_entry_set_hardlink (e, "etc/hello.txt");
  archive_entry_set_size (e, 0);
  put (e);

  put_dir ("dev", 0755);
  e = new_entry ("dev/null", AE_IFCHR, 0666);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, 3);
  put (e);
  e = new_entry ("dev/sda", AE_IFBLK, 0660);
  archive_entry_set_gid (e, 6);
  archive_entry_set_rdevmajor (e, 8);
  archive_entry_set_rdevminor (e, 0);
  put (e);
  e = new_entry ("dev/big", AE_IFCHR, 0600);
  archive_entry_set_rdevmajor (e, 300);
  archive_entry_set_rdevminor (e, 70000);
  put (e);
  put (new_entry ("fifo", AE_IFIFO, 0644));

  put_dir ("own", 0755);
  e = new_entry ("own/u1000", AE_IFREG, 0640);
  archive_entry_set_uid (e, 1000);
  archive_entry_set_gid (e, 1000);
  put_file (e, 10, 2);
  e = new_entry ("own/nobody", AE_IFREG, 0644);
  archive_entry_set_uid (e, 65534);
  archive_entry_set_gid (e, 65534);
  put_file (e, 10, 3);
  e = new_entry ("own/big", AE_IFREG, 0644);
  archive_entry_set_uid (e, 4000000000u);
  archive_entry_set_gid (e, 5);
  put_file (e, 10, 4);

  put_dir ("usr", 0755);
  put_dir ("usr/bin", 0755);
  put_text ("usr/bin/suid", 04755, "#!/bin/sh\n");
  e = new_entry ("usr/bin/ping", AE_IFREG, 0755);
  archive_entry_xattr_add_entry (e, "security.capability", cap_net_raw,
                                 sizeof cap_net_raw);
  archive_entry_xattr_add_entry (e, "user.test", "hello", 5);
  archive_entry_xattr_add_entry (e, "trusted.foo", "bar", 3);
  put_file (e, 5000, 5);

  put_dir ("times", 0755);
  e = new_entry ("times/ns", AE_IFREG, 0644);
  archive_entry_set_mtime (e, 1700000000, 123456789);
  archive_entry_set_atime (e, 1600000000, 500000000);
  archive_entry_set_ctime (e, 1650000000, 1);
  put_file (e, 1, 6);
  e = new_entry ("times/y2100", AE_IFREG, 0644);
  archive_entry_set_mtime (e, 4102444800, 123456789);
  put_file (e, 1, 7);

  put_dir ("names", 0755);
  strcpy (name, "names/");
  memset (name + 6, 'n', 255);
  name[6 + 255] = '\0';
  put_text (name, 0644, "long name\n");
  put_text ("names/bad-\xff\xfe", 0644, "not utf-8\n");

  /* Deep nesting, and parents no entry describes. */
  strcpy (deep, "deep");
  for (int i = 0; i < 40; ++i) {
    put_dir (deep, 0755);
    snprintf (deep + strlen (deep), sizeof deep - strlen (deep), "/%c",
              'a' + i % 26);
  }
  put_text ("deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/a/b"
            "/c/d/e/f/g/h/i/j/k/l/m/n/leaf", 0644, "deep\n");
  put_text ("implicit/x/y/file", 0644, "implicit parents\n");
}

static void
variant_overlay (void)
{
  struct archive_entry *e;

  e = new_entry ("./", AE_IFDIR, 0750);
  archive_entry_set_uid (e, 7);
  put (e);
  put_text ("etc/hello.txt", 0600, "replaced\n");   /* file over file */
  e = new_entry ("etc", AE_IFDIR, 0700);            /* dir over dir */
  archive_entry_set_uid (e, 42);
  archive_entry_set_gid (e, 43);
  archive_entry_xattr_add_entry (e, "user.dir", "yes", 3);
  put (e);
  put_dir ("empty", 0711);                          /* dir over file */
  put_text ("empty/inside", 0644, "inside\n");
  put_text ("link-short", 0644, "no longer a link\n");
  put_symlink ("fifo", "was-a-fifo");
  put_text ("tmp", 0644, "was an empty directory\n");
  put_text ("big.bin", 0644, "small now\n");
  e = new_entry ("usr/bin/ping", AE_IFREG, 0755);   /* xattrs go too */
  put_file (e, 100, 9);
}

static void
variant_many (void)
{
  char path[64];
  uint64_t state = 42;
  static const int64_t ranges[][2] = {
    { 0, 65536 },
    { 1LL << 30, 1048576 },
    { (2LL << 30) - 4096, 4096 },
  };

  for (int d = 0; d < 40; ++d) {
    snprintf (path, sizeof path, "d%02d", d);
    put_dir (path, 0755);
    for (int f = 0; f < 100; ++f) {
      char r[4];
      size_t size;
      struct archive_entry *e;

      fill (r, sizeof r, &state);
      size = ((unsigned char) r[0] << 8 | (unsigned char) r[1]) % 20000;
      if (f % 10 == 0)
        size = 0;
      snprintf (path, sizeof path, "d%02d/file-with-a-longish-name-%03d", d, f);
      e = new_entry (path, AE_IFREG, 0644);
      if (f % 7 == 0) {
        char v[300];
        memset (v, 'v', sizeof v);
        archive_entry_xattr_add_entry (e, "user.big", v, sizeof v);
      }
      put_file (e, size, d * 1000 + f);
    }
  }
  /* One big directory. */
  put_dir ("bigdir", 0755);
  for (int f = 0; f < 3000; ++f) {
    snprintf (path, sizeof path, "bigdir/entry-%05d", f);
    if (f % 3 == 0)
      put_symlink (path, "a-target-that-is-long-enough-to-need-a-block-of-its-"
                   "own-because-it-has-more-than-sixty-bytes");
    else
      put_text (path, 0644, "x\n");
  }
  put_file (new_entry ("big1", AE_IFREG, 0644), 16 * 1048576, 100);
  put_file (new_entry ("big2", AE_IFREG, 0644), 16 * 1048576 + 1, 101);
  put_sparse ("sparse2g", 2LL << 30, ranges, 3, 102);
}

static void
variant_confined (void)
{
  struct archive_entry *e;

  put_dir ("etc", 0755);
  put_text ("/etc/absolute", 0644, "absolute name\n");
  put_text ("//.//etc/./dots", 0644, "slashes and dots\n");
  put_text ("etc/a..b", 0644, "dots inside a name\n");
  put_text ("etc/...", 0644, "three dots\n");
  put_symlink ("etc/link-abs", "/etc/shadow");
  put_symlink ("etc/link-rel", "../../../../../../etc/shadow");
  put_symlink ("etc/link-loop", "link-loop");
  e = new_entry ("etc/hard-abs", AE_IFREG, 0644);
  archive_entry_set_hardlink (e, "/etc/absolute");
  archive_entry_set_size (e, 0);
  put (e);
  put_dir ("dev", 0755);
  e = new_entry ("dev/mem", AE_IFCHR, 0640);
  archive_entry_set_gid (e, 15);
  archive_entry_set_rdevmajor (e, 1);
  archive_entry_set_rdevminor (e, 1);
  put (e);
  e = new_entry ("dev/sda1", AE_IFBLK, 0660);
  archive_entry_set_rdevmajor (e, 8);
  archive_entry_set_rdevminor (e, 1);
  put (e);
  put_dir ("bin", 0755);
  put_text ("bin/suid-root", 04755, "#!/bin/sh\n");
  e = new_entry ("bin/sgid-other", AE_IFREG, 02755);
  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 4321);
  put_file (e, 100, 21);
  put_text ("bin/all-bits", 07777, "every mode bit\n");
  /* A directory nobody may enter, with a file in it. */
  put_dir ("locked", 0);
  put_text ("locked/inside", 0600, "inside a mode 0 directory\n");
}

/* A symlink leaving the root, then a file, a directory and a file in
 * that directory through it, a hardlink through it, and a file through
 * a symlink to it.
 */
static void
variant_through (const char *dir)
{
  struct archive_entry *e;

  put_text ("fine", 0644, "fine\n");
  put_symlink ("link", dir);
  put_text ("link/file", 0644, "written through the link\n");
  put_dir ("link/dir", 0755);
  put_text ("link/dir/file", 0644, "written through the link\n");
  e = new_entry ("link/hard", AE_IFREG, 0644);
  archive_entry_set_hardlink (e, "fine");
  archive_entry_set_size (e, 0);
  put (e);
  /* A symlink to that symlink. */
  put_symlink ("chain", "link");
  put_text ("chain/file", 0644, "written through two links\n");
}

static void
variant_deep (int n)
{
  size_t cap = (size_t) n * 3 + 16;
  char *path = malloc (cap);

  if (!path)
    die ("malloc");
  path[0] = '\0';
  for (int i = 0; i < n; ++i) {
    strcat (path, i ? "/dd" : "dd");
    put_dir (path, 0755);
  }
  strcat (path, n ? "/bottom" : "bottom");
  put_text (path, 0644, "at the bottom\n");
  free (path);
}

static void
variant_tiny (long n)
{
  char path[64], text[32];

  for (long i = 0; i < n; ++i) {
    if (i % 1000 == 0) {
      snprintf (path, sizeof path, "t%04ld", i / 1000);
      put_dir (path, 0755);
    }
    snprintf (path, sizeof path, "t%04ld/f%03ld", i / 1000, i % 1000);
    snprintf (text, sizeof text, "%ld\n", i);
    put_text (path, 0644, text);
  }
}

/* One ustar or newc header whose size is far more than what follows, so
 * that only a reader that trusts the header would write that much.
 */
static void
write_lying (const char *out, long long gib)
{
  unsigned long long size = (unsigned long long) gib << 30;
  unsigned char h[512] = { 0 };
  FILE *fp = fopen (out, "wb");
  unsigned sum = 0;

  if (!fp)
    die (out);
  if (cpio) {
    if (size > 0xffffffffULL)
      size = 0xffffffffULL;
    /* 110-byte header, "liar\0", padded to 4, then 5 bytes of data. */
    fprintf (fp, "070701%08x%08x%08x%08x%08x%08x%08llx%08x%08x%08x%08x%08x%08x",
             1, 0100644, 0, 0, 1, 0, size, 0, 0, 0, 0, 5, 0);
    fwrite ("liar\0\0\0\0", 1, 8, fp);
  }
  else {
    strcpy ((char *) h, "liar");
    memcpy (h + 100, "0000644", 8);
    memcpy (h + 108, "0000000", 8);
    memcpy (h + 116, "0000000", 8);
    /* Sizes of 8 GiB and more are base-256: a high bit, then big-endian. */
    h[124] = 0x80;
    for (int i = 0; i < 8; ++i)
      h[135 - i] = (unsigned char) (size >> (8 * i));
    memcpy (h + 136, "14500000000", 12);
    h[156] = '0';
    memcpy (h + 257, "ustar", 6);
    memcpy (h + 263, "00", 2);
    memset (h + 148, ' ', 8);
    for (size_t i = 0; i < sizeof h; ++i)
      sum += h[i];
    snprintf ((char *) h + 148, 8, "%06o", sum);
    fwrite (h, 1, sizeof h, fp);
  }
  fwrite ("lies\n", 1, 5, fp);
  if (fclose (fp) != 0)
    die (out);
}

static void
variant_hostile (void)
{
  put_text ("fine", 0644, "fine\n");
  put_symlink ("evil", "/tmp");
  put_text ("evil/x", 0644, "should never be written\n");
}

static int
make_socket (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);

  if (fd == -1 || strlen (path) >= sizeof sun.sun_path) {
    perror ("socket");
    return 1;
  }
  strcpy (sun.sun_path, path);
  if (bind (fd, (struct sockaddr *) &sun, sizeof sun) == -1) {
    perror (path);
    return 1;
  }
  close (fd);
  return 0;
}

static int
cat_member (const char *archive, const char *member)
{
  struct archive_entry *e;
  static char zero[65536];
  int64_t pos = 0;

  a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_all (a);
  if (archive_read_open_filename (a, archive, 65536) != ARCHIVE_OK)
    die (archive);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK) {
    const void *buf;
    size_t len;
    la_int64_t off;
    int r;

    if (strcmp (archive_entry_pathname (e), member) != 0)
      continue;
    while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK) {
      for (; pos < off; pos += sizeof zero)
        fwrite (zero, 1, off - pos < (int64_t) sizeof zero ?
                (size_t) (off - pos) : sizeof zero, stdout);
      pos = off;
      fwrite (buf, 1, len, stdout);
      pos += len;
    }
    if (r != ARCHIVE_EOF)
      die (member);
    for (; pos < archive_entry_size (e); pos += sizeof zero)
      fwrite (zero, 1, archive_entry_size (e) - pos < (int64_t) sizeof zero ?
              (size_t) (archive_entry_size (e) - pos) : sizeof zero, stdout);
    return fflush (stdout) == 0 ? 0 : 1;
  }
  fprintf (stderr, "make-test-archive: %s: no member %s\n", archive, member);
  return 1;
}

int
main (int argc, char **argv)
{
  const char *compress = NULL, *variant, *out;
  int i = 1;

  if (argc == 3 && strcmp (argv[1], "--socket") == 0)
    return make_socket (argv[2]);
  if (argc == 4 && strcmp (argv[1], "--cat") == 0)
    return cat_member (argv[2], argv[3]);
  if (argc > 2 && strcmp (argv[1], "--compress") == 0) {
    compress = argv[2];
    i = 3;
  }
  if (argc - i > 2 && strcmp (argv[i], "--format") == 0) {
    if (strcmp (argv[i + 1], "cpio") != 0) {
      fprintf (stderr, "make-test-archive: --format cpio only\n");
      return 2;
    }
    cpio = true;
    i += 2;
  }
  if (argc - i != 2) {
    fprintf (stderr, "usage: make-test-archive [--compress F] [--format cpio] "
             "VARIANT OUT\n");
    return 2;
  }
  variant = argv[i];
  out = argv[i + 1];

  if (strncmp (variant, "lying:", 6) == 0) {
    write_lying (out, atoll (variant + 6));
    return 0;
  }
  a = archive_write_new ();
  if (cpio)
    archive_write_set_format_cpio_newc (a);
  else {
    archive_write_set_format_pax (a);
    /* Names are bytes: no translation to UTF-8 (names/bad-\xff\xfe). */
    archive_write_set_format_option (a, "pax", "hdrcharset", "BINARY");
  }
  if (compress && archive_write_add_filter_by_name (a, compress) != ARCHIVE_OK)
    die (compress);
  if (archive_write_open_filename (a, out) != ARCHIVE_OK)
    die (out);
  if (strcmp (variant, "full") == 0)
    variant_full ();
  else if (strcmp (variant, "overlay") == 0)
    variant_overlay ();
  else if (strcmp (variant, "notempty") == 0)
    put_text ("etc", 0644, "a file over a directory with files in it\n");
  else if (strcmp (variant, "hostile") == 0)
    variant_hostile ();
  else if (strcmp (variant, "confined") == 0)
    variant_confined ();
  else if (strncmp (variant, "through:", 8) == 0)
    variant_through (variant + 8);
  else if (strcmp (variant, "dotdot") == 0) {
    put_text ("fine", 0644, "fine\n");
    put_text ("sub/../../escaped", 0644, "escaped\n");
  }
  else if (strncmp (variant, "deep:", 5) == 0)
    variant_deep (atoi (variant + 5));
  else if (strncmp (variant, "tiny:", 5) == 0)
    variant_tiny (atol (variant + 5));
  else if (strncmp (variant, "huge:", 5) == 0) {
    int64_t size = (int64_t) atoll (variant + 5) << 30;
    /* ":head": the data first, so that no hole is fed through the
     * writer (many TiB of zeros take seconds).
     */
    bool head = strstr (variant, ":head") != NULL;
    const int64_t range[][2] = { { head ? 0 : size - 4096, 4096 } };
    put_sparse ("huge", size, range, 1, 31);
  }
  else if (strcmp (variant, "many") == 0)
    variant_many ();
  else if (strncmp (variant, "big:", 4) == 0)
    put_file (new_entry ("big", AE_IFREG, 0644),
              (size_t) atoi (variant + 4) * 1048576, 11);
  else {
    fprintf (stderr, "make-test-archive: unknown variant %s\n", variant);
    return 2;
  }
  if (archive_write_close (a) != ARCHIVE_OK)
    die ("close");
  archive_write_free (a);
  return 0;
}
