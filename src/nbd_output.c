/* Writing the finished disk through libnbd.
 *
 * A local output file is created with qemu-img (qcow2 or raw) under a
 * temporary name beside the final one and served by qemu-nbd, which
 * libnbd starts by systemd socket activation; an NBD URI is connected to
 * directly.  Only the allocated ranges of the raw working file are read
 * (SEEK_DATA / SEEK_HOLE), and inside them blocks that are entirely zero
 * are skipped, so the output stays sparse.  Writes are asynchronous, a
 * few in flight, and every completion is checked: a server that dies
 * half-way makes the whole write fail.
 *
 * An NBD export given by URI may hold anything, so the ranges that are
 * not written (holes and zero blocks) are zeroed with NBD_CMD_WRITE_ZEROES
 * (allowed to punch holes; tried first with the fast-zero flag, falling
 * back to a plain zero request when the server says it cannot do it
 * fast; a server without write-zeroes gets written zero buffers).  The
 * bytes of the export past the size of the working file are left alone.
 * A local output is freshly created and reads as zeros already.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <libnbd.h>

#include "mkvmimg.h"
#include "child.h"
#include "nbd_output.h"
#include "tempfiles.h"

#define CHUNK (1024 * 1024)             /* bytes read and written at once */
#define NR_BUFFERS 4                    /* chunks in flight */
#define MAX_IN_FLIGHT 64                /* NBD commands in flight */
#define ZERO_BLOCK 4096                 /* granularity of zero detection */
#define QCOW2_CLUSTER 65536             /* as in qemu-img create below */
#define MAX_ZERO (UINT64_C (1) << 30)   /* largest zero request */

bool
nbd_output_is_uri (const char *output)
{
  return STRPREFIX (output, "nbd://") || STRPREFIX (output, "nbds://") ||
    STRPREFIX (output, "nbd+unix://") || STRPREFIX (output, "nbds+unix://") ||
    STRPREFIX (output, "nbd+vsock://") || STRPREFIX (output, "nbds+vsock://");
}

struct buffer {
  char *data;
  unsigned refs;                /* writes in flight from this buffer */
};

struct copy {
  struct nbd_handle *h;
  const char *output;           /* for messages */
  bool local_server;            /* a qemu-nbd of ours, for messages */
  int fd;                       /* the working file */
  const char *working;
  uint64_t size;
  uint64_t block;               /* what is written or skipped as a whole */
  bool zero_unwritten;          /* URI: zero what is not written */
  bool zero_probed;             /* fast zero tried once */
  uint32_t zero_flags;          /* FAST_ZERO while the server does it */
  bool can_zero;
  unsigned in_flight;
  int err;                      /* first error of a completed command */
  uint64_t err_offset;
  const char *err_what;
  uint64_t zero_start, zero_end; /* pending zero range (coalesced) */
  struct buffer bufs[NR_BUFFERS];
  unsigned next_buf;            /* used round-robin */
  uint64_t bytes_written, bytes_zeroed;
};

struct request {
  struct copy *c;
  struct buffer *buf;           /* NULL for zero requests */
  uint64_t offset;
  const char *what;
};

static int
request_done (void *user_data, int *error)
{
  struct request *r = user_data;
  struct copy *c = r->c;

  if (*error && c->err == 0) {
    c->err = *error;
    c->err_offset = r->offset;
    c->err_what = r->what;
  }
  if (r->buf)
    r->buf->refs--;
  c->in_flight--;
  return 1;
}

/* What a lost connection means when mkvmimg started the server. */
static const char *
lost_server (const struct copy *c, int err)
{
  if (c->local_server &&
      (err == ENOTCONN || err == ESHUTDOWN || err == EPIPE ||
       err == ECONNRESET))
    return " (qemu-nbd exited or was killed)";
  return "";
}

/* Report the first failed completion, if any.  -1 if there was one. */
static int
check_completions (struct copy *c)
{
  if (c->err == 0)
    return 0;
  error ("%s: %s at offset %" PRIu64 ": %s%s", c->output, c->err_what,
         c->err_offset, strerror (c->err), lost_server (c, c->err));
  return -1;
}

