/* The QEMU command line for a machine, and a QMP "quit". */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "mkvmimg.h"
#include "arch.h"
#include "machine.h"
#include "net.h"
#include "display.h"
#include "qemu.h"
#include "tempfiles.h"

static const char *probe_format (const char *image);

bool
qemu_kvm_usable (const struct machine *m)
{
  const struct arch *a = arch_find (m->arch);
  int fd;

  if (!a || a != arch_host ())
    return false;
  fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return false;
  close (fd);
  return true;
}

/* A value inside a QEMU option list: ',' is written ",,". */
static char *
opt_escape (const char *value)
{
  size_t n = strlen (value) + 1;
  char *r, *p;

  for (const char *c = value; *c; ++c)
    if (*c == ',')
      n++;
  p = r = xmalloc (n);
  for (const char *c = value; *c; ++c) {
    *p++ = *c;
    if (*c == ',')
      *p++ = ',';
  }
  *p = '\0';
  return r;
}

const char *
qemu_image_format (const struct machine *m, const char *image)
{
  if (m->disk_format)
    return m->disk_format;
  return probe_format (image);
}

/* qcow2 images start with "QFI\xfb"; anything else is taken as raw. */
static const char *
probe_format (const char *image)
{
  CLEANUP_CLOSE int fd = open (image, O_RDONLY | O_CLOEXEC);
  unsigned char magic[4];
  ssize_t r;

  if (fd == -1) {
    error_errno ("open: %s", image);
    return NULL;
  }
  r = read (fd, magic, sizeof magic);
  if (r == -1) {
    error_errno ("read: %s", image);
    return NULL;
  }
  if (r == 4 && memcmp (magic, "QFI\xfb", 4) == 0)
    return "qcow2";
  return "raw";
}

/* Copy the OVMF VARS template to the working directory. */
static char *
copy_vars (const char *template)
{
  CLEANUP_FREE char *buf = NULL;
  CLEANUP_FREE char *path = NULL;
  size_t len;
  int fd;

  buf = read_whole_file (template, &len);
  if (!buf)
    return NULL;
  path = tmpdir_path ("OVMF_VARS.fd");
  if (!path)
    return NULL;
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    error_errno ("create %s", path);
    return NULL;
  }
  if (write_all (fd, buf, len) == -1) {
    error_errno ("write %s", path);
    close (fd);
    return NULL;
  }
  if (close (fd) == -1) {
    error_errno ("close %s", path);
    return NULL;
  }
  char *ret = path;
  path = NULL;
  return ret;
}

static int
add_firmware (const struct machine *m, const struct qemu_opts *opts,
              struct strv *argv)
{
  if (STREQ (m->firmware, "uefi")) {
    const struct arch *a = arch_find (m->arch);
    const char *code = m->ovmf_code ? m->ovmf_code : machine_find_fw_code (m);
    const char *vars = m->ovmf_vars ? m->ovmf_vars : machine_find_fw_vars (m);
    CLEANUP_FREE char *copy = NULL;
    CLEANUP_FREE char *code_esc = NULL;
    CLEANUP_FREE char *vars_esc = NULL;

    if (!code || !vars) {
      error ("UEFI firmware for %s: %s not found (install Debian's %s "
             "package, or set ovmf-code and ovmf-vars in the machine "
             "file)", m->arch, a ? a->fw_code[0] : "firmware",
             a ? a->fw_package : "firmware");
      return -1;
    }
    if (access (code, R_OK) == -1) {
      error_errno ("UEFI firmware: %s", code);
      return -1;
    }
    copy = copy_vars (vars);
    if (!copy)
      return -1;
    code_esc = opt_escape (code);
    vars_esc = opt_escape (copy);
    strv_add (argv, "-drive");
    strv_addf (argv, "if=pflash,format=raw,unit=0,file=%s,readonly=on",
               code_esc);
    strv_add (argv, "-drive");
    strv_addf (argv, "if=pflash,format=raw,unit=1,file=%s", vars_esc);
  }
  else if (STREQ (m->firmware, "direct")) {
    if (!m->kernel) {
      error ("direct kernel boot: the machine has no kernel");
      return -1;
    }
    strv_add (argv, "-kernel");
    strv_add (argv, m->kernel);
    if (m->initrd) {
      strv_add (argv, "-initrd");
      strv_add (argv, m->initrd);
    }
    if (m->dtb) {
      strv_add (argv, "-dtb");
      strv_add (argv, m->dtb);
    }
    strv_add (argv, "-append");
    if (m->cmdline)
      strv_add (argv, m->cmdline);
    else
      strv_addf (argv, "console=%s", m->console);
  }
  else if (!STREQ (m->firmware, "bios")) {
    error ("firmware '%s': expected bios, uefi or direct", m->firmware);
    return -1;
  }
  return 0;
}

