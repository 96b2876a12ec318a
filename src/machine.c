/* The machine description: defaults, reading and writing IMAGE.machine. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "mkvmimg.h"
#include "arch.h"
#include "machine.h"
#include "net.h"
#include "tempfiles.h"

/* Allowed values of the keys that take one word from a list. */
static const char *const firmwares[] = { "bios", "uefi", "direct", NULL };
static const char *const disks[] = {
  "virtio", "ide", "scsi", "nvme", "sd", "none", NULL
};
static const char *const disk_formats[] = { "qcow2", "raw", NULL };
static const char *const nics[] = { "virtio", "e1000", "none", NULL };
static const char *const nic_models[] = { "virtio", "e1000", NULL };
static const char *const displays[] = { "none", "vnc", "spice", NULL };
static const char *const yes_no[] = { "yes", "no", NULL };

static void
set_str (char **field, const char *value)
{
  free (*field);
  *field = value ? xstrdup (value) : NULL;
}

struct machine *
machine_new_for_arch (const struct arch *a)
{
  struct machine *m = xcalloc (1, sizeof *m);
  const struct board *b = board_find (a, a->machine);

  m->arch = xstrdup (a->name);
  m->qemu = xstrdup (a->qemu);
  m->type = xstrdup (a->machine);
  m->memory = 1ULL << 30;
  m->cpus = 2;
  m->firmware = xstrdup (a->grub_bios ? "bios" : "uefi");
  m->disk = xstrdup (b->disk);
  m->nic = xstrdup (b->pci ? "virtio" : "none");
  m->console = xstrdup (a->console);
  m->display = xstrdup ("none");
  return m;
}

struct machine *
machine_new_default (void)
{
  return machine_new_for_arch (arch_find ("x86_64"));
}

static void
strv_array_free (char **v)
{
  if (!v)
    return;
  for (size_t i = 0; v[i]; ++i)
    free (v[i]);
  free (v);
}

static void
nic_free (struct machine_nic *n)
{
  free (n->name);
  free (n->model);
  free (n->net);
  free (n->mac);
  strv_array_free (n->forwards);
}

struct machine_nic *
machine_nics (const struct machine *m, size_t *n_rtn)
{
  struct machine_nic *r = xcalloc (m->nnics + 2, sizeof *r);
  size_t n = 0;

  if (!STREQ (m->nic, "none")) {
    r[n].name = (char *) "net0";
    r[n].model = m->nic;
    r[n].net = m->net ? m->net : (char *) "user";
    r[n].mac = m->mac;
    r[n].forwards = m->forwards;
    n++;
  }
  for (size_t i = 0; i < m->nnics; ++i) {
    r[n] = m->nics[i];
    if (!r[n].net)
      r[n].net = (char *) "user";
    n++;
  }
  *n_rtn = n;
  return r;
}

static void
device_free (struct machine_device *d)
{
  free (d->name);
  free (d->type);
  if (d->props) {
    for (size_t i = 0; d->props[i]; ++i)
      free (d->props[i]);
    free (d->props);
  }
}

void
machine_free (struct machine *m)
{
  if (!m)
    return;
  free (m->arch);
  free (m->qemu);
  free (m->type);
  free (m->firmware);
  free (m->ovmf_code);
  free (m->ovmf_vars);
  free (m->kernel);
  free (m->initrd);
  free (m->dtb);
  free (m->cmdline);
  free (m->disk);
  free (m->disk_format);
  free (m->nic);
  free (m->console);
  for (size_t i = 0; i < m->ndevices; ++i)
    device_free (&m->devices[i]);
  free (m->devices);
  free (m->name);
  free (m->net);
  free (m->mac);
  strv_array_free (m->forwards);
  for (size_t i = 0; i < m->nnics; ++i)
    nic_free (&m->nics[i]);
  free (m->nics);
  free (m->display);
  free (m->listen);
  free (m->vmlinux);
  free (m);
}