/* Run the connection until fewer than max commands are in flight (and,
 * with buf, until that buffer is free).
 */
static int
wait_for (struct copy *c, unsigned max, struct buffer *buf)
{
  while (c->in_flight > 0 && (c->in_flight >= max || (buf && buf->refs))) {
    if (nbd_poll (c->h, -1) == -1) {
      /* A failed completion says more than "connection closed". */
      if (check_completions (c) == 0)
        error ("%s: %s%s", c->output, nbd_get_error (),
               lost_server (c, nbd_get_errno ()));
      return -1;
    }
    if (check_completions (c) == -1)
      return -1;
  }
  return check_completions (c);
}

static int
issue_write (struct copy *c, struct buffer *buf, const char *data,
             size_t len, uint64_t offset)
{
  struct request *r;

  if (wait_for (c, MAX_IN_FLIGHT, NULL) == -1)
    return -1;
  r = xmalloc (sizeof *r);
  *r = (struct request) { .c = c, .buf = buf, .offset = offset,
                          .what = "write" };
  if (buf)
    buf->refs++;
  c->in_flight++;
  if (nbd_aio_pwrite (c->h, data, len, offset,
                      (nbd_completion_callback) {
                        .callback = request_done, .user_data = r,
                        .free = free }, 0) == -1) {
    /* The completion callback is not called, only free. */
    if (buf)
      buf->refs--;
    c->in_flight--;
    error ("%s: write at offset %" PRIu64 ": %s%s", c->output,
           offset, nbd_get_error (), lost_server (c, nbd_get_errno ()));
    return -1;
  }
  c->bytes_written += len;
  return 0;
}

/* Zero [offset, offset+len) on the export. */
static int
issue_zero (struct copy *c, uint64_t offset, uint64_t len)
{
  static const char zeros[CHUNK];

  c->bytes_zeroed += len;
  if (!c->can_zero) {
    /* No write-zeroes: write zero buffers (static, never freed). */
    while (len > 0) {
      size_t n = len > CHUNK ? CHUNK : len;
      if (issue_write (c, NULL, zeros, n, offset) == -1)
        return -1;
      offset += n;
      len -= n;
    }
    return 0;
  }

  /* Find out once, synchronously, whether the server zeroes fast. */
  if (!c->zero_probed) {
    uint64_t n = len > MAX_ZERO ? MAX_ZERO : len;
    c->zero_probed = true;
    if (c->zero_flags) {
      if (nbd_zero (c->h, n, offset, c->zero_flags) == 0) {
        offset += n;
        len -= n;
      }
      else if (nbd_get_errno () == ENOTSUP) {
        debug ("%s: no fast zero, using plain zero requests", c->output);
        c->zero_flags = 0;
      }
      else {
        error ("%s: zero at offset %" PRIu64 ": %s%s", c->output,
               offset, nbd_get_error (), lost_server (c, nbd_get_errno ()));
        return -1;
      }
    }
  }

  while (len > 0) {
    uint64_t n = len > MAX_ZERO ? MAX_ZERO : len;
    struct request *r;

    if (wait_for (c, MAX_IN_FLIGHT, NULL) == -1)
      return -1;
    r = xmalloc (sizeof *r);
    *r = (struct request) { .c = c, .offset = offset, .what = "zero" };
    c->in_flight++;
    if (nbd_aio_zero (c->h, n, offset,
                      (nbd_completion_callback) {
                        .callback = request_done, .user_data = r,
                        .free = free }, c->zero_flags) == -1) {
      c->in_flight--;
      error ("%s: zero at offset %" PRIu64 ": %s%s", c->output,
             offset, nbd_get_error (), lost_server (c, nbd_get_errno ()));
      return -1;
    }
    offset += n;
    len -= n;
  }
  return 0;
}

/* Zero ranges are collected and sent when they stop being contiguous. */
static int
flush_zero (struct copy *c)
{
  uint64_t start = c->zero_start, end = c->zero_end;

  c->zero_start = c->zero_end = 0;
  if (end > start)
    return issue_zero (c, start, end - start);
  return 0;
}