static int
add_disk (const struct machine *m, const struct qemu_opts *opts,
          struct strv *argv)
{
  CLEANUP_FREE char *file = NULL;
  const char *format = opts->image_format ? opts->image_format
    : m->disk_format;

  if (STREQ (m->disk, "none")) {
    if (opts->image) {
      error ("%s: the machine has disk = none", opts->image);
      return -1;
    }
    return 0;
  }
  if (!opts->image) {
    error ("the machine has a %s disk but no image was given", m->disk);
    return -1;
  }
  if (!format) {
    format = probe_format (opts->image);
    if (!format)
      return -1;
  }
  file = opt_escape (opts->image);
  if (STREQ (m->disk, "sd")) {
    /* The board's own SD card controller: no -device. */
    strv_add (argv, "-drive");
    strv_addf (argv, "file=%s,format=%s,if=sd,index=0%s", file, format,
               opts->snapshot ? ",snapshot=on" : "");
    return 0;
  }
  strv_add (argv, "-drive");
  strv_addf (argv, "file=%s,format=%s,if=none,id=disk0%s", file, format,
             opts->snapshot ? ",snapshot=on" : "");
  strv_add (argv, "-device");
  if (STREQ (m->disk, "virtio"))
    strv_add (argv, "virtio-blk-pci,drive=disk0");
  else if (STREQ (m->disk, "ide"))
    strv_add (argv, "ide-hd,drive=disk0");
  else if (STREQ (m->disk, "scsi")) {
    strv_add (argv, "virtio-scsi-pci,id=scsi0");
    strv_add (argv, "-device");
    strv_add (argv, "scsi-hd,drive=disk0,bus=scsi0.0");
  }
  else if (STREQ (m->disk, "nvme"))
    strv_add (argv, "nvme,drive=disk0,serial=mkvmimg0");
  else {
    error ("disk '%s': expected virtio, ide, scsi, nvme, sd or none",
           m->disk);
    return -1;
  }
  return 0;
}

static bool
in_models (const char *model)
{
  return STREQ (model, "virtio") || STREQ (model, "e1000");
}

char *
qemu_vm_id (const struct machine *m, const char *image,
            const char *machine_path)
{
  const char *path = image ? image : machine_path;
  char *abs;

  if (m->name)
    return xstrdup (m->name);
  if (!path)
    return xstrdup ("mkvmimg");
  abs = realpath (path, NULL);
  return abs ? abs : xstrdup (path);
}

static int
add_nics (const struct machine *m, const struct qemu_opts *opts,
          struct strv *argv)
{
  CLEANUP_FREE struct machine_nic *nics = NULL;
  size_t n;