void
cleanup_machine (void *ptr)
{
  machine_free (*(struct machine **) ptr);
}

void
machine_add_device (struct machine *m, const char *name, const char *type,
                    char *const *props)
{
  struct machine_device *d;
  size_t n = 0;

  m->devices = xrealloc (m->devices, (m->ndevices + 1) * sizeof *m->devices);
  d = &m->devices[m->ndevices++];
  d->name = xstrdup (name);
  d->type = xstrdup (type);
  if (props)
    while (props[n])
      n++;
  d->props = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; ++i)
    d->props[i] = xstrdup (props[i]);
}

/* Add one "key=value" property to the last device. */
static void
device_add_prop (struct machine_device *d, const char *key,
                 const char *value)
{
  size_t n = 0;

  while (d->props[n])
    n++;
  d->props = xrealloc (d->props, (n + 2) * sizeof (char *));
  d->props[n] = xasprintf ("%s=%s", key, value);
  d->props[n + 1] = NULL;
}

char *
machine_size_string (uint64_t bytes)
{
  static const char units[] = "KMGT";

  for (int i = 3; i >= 0; --i) {
    uint64_t unit = 1ULL << (10 * (i + 1));
    if (bytes >= unit && bytes % unit == 0)
      return xasprintf ("%llu%c", (unsigned long long) (bytes / unit),
                        units[i]);
  }
  return xasprintf ("%llu", (unsigned long long) bytes);
}

/* The firmware files are per architecture (arch.c). */
const char *
machine_find_ovmf_code (void)
{
  return arch_find_fw_code (arch_find ("x86_64"));
}

const char *
machine_find_ovmf_vars (void)
{
  return arch_find_fw_vars (arch_find ("x86_64"));
}

const char *
machine_find_fw_code (const struct machine *m)
{
  const struct arch *a = arch_find (m->arch);
  return a ? arch_find_fw_code (a) : NULL;
}

const char *
machine_find_fw_vars (const struct machine *m)
{
  const struct arch *a = arch_find (m->arch);
  return a ? arch_find_fw_vars (a) : NULL;
}

/* Reading. */

struct parser {
  const char *path;
  char *dir;                    /* absolute directory of path */
  size_t lineno;
  struct machine *m;
  bool in_machine;              /* inside [machine] */
  struct machine_device *dev;   /* inside [device NAME] */
  struct machine_nic *nic;      /* inside [nic NAME] */
  unsigned nic_seen;            /* bit per nic key: duplicates */
  size_t dev_lineno;            /* where that section starts */
  bool dev_has_type;
  unsigned seen;                /* bit per machine key: duplicates */
  bool arch_set, qemu_set, type_set, console_set;
  bool firmware_set, disk_set, nic_set;
};

static void parse_error (const struct parser *p, const char *fs, ...)
  ATTRIBUTE_PRINTF (2, 3);

/* "mkvmimg: FILE:LINE: message". */
static void
parse_error (const struct parser *p, const char *fs, ...)
{
  CLEANUP_FREE char *msg = NULL;
  va_list args;

  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  va_end (args);
  if (p->lineno)
    error ("%s:%zu: %s", p->path, p->lineno, msg ? msg : fs);
  else
    error ("%s: %s", p->path, msg ? msg : fs);
}

static char *
strip (char *s)
{
  char *e;

  while (isspace ((unsigned char) *s))
    s++;
  e = s + strlen (s);
  while (e > s && isspace ((unsigned char) e[-1]))
    *--e = '\0';
  return s;
}

static bool
in_list (const char *const *list, const char *value)
{
  for (size_t i = 0; list[i]; ++i)
    if (STREQ (list[i], value))
      return true;
  return false;
}