static int
add_zero (struct copy *c, uint64_t offset, uint64_t len)
{
  if (!c->zero_unwritten || len == 0)
    return 0;
  if (c->zero_end > c->zero_start && c->zero_end == offset) {
    c->zero_end += len;
    return 0;
  }
  if (flush_zero (c) == -1)
    return -1;
  c->zero_start = offset;
  c->zero_end = offset + len;
  return 0;
}

static bool
is_zero (const char *p, size_t len)
{
  /* Check a few bytes by hand, then compare the buffer with itself
   * shifted: memcmp is vectorised, a byte loop is not.
   */
  size_t head = len < 16 ? len : 16;

  for (size_t i = 0; i < head; ++i)
    if (p[i])
      return false;
  return len <= 16 || memcmp (p, p + 16, len - 16) == 0;
}

/* Copy [offset, end) of the working file, which holds data. */
static int
copy_data (struct copy *c, uint64_t offset, uint64_t end)
{
  while (offset < end) {
    struct buffer *buf = &c->bufs[c->next_buf++ % NR_BUFFERS];
    /* Chunks end on CHUNK boundaries so that they stay aligned. */
    uint64_t chunk_end = (offset / CHUNK + 1) * CHUNK;
    size_t len = (chunk_end < end ? chunk_end : end) - offset;
    size_t done = 0;

    if (wait_for (c, MAX_IN_FLIGHT, buf) == -1)
      return -1;
    while (done < len) {
      ssize_t r = pread (c->fd, buf->data + done, len - done, offset + done);
      if (r == -1 && errno == EINTR)
        continue;
      if (r <= 0) {
        if (r == 0)
          errno = EIO;          /* the file shrank under us */
        error_errno ("read %s at offset %" PRIu64, c->working,
                     offset + done);
        return -1;
      }
      done += r;
    }

    /* Runs of non-zero blocks are written, runs of zero blocks not. */
    size_t pos = 0;
    while (pos < len) {
      size_t run = pos;
      bool zero;
      /* Block boundaries are multiples of c->block on the disk. */
      size_t bend = (offset + pos) / c->block * c->block + c->block - offset;
      if (bend > len)
        bend = len;
      zero = is_zero (buf->data + pos, bend - pos);
      run = bend;
      while (run < len) {
        size_t n = len - run < c->block ? len - run : c->block;
        if (is_zero (buf->data + run, n) != zero)
          break;
        run += n;
      }
      if (zero) {
        if (add_zero (c, offset + pos, run - pos) == -1)
          return -1;
      }
      else if (issue_write (c, buf, buf->data + pos, run - pos,
                            offset + pos) == -1)
        return -1;
      pos = run;
    }
    offset += len;
  }
  return 0;
}

static int
copy_all (struct copy *c)
{
  uint64_t pos = 0;

  while (pos < c->size) {
    off_t data, hole, start;

    data = lseek (c->fd, pos, SEEK_DATA);
    if (data == -1) {
      if (errno == ENXIO)
        data = c->size;         /* only a hole is left */
      else if (errno == EINVAL)
        data = pos;             /* no SEEK_DATA here: all data */
      else {
        error_errno ("%s: SEEK_DATA", c->working);
        return -1;
      }
    }
    if ((uint64_t) data > c->size)
      data = c->size;
    /* Whole blocks (pos is on a block boundary): the part of a block
     * that lies in the hole is copied as the zeros it reads as, and
     * never also zeroed.
     */
    start = (uint64_t) data < c->size
      ? (off_t) ((uint64_t) data / c->block * c->block) : data;
    if (add_zero (c, pos, start - pos) == -1)
      return -1;
    if ((uint64_t) data >= c->size)
      break;
    hole = lseek (c->fd, data, SEEK_HOLE);
    if (hole == -1) {
      if (errno != EINVAL) {
        error_errno ("%s: SEEK_HOLE", c->working);
        return -1;
      }
      hole = c->size;
    }
    hole = (hole + c->block - 1) / c->block * c->block;
    if ((uint64_t) hole > c->size)
      hole = c->size;
    if (copy_data (c, start, hole) == -1)
      return -1;
    pos = hole;
    progress ("writing", pos, c->size);
  }
  progress_end ();
  if (flush_zero (c) == -1 || wait_for (c, 1, NULL) == -1)
    return -1;

  if (nbd_can_flush (c->h) > 0 && nbd_flush (c->h, 0) == -1) {
    error ("%s: flush: %s%s", c->output, nbd_get_error (),
           lost_server (c, nbd_get_errno ()));
    return -1;
  }
  debug ("%s: %" PRIu64 " bytes written, %" PRIu64 " bytes zeroed",
         c->output, c->bytes_written, c->bytes_zeroed);
  return 0;
}


