/* [rootfs] source = busybox: a small root filesystem made offline from
 * the host's busybox-static, for test systems, rescue images and the
 * built-in default profile.  Every applet is a symlink to /bin/busybox;
 * init runs /etc/init.d/rcS, which mounts what fstab names, prints a
 * banner on the console, and gives a root shell on the serial console.
 */
#include <config.h>

#include <string.h>

#include "mkvmimg.h"
#include "child.h"
#include "entries.h"
#include "rootfs.h"

#define BUSYBOX "/bin/busybox"

static const char inittab[] =
  "# /etc/inittab: written by mkvmimg (busybox init)\n"
  "::sysinit:/etc/init.d/rcS\n"
  "ttyS0::respawn:/sbin/getty -n -l /bin/sh -L 115200 ttyS0 vt100\n"
  "tty1::respawn:/sbin/getty -n -l /bin/sh 38400 tty1\n"
  "::ctrlaltdel:/sbin/reboot\n"
  "::shutdown:/bin/umount -a -r\n";

static const char rcS[] =
  "#!/bin/sh\n"
  "# Early boot of the mkvmimg busybox system.\n"
  "mount -t proc proc /proc\n"
  "mount -t sysfs sysfs /sys\n"
  "mount -t devtmpfs devtmpfs /dev 2>/dev/null\n"
  "mkdir -p /dev/pts /run /tmp\n"
  "mount -t devpts devpts /dev/pts\n"
  "mount -t tmpfs tmpfs /run\n"
  "mount -o remount,rw / 2>/dev/null\n"
  "mount -a 2>/dev/null\n"
  "swapon -a 2>/dev/null\n"
  "hostname -F /etc/hostname\n"
  "# Modules named in /etc/modules-load.d/*.conf, one per line.\n"
  "for f in /etc/modules-load.d/*.conf; do\n"
  "  [ -f \"$f\" ] || continue\n"
  "  grep -v '^#' \"$f\" | while read -r m; do [ -n \"$m\" ] && modprobe \"$m\"; done\n"
  "done\n"
  "[ -x /etc/rc.local ] && /etc/rc.local\n"
  "echo \"mkvmimg busybox system $(uname -r) up on $(hostname)\"\n";

static const char passwd[] = "root::0:0:root:/root:/bin/sh\n";
static const char group[] = "root:x:0:\n";
static const char hostname[] = "mkvmimg\n";

static int
emit_dirs (struct entry_sink *sink)
{
  static const struct { const char *path; mode_t mode; } dirs[] = {
    { ".", 0755 }, { "bin", 0755 }, { "sbin", 0755 }, { "usr", 0755 },
    { "usr/bin", 0755 }, { "usr/sbin", 0755 }, { "etc", 0755 },
    { "etc/init.d", 0755 }, { "etc/modules-load.d", 0755 },
    { "dev", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "run", 0755 },
    { "tmp", 01777 }, { "root", 0700 }, { "mnt", 0755 }, { "boot", 0755 },
    { "lib", 0755 }, { "lib/modules", 0755 },
  };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; ++i)
    if (entry_emit_dir (sink, dirs[i].path, dirs[i].mode) == -1)
      return -1;
  return 0;
}

int
source_busybox (struct entry_sink *sink)
{
  const char *list_argv[] = { BUSYBOX, "--list-full", NULL };
  CLEANUP_FREE char *list = NULL;
  char *line, *save;

  if (access (BUSYBOX, X_OK) == -1) {
    error ("[rootfs] source = busybox needs %s (install busybox-static: "
           "see setup.sh)", BUSYBOX);
    return -1;
  }
  list = child_run_capture (list_argv, NULL);
  if (!list)
    return -1;
  if (emit_dirs (sink) == -1 ||
      entry_emit_host_file (sink, "bin/busybox", 0755, BUSYBOX) == -1)
    return -1;
  for (line = strtok_r (list, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    CLEANUP_FREE char *target = NULL;
    int depth = 0;

    if (STREQ (line, "bin/busybox") || strchr (line, '/') == NULL)
      continue;
    /* A relative link, so the tree works wherever it is mounted. */
    for (const char *p = line; *p; ++p)
      depth += *p == '/';
    target = xstrdup ("");
    for (int i = 0; i < depth; ++i) {
      char *t = xasprintf ("%s../", target);
      free (target);
      target = t;
    }
    {
      char *t = xasprintf ("%sbin/busybox", target);
      free (target);
      target = t;
    }
    if (entry_emit_symlink (sink, line, target) == -1)
      return -1;
  }
  if (entry_emit_file (sink, "etc/inittab", 0644, inittab,
                       strlen (inittab)) == -1 ||
      entry_emit_file (sink, "etc/init.d/rcS", 0755, rcS, strlen (rcS)) == -1 ||
      entry_emit_file (sink, "etc/passwd", 0644, passwd,
                       strlen (passwd)) == -1 ||
      entry_emit_file (sink, "etc/group", 0644, group, strlen (group)) == -1 ||
      entry_emit_file (sink, "etc/hostname", 0644, hostname,
                       strlen (hostname)) == -1)
    return -1;
  return 0;
}
