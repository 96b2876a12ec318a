/* libvirt domain XML export. */
#include <config.h>

#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>

#include "mkvmimg.h"
#include "arch.h"
#include "display.h"
#include "libvirt.h"
#include "machine.h"
#include "net.h"
#include "qemu.h"

/* Text for an XML attribute or element. */
static void
put_escaped (FILE *fp, const char *s)
{
  for (; *s; ++s) {
    switch (*s) {
    case '&': fputs ("&amp;", fp); break;
    case '<': fputs ("&lt;", fp); break;
    case '>': fputs ("&gt;", fp); break;
    case '"': fputs ("&quot;", fp); break;
    case '\'': fputs ("&apos;", fp); break;
    default: fputc (*s, fp);
    }
  }
}

/* Literal markup. */
static void
tag (FILE *fp, const char *text)
{
  fputs (text, fp);
}

/* A domain name libvirt accepts: no '/', printable. */
static char *
domain_name (const struct machine *m, const char *id)
{
  const char *base;
  char *r;

  if (m->name)
    base = m->name;
  else {
    base = strrchr (id, '/');
    base = base ? base + 1 : id;
  }
  r = xstrdup (*base ? base : "mkvmimg");
  for (char *c = r; *c; ++c)
    if (*c == '/' || !isprint ((unsigned char) *c))
      *c = '_';
  return r;
}

static const char *
disk_bus (const char *disk, const char **dev_rtn)
{
  if (STREQ (disk, "virtio")) {
    *dev_rtn = "vda";
    return "virtio";
  }
  if (STREQ (disk, "ide")) {
    *dev_rtn = "sda";
    return "sata";              /* q35 has AHCI, no IDE */
  }
  if (STREQ (disk, "scsi")) {
    *dev_rtn = "sda";
    return "scsi";
  }
  if (STREQ (disk, "nvme")) {
    *dev_rtn = "nvme0n1";
    return "nvme";
  }
  return NULL;
}

static int
put_disk (FILE *fp, const struct machine *m, const struct qemu_opts *opts)
{
  const char *dev = NULL, *bus, *format;

  if (STREQ (m->disk, "none") || !opts->image)
    return 0;
  bus = disk_bus (m->disk, &dev);
  if (!bus) {
    error ("disk '%s': expected virtio, ide, scsi, nvme or none", m->disk);
    return -1;
  }
  format = opts->image_format ? opts->image_format
    : qemu_image_format (m, opts->image);
  if (!format)
    return -1;
  if (STREQ (bus, "nvme")) {
    /* libvirt 9 has no nvme disk bus: QEMU arguments below. */
    return 0;
  }
  if (STREQ (bus, "scsi"))
    tag (fp, "    <controller type='scsi' model='virtio-scsi'/>\n");
  fprintf (fp, "    <disk type='file' device='disk'>\n"
           "      <driver name='qemu' type='%s'/>\n"
           "      <source file='", format);
  {
    CLEANUP_FREE char *abs = realpath (opts->image, NULL);
    put_escaped (fp, abs ? abs : opts->image);
  }
  fprintf (fp, "'/>\n      <target dev='%s' bus='%s'/>\n", dev, bus);
  if (opts->snapshot)
    tag (fp, "      <transient/>\n");
  tag (fp, "    </disk>\n");
  return 0;
}

static int
put_nics (FILE *fp, const struct machine *m, const struct qemu_opts *opts,
          struct strv *qemu_args)
{
  CLEANUP_FREE struct machine_nic *nics = NULL;
  size_t n;