static int
check_enum (const struct parser *p, const char *key, const char *value,
            const char *const *list)
{
  CLEANUP_FREE char *choices = NULL;
  size_t len = 0;
  FILE *fp;

  if (in_list (list, value))
    return 0;
  fp = open_memstream (&choices, &len);
  if (!fp) {
    error_errno ("open_memstream");
    return -1;
  }
  for (size_t i = 0; list[i]; ++i)
    fprintf (fp, "%s%s", i ? ", " : "", list[i]);
  fclose (fp);
  parse_error (p, "%s = %s: expected one of %s", key, value, choices);
  return -1;
}

/* A path from the file: relative ones are relative to its directory. */
static char *
resolve_path (const struct parser *p, const char *value)
{
  if (value[0] == '/')
    return xstrdup (value);
  return xasprintf ("%s/%s", p->dir, value);
}

static const char *const machine_keys[] = {
  "arch", "qemu", "type", "memory", "cpus", "firmware", "ovmf-code",
  "ovmf-vars", "kernel", "initrd", "dtb", "cmdline", "disk", "disk-format", "nic",
  "console", "name", "net", "forward", "mac", "display", "listen",
  "insecure", "vmlinux", NULL
};

/* net = user | vde:SWITCH | tap:NAME. */
static int
check_net (const struct parser *p, const char *value)
{
  if (STREQ (value, "user") ||
      (STRPREFIX (value, "vde:") && value[4]) ||
      (STRPREFIX (value, "tap:") && value[4] && strlen (value) < 4 + 16
       && !strpbrk (value + 4, "/ ,")))
    return 0;
  parse_error (p, "net = %s: expected user, vde:SWITCH (a switch name "
               "or the path of its control directory) or tap:NAME",
               value);
  return -1;
}

/* forward = tcp:H:G ...: space-separated. */
static int
parse_forwards (const struct parser *p, const char *value, char ***rtn)
{
  CLEANUP_FREE char *copy = xstrdup (value);
  struct strv v = { 0 };
  char *save = NULL;

  for (char *w = strtok_r (copy, " \t,", &save); w;
       w = strtok_r (NULL, " \t,", &save)) {
    if (!net_forward_valid (w)) {
      parse_error (p, "forward = %s: not a forward: %s (expected "
                   "tcp:HOSTPORT:GUESTPORT or udp:..., ports 1 to 65535)",
                   value, w);
      strv_free (&v);
      return -1;
    }
    strv_add (&v, w);
  }
  if (!v.v)
    strv_add (&v, "");          /* never: empty values are refused */
  strv_array_free (*rtn);
  *rtn = v.v;
  return 0;
}

/* mac = 52:54:00:xx:xx:xx: six hex bytes, unicast. */
static int
check_mac (const struct parser *p, const char *value)
{
  unsigned b[6];
  int n = 0;

  if (sscanf (value, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
              &b[3], &b[4], &b[5], &n) == 6 && value[n] == '\0'
      && strlen (value) == 17 && !(b[0] & 1))
    return 0;
  parse_error (p, "mac = %s: expected a unicast MAC address such as "
               "52:54:00:12:34:56", value);
  return -1;
}

