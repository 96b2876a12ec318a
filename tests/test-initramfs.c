/* Unit test of the initramfs API other areas use: source_cpio_spec into
 * cpio_sink_new (two segments: zstd, then uncompressed after padding),
 * read back with initramfs_read_entries and source_archive.
 */
#include <config.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "cpio-sink.h"
#include "cpio-spec.h"
#include "initramfs.h"
#include "tempfiles.h"

#define CHECK(cond) \
  do { if (!(cond)) { fprintf (stderr, "test-initramfs: %s:%d: %s\n", \
                               __FILE__, __LINE__, #cond); exit (1); } } while (0)

struct seen {
  char names[4096];
  char data[256];
};

static int
seen_put (struct entry_sink *sink, struct archive_entry *e,
          struct entry_data *data)
{
  struct seen *s = sink->opaque;
  const char *hl = archive_entry_hardlink (e);

  strcat (s->names, archive_entry_pathname (e));
  if (hl) {
    strcat (s->names, "=>");
    strcat (s->names, hl);
  }
  if (archive_entry_filetype (e) == AE_IFCHR) {
    char dev[32];
    snprintf (dev, sizeof dev, "(c%u,%u)",
              (unsigned) archive_entry_rdevmajor (e),
              (unsigned) archive_entry_rdevminor (e));
    strcat (s->names, dev);
  }
  strcat (s->names, " ");
  if (data) {
    const void *buf;
    size_t len;
    int64_t off;
    int r;
    while ((r = entry_data_next (data, &buf, &len, &off)) == 1)
      strncat (s->data, buf, len < 100 ? len : 100);
    if (r == -1)
      return -1;
  }
  return 0;
}

static void
write_file (const char *path, const char *content)
{
  FILE *fp = fopen (path, "w");
  CHECK (fp);
  fputs (content, fp);
  CHECK (fclose (fp) == 0);
}

int
main (int argc, char **argv)
{
  const char *dir;
  CLEANUP_FREE char *spec1 = NULL, *spec2 = NULL, *img = NULL;
  CLEANUP_FREE char *payload = NULL;
  struct entry_sink *sink;
  struct seen seen = { "", "" };
  struct entry_sink collect = { .put = seen_put, .opaque = &seen };
  static const char zeros[8];
  int fd;

  program_name = "test-initramfs";
  cleanup_install_handlers ();
  dir = tmpdir_get ();
  CHECK (dir);
  spec1 = xasprintf ("%s/one.spec", dir);
  spec2 = xasprintf ("%s/two.spec", dir);
  img = xasprintf ("%s/initrd.img", dir);
  payload = xasprintf ("%s/payload", dir);
  write_file (payload, "PAYLOAD");
  /* A host path relative to the spec's directory. */
  write_file (spec1,
              "# first segment\n"
              "dir /dev 0755 0 0\n"
              "nod /dev/console 0600 0 0 c 5 1\n"
              "file /bin/prog payload 0755 0 0 /bin/alias\n");
  write_file (spec2, "slink /init bin/prog 0777 0 0\n");

  fd = open (img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK (fd >= 0);
  sink = cpio_sink_new (fd, COMPRESS_ZSTD, 3, img);
  CHECK (sink);
  CHECK (source_cpio_spec (spec1, sink) == 0);
  CHECK (sink->finish (sink) == 0);
  CHECK (cpio_sink_count (sink) == 4);
  cpio_sink_free (sink);
  /* Zero padding, to a multiple of 4, then an uncompressed segment. */
  CHECK (write_all (fd, zeros, 4 - lseek (fd, 0, SEEK_CUR) % 4 + 4) == 0);
  sink = cpio_sink_new (fd, COMPRESS_NONE, -1, img);
  CHECK (sink);
  CHECK (source_cpio_spec (spec2, sink) == 0);
  CHECK (sink->finish (sink) == 0);
  cpio_sink_free (sink);
  CHECK (close (fd) == 0);

  CHECK (initramfs_read_entries (img, &collect) == 0);
  printf ("initramfs_read_entries: %s| %s\n", seen.names, seen.data);
  CHECK (STREQ (seen.names,
                "dev dev/console(c5,1) bin/prog bin/alias=>bin/prog init "));
  CHECK (STREQ (seen.data, "PAYLOAD"));

  CHECK (initramfs_probe (img) == 1);
  CHECK (initramfs_probe (spec1) == 0);
  CHECK (initramfs_probe (payload) == 0);

  /* The same through source_archive, with the uncompressed segment
   * first (early microcode style).
   */
  fd = open (img, O_RDWR | O_TRUNC | O_CLOEXEC);
  CHECK (fd >= 0);
  sink = cpio_sink_new (fd, COMPRESS_NONE, -1, img);
  CHECK (sink && source_cpio_spec (spec2, sink) == 0);
  CHECK (sink->finish (sink) == 0);
  cpio_sink_free (sink);
  sink = cpio_sink_new (fd, COMPRESS_GZIP, -1, img);
  CHECK (sink && source_cpio_spec (spec1, sink) == 0);
  CHECK (sink->finish (sink) == 0);
  cpio_sink_free (sink);
  CHECK (close (fd) == 0);
  CHECK (initramfs_probe (img) == 1);
  memset (&seen, 0, sizeof seen);
  CHECK (source_archive (img, &collect) == 0);
  printf ("source_archive: %s| %s\n", seen.names, seen.data);
  CHECK (STREQ (seen.names,
                "init dev dev/console(c5,1) bin/prog bin/alias=>bin/prog "));
  CHECK (STREQ (seen.data, "PAYLOAD"));

  /* A spec line that does not parse. */
  write_file (spec2, "dir /a 0755 0 0\nnod /b 0600 0 0 c 1\n");
  fd = open (img, O_RDWR | O_TRUNC | O_CLOEXEC);
  sink = cpio_sink_new (fd, COMPRESS_NONE, -1, img);
  CHECK (source_cpio_spec (spec2, sink) == -1);
  cpio_sink_free (sink);
  close (fd);
  cleanup_run ();
  return 0;
}