#define MAX_CHILDREN_SEEN 64

/* libnbd's socket directory (under /tmp) is removed by nbd_close;
 * registered so that a signal before that removes it too.
 */
static void
register_socket_dir (struct nbd_handle *h)
{
  struct sockaddr_un addr;
  socklen_t len = sizeof addr;
  int fd = nbd_aio_get_fd (h);
  char *slash;

  memset (&addr, 0, sizeof addr);
  if (fd == -1 || getpeername (fd, (struct sockaddr *) &addr, &len) == -1 ||
      addr.sun_family != AF_UNIX || addr.sun_path[0] != '/')
    return;
  addr.sun_path[sizeof addr.sun_path - 1] = '\0';
  debug ("libnbd's socket is %s", addr.sun_path);
  temp_foreign_register (addr.sun_path);
  slash = strrchr (addr.sun_path, '/');
  if (slash && slash != addr.sun_path) {
    *slash = '\0';
    temp_foreign_register (addr.sun_path);
  }
}

/* qemu-nbd allocates a buffer for every request and frees it again; by
 * default glibc serves a 2 MiB buffer with a fresh mmap (or trims it
 * back off the heap), so each request page-faults its memory in anew.
 * That fault work capped the copy at about 300 MB/s (2.7 s for a
 * 760 MB Debian root, 0.7 s with these limits).  The child inherits the
 * environment of the moment it is forked, so the tunables are set only
 * around the connect; a GLIBC_TUNABLES of the user's comes first.
 */
#define QEMU_NBD_MALLOC_TUNABLES \
  "glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432"

static char *
tune_server_malloc (void)
{
  const char *user = getenv ("GLIBC_TUNABLES");
  char *saved = user ? xstrdup (user) : NULL;
  CLEANUP_FREE char *value =
    user && *user ? xasprintf ("%s:%s", user, QEMU_NBD_MALLOC_TUNABLES)
                  : xstrdup (QEMU_NBD_MALLOC_TUNABLES);

  if (setenv ("GLIBC_TUNABLES", value, 1) == -1)
    debug ("setenv GLIBC_TUNABLES: %m");
  return saved;
}

static void
restore_malloc_tunables (char *saved)
{
  if (saved)
    setenv ("GLIBC_TUNABLES", saved, 1);
  else
    unsetenv ("GLIBC_TUNABLES");
  free (saved);
}

int
nbd_start_qemu_nbd (struct nbd_handle *h, char **argv, pid_t *pid_rtn)
{
  pid_t before[MAX_CHILDREN_SEEN], after[MAX_CHILDREN_SEEN];
  size_t nbefore, nafter;
  char *saved_tunables;
  int r;

  *pid_rtn = 0;
  /* No signal between the fork and the registration (this does not
   * block: the connect is to a socket already listening).
   */
  signals_defer ();
  nbefore = child_list_pids (before, MAX_CHILDREN_SEEN);
  saved_tunables = tune_server_malloc ();
  r = nbd_aio_connect_systemd_socket_activation (h, argv);
  restore_malloc_tunables (saved_tunables);
  nafter = child_list_pids (after, MAX_CHILDREN_SEEN);
  for (size_t i = 0; i < nafter; ++i) {
    bool old = false;
    for (size_t j = 0; j < nbefore; ++j)
      if (before[j] == after[i])
        old = true;
    if (!old && *pid_rtn == 0) {
      *pid_rtn = after[i];
      child_register (after[i]);
    }
  }
  if (r == 0)
    register_socket_dir (h);
  signals_undefer ();
  if (*pid_rtn)
    debug ("qemu-nbd is pid %d", (int) *pid_rtn);
  /* The handshake waits for qemu-nbd: a signal may come now. */
  while (r == 0 && nbd_aio_is_connecting (h) > 0)
    r = nbd_poll (h, -1) == -1 ? -1 : 0;
  /* Not ready: the server went away during the handshake. */
  if (r == 0 && nbd_aio_is_ready (h) <= 0)
    r = -1;
  return r;
}