static int
machine_key (struct parser *p, const char *key, const char *value)
{
  struct machine *m = p->m;
  size_t k;

  for (k = 0; machine_keys[k]; ++k)
    if (STREQ (machine_keys[k], key))
      break;
  if (!machine_keys[k]) {
    parse_error (p, "unknown key '%s' in [machine]", key);
    return -1;
  }
  if (p->seen & (1u << k)) {
    parse_error (p, "'%s' is set twice", key);
    return -1;
  }
  p->seen |= 1u << k;

  if (*value == '\0' && !STREQ (key, "cmdline")) {
    parse_error (p, "%s: empty value", key);
    return -1;
  }

  if (STREQ (key, "arch")) {
    set_str (&m->arch, value);
    p->arch_set = true;
  }
  else if (STREQ (key, "qemu")) {
    set_str (&m->qemu, value);
    p->qemu_set = true;
  }
  else if (STREQ (key, "type")) {
    set_str (&m->type, value);
    p->type_set = true;
  }
  else if (STREQ (key, "memory")) {
    unsigned long long n;
    if (parse_size (value, &n) == -1 || n < (1ULL << 20)) {
      parse_error (p, "memory = %s: expected a size of at least 1M "
                   "such as 512M or 2G", value);
      return -1;
    }
    m->memory = n;
  }
  else if (STREQ (key, "cpus")) {
    char *end;
    long n;
    errno = 0;
    n = strtol (value, &end, 10);
    if (errno || *end || end == value || n < 1 || n > 1024) {
      parse_error (p, "cpus = %s: expected a number from 1 to 1024",
                   value);
      return -1;
    }
    m->cpus = n;
  }
  else if (STREQ (key, "firmware")) {
    if (check_enum (p, key, value, firmwares) == -1)
      return -1;
    set_str (&m->firmware, value);
    p->firmware_set = true;
  }
  else if (STREQ (key, "ovmf-code")) {
    free (m->ovmf_code);
    m->ovmf_code = resolve_path (p, value);
  }
  else if (STREQ (key, "ovmf-vars")) {
    free (m->ovmf_vars);
    m->ovmf_vars = resolve_path (p, value);
  }
  else if (STREQ (key, "kernel")) {
    free (m->kernel);
    m->kernel = resolve_path (p, value);
  }
  else if (STREQ (key, "initrd")) {
    free (m->initrd);
    m->initrd = resolve_path (p, value);
  }
  else if (STREQ (key, "dtb")) {
    free (m->dtb);
    m->dtb = resolve_path (p, value);
  }
  else if (STREQ (key, "cmdline"))
    set_str (&m->cmdline, value);
  else if (STREQ (key, "disk")) {
    if (check_enum (p, key, value, disks) == -1)
      return -1;
    set_str (&m->disk, value);
    p->disk_set = true;
  }
  else if (STREQ (key, "disk-format")) {
    if (check_enum (p, key, value, disk_formats) == -1)
      return -1;
    set_str (&m->disk_format, value);
  }
  else if (STREQ (key, "nic")) {
    if (check_enum (p, key, value, nics) == -1)
      return -1;
    set_str (&m->nic, value);
    p->nic_set = true;
  }
  else if (STREQ (key, "console")) {
    set_str (&m->console, value);
    p->console_set = true;
  }
  else if (STREQ (key, "name"))
    set_str (&m->name, value);
  else if (STREQ (key, "net")) {
    if (check_net (p, value) == -1)
      return -1;
    set_str (&m->net, value);
  }
  else if (STREQ (key, "forward"))
    return parse_forwards (p, value, &m->forwards);
  else if (STREQ (key, "mac")) {
    if (check_mac (p, value) == -1)
      return -1;
    set_str (&m->mac, value);
  }
  else if (STREQ (key, "display")) {
    if (check_enum (p, key, value, displays) == -1)
      return -1;
    set_str (&m->display, value);
  }
  else if (STREQ (key, "listen"))
    set_str (&m->listen, value);
  else if (STREQ (key, "insecure")) {
    if (check_enum (p, key, value, yes_no) == -1)
      return -1;
    m->insecure = STREQ (value, "yes");
  }
  else if (STREQ (key, "vmlinux")) {
    free (m->vmlinux);
    m->vmlinux = resolve_path (p, value);
  }
  return 0;
}

int
machine_set (struct machine *m, const char *what, const char *key,
             const char *value)
{
  CLEANUP_FREE char *cwd = getcwd (NULL, 0);
  struct parser p = { .path = what, .m = m, .dir = cwd ? cwd : (char *) "." };

  return machine_key (&p, key, value);
}

static const char *const nic_keys[] = {
  "model", "net", "forward", "mac", NULL
};

