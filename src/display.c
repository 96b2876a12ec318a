/* VNC and SPICE displays: where they listen and with which password. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "mkvmimg.h"
#include "display.h"

/* 127.0.0.0/8, ::1, localhost. */
static bool
is_loopback (const char *addr)
{
  struct in_addr a4;
  struct in6_addr a6;

  if (STREQ (addr, "localhost"))
    return true;
  if (inet_pton (AF_INET, addr, &a4) == 1)
    return (ntohl (a4.s_addr) >> 24) == 127;
  if (inet_pton (AF_INET6, addr, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK (&a6);
  return false;
}

/* The first port from base up that nothing listens on at addr. */
static int
free_port (const char *addr, int base)
{
  for (int port = base; port < base + 100; ++port) {
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons (port) };
    int fd, one = 1, r;

    if (inet_pton (AF_INET, addr, &sin.sin_addr) != 1)
      return base;              /* IPv6 or a name: let QEMU decide */
    fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
      return base;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    r = bind (fd, (struct sockaddr *) &sin, sizeof sin);
    close (fd);
    if (r == 0)
      return port;
  }
  error ("no free port for the display on %s from %d to %d", addr, base,
         base + 99);
  return -1;
}

static char *
generate_password (const char *dir)
{
  static const char chars[] =
    "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  unsigned char raw[8];
  char pw[9];
  CLEANUP_FREE char *path = xasprintf ("%s/display.password", dir);
  int fd;

  if (getrandom (raw, sizeof raw, 0) != sizeof raw) {
    error_errno ("getrandom");
    return NULL;
  }
  /* VNC uses 8 characters at most. */
  for (size_t i = 0; i < 8; ++i)
    pw[i] = chars[raw[i] % (sizeof chars - 1)];
  pw[8] = '\0';
  unlink (path);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("create %s", path);
    return NULL;
  }
  if (write_all (fd, pw, 8) == -1 || close (fd) == -1) {
    error_errno ("write %s", path);
    return NULL;
  }
  explicit_bzero (pw, sizeof pw);
  char *r = path;
  path = NULL;
  return r;
}

int
display_prepare (const struct machine *m, const char *password_file,
                 const char *dir, bool dry_run, struct display *d)
{
  const char *listen = m->listen ? m->listen : "127.0.0.1";

  memset (d, 0, sizeof *d);
  d->kind = m->display;
  if (STREQ (d->kind, "none"))
    return 0;
  if (!STREQ (d->kind, "vnc") && !STREQ (d->kind, "spice")) {
    error ("display = %s: expected none, vnc or spice", d->kind);
    return -1;
  }
  if (STREQ (listen, "unix")) {
    d->unix_socket = true;
    d->listen = xasprintf ("%s/%s.sock", dir, d->kind);
  }
  else {
    if (!is_loopback (listen) && m->insecure) {
      error ("display %s on %s without a password: refused (a display "
             "on a non-loopback address needs a password; drop "
             "insecure = yes)", d->kind, listen);
      return -1;
    }
    d->listen = xstrdup (listen);
    d->port = STREQ (d->kind, "vnc") ? 5900 : 5930;
    if (!dry_run) {
      d->port = free_port (listen, d->port);
      if (d->port == -1)
        return -1;
    }
  }
  if (m->insecure) {
    CLEANUP_FREE char *where = d->unix_socket ? xstrdup (d->listen)
      : xasprintf ("%s:%d", d->listen, d->port);
    warning ("display %s without a password (insecure = yes): anyone who "
             "can reach %s controls the VM", d->kind, where);
    return 0;
  }
  if (password_file) {
    if (access (password_file, R_OK) == -1) {
      error_errno ("password file %s", password_file);
      return -1;
    }
    d->password_file = xstrdup (password_file);
  }
  else if (dry_run)
    d->password_file = xasprintf ("%s/display.password", dir);
  else {
    d->password_file = generate_password (dir);
    if (!d->password_file)
      return -1;
    d->generated = true;
  }
  return 0;
}

void
display_add_args (const struct display *d, struct strv *argv)
{
  if (STREQ (d->kind, "none")) {
    strv_add (argv, "-display");
    strv_add (argv, "none");
    return;
  }
  if (d->password_file) {
    strv_add (argv, "-object");
    strv_addf (argv, "secret,id=display-secret,file=%s", d->password_file);
  }
  strv_add (argv, "-display");
  strv_add (argv, "none");
  if (STREQ (d->kind, "vnc")) {
    strv_add (argv, "-device");
    strv_add (argv, "VGA");
    strv_add (argv, "-vnc");
    if (d->unix_socket)
      strv_addf (argv, "unix:%s%s", d->listen,
                 d->password_file ? ",password-secret=display-secret" : "");
    else
      strv_addf (argv, "%s%s%s:%d%s", strchr (d->listen, ':') ? "[" : "",
                 d->listen, strchr (d->listen, ':') ? "]" : "",
                 d->port - 5900,
                 d->password_file ? ",password-secret=display-secret" : "");
    return;
  }
  /* SPICE: qxl, and the vdagent channel for copy/paste and resizing. */
  strv_add (argv, "-device");
  strv_add (argv, "qxl-vga");
  strv_add (argv, "-spice");
  if (d->unix_socket)
    strv_addf (argv, "unix=on,addr=%s%s", d->listen,
               d->password_file ? ",password-secret=display-secret"
               : ",disable-ticketing=on");
  else
    strv_addf (argv, "port=%d,addr=%s%s", d->port, d->listen,
               d->password_file ? ",password-secret=display-secret"
               : ",disable-ticketing=on");
  strv_add (argv, "-device");
  strv_add (argv, "virtio-serial-pci");
  strv_add (argv, "-chardev");
  strv_add (argv, "spicevmc,id=vdagent0,name=vdagent");
  strv_add (argv, "-device");
  strv_add (argv, "virtserialport,chardev=vdagent0,name=com.redhat.spice.0");
}

char *
display_connect_command (const struct display *d)
{
  if (STREQ (d->kind, "none"))
    return NULL;
  if (d->unix_socket)
    return xasprintf ("remote-viewer %s+unix://%s", d->kind, d->listen);
  return xasprintf ("remote-viewer %s://%s%s%s:%d", d->kind,
                    strchr (d->listen, ':') ? "[" : "", d->listen,
                    strchr (d->listen, ':') ? "]" : "", d->port);
}

void
display_free (struct display *d)
{
  free (d->listen);
  free (d->password_file);
}
