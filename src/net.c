/* Networks of VMs: port forwards, MAC addresses, VDE switches. */
#include <config.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mkvmimg.h"
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
