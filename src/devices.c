/* Emulated devices: QEMU knows them, and some driver binds them. */
#include <config.h>

#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "mkvmimg.h"
#include "child.h"
#include "devices.h"

/* PCI IDs of QEMU's devices that people write drivers for.  A [device]
 * of another type can name its IDs with pci-id = VVVV:DDDD.
 */
static const struct { const char *type; unsigned vendor, device; } known[] = {
  { "edu", 0x1234, 0x11e8 },
  { "pci-testdev", 0x1b36, 0x0005 },
  { "ivshmem-plain", 0x1af4, 0x1110 },
  { "ivshmem-doorbell", 0x1af4, 0x1110 },
  { "virtio-rng-pci", 0x1af4, 0x1005 },
  { "e1000", 0x8086, 0x100e },
  { "e1000e", 0x8086, 0x10d3 },
};

int
devices_check_qemu (const struct profile *p)
{
  const char *qemu = profile_get (p, "machine", NULL, "qemu");
  const char *argv[] = { qemu, "-device", "help", NULL };
  CLEANUP_FREE char *help = NULL;
  size_t n = profile_count (p, "device");

  if (n == 0)
    return 0;
  help = child_run_capture (argv, NULL);
  if (!help) {
    error ("%s -device help failed: cannot check the [device] types", qemu);
    return -1;
  }
  for (size_t i = 0; i < n; ++i) {
    const char *name = profile_section_name (p, "device", i);
    const char *type = profile_get (p, "device", name, "type");
    CLEANUP_FREE char *needle = xasprintf ("name \"%s\"", type);
    if (!strstr (help, needle)) {
      error ("%s: device %s: %s does not know the device type \"%s\" "
             "(see '%s -device help'; a custom QEMU is set with "
             "[machine] qemu)", profile_where (p, "device", name, "type"),
             name, qemu, type, qemu);
      return -1;
    }
  }
  return 0;
}

/* The PCI IDs of a device: from pci-id, or the table.  false if unknown. */
static bool
device_ids (const struct profile *p, const char *name, unsigned *vendor,
            unsigned *device)
{
  const char *id = profile_get (p, "device", name, "pci-id");
  const char *type = profile_get (p, "device", name, "type");

  if (id)
    return sscanf (id, "%x:%x", vendor, device) == 2;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i)
    if (STREQ (known[i].type, type)) {
      *vendor = known[i].vendor;
      *device = known[i].device;
      return true;
    }
  return false;
}

/* Does a modalias pattern (pci:v00001234d000011E8sv*sd*bc*sc*i*) match
 * a device?  Subsystem and class are left as wildcards.
 */
static bool
alias_matches (const char *alias, unsigned vendor, unsigned device)
{
  char probe[128];
  CLEANUP_FREE char *upper = xstrdup (alias);

  for (char *c = upper; *c; ++c)
    *c = toupper ((unsigned char) *c);
  snprintf (probe, sizeof probe, "PCI:V%08XD%08XSV%08XSD%08XBC00SC00I00",
            vendor, device, 0u, 0u);
  /* Match on vendor and device only: cut the pattern after them. */
  {
    char *sv = strstr (upper, "SV");
    if (sv)
      strcpy (sv, "*");
  }
  return fnmatch (upper, probe, 0) == 0;
}

static bool
claimed_by_file (const char *modules_alias, unsigned vendor, unsigned device)
{
  CLEANUP_FCLOSE FILE *fp = modules_alias ? fopen (modules_alias, "r") : NULL;
  char line[1024];

  if (!fp)
    return false;
  while (fgets (line, sizeof line, fp)) {
    char *alias, *save;
    if (!STRPREFIX (line, "alias pci:"))
      continue;
    strtok_r (line, " \n", &save);
    alias = strtok_r (NULL, " \n", &save);
    if (alias && alias_matches (alias, vendor, device))
      return true;
  }
  return false;
}

int
devices_check_drivers (const struct profile *p, const struct module_set *set,
                       const char *modules_alias, bool strict)
{
  size_t ndev = profile_count (p, "device");
  int problems = 0;
  void (*report) (const char *, ...) = strict ? error : warning;

  /* Each module with PCI aliases should have a device to bind. */
  for (size_t m = 0; m < set->names.len; ++m) {
    const char *mod = set->names.v[m];
    bool has_pci = false, bound = false;
    for (size_t a = 0; a < set->aliases.len; ++a) {
      const char *entry = set->aliases.v[a];
      size_t n = strlen (mod);
      if (strncmp (entry, mod, n) != 0 || entry[n] != ' ' ||
          !STRPREFIX (entry + n + 1, "pci:"))
        continue;
      has_pci = true;
      for (size_t d = 0; d < ndev && !bound; ++d) {
        unsigned v, dv;
        if (device_ids (p, profile_section_name (p, "device", d), &v, &dv) &&
            alias_matches (entry + n + 1, v, dv))
          bound = true;
      }
    }
    if (has_pci && !bound) {
      report ("module %s: no [device] in the machine matches its PCI "
              "aliases, so it will not bind", mod);
      problems++;
    }
  }
  /* Each device with known IDs should be claimed by some module. */
  for (size_t d = 0; d < ndev; ++d) {
    const char *name = profile_section_name (p, "device", d);
    unsigned v, dv;
    bool claimed = false;
    if (!device_ids (p, name, &v, &dv))
      continue;
    for (size_t a = 0; a < set->aliases.len && !claimed; ++a) {
      const char *alias = strchr (set->aliases.v[a], ' ');
      if (alias && STRPREFIX (alias + 1, "pci:") &&
          alias_matches (alias + 1, v, dv))
        claimed = true;
    }
    if (!claimed)
      claimed = claimed_by_file (modules_alias, v, dv);
    if (!claimed) {
      report ("device %s (%s, PCI %04x:%04x): no module in the image "
              "claims it", name, profile_get (p, "device", name, "type"),
              v, dv);
      problems++;
    }
  }
  return strict && problems ? -1 : 0;
}