/* Connect to a new qemu-nbd serving path.  Its pid is registered so
 * that it is killed on any exit; *pid_rtn is set to it (or 0 if it
 * could not be found).
 */
static struct nbd_handle *
connect_local (const char *path, const char *format, const char *output,
               pid_t *pid_rtn)
{
  struct nbd_handle *h;
  char *argv[] = {
    "qemu-nbd", "-f", (char *) format,
    /* Flushes reach qemu's page cache only; atomic_output_commit
     * fsyncs the file once at the end.
     */
    "--cache=unsafe",
    (char *) path, NULL
  };

  *pid_rtn = 0;
  h = nbd_create ();
  if (!h) {
    error ("%s: %s", output, nbd_get_error ());
    return NULL;
  }
  if (verbose)
    nbd_set_debug (h, true);
  if (verbose) {
    CLEANUP_FREE char *q = shell_quote (path);
    debug ("running (socket activation): qemu-nbd -f %s --cache=unsafe %s",
           format, q);
  }
  if (nbd_start_qemu_nbd (h, argv, pid_rtn) == -1) {
    const char *msg = nbd_get_error ();
    error ("%s: start qemu-nbd: %s", output,
           msg ? msg : "the server closed the connection");
    if (*pid_rtn)
      nbd_kill_subprocess (h, SIGTERM);
    nbd_close (h);
    if (*pid_rtn)
      child_unregister (*pid_rtn);
    temp_foreign_forget ();
    *pid_rtn = 0;
    return NULL;
  }
  return h;
}

/* Close the handle; libnbd reaps its qemu-nbd, which is forgotten then.
 * With failed, the server is killed first: the output is discarded.
 */
static void
close_handle (struct nbd_handle *h, pid_t pid, bool failed)
{
  if (!h)
    return;
  if (failed)
    nbd_kill_subprocess (h, SIGTERM);
  else
    nbd_shutdown (h, 0);
  nbd_close (h);
  if (pid > 0)
    child_unregister (pid);
  temp_foreign_forget ();
}

static int
copy_init (struct copy *c, const char *working, const char *output)
{
  struct stat st;

  memset (c, 0, sizeof *c);
  c->working = working;
  c->output = output;
  c->fd = open (working, O_RDONLY | O_CLOEXEC);
  if (c->fd == -1) {
    error_errno ("open %s", working);
    return -1;
  }
  if (fstat (c->fd, &st) == -1) {
    error_errno ("stat %s", working);
    close (c->fd);
    return -1;
  }
  c->size = st.st_size;
  c->block = ZERO_BLOCK;
  for (size_t i = 0; i < NR_BUFFERS; ++i)
    c->bufs[i].data = xmalloc (CHUNK);
  return 0;
}

static void
copy_free (struct copy *c)
{
  for (size_t i = 0; i < NR_BUFFERS; ++i)
    free (c->bufs[i].data);
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
}

static int
check_export_size (struct copy *c)
{
  int64_t size = nbd_get_size (c->h);

  if (size == -1) {
    error ("%s: %s", c->output, nbd_get_error ());
    return -1;
  }
  if ((uint64_t) size < c->size) {
    error ("%s: the export is %" PRIi64 " bytes, smaller than the %" PRIu64
           "-byte disk image", c->output, size, c->size);
    return -1;
  }
  if (nbd_is_read_only (c->h) > 0) {
    error ("%s: the export is read-only", c->output);
    return -1;
  }
  return 0;
}