static int
nic_key (struct parser *p, const char *key, const char *value)
{
  struct machine_nic *n = p->nic;
  size_t k;

  for (k = 0; nic_keys[k]; ++k)
    if (STREQ (nic_keys[k], key))
      break;
  if (!nic_keys[k]) {
    parse_error (p, "unknown key '%s' in [nic %s] (expected model, net, "
                 "forward or mac)", key, n->name);
    return -1;
  }
  if (p->nic_seen & (1u << k)) {
    parse_error (p, "'%s' is set twice in [nic %s]", key, n->name);
    return -1;
  }
  p->nic_seen |= 1u << k;
  if (*value == '\0') {
    parse_error (p, "%s: empty value", key);
    return -1;
  }
  if (STREQ (key, "model")) {
    if (check_enum (p, key, value, nic_models) == -1)
      return -1;
    set_str (&n->model, value);
  }
  else if (STREQ (key, "net")) {
    if (check_net (p, value) == -1)
      return -1;
    set_str (&n->net, value);
  }
  else if (STREQ (key, "forward"))
    return parse_forwards (p, value, &n->forwards);
  else if (STREQ (key, "mac")) {
    if (check_mac (p, value) == -1)
      return -1;
    set_str (&n->mac, value);
  }
  return 0;
}

/* Device property names: what QEMU accepts as a property name. */
static bool
valid_prop_name (const char *key)
{
  if (!*key)
    return false;
  for (const char *c = key; *c; ++c)
    if (!isalnum ((unsigned char) *c) && !strchr ("-_.", *c))
      return false;
  return true;
}

static int
device_key (struct parser *p, const char *key, const char *value)
{
  struct machine_device *d = p->dev;

  if (STREQ (key, "type")) {
    if (p->dev_has_type) {
      parse_error (p, "'type' is set twice in [device %s]", d->name);
      return -1;
    }
    if (!*value) {
      parse_error (p, "type: empty value");
      return -1;
    }
    set_str (&d->type, value);
    p->dev_has_type = true;
    return 0;
  }
  if (!valid_prop_name (key)) {
    parse_error (p, "[device %s]: '%s' is not a device property name",
                 d->name, key);
    return -1;
  }
  for (size_t i = 0; d->props[i]; ++i) {
    size_t n = strlen (key);
    if (strncmp (d->props[i], key, n) == 0 && d->props[i][n] == '=') {
      parse_error (p, "'%s' is set twice in [device %s]", key, d->name);
      return -1;
    }
  }
  device_add_prop (d, key, value);
  return 0;
}

/* End of a [device] section: it needs its type. */
static int
device_end (struct parser *p)
{
  if (p->dev && !p->dev_has_type) {
    error ("%s:%zu: [device %s] has no 'type'", p->path, p->dev_lineno,
           p->dev->name);
    return -1;
  }
  p->dev = NULL;
  return 0;
}

static int
section_line (struct parser *p, char *line)
{
  char *end = strchr (line, ']');
  char *name;

  if (!end || strip (end + 1)[0] != '\0') {
    parse_error (p, "expected '[section]'");
    return -1;
  }
  *end = '\0';
  name = strip (line + 1);
  if (device_end (p) == -1)
    return -1;
  p->in_machine = false;
  p->nic = NULL;
  if (STRPREFIX (name, "nic") && isspace ((unsigned char) name[3])) {
    const char *nname = strip (name + 3);
    for (size_t i = 0; i < p->m->nnics; ++i)
      if (STREQ (p->m->nics[i].name, nname)) {
        parse_error (p, "[nic %s] appears twice", nname);
        return -1;
      }
    if (!valid_prop_name (nname) || STREQ (nname, "net0")) {
      parse_error (p, "[nic %s]: the name may only have letters, digits, "
                   "'-', '_' and '.' (and net0 is the [machine] NIC)",
                   nname);
      return -1;
    }
    p->m->nics = xrealloc (p->m->nics,
                           (p->m->nnics + 1) * sizeof *p->m->nics);
    p->nic = &p->m->nics[p->m->nnics++];
    memset (p->nic, 0, sizeof *p->nic);
    p->nic->name = xstrdup (nname);
    p->nic->model = xstrdup ("virtio");
    p->nic_seen = 0;
    return 0;
  }
  if (STREQ (name, "machine")) {
    p->in_machine = true;
    return 0;
  }
  if (STRPREFIX (name, "device") && isspace ((unsigned char) name[6])) {
    const char *dname = strip (name + 6);
    for (size_t i = 0; i < p->m->ndevices; ++i)
      if (STREQ (p->m->devices[i].name, dname)) {
        parse_error (p, "[device %s] appears twice", dname);
        return -1;
      }
    if (!valid_prop_name (dname)) {
      parse_error (p, "[device %s]: the name may only have letters, "
                   "digits, '-', '_' and '.'", dname);
      return -1;
    }
    machine_add_device (p->m, dname, "", NULL);
    p->dev = &p->m->devices[p->m->ndevices - 1];
    p->dev_lineno = p->lineno;
    p->dev_has_type = false;
    return 0;
  }
  parse_error (p, "unknown section [%s] (expected [machine], "
               "[device NAME] or [nic NAME])", name);
  return -1;
}