  if (!STREQ (m->nic, "none") && !in_models (m->nic)) {
    error ("nic '%s': expected virtio, e1000 or none", m->nic);
    return -1;
  }
  nics = machine_nics (m, &n);
  if (opts->forwards && opts->forwards[0]
      && (n == 0 || !STREQ (nics[0].net, "user"))) {
    error ("--forward %s: the machine's first NIC is not on user "
           "networking (%s)", opts->forwards[0],
           n == 0 ? "nic = none" : nics[0].net);
    return -1;
  }
  for (size_t i = 0; i < n; ++i) {
    const struct machine_nic *nic = &nics[i];
    CLEANUP_FREE char *netdev = NULL;
    CLEANUP_FREE char *mac = NULL;
    size_t len = 0;
    FILE *fp;

    if (!in_models (nic->model)) {
      error ("[nic %s] model '%s': expected virtio or e1000", nic->name,
             nic->model);
      return -1;
    }
    fp = open_memstream (&netdev, &len);
    if (!fp)
      abort ();
    if (STREQ (nic->net, "user")) {
      fprintf (fp, "user,id=net%zu", i);
      for (size_t j = 0; nic->forwards && nic->forwards[j]; ++j) {
        CLEANUP_FREE char *fwd = net_hostfwd ("forward", nic->forwards[j]);
        if (!fwd) {
          fclose (fp);
          return -1;
        }
        fprintf (fp, ",%s", fwd);
      }
      for (size_t j = 0; i == 0 && opts->forwards && opts->forwards[j];
           ++j) {
        CLEANUP_FREE char *fwd = net_hostfwd ("--forward", opts->forwards[j]);
        if (!fwd) {
          fclose (fp);
          return -1;
        }
        fprintf (fp, ",%s", fwd);
      }
    }
    else if (STRPREFIX (nic->net, "vde:")) {
      CLEANUP_FREE char *path = net_vde_path (nic->net, !opts->dry_run);
      CLEANUP_FREE char *esc = NULL;
      if (!path) {
        fclose (fp);
        return -1;
      }
      esc = opt_escape (path);
      fprintf (fp, "vde,id=net%zu,sock=%s", i, esc);
    }
    else if (STRPREFIX (nic->net, "tap:"))
      fprintf (fp, "tap,id=net%zu,ifname=%s,script=no,downscript=no", i,
               nic->net + 4);
    else {
      fclose (fp);
      error ("[nic %s] net = %s: expected user, vde:SWITCH or tap:NAME",
             nic->name, nic->net);
      return -1;
    }
    fclose (fp);
    if (nic->forwards && nic->forwards[0] && !STREQ (nic->net, "user")) {
      error ("nic %s: forward = %s needs net = user (not %s)", nic->name,
             nic->forwards[0], nic->net);
      return -1;
    }
    mac = nic->mac ? xstrdup (nic->mac)
      : net_mac (opts->id ? opts->id : "mkvmimg", i);
    strv_add (argv, "-netdev");
    strv_add (argv, netdev);
    strv_add (argv, "-device");
    strv_addf (argv, "%s,netdev=net%zu,mac=%s",
               STREQ (nic->model, "virtio") ? "virtio-net-pci" : "e1000",
               i, mac);
  }
  return 0;
}

static void
add_devices (const struct machine *m, struct strv *argv)
{
  for (size_t i = 0; i < m->ndevices; ++i) {
    const struct machine_device *d = &m->devices[i];
    CLEANUP_FREE char *line = NULL;
    size_t len = 0;
    FILE *fp = open_memstream (&line, &len);

    if (!fp)
      abort ();
    fputs (d->type, fp);
    for (size_t j = 0; d->props && d->props[j]; ++j) {
      const char *eq = strchr (d->props[j], '=');
      CLEANUP_FREE char *value = opt_escape (eq ? eq + 1 : "");
      fprintf (fp, ",%.*s=%s",
               (int) (eq ? eq - d->props[j] : (int) strlen (d->props[j])),
               d->props[j], value);
    }
    fclose (fp);
    strv_add (argv, "-device");
    strv_add (argv, line);
  }
}