static int
write_uri (struct copy *c, const char *uri)
{
  int r = -1;

  c->h = nbd_create ();
  if (!c->h) {
    error ("%s: %s", uri, nbd_get_error ());
    return -1;
  }
  if (verbose)
    nbd_set_debug (c->h, true);
  if (nbd_connect_uri (c->h, uri) == -1) {
    error ("%s: %s", uri, nbd_get_error ());
    goto out;
  }
  if (check_export_size (c) == -1)
    goto out;
  c->zero_unwritten = true;
  c->can_zero = nbd_can_zero (c->h) > 0;
  c->zero_flags = nbd_can_fast_zero (c->h) > 0 ? LIBNBD_CMD_FLAG_FAST_ZERO : 0;
  if (copy_all (c) == -1)
    goto out;
  if (nbd_shutdown (c->h, 0) == -1) {
    error ("%s: disconnect: %s", uri, nbd_get_error ());
    goto out;
  }
  r = 0;
 out:
  nbd_close (c->h);
  c->h = NULL;
  return r;
}

/* Write the image under a temporary name beside output: *out is left
 * begun, for the caller to commit (or abort) it.
 */
static int
write_local (struct copy *c, const char *output, const char *format,
             bool force, struct atomic_output *out)
{
  CLEANUP_FREE char *path = NULL;
  CLEANUP_FREE char *size = NULL;
  pid_t pid = 0;
  bool failed = true;

  if (!format)
    format = "qcow2";
  if (!STREQ (format, "qcow2") && !STREQ (format, "raw")) {
    error ("%s: unknown output format '%s' (qcow2 or raw)", output, format);
    return -1;
  }
  if (atomic_output_begin (out, output, force) == -1)
    return -1;
  /* qemu reads "word:" at the start of a name as a protocol. */
  path = out->tmp[0] == '/' || STRPREFIX (out->tmp, "./")
    ? xstrdup (out->tmp) : xasprintf ("./%s", out->tmp);
  size = xasprintf ("%" PRIu64, c->size);
  {
    const char *qcow2_argv[] = {
      "qemu-img", "create", "-q", "-f", "qcow2",
      "-o", "cluster_size=65536,lazy_refcounts=off", path, size, NULL
    };
    const char *raw_argv[] = {
      "qemu-img", "create", "-q", "-f", "raw", path, size, NULL
    };
    if (child_run (STREQ (format, "qcow2") ? qcow2_argv : raw_argv,
                   NULL) == -1) {
      error ("%s: could not create the %s image", output, format);
      goto out;
    }
  }

  /* A qcow2 cluster written in part is first zeroed by qemu (and
   * allocated with fallocate, serialised on the file's lock): whole
   * clusters keep every write a plain one.  The image is as sparse,
   * since a cluster is allocated whole anyway.
   */
  if (STREQ (format, "qcow2"))
    c->block = QCOW2_CLUSTER;
  c->local_server = true;
  c->h = connect_local (path, format, output, &pid);
  if (!c->h)
    goto out;
  if (check_export_size (c) == -1)
    goto out;
  if (copy_all (c) == -1)
    goto out;
  failed = false;

 out:
  close_handle (c->h, pid, failed);
  c->h = NULL;
  if (failed) {
    atomic_output_abort (out);
    return -1;
  }
  return 0;
}

int
nbd_output_write_staged (const char *working, const char *output,
                         const char *format, bool force,
                         struct atomic_output *staged)
{
  struct copy c;
  int r;

  memset (staged, 0, sizeof *staged);
  if (copy_init (&c, working, output) == -1)
    return -1;
  if (nbd_output_is_uri (output))
    r = write_uri (&c, output);
  else
    r = write_local (&c, output, format, force, staged);
  copy_free (&c);
  return r;
}

int
nbd_output_write (const char *working, const char *output,
                  const char *format, bool force)
{
  struct atomic_output out;

  if (nbd_output_write_staged (working, output, format, force, &out) == -1)
    return -1;
  if (out.tmp && atomic_output_commit (&out, 0644) == -1) {
    atomic_output_abort (&out);
    return -1;
  }
  return 0;
}
