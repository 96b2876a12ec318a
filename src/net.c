/* Networks of VMs: port forwards, MAC addresses, VDE switches. */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "mkvmimg.h"
#include "child.h"
#include "net.h"

/* "tcp:HOSTPORT:GUESTPORT": protocol and ports.  -1 on a bad spec. */
static int
parse_forward (const char *spec, const char **proto_rtn, int *host_rtn,
               int *guest_rtn)
{
  unsigned host, guest;
  int n = 0;

  if (STRPREFIX (spec, "tcp:"))
    *proto_rtn = "tcp";
  else if (STRPREFIX (spec, "udp:"))
    *proto_rtn = "udp";
  else
    return -1;
  if (sscanf (spec + 4, "%5u:%5u%n", &host, &guest, &n) != 2
      || spec[4 + n] != '\0' || !strchr ("0123456789", spec[4])
      || host < 1 || host > 65535 || guest < 1 || guest > 65535)
    return -1;
  *host_rtn = host;
  *guest_rtn = guest;
  return 0;
}

bool
net_forward_valid (const char *spec)
{
  const char *proto;
  int host, guest;

  return parse_forward (spec, &proto, &host, &guest) == 0;
}

char *
net_hostfwd (const char *what, const char *spec)
{
  const char *proto;
  int host, guest;

  if (parse_forward (spec, &proto, &host, &guest) == -1) {
    error ("%s %s: expected tcp:HOSTPORT:GUESTPORT (or udp:...), ports "
           "1 to 65535", what, spec);
    return NULL;
  }
  return xasprintf ("hostfwd=%s:127.0.0.1:%d-:%d", proto, host, guest);
}

int
net_check_forward (const char *spec)
{
  struct sockaddr_in addr = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  const char *proto;
  int host, guest, fd, one = 1, r;

  if (parse_forward (spec, &proto, &host, &guest) == -1)
    return 0;                   /* reported by net_hostfwd */
  fd = socket (AF_INET, (STREQ (proto, "tcp") ? SOCK_STREAM : SOCK_DGRAM)
               | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    error_errno ("forward %s: socket", spec);
    return -1;
  }
  /* As QEMU binds it (SO_REUSEADDR): only a listener makes it busy. */
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_port = htons (host);
  r = bind (fd, (struct sockaddr *) &addr, sizeof addr);
  if (r == -1) {
    int e = errno;
    close (fd);
    errno = e;
    if (errno == EADDRINUSE)
      error ("forward %s: port %d on 127.0.0.1 is already in use "
             "(choose another HOSTPORT)", spec, host);
    else
      error_errno ("forward %s: bind 127.0.0.1:%d", spec, host);
    return -1;
  }
  close (fd);
  return 0;
}

char *
net_mac (const char *id, size_t index)
{
  uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a, 64 bits */

  for (const unsigned char *c = (const unsigned char *) id; *c; ++c) {
    h ^= *c;
    h *= 0x100000001b3ULL;
  }
  for (size_t i = 0; i < sizeof index; ++i) {
    h ^= (index >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 32;
  /* 52:54:00:12:34:56 is QEMU's default: never hand that one out. */
  if ((h & 0xffffff) == 0x123456)
    h++;
  return xasprintf ("52:54:00:%02x:%02x:%02x", (unsigned) (h >> 16) & 0xff,
                    (unsigned) (h >> 8) & 0xff, (unsigned) h & 0xff);
}

char *
net_dir (void)
{
  const char *env = getenv ("MKVMIMG_NET_DIR");
  const char *xdg = getenv ("XDG_RUNTIME_DIR");

  if (env && *env)
    return xstrdup (env);
  if (xdg && *xdg)
    return xasprintf ("%s/mkvmimg-net", xdg);
  return xasprintf ("/tmp/mkvmimg-net-%u", (unsigned) getuid ());
}

bool
net_valid_switch_name (const char *name)
{
  if (!*name || name[0] == '.' || strlen (name) > 64)
    return false;
  for (const char *c = name; *c; ++c)
    if (!isalnum ((unsigned char) *c) && !strchr ("-_.", *c))
      return false;
  return true;
}

char *
net_vde_path (const char *value, bool check)
{
  const char *sw = STRPREFIX (value, "vde:") ? value + 4 : value;
  CLEANUP_FREE char *dir = NULL;
  char *path;
  struct stat st;

  if (strchr (sw, '/'))
    path = xstrdup (sw);
  else {
    if (!net_valid_switch_name (sw)) {
      error ("net = vde:%s: not a switch name (letters, digits, '-', '_', "
             "'.') nor a path", sw);
      return NULL;
    }
    dir = net_dir ();
    path = xasprintf ("%s/%s/ctl", dir, sw);
  }
  if (check) {
    CLEANUP_FREE char *ctl = xasprintf ("%s/ctl", path);
    if (stat (ctl, &st) == -1 || !S_ISSOCK (st.st_mode)) {
      error ("net = vde:%s: no VDE switch listens at %s (start one with "
             "'mkvmimg net create %s')", sw, path,
             strchr (sw, '/') ? "NAME" : sw);
      free (path);
      return NULL;
    }
  }
  return path;
}

int
net_qemu_has_vde (const char *qemu)
{
  const char *argv[] = { qemu, "-netdev", "help", NULL };
  CLEANUP_FREE char *out = child_run_capture (argv, NULL);

  if (!out)
    return -1;
  for (char *w = strtok (out, " \n,"); w; w = strtok (NULL, " \n,"))
    if (STREQ (w, "vde"))
      return 0;
  error ("%s was built without VDE support (its -netdev help does not "
         "list vde): use net = user or tap:NAME, or a QEMU built with "
         "VDE such as Debian's qemu-system-x86", qemu);
  return -1;
}