/* Keys that depend on others, once the whole file is read. */
static int
finish (struct parser *p)
{
  struct machine *m = p->m;

  if (p->arch_set) {
    const struct arch *a = arch_lookup (p->path, m->arch);
    const struct board *b;
    if (!a)
      return -1;
    /* The architecture's QEMU binary, machine type and console follow,
     * unless the file names its own.
     */
    if (!p->qemu_set)
      set_str (&m->qemu, a->qemu);
    if (!p->type_set)
      set_str (&m->type, a->machine);
    if (!p->console_set)
      set_str (&m->console, a->console);
    b = board_find (a, m->type);
    if (b->arch && !STREQ (b->arch, a->name)) {
      error ("%s: machine type %s is an %s board, not %s", p->path,
             m->type, b->arch, a->name);
      return -1;
    }
    /* No BIOS on ARM; a board's own disk; no NIC without PCI. */
    if (!p->firmware_set && !a->grub_bios)
      set_str (&m->firmware, "uefi");
    if (!p->disk_set)
      set_str (&m->disk, b->disk);
    if (!p->nic_set && !b->pci)
      set_str (&m->nic, "none");
  }
  if (machine_check_board (m, p->path) == -1)
    return -1;
  if (STREQ (m->firmware, "direct") && !m->kernel) {
    error ("%s: firmware = direct needs a kernel", p->path);
    return -1;
  }
  if (!STREQ (m->firmware, "direct") && (m->kernel || m->initrd || m->dtb))
    warning ("%s: kernel and initrd are only used with firmware = direct",
             p->path);
  return 0;
}

int
machine_check_board (const struct machine *m, const char *what)
{
  const struct arch *a = arch_find (m->arch);
  const struct board *b = board_find (a, m->type);

  if (a && !a->grub_bios && STREQ (m->firmware, "bios")) {
    error ("%s: %s has no BIOS firmware: use firmware = uefi or direct",
           what, a->name);
    return -1;
  }
  if (b->dtb && !m->dtb) {
    error ("%s: machine type %s needs a device tree: set dtb to the "
           "board's %s (from the kernel build or the kernel package's "
           "/usr/lib/linux-image-*/)", what, m->type, b->dtb);
    return -1;
  }
  if (b->max_memory && m->memory > b->max_memory) {
    CLEANUP_FREE char *max = machine_size_string (b->max_memory);
    error ("%s: machine type %s takes at most %s of memory", what, m->type,
           max);
    return -1;
  }
  if (!b->pci && (STREQ (m->disk, "virtio") || STREQ (m->disk, "scsi")
                  || STREQ (m->disk, "nvme") || STREQ (m->disk, "ide"))) {
    error ("%s: machine type %s has no PCI bus for a %s disk: use disk = "
           "%s", what, m->type, m->disk, b->disk);
    return -1;
  }
  if (!b->pci && !STREQ (m->nic, "none")) {
    error ("%s: machine type %s has no PCI bus for a %s NIC: use nic = "
           "none", what, m->type, m->nic);
    return -1;
  }
  if (STREQ (m->disk, "sd") && b->pci) {
    error ("%s: disk = sd needs a board with an SD card controller "
           "(vexpress-a9), not %s", what, m->type);
    return -1;
  }
  return 0;
}

