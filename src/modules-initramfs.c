/* [module] load = initramfs: the driver goes into the kernel's initrd
 * and is loaded before the root filesystem is mounted.  The initrd is
 * not unpacked and rebuilt: a new segment is appended, which the kernel
 * unpacks over the earlier ones.  It holds the modules, a script for
 * initramfs-tools' init-top phase that loads them, and init-top's ORDER
 * file with that script added.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "child.h"
#include "cpio-sink.h"
#include "entries.h"
#include "initramfs.h"
#include "modules.h"
#include "profile.h"
#include "tempfiles.h"

#define ORDER "scripts/init-top/ORDER"
#define SCRIPT "scripts/init-top/mkvmimg-modules"

/* What the initrd holds that the new segment builds on. */
struct initrd_facts {
  char *order;                  /* scripts/init-top/ORDER, or NULL */
  bool merged_usr;              /* modules under usr/lib/modules */
};

static int
note_put (struct entry_sink *sink, struct archive_entry *e,
          struct entry_data *data)
{
  struct initrd_facts *f = sink->opaque;
  const char *path = archive_entry_pathname (e);

  if (STRPREFIX (path, "usr/lib/modules/"))
    f->merged_usr = true;
  if (STREQ (path, ORDER) && data) {
    const void *buf;
    size_t len;
    int64_t off;
    char *text = NULL;
    size_t total = 0;
    int r;

    while ((r = entry_data_next (data, &buf, &len, &off)) == 1) {
      text = xrealloc (text, off + len + 1);
      if ((size_t) off > total)
        memset (text + total, 0, off - total);
      memcpy (text + off, buf, len);
      if ((size_t) off + len > total)
        total = off + len;
    }
    if (r == -1) {
      free (text);
      return -1;
    }
    if (!text)
      text = xstrdup ("");
    text[total] = '\0';
    free (f->order);
    f->order = text;
  }
  return 0;
}

/* Is this .ko of a [module] with load = initramfs? */
static bool
early (const struct profile *p, const struct module_set *set, size_t i)
{
  const char *load = profile_get (p, "module", set->ko_section.v[i], "load");
  return load && STREQ (load, "initramfs");
}

/* The init-top script: dependencies from the initrd's own modules by
 * name, then ours by file.
 */
static char *
load_script (const struct profile *p, const struct module_set *set,
             const char *moddir)
{
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);

  if (!fp) {
    error_errno ("open_memstream");
    return NULL;
  }
  fprintf (fp,
           "#!/bin/sh\n"
           "# Written by mkvmimg: load the image's driver modules before the\n"
           "# root filesystem is mounted ([module] load = initramfs).\n"
           "case \"$1\" in prereqs) exit 0 ;; esac\n");
  for (size_t i = 0; i < set->kos.len; ++i) {
    const char *base = strrchr (set->kos.v[i], '/') + 1;
    const char *argv[] = { "modinfo", "-F", "depends", set->kos.v[i], NULL };
    CLEANUP_FREE char *deps = NULL;

    if (!early (p, set, i))
      continue;
    deps = child_run_capture (argv, NULL);
    if (!deps) {
      fclose (fp);
      free (text);
      return NULL;
    }
    deps[strcspn (deps, "\n")] = '\0';
    for (char *d = strtok (deps, ","); d; d = strtok (NULL, ","))
      fprintf (fp, "modprobe -q %s\n", d);
    fprintf (fp, "insmod /%s/updates/%s && "
             "echo \"mkvmimg: %.*s loaded from the initramfs\"\n",
             moddir, base, (int) (strlen (base) - 3), base);
  }
  fclose (fp);
  return text;
}

static int
write_segment (const struct profile *p, const struct module_set *set,
               const struct initrd_facts *f, int fd, const char *name)
{
  CLEANUP_FREE char *moddir = xasprintf ("%s/%s", f->merged_usr
                                         ? "usr/lib/modules" : "lib/modules",
                                         set->release);
  CLEANUP_FREE char *updates = xasprintf ("%s/updates", moddir);
  CLEANUP_FREE char *script = load_script (p, set, moddir);
  CLEANUP_FREE char *order = NULL;
  struct entry_sink *sink;
  int r = -1;

  if (!script)
    return -1;
  order = xasprintf ("%s/" SCRIPT " \"$@\"\n"
                     "[ -e /conf/param.conf ] && . /conf/param.conf\n",
                     f->order);
  sink = cpio_sink_new (fd, COMPRESS_NONE, -1, name);
  if (!sink)
    return -1;
  if (entry_emit_dir (sink, updates, 0755) == -1)
    goto out;
  for (size_t i = 0; i < set->kos.len; ++i) {
    const char *base = strrchr (set->kos.v[i], '/') + 1;
    CLEANUP_FREE char *dest = xasprintf ("%s/%s", updates, base);
    if (early (p, set, i) && entry_emit_host_file (sink, dest, 0644, set->kos.v[i]) == -1)
      goto out;
  }
  if (entry_emit_file (sink, SCRIPT, 0755, script, strlen (script)) == -1 ||
      entry_emit_file (sink, ORDER, 0644, order, strlen (order)) == -1)
    goto out;
  r = sink->finish (sink);
 out:
  cpio_sink_free (sink);
  return r;
}

int
modules_patch_initrd (const struct profile *p, const struct module_set *set,
                      const char *initrd, char **patched_rtn)
{
  struct initrd_facts f = { 0 };
  struct entry_sink note = { .put = note_put, .opaque = &f };
  CLEANUP_FREE char *patched = tmpdir_path ("initrd-with-modules.img");
  const char *cp_argv[] = { "cp", "--", initrd, NULL, NULL };
  static const char zeros[4];
  int fd = -1, ret = -1;
  off_t end;

  if (!patched)
    return -1;
  info ("adding modules to the initrd %s", initrd);
  if (initramfs_read_entries (initrd, &note) == -1)
    goto out;
  if (!f.order) {
    error ("%s: [module] load = initramfs needs an initrd made by "
           "initramfs-tools (it has no %s)", initrd, ORDER);
    goto out;
  }
  cp_argv[3] = patched;
  if (child_run (cp_argv, NULL) == -1)
    goto out;
  fd = open (patched, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("open %s", patched);
    goto out;
  }
  /* The kernel looks for the next archive on a 4-byte boundary. */
  end = lseek (fd, 0, SEEK_END);
  if (end == -1 ||
      ((end & 3) && write_all (fd, zeros, 4 - (end & 3)) == -1)) {
    error_errno ("write %s", patched);
    goto out;
  }
  if (write_segment (p, set, &f, fd, patched) == -1)
    goto out;
  if (close (fd) == -1) {
    fd = -1;
    error_errno ("close %s", patched);
    goto out;
  }
  fd = -1;
  *patched_rtn = patched;
  patched = NULL;
  ret = 0;
 out:
  if (fd >= 0)
    close (fd);
  free (f.order);
  return ret;
}