  nics = machine_nics (m, &n);
  for (size_t i = 0; i < n; ++i) {
    const struct machine_nic *nic = &nics[i];
    CLEANUP_FREE char *mac = nic->mac ? xstrdup (nic->mac)
      : net_mac (opts->id ? opts->id : "mkvmimg", i);
    const char *model = STREQ (nic->model, "virtio") ? "virtio" : "e1000";

    if (STREQ (nic->net, "user")) {
      tag (fp, "    <interface type='user'>\n");
      fprintf (fp, "      <mac address='%s'/>\n      <model type='%s'/>\n",
               mac, model);
      for (size_t j = 0; nic->forwards && nic->forwards[j]; ++j) {
        unsigned h, g;
        if (sscanf (nic->forwards[j] + 4, "%u:%u", &h, &g) == 2)
          fprintf (fp, "      <portForward proto='%.3s' address='127.0.0.1'>\n"
                   "        <range start='%u' to='%u'/>\n"
                   "      </portForward>\n", nic->forwards[j], h, g);
      }
      tag (fp, "    </interface>\n");
    }
    else if (STRPREFIX (nic->net, "tap:")) {
      tag (fp, "    <interface type='ethernet'>\n      <target dev='");
      put_escaped (fp, nic->net + 4);
      fprintf (fp, "' managed='no'/>\n      <mac address='%s'/>\n"
               "      <model type='%s'/>\n    </interface>\n", mac, model);
    }
    else {
      /* libvirt has no VDE interface type: passed to QEMU as is. */
      CLEANUP_FREE char *path = net_vde_path (nic->net, false);
      if (!path)
        return -1;
      strv_add (qemu_args, "-netdev");
      strv_addf (qemu_args, "vde,id=vde%zu,sock=%s", i, path);
      strv_add (qemu_args, "-device");
      strv_addf (qemu_args, "%s,netdev=vde%zu,mac=%s",
                 STREQ (model, "virtio") ? "virtio-net-pci" : "e1000", i,
                 mac);
    }
  }
  return 0;
}

static void
put_display (FILE *fp, const struct display *d)
{
  if (!d || STREQ (d->kind, "none"))
    return;
  fprintf (fp, "    <graphics type='%s'", d->kind);
  if (!d->unix_socket)
    fprintf (fp, " port='%d' autoport='no'", d->port);
  tag (fp, ">\n");
  if (d->unix_socket) {
    tag (fp, "      <listen type='socket' socket='");
    put_escaped (fp, d->listen);
    tag (fp, "'/>\n");
  }
  else {
    tag (fp, "      <listen type='address' address='");
    put_escaped (fp, d->listen);
    tag (fp, "'/>\n");
  }
  tag (fp, "    </graphics>\n");
  if (STREQ (d->kind, "spice")) {
    tag (fp, "    <video>\n      <model type='qxl'/>\n    </video>\n"
         "    <controller type='virtio-serial'/>\n"
         "    <channel type='spicevmc'>\n"
         "      <target type='virtio' name='com.redhat.spice.0'/>\n"
         "    </channel>\n");
  }
  else
    tag (fp, "    <video>\n      <model type='vga'/>\n    </video>\n");
}