int
qemu_build_argv (const struct machine *m, const struct qemu_opts *opts,
                 struct strv *argv_rtn)
{
  CLEANUP_STRV_STRUCT struct strv argv = { 0 };
  CLEANUP_FREE char *memory = machine_size_string (m->memory);
  const struct arch *a = arch_lookup ("machine arch", m->arch);
  const struct board *b;

  if (!a)
    return -1;
  b = board_find (a, m->type);
  if (machine_check_board (m, "machine") == -1)
    return -1;
  for (size_t i = 0; opts->wrapper && opts->wrapper[i]; ++i)
    strv_add (&argv, opts->wrapper[i]);
  strv_add (&argv, m->qemu);
  /* Only what we ask for: no default NIC, CD-ROM, VGA or monitor. */
  strv_add (&argv, "-nodefaults");
  strv_add (&argv, "-machine");
  strv_add (&argv, m->type);
  if (qemu_kvm_usable (m)) {
    strv_add (&argv, "-accel");
    strv_add (&argv, "kvm");
    strv_add (&argv, "-cpu");
    strv_add (&argv, "host");
  }
  else {
    if (!opts->dry_run)
      info ("/dev/kvm is not usable: using TCG (software emulation), "
            "which is much slower");
    strv_add (&argv, "-accel");
    strv_add (&argv, "tcg");
    /* Boards with one CPU model (vexpress-a9) keep theirs. */
    if (a->tcg_cpu && !b->dtb) {
      strv_add (&argv, "-cpu");
      strv_add (&argv, a->tcg_cpu);
    }
  }
  strv_add (&argv, "-m");
  strv_add (&argv, memory);
  strv_add (&argv, "-smp");
  strv_addf (&argv, "%d", m->cpus);

  if (add_firmware (m, opts, &argv) == -1 ||
      add_disk (m, opts, &argv) == -1 ||
      add_nics (m, opts, &argv) == -1)
    return -1;
  add_devices (m, &argv);

  if (opts->display)
    display_add_args (opts->display, &argv);
  else if (opts->headless) {
    strv_add (&argv, "-display");
    strv_add (&argv, "none");
  }
  else if (b->vga) {
    strv_add (&argv, "-vga");
    strv_add (&argv, "std");
  }
  else {
    /* virt and the ARM boards: a PCI display where there is PCI. */
    if (b->pci) {
      strv_add (&argv, "-device");
      strv_add (&argv, "virtio-gpu-pci");
    }
  }
  if (opts->console_file) {
    CLEANUP_FREE char *f = opt_escape (opts->console_file);
    strv_add (&argv, "-chardev");
    strv_addf (&argv, "file,id=console0,path=%s", f);
    strv_add (&argv, "-serial");
    strv_add (&argv, "chardev:console0");
  }
  else if (opts->headless) {
    /* The console goes to qemu's stdout; signal=off leaves ^C to us. */
    strv_add (&argv, "-chardev");
    strv_add (&argv, "stdio,id=console0,signal=off");
    strv_add (&argv, "-serial");
    strv_add (&argv, "chardev:console0");
  }
  else {
    /* The terminal: serial console muxed with the monitor, Ctrl-a x. */
    strv_add (&argv, "-serial");
    strv_add (&argv, "mon:stdio");
  }
  if (b->audio) {
    /* Else its codec tries every host sound system, noisily. */
    strv_add (&argv, "-audiodev");
    strv_add (&argv, "none,id=noaudio");
  }
  if (!opts->reboot)
    strv_add (&argv, "-no-reboot");
  if (opts->gdb_port > 0) {
    strv_add (&argv, "-gdb");
    strv_addf (&argv, "tcp:127.0.0.1:%d", opts->gdb_port);
  }
  if (opts->gdb_wait)
    strv_add (&argv, "-S");
  if (opts->pidfile) {
    strv_add (&argv, "-daemonize");
    strv_add (&argv, "-pidfile");
    strv_add (&argv, opts->pidfile);
  }
  if (opts->qmp_path) {
    CLEANUP_FREE char *qmp = opt_escape (opts->qmp_path);
    strv_add (&argv, "-qmp");
    strv_addf (&argv, "unix:%s,server=on,wait=off", qmp);
  }

