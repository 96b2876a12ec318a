/* The machine description: write/read round trip, relative paths,
 * errors with file:line, sizes; networks ([nic NAME], net, forward,
 * mac), display keys, machine_set, stable MACs.
 */
#include <config.h>

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "machine.h"
#include "net.h"
#include "tempfiles.h"

static int failures;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                       \
    }                                                                   \
  } while (0)

#define CHECK_STR(a, b)                                                 \
  do {                                                                  \
    const char *a_ = (a), *b_ = (b);                                    \
    if (!a_ || !b_ || strcmp (a_, b_) != 0) {                           \
      fprintf (stderr, "%s:%d: FAIL: %s is '%s', expected '%s'\n",      \
               __FILE__, __LINE__, #a, a_ ? a_ : "(null)",              \
               b_ ? b_ : "(null)");                                     \
      failures++;                                                       \
    }                                                                   \
  } while (0)

static const char *dir;

static char *
write_file (const char *name, const char *text)
{
  char *path = xasprintf ("%s/%s", dir, name);
  FILE *fp = fopen (path, "w");
  if (!fp || fputs (text, fp) == EOF || fclose (fp) != 0) {
    perror (path);
    exit (1);
  }
  return path;
}

/* machine_read on text, with stderr captured into *err_rtn. */
static struct machine *
read_text (const char *name, const char *text, char **err_rtn)
{
  CLEANUP_FREE char *path = write_file (name, text);
  CLEANUP_FREE char *errpath = xasprintf ("%s/stderr", dir);
  struct machine *m;
  int saved, fd;

  fflush (stderr);
  saved = dup (2);
  fd = open (errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2 (fd, 2);
  close (fd);
  m = machine_read (path);
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
  *err_rtn = read_whole_file (errpath, NULL);
  return m;
}

static void
test_sizes (void)
{
  const struct { uint64_t n; const char *s; } t[] = {
    { 1ULL << 30, "1G" }, { 512ULL << 20, "512M" }, { 1536ULL << 20, "1536M" },
    { 4ULL << 40, "4T" }, { 64 << 10, "64K" }, { 1000, "1000" },
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i) {
    CLEANUP_FREE char *s = machine_size_string (t[i].n);
    unsigned long long back;
    CHECK_STR (s, t[i].s);
    CHECK (parse_size (s, &back) == 0 && back == t[i].n);
  }
}

static void
test_defaults (void)
{
  CLEANUP_MACHINE struct machine *m = machine_new_default ();

  CHECK_STR (m->arch, "x86_64");
  CHECK_STR (m->qemu, "qemu-system-x86_64");
  CHECK_STR (m->type, "q35");
  CHECK (m->memory == 1ULL << 30);
  CHECK (m->cpus == 2);
  CHECK_STR (m->firmware, "bios");
  CHECK_STR (m->disk, "virtio");
  CHECK_STR (m->nic, "virtio");
  CHECK_STR (m->console, "ttyS0");
  CHECK (m->kernel == NULL && m->ndevices == 0);
}

/* Write a machine with everything set, read it back, compare; the
 * kernel inside the directory is written relative, the initrd outside
 * stays absolute.
 */
static void
test_round_trip (void)
{
  CLEANUP_MACHINE struct machine *m = machine_new_default ();
  CLEANUP_MACHINE struct machine *r = NULL;
  CLEANUP_FREE char *path = xasprintf ("%s/img.qcow2.machine", dir);
  CLEANUP_FREE char *kernel = NULL;
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE char *realdir = realpath (dir, NULL);
  char *const props[] = { (char *) "dma_mask=0xffffffff",
                          (char *) "note=a,b c", NULL };

  kernel = xasprintf ("%s/img.qcow2.vmlinuz", realdir);
  free (write_file ("img.qcow2.vmlinuz", "not a kernel"));
  free (m->firmware);
  m->firmware = xstrdup ("direct");
  m->kernel = xstrdup (kernel);
  m->initrd = xstrdup ("/boot/initrd.img-somewhere");
  m->cmdline = xstrdup ("root=UUID=1234 ro console=ttyS0 quiet");
  m->memory = 1536ULL << 20;
  m->cpus = 4;
  free (m->disk);
  m->disk = xstrdup ("nvme");
  m->disk_format = xstrdup ("raw");
  free (m->nic);
  m->nic = xstrdup ("e1000");
  machine_add_device (m, "edu0", "edu", props);
  machine_add_device (m, "rng", "virtio-rng-pci", NULL);

  CHECK (machine_write (m, path) == 0);
  text = read_whole_file (path, NULL);
  CHECK (text && strstr (text, "\nkernel = img.qcow2.vmlinuz\n"));
  CHECK (text && strstr (text, "\ninitrd = /boot/initrd.img-somewhere\n"));
  CHECK (text && strstr (text, "\nmemory = 1536M\n"));
  CHECK (text && strstr (text, "\n[device edu0]\ntype = edu\n"
                         "dma_mask = 0xffffffff\nnote = a,b c\n"));

  r = machine_read (path);
  CHECK (r != NULL);
  if (!r)
    return;
  CHECK_STR (r->arch, m->arch);
  CHECK_STR (r->qemu, m->qemu);
  CHECK_STR (r->type, m->type);
  CHECK (r->memory == m->memory);
  CHECK (r->cpus == 4);
  CHECK_STR (r->firmware, "direct");
  CHECK_STR (r->kernel, kernel);
  CHECK_STR (r->initrd, "/boot/initrd.img-somewhere");
  CHECK_STR (r->cmdline, m->cmdline);
  CHECK_STR (r->disk, "nvme");
  CHECK_STR (r->disk_format, "raw");
  CHECK_STR (r->nic, "e1000");
  CHECK_STR (r->console, "ttyS0");
  CHECK (r->ovmf_code == NULL && r->ovmf_vars == NULL);
  CHECK (r->ndevices == 2);
  if (r->ndevices == 2) {
    CHECK_STR (r->devices[0].name, "edu0");
    CHECK_STR (r->devices[0].type, "edu");
    CHECK_STR (r->devices[0].props[0], "dma_mask=0xffffffff");
    CHECK_STR (r->devices[0].props[1], "note=a,b c");
    CHECK (r->devices[0].props[2] == NULL);
    CHECK_STR (r->devices[1].name, "rng");
    CHECK_STR (r->devices[1].type, "virtio-rng-pci");
    CHECK (r->devices[1].props[0] == NULL);
  }

  /* Written again, the same text. */
  {
    CLEANUP_FREE char *path2 = xasprintf ("%s/img.qcow2.machine2", dir);
    CLEANUP_FREE char *text2 = NULL;
    CHECK (machine_write (r, path2) == 0);
    text2 = read_whole_file (path2, NULL);
    CHECK (text && text2 && STREQ (text, text2));
  }
}

/* A hand-written file: comments, blank lines, spacing, relative paths
 * resolved against the file's directory (not the current directory).
 */
static void
test_relative (void)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE char *sub = xasprintf ("%s/sub", dir);
  CLEANUP_FREE char *realdir = realpath (dir, NULL);
  CLEANUP_FREE char *want_k = xasprintf ("%s/sub/vmlinuz", realdir);
  CLEANUP_FREE char *want_i = xasprintf ("%s/sub/../initrd.gz", realdir);
  CLEANUP_MACHINE struct machine *m = NULL;

  mkdir (sub, 0755);
  m = read_text ("sub/direct.machine",
                 "# a comment\n"
                 "\n"
                 "  [ machine ]  \n"
                 "firmware=direct\n"
                 "   kernel   =   vmlinuz  \n"
                 "initrd = ../initrd.gz\n"
                 "cmdline = console=ttyS0 panic=-1 a=b=c\n"
                 "disk = none\n"
                 "memory = 512MiB\n"
                 "  # indented comment\n", &err);
  CHECK (m != NULL);
  if (!m) {
    fprintf (stderr, "%s", err);
    return;
  }
  CHECK_STR (m->kernel, want_k);
  CHECK_STR (m->initrd, want_i);
  CHECK_STR (m->cmdline, "console=ttyS0 panic=-1 a=b=c");
  CHECK_STR (m->disk, "none");
  CHECK (m->memory == 512ULL << 20);
  CHECK_STR (err, "");
}