/* The absolute directory of path (symbolic links resolved), or NULL. */
static char *
absolute_dir (const char *path)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  char *dir = realpath (dirname (copy), NULL);

  if (!dir)
    error_errno ("%s: directory", path);
  return dir;
}

struct machine *
machine_read (const char *path)
{
  CLEANUP_MACHINE struct machine *m = NULL;
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE char *dir = NULL;
  struct parser p = { .path = path };
  char *line, *next;

  text = read_whole_file (path, NULL);
  if (!text)
    return NULL;
  dir = absolute_dir (path);
  if (!dir)
    return NULL;
  m = machine_new_default ();
  p.dir = dir;
  p.m = m;

  for (line = text; line; line = next) {
    char *eq, *s, *key, *value;

    next = strchr (line, '\n');
    if (next)
      *next++ = '\0';
    p.lineno++;
    s = strip (line);
    if (*s == '\0' || *s == '#')
      continue;
    if (*s == '[') {
      if (section_line (&p, s) == -1)
        return NULL;
      continue;
    }
    eq = strchr (s, '=');
    if (!eq) {
      parse_error (&p, "expected 'key = value', '[section]' or "
                   "'# comment'");
      return NULL;
    }
    *eq = '\0';
    key = strip (s);
    value = strip (eq + 1);
    if (!*key) {
      parse_error (&p, "a key is missing before '='");
      return NULL;
    }
    if (p.in_machine) {
      if (machine_key (&p, key, value) == -1)
        return NULL;
    }
    else if (p.dev) {
      if (device_key (&p, key, value) == -1)
        return NULL;
    }
    else if (p.nic) {
      if (nic_key (&p, key, value) == -1)
        return NULL;
    }
    else {
      parse_error (&p, "'%s' is outside any section (start with "
                   "[machine])", key);
      return NULL;
    }
  }
  if (device_end (&p) == -1 || finish (&p) == -1)
    return NULL;

  struct machine *ret = m;
  m = NULL;
  return ret;
}

/* Writing. */

/* "a b c", or NULL for an empty list.  Caller frees. */
static char *
join_words (char *const *v)
{
  char *r = NULL;
  size_t len = 0;
  FILE *fp;

  if (!v || !v[0])
    return NULL;
  fp = open_memstream (&r, &len);
  if (!fp)
    abort ();
  for (size_t i = 0; v[i]; ++i)
    fprintf (fp, "%s%s", i ? " " : "", v[i]);
  fclose (fp);
  return r;
}

/* kernel and initrd inside dir are written relative to it. */
static const char *
relative_to (const char *dir, const char *path, char **abs_rtn)
{
  size_t n = strlen (dir);
  char *abs = realpath (path, NULL);

  if (!abs) {
    char cwd[PATH_MAX];
    if (path[0] == '/' || !getcwd (cwd, sizeof cwd))
      abs = xstrdup (path);
    else
      abs = xasprintf ("%s/%s", cwd, path);
  }
  *abs_rtn = abs;
  if (strncmp (abs, dir, n) == 0 && abs[n] == '/' && abs[n + 1])
    return abs + n + 1;
  return abs;
}

static int
check_value (const char *path, const char *key, const char *value)
{
  if (strchr (value, '\n')) {
    error ("write %s: %s: a value cannot contain a newline", path, key);
    return -1;
  }
  return 0;
}