  *argv_rtn = argv;
  memset (&argv, 0, sizeof argv);
  return 0;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && STREQ (s + n - m, suffix);
}

struct machine *
qemu_choose_machine (const char *image, const char *machine,
                     char **image_rtn)
{
  struct machine *m;
  CLEANUP_FREE char *beside = NULL;

  *image_rtn = image ? xstrdup (image) : NULL;
  if (machine) {
    m = machine_read (machine);
    if (m && !image && !STREQ (m->disk, "none")) {
      error ("%s: the machine has a %s disk: give its IMAGE too",
             machine, m->disk);
      machine_free (m);
      return NULL;
    }
    return m;
  }
  if (has_suffix (image, ".machine")) {
    m = machine_read (image);
    if (!m)
      return NULL;
    free (*image_rtn);
    *image_rtn = NULL;
    if (!STREQ (m->disk, "none"))
      /* IMAGE.machine given: the image is beside it. */
      *image_rtn = xasprintf ("%.*s",
                              (int) (strlen (image) - strlen (".machine")),
                              image);
    return m;
  }
  beside = xasprintf ("%s.machine", image);
  if (access (beside, F_OK) == 0) {
    debug ("reading the machine description %s", beside);
    return machine_read (beside);
  }
  debug ("%s: no machine description: using the defaults", beside);
  return machine_new_default ();
}

char *
qemu_command_string (char *const *argv)
{
  char *line = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&line, &len);

  if (!fp)
    abort ();
  for (size_t i = 0; argv[i]; ++i) {
    CLEANUP_FREE char *q = shell_quote (argv[i]);
    fprintf (fp, "%s%s", i ? " " : "", q);
  }
  fclose (fp);
  return line;
}

/* One line from the QMP socket (replies are one JSON object a line). */
static int
qmp_read_line (int fd, char *buf, size_t size)
{
  size_t n = 0;

  while (n + 1 < size) {
    ssize_t r = read (fd, &buf[n], 1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    if (buf[n] == '\n')
      break;
    n++;
  }
  buf[n] = '\0';
  return 0;
}

/* Read lines until one contains want (events may come first). */
static int
qmp_expect (int fd, const char *want)
{
  char buf[4096];

  for (int i = 0; i < 16; ++i) {
    if (qmp_read_line (fd, buf, sizeof buf) == -1)
      return -1;
    if (strstr (buf, want))
      return 0;
    if (strstr (buf, "\"error\""))
      return -1;
  }
  return -1;
}

int
qemu_qmp_quit (const char *qmp_path)
{
  static const char caps[] = "{\"execute\": \"qmp_capabilities\"}\n";
  static const char quit[] = "{\"execute\": \"quit\"}\n";
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 2 };
  CLEANUP_CLOSE int fd = -1;

  if (strlen (qmp_path) >= sizeof addr.sun_path) {
    debug ("QMP: %s: path too long", qmp_path);
    return -1;
  }
  strcpy (addr.sun_path, qmp_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    debug ("QMP: socket: %s", strerror (errno));
    return -1;
  }
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == -1) {
    debug ("QMP: connect %s: %s", qmp_path, strerror (errno));
    return -1;
  }
  if (qmp_expect (fd, "\"QMP\"") == -1 ||
      write_all (fd, caps, sizeof caps - 1) == -1 ||
      qmp_expect (fd, "\"return\"") == -1 ||
      write_all (fd, quit, sizeof quit - 1) == -1 ||
      qmp_expect (fd, "\"return\"") == -1) {
    debug ("QMP: %s: quit was not acknowledged", qmp_path);
    return -1;
  }
  debug ("QMP: quit acknowledged");
  return 0;
}