struct bad {
  const char *text;
  const char *message;          /* expected on stderr, after "FILE:" */
};

static void
test_errors (void)
{
  const struct bad t[] = {
    { "[machine]\narch = x86_64\n\nfoo = bar\n",
      "4: unknown key 'foo' in [machine]" },
    { "# c\n[machine]\nmemory = lots\n",
      "3: memory = lots: expected a size" },
    { "[machine]\ncpus = 0\n", "2: cpus = 0: expected a number" },
    { "[machine]\nfirmware = coreboot\n",
      "2: firmware = coreboot: expected one of bios, uefi, direct" },
    { "[machine]\ndisk = floppy\n", "2: disk = floppy: expected one of" },
    { "[machine]\nnic = rtl8139\n", "2: nic = rtl8139: expected one of" },
    { "[machine]\ndisk-format = vmdk\n", "2: disk-format = vmdk" },
    { "[machine]\ncpus = 2\ncpus = 3\n", "3: 'cpus' is set twice" },
    { "arch = x86_64\n", "1: 'arch' is outside any section" },
    { "[machin]\n", "1: unknown section [machin]" },
    { "[machine]\njust words\n", "2: expected 'key = value'" },
    { "[machine]\n[device edu0]\nid = x\n\n[machine]\n",
      "2: [device edu0] has no 'type'" },
    { "[device a]\ntype = edu\n[device a]\ntype = edu\n",
      "3: [device a] appears twice" },
    { "[machine]\nfirmware = direct\n", " firmware = direct needs a kernel" },
    { "[machine]\nnet = bridge\n", "2: net = bridge: expected user, vde:" },
    { "[machine]\nnet = tap:a/b\n", "2: net = tap:a/b: expected" },
    { "[machine]\nmac = 52:54:00:1:2:3\n", "2: mac = 52:54:00:1:2:3: expected" },
    { "[machine]\nmac = 01:00:5e:00:00:01\n", "2: mac = 01:00:5e:00:00:01: exp" },
    { "[machine]\nforward = tcp:22\n", "2: forward = tcp:22: not a forward" },
    { "[machine]\ndisplay = sdl\n", "2: display = sdl: expected one of none, vnc, spice" },
    { "[machine]\ninsecure = maybe\n", "2: insecure = maybe: expected one of yes, no" },
    { "[nic a]\nmodel = rtl8139\n", "2: model = rtl8139: expected one of virtio, e1000" },
    { "[nic a]\ncolour = red\n", "2: unknown key 'colour' in [nic a]" },
    { "[nic a]\nnet = user\nnet = user\n", "3: 'net' is set twice in [nic a]" },
    { "[nic a]\n[nic a]\n", "2: [nic a] appears twice" },
    { "[nic net0]\n", "1: [nic net0]: the name may only" },
  };

  for (size_t i = 0; i < sizeof t / sizeof t[0]; ++i) {
    CLEANUP_FREE char *err = NULL;
    CLEANUP_FREE char *name = xasprintf ("bad%zu.machine", i);
    CLEANUP_FREE char *want = xasprintf ("mkvmimg: %s/%s:%s", dir, name,
                                         t[i].message);
    struct machine *m = read_text (name, t[i].text, &err);

    CHECK (m == NULL);
    machine_free (m);
    if (!err || !STRPREFIX (err, want)) {
      fprintf (stderr, "FAIL: case %zu: stderr is '%s', expected '%s...'\n",
               i, err ? err : "(null)", want);
      failures++;
    }
  }
}