static int
write_text (const struct machine *m, const char *path, const char *dir,
            FILE *fp)
{
  CLEANUP_FREE char *memory = machine_size_string (m->memory);
  CLEANUP_FREE char *forwards = join_words (m->forwards);
  const struct {
    const char *key, *value;
    bool is_path;
  } keys[] = {
    { "arch", m->arch },
    { "qemu", m->qemu },
    { "type", m->type },
    { "memory", memory },
    { "cpus", NULL },
    { "firmware", m->firmware },
    { "ovmf-code", m->ovmf_code, true },
    { "ovmf-vars", m->ovmf_vars, true },
    { "kernel", m->kernel, true },
    { "initrd", m->initrd, true },
    { "dtb", m->dtb, true },
    { "cmdline", m->cmdline },
    { "disk", m->disk },
    { "disk-format", m->disk_format },
    { "nic", m->nic },
    { "console", m->console },
    { "name", m->name },
    { "net", m->net },
    { "forward", forwards },
    { "mac", m->mac },
    { "display", STREQ (m->display, "none") ? NULL : m->display },
    { "listen", m->listen },
    { "insecure", m->insecure ? "yes" : NULL },
    { "vmlinux", m->vmlinux, true },
  };

  fprintf (fp, "# The machine this image boots on, read by 'mkvmimg boot'.\n"
           "# Relative paths are relative to this file.\n\n[machine]\n");
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
    CLEANUP_FREE char *abs = NULL;
    const char *value = keys[i].value;

    if (STREQ (keys[i].key, "cpus")) {
      fprintf (fp, "cpus = %d\n", m->cpus);
      continue;
    }
    if (!value)
      continue;
    if (check_value (path, keys[i].key, value) == -1)
      return -1;
    if (keys[i].is_path)
      value = relative_to (dir, value, &abs);
    fprintf (fp, "%s = %s\n", keys[i].key, value);
  }
  for (size_t i = 0; i < m->ndevices; ++i) {
    const struct machine_device *d = &m->devices[i];
    fprintf (fp, "\n[device %s]\ntype = %s\n", d->name, d->type);
    for (size_t j = 0; d->props && d->props[j]; ++j) {
      const char *eq = strchr (d->props[j], '=');
      if (!eq || eq == d->props[j]) {
        error ("write %s: [device %s]: '%s' is not key=value", path,
               d->name, d->props[j]);
        return -1;
      }
      if (check_value (path, d->name, d->props[j]) == -1)
        return -1;
      fprintf (fp, "%.*s = %s\n", (int) (eq - d->props[j]), d->props[j],
               eq + 1);
    }
  }
  for (size_t i = 0; i < m->nnics; ++i) {
    const struct machine_nic *n = &m->nics[i];
    CLEANUP_FREE char *fw = join_words (n->forwards);
    fprintf (fp, "\n[nic %s]\nmodel = %s\n", n->name, n->model);
    if (n->net)
      fprintf (fp, "net = %s\n", n->net);
    if (fw)
      fprintf (fp, "forward = %s\n", fw);
    if (n->mac)
      fprintf (fp, "mac = %s\n", n->mac);
  }
  return 0;
}

int
machine_write (const struct machine *m, const char *path)
{
  CLEANUP_FREE char *dir = absolute_dir (path);
  struct atomic_output out;
  FILE *fp;

  if (!dir)
    return -1;
  if (atomic_output_begin (&out, path, true) == -1)
    return -1;
  fp = fopen (out.tmp, "w");
  if (!fp) {
    error_errno ("open %s", out.tmp);
    atomic_output_abort (&out);
    return -1;
  }
  if (write_text (m, path, dir, fp) == -1) {
    fclose (fp);
    atomic_output_abort (&out);
    return -1;
  }
  if (ferror (fp) | fclose (fp)) {
    error_errno ("write %s", out.tmp);
    atomic_output_abort (&out);
    return -1;
  }
  if (atomic_output_commit (&out, 0644) == -1) {
    atomic_output_abort (&out);
    return -1;
  }
  return 0;
}
