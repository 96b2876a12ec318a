/* mkvmimg initramfs list: the entries of every segment. */
#include <config.h>

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "mkvmimg.h"
#include "cli.h"
#include "initramfs.h"

struct list_opts {
  int json;                     /* --json */
};

struct list_state {
  const struct list_opts *opts;
  size_t nr;                    /* entries in this segment so far */
};

static void
json_string (const char *s)
{
  putchar ('"');
  for (const unsigned char *p = (const unsigned char *) s; *p; ++p) {
    if (*p == '"' || *p == '\\')
      printf ("\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      printf ("\\u%04x", *p);
    else
      putchar (*p);
  }
  putchar ('"');
}

static const char *
type_name (mode_t type)
{
  switch (type) {
  case AE_IFREG: return "file";
  case AE_IFDIR: return "dir";
  case AE_IFLNK: return "symlink";
  case AE_IFCHR: return "char";
  case AE_IFBLK: return "block";
  case AE_IFIFO: return "fifo";
  case AE_IFSOCK: return "socket";
  default: return "unknown";
  }
}

static void
mode_string (mode_t mode, char *s)
{
  static const char types[] = "?pc?d?b?-?l?s???";
  const char *rwx = "rwxrwxrwx";

  s[0] = types[(mode >> 12) & 15];
  for (int i = 0; i < 9; ++i)
    s[i + 1] = mode & (0400 >> i) ? rwx[i] : '-';
  if (mode & 04000)
    s[3] = mode & 0100 ? 's' : 'S';
  if (mode & 02000)
    s[6] = mode & 0010 ? 's' : 'S';
  if (mode & 01000)
    s[9] = mode & 0001 ? 't' : 'T';
  s[10] = '\0';
}

static int
list_entry (void *opaque, struct archive *ar, struct archive_entry *e)
{
  struct list_state *st = opaque;
  mode_t type = archive_entry_filetype (e);
  const char *symlink = archive_entry_symlink (e);
  const char *hardlink = archive_entry_hardlink (e);
  time_t mtime = archive_entry_mtime (e);
  char mode[11];

  if (st->opts->json) {
    printf ("%s\n      {\"path\": ", st->nr ? "," : "");
    json_string (archive_entry_pathname (e));
    printf (", \"type\": \"%s\", \"mode\": \"%04o\", \"uid\": %" PRId64
            ", \"gid\": %" PRId64 ", \"size\": %" PRId64 ", \"mtime\": %" PRId64,
            type_name (type), (unsigned) (archive_entry_mode (e) & 07777),
            archive_entry_uid (e), archive_entry_gid (e),
            archive_entry_size (e), (int64_t) mtime);
    if (type == AE_IFCHR || type == AE_IFBLK)
      printf (", \"major\": %u, \"minor\": %u",
              (unsigned) archive_entry_rdevmajor (e),
              (unsigned) archive_entry_rdevminor (e));
    if (symlink) {
      printf (", \"target\": ");
      json_string (symlink);
    }
    if (hardlink) {
      printf (", \"hardlink\": ");
      json_string (hardlink);
    }
    printf ("}");
  }
  else {
    struct tm tm;
    char when[32], size[32];

    mode_string (archive_entry_mode (e), mode);
    gmtime_r (&mtime, &tm);
    strftime (when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    if (type == AE_IFCHR || type == AE_IFBLK)
      snprintf (size, sizeof size, "%u,%u",
                (unsigned) archive_entry_rdevmajor (e),
                (unsigned) archive_entry_rdevminor (e));
    else
      snprintf (size, sizeof size, "%" PRId64, archive_entry_size (e));
    printf ("%s %" PRId64 "/%" PRId64 " %9s %s %s", mode,
            archive_entry_uid (e), archive_entry_gid (e), size, when,
            archive_entry_pathname (e));
    if (symlink)
      printf (" -> %s", symlink);
    if (hardlink)
      printf (" link to %s", hardlink);
    putchar ('\n');
  }
  st->nr++;
  return 0;
}

int
cmd_initramfs_list (int argc, char **argv)
{
  struct list_opts opts = { 0 };
  struct poptOption options[] = {
    { "json", '\0', POPT_ARG_NONE, &opts.json, 0,
      "Print JSON instead of lines", NULL },
    COMMON_OPTIONS,
    POPT_TABLEEND
  };
  CLEANUP_POPT poptContext ctx = NULL;
  CLEANUP_FREE struct initramfs_segment *segs = NULL;
  CLEANUP_CLOSE int fd = -1;
  const char **args;
  const char *image;
  size_t n;
  int r;

  r = cli_parse (&ctx, "initramfs list", argc, argv, options, "IMAGE",
                 NULL, NULL);
  if (r)
    return r == 1 ? EXIT_OK : EXIT_USAGE;
  args = poptGetArgs (ctx);
  if (!args || !args[0] || args[1]) {
    usage_error ("initramfs list", "expected one IMAGE");
    return EXIT_USAGE;
  }
  image = args[0];
  fd = open (image, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", image);
    return EXIT_FAIL;
  }
  if (initramfs_segments (fd, image, &segs, &n) == -1)
    return EXIT_FAIL;
  if (opts.json)
    printf ("{\n  \"segments\": [");
  for (size_t i = 0; i < n; ++i) {
    struct list_state st = { .opts = &opts };

    if (opts.json)
      printf ("%s\n    {\"offset\": %" PRIu64 ", \"size\": %" PRIu64
              ", \"compression\": \"%s\", \"entries\": [",
              i ? "," : "", segs[i].offset, segs[i].end - segs[i].offset,
              compression_name (segs[i].compression));
    else
      printf ("%ssegment %zu: offset %" PRIu64 ", %" PRIu64 " bytes, %s\n",
              i ? "\n" : "", i, segs[i].offset, segs[i].end - segs[i].offset,
              compression_name (segs[i].compression));
    fflush (stdout);
    if (initramfs_segment_read (fd, image, &segs[i], list_entry, &st) == -1)
      return EXIT_FAIL;
    if (opts.json)
      printf ("\n    ]}");
  }
  if (opts.json)
    printf ("\n  ]\n}\n");
  return EXIT_OK;
}