char *
libvirt_domain_xml (const struct machine *m, const struct qemu_opts *opts,
                    const char *id)
{
  CLEANUP_FREE char *name = domain_name (m, id);
  CLEANUP_STRV_STRUCT struct strv qemu_args = { 0 };
  char *xml = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&xml, &len);
  bool kvm = qemu_kvm_usable (m);
  const struct arch *a = arch_find (m->arch);
  const struct board *b = a ? board_find (a, m->type) : NULL;

  if (!fp)
    abort ();
  fprintf (fp, "<domain type='%s' "
           "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
           "  <name>", kvm ? "kvm" : "qemu");
  put_escaped (fp, name);
  fprintf (fp, "</name>\n"
           "  <memory unit='KiB'>%llu</memory>\n"
           "  <vcpu>%d</vcpu>\n",
           (unsigned long long) (m->memory / 1024), m->cpus);
  fprintf (fp, "  <os>\n    <type arch='%s' machine='%s'>hvm</type>\n",
           m->arch, m->type);
  if (STREQ (m->firmware, "uefi")) {
    /* The machine's arch's firmware: OVMF, AAVMF, AAVMF32. */
    const char *code = m->ovmf_code ? m->ovmf_code : machine_find_fw_code (m);
    const char *vars = m->ovmf_vars ? m->ovmf_vars : machine_find_fw_vars (m);
    if (!code || !vars) {
      error ("UEFI firmware for %s: %s not found (install Debian's %s "
             "package, or set ovmf-code and ovmf-vars in the machine "
             "file)", m->arch, a ? a->fw_code[0] : "firmware",
             a ? a->fw_package : "firmware");
      fclose (fp);
      free (xml);
      return NULL;
    }
    tag (fp, "    <loader readonly='yes' type='pflash'>");
    put_escaped (fp, code);
    tag (fp, "</loader>\n    <nvram template='");
    put_escaped (fp, vars);
    tag (fp, "'/>\n");
  }
  else if (STREQ (m->firmware, "direct")) {
    tag (fp, "    <kernel>");
    put_escaped (fp, m->kernel);
    tag (fp, "</kernel>\n");
    if (m->initrd) {
      tag (fp, "    <initrd>");
      put_escaped (fp, m->initrd);
      tag (fp, "</initrd>\n");
    }
    tag (fp, "    <cmdline>");
    if (m->cmdline)
      put_escaped (fp, m->cmdline);
    else
      fprintf (fp, "console=%s", m->console);
    tag (fp, "</cmdline>\n");
  }
  tag (fp, "  </os>\n");
  /* ACPI: PCs, and arm64 under UEFI; 32-bit Arm boards have none. */
  if (a && (a->grub_bios ||
            (STREQ (a->name, "aarch64") && STREQ (m->firmware, "uefi"))))
    tag (fp, "  <features>\n    <acpi/>\n  </features>\n");
  if (kvm)
    tag (fp, "  <cpu mode='host-passthrough'/>\n");
  else if (a && a->tcg_cpu && !(b && b->dtb)) {
    /* As on the QEMU command line: virt's default CPU is 32-bit. */
    tag (fp, "  <cpu mode='custom' match='exact'>\n"
         "    <model fallback='forbid'>");
    put_escaped (fp, a->tcg_cpu);
    tag (fp, "</model>\n  </cpu>\n");
  }
  tag (fp, "  <on_reboot>restart</on_reboot>\n  <devices>\n"
       "    <emulator>");
  {
    CLEANUP_FREE char *path = NULL;
    if (m->qemu[0] == '/')
      path = xstrdup (m->qemu);
    else
      path = xasprintf ("/usr/bin/%s", m->qemu);
    put_escaped (fp, path);
  }
  tag (fp, "</emulator>\n");
  if (put_disk (fp, m, opts) == -1 ||
      put_nics (fp, m, opts, &qemu_args) == -1) {
    fclose (fp);
    free (xml);
    return NULL;
  }
  tag (fp, "    <serial type='pty'>\n      <target port='0'/>\n"
       "    </serial>\n    <console type='pty'>\n"
       "      <target type='serial' port='0'/>\n    </console>\n");
  put_display (fp, opts->display);
  tag (fp, "    <memballoon model='none'/>\n  </devices>\n");

  /* What libvirt cannot say: emulated devices, an NVMe disk, VDE. */
  if (STREQ (m->disk, "nvme") && opts->image) {
    CLEANUP_FREE char *abs = realpath (opts->image, NULL);
    strv_add (&qemu_args, "-drive");
    strv_addf (&qemu_args, "file=%s,if=none,id=nvme0,format=%s",
               abs ? abs : opts->image,
               opts->image_format ? opts->image_format
               : qemu_image_format (m, opts->image));
    strv_add (&qemu_args, "-device");
    strv_add (&qemu_args, "nvme,drive=nvme0,serial=mkvmimg0");
  }
  for (size_t i = 0; i < m->ndevices; ++i) {
    const struct machine_device *d = &m->devices[i];
    CLEANUP_FREE char *line = NULL;
    size_t l = 0;
    FILE *lf = open_memstream (&line, &l);
    if (!lf)
      abort ();
    fputs (d->type, lf);
    for (size_t j = 0; d->props && d->props[j]; ++j)
      fprintf (lf, ",%s", d->props[j]);
    fclose (lf);
    strv_add (&qemu_args, "-device");
    strv_add (&qemu_args, line);
  }
  if (qemu_args.len) {
    tag (fp, "  <qemu:commandline>\n");
    for (size_t i = 0; i < qemu_args.len; ++i) {
      tag (fp, "    <qemu:arg value='");
      put_escaped (fp, qemu_args.v[i]);
      tag (fp, "'/>\n");
    }
    tag (fp, "  </qemu:commandline>\n");
  }
  tag (fp, "</domain>\n");
  fclose (fp);
  return xml;
}