static void
test_network (void)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE char *err2 = NULL;
  CLEANUP_FREE char *out = xasprintf ("%s/net-copy.machine", dir);
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE struct machine_nic *nics = NULL;
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_MACHINE struct machine *m2 = NULL;
  CLEANUP_FREE char *mac_a = net_mac ("web1", 0);
  CLEANUP_FREE char *mac_b = net_mac ("web1", 1);
  CLEANUP_FREE char *mac_c = net_mac ("web2", 0);
  CLEANUP_FREE char *mac_a2 = net_mac ("web1", 0);
  size_t n;

  m = read_text ("net.machine",
                 "[machine]\n"
                 "name = web1\n"
                 "nic = e1000\n"
                 "net = user\n"
                 "forward = tcp:2222:22  udp:5353:53\n"
                 "mac = 52:54:00:12:34:57\n"
                 "display = spice\n"
                 "listen = unix\n"
                 "insecure = yes\n"
                 "vmlinux = linux/vmlinux\n"
                 "\n[nic lan2]\n"
                 "net = vde:lab\n"
                 "\n[nic lan3]\n"
                 "model = e1000\n"
                 "net = tap:tap7\n"
                 "mac = 52:54:00:aa:bb:cc\n", &err);
  CHECK (m != NULL);
  if (!m) {
    fprintf (stderr, "%s", err);
    return;
  }
  CHECK_STR (err, "");
  CHECK_STR (m->name, "web1");
  CHECK_STR (m->display, "spice");
  CHECK_STR (m->listen, "unix");
  CHECK (m->insecure);
  CHECK (m->vmlinux && m->vmlinux[0] == '/' &&
         strstr (m->vmlinux, "/linux/vmlinux"));
  nics = machine_nics (m, &n);
  CHECK (n == 3);
  if (n == 3) {
    CHECK_STR (nics[0].name, "net0");
    CHECK_STR (nics[0].model, "e1000");
    CHECK_STR (nics[0].net, "user");
    CHECK_STR (nics[0].mac, "52:54:00:12:34:57");
    CHECK (nics[0].forwards && nics[0].forwards[1] && !nics[0].forwards[2]);
    if (nics[0].forwards && nics[0].forwards[1]) {
      CHECK_STR (nics[0].forwards[0], "tcp:2222:22");
      CHECK_STR (nics[0].forwards[1], "udp:5353:53");
    }
    CHECK_STR (nics[1].name, "lan2");
    CHECK_STR (nics[1].model, "virtio");
    CHECK_STR (nics[1].net, "vde:lab");
    CHECK (nics[1].mac == NULL);
    CHECK_STR (nics[2].net, "tap:tap7");
    CHECK_STR (nics[2].mac, "52:54:00:aa:bb:cc");
  }

  /* Round trip: the same machine back. */
  CHECK (machine_write (m, out) == 0);
  text = read_whole_file (out, NULL);
  CHECK (text && strstr (text, "\nforward = tcp:2222:22 udp:5353:53\n"));
  CHECK (text && strstr (text, "\n[nic lan2]\nmodel = virtio\nnet = vde:lab\n"));
  m2 = read_text ("net-copy.machine", text ? text : "", &err2);
  CHECK (m2 != NULL);
  if (m2) {
    CLEANUP_FREE struct machine_nic *nics2 = machine_nics (m2, &n);
    CHECK (n == 3);
    CHECK_STR (m2->name, "web1");
    CHECK_STR (m2->display, "spice");
    CHECK (m2->insecure);
    CHECK_STR (m2->vmlinux, m->vmlinux);
    if (n == 3) {
      CHECK_STR (nics2[2].mac, "52:54:00:aa:bb:cc");
      CHECK_STR (nics2[0].forwards[1], "udp:5353:53");
    }
  }

  /* machine_set: as the file, errors name the origin. */
  CHECK (machine_set (m, "--set x", "net", "vde:/run/sw") == 0);
  CHECK_STR (m->net, "vde:/run/sw");
  CHECK (machine_set (m, "--set x", "display", "none") == 0);
  CHECK_STR (m->display, "none");

  /* Stable MACs: same input, same MAC; 52:54:00; differ per NIC and VM. */
  CHECK_STR (mac_a, mac_a2);
  CHECK (STRPREFIX (mac_a, "52:54:00:") && strlen (mac_a) == 17);
  CHECK (!STREQ (mac_a, mac_b));
  CHECK (!STREQ (mac_a, mac_c));
}

static void
test_ovmf (void)
{
  const char *code = machine_find_ovmf_code ();
  const char *vars = machine_find_ovmf_vars ();

  /* Debian 12's ovmf package is installed on every test machine. */
  CHECK (code && access (code, R_OK) == 0 && strstr (code, "OVMF_CODE"));
  CHECK (vars && access (vars, R_OK) == 0 && strstr (vars, "OVMF_VARS"));
}

int
main (void)
{
  setenv ("TMPDIR", "/tmp", 0);
  cleanup_install_handlers ();
  dir = tmpdir_get ();
  if (!dir)
    exit (1);

  test_sizes ();
  test_defaults ();
  test_round_trip ();
  test_relative ();
  test_errors ();
  test_network ();
  test_ovmf ();

  cleanup_run ();
  if (failures) {
    fprintf (stderr, "%d failure(s)\n", failures);
    exit (1);
  }
  printf ("test-machine: all passed\n");
  exit (0);
}
