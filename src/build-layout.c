/* Disk layout from the profile: partitions, filesystems, UUIDs. */
#include <config.h>

#include <string.h>

#include "mkvmimg.h"
#include "build-layout.h"
#include "uuid.h"
#include "vfat.h"

#define MiB (1024ULL * 1024)
#define DEFAULT_ESP_SIZE (64 * MiB)

static enum part_type
type_of (const char *type)
{
  if (STREQ (type, "bios")) return PART_BIOS;
  if (STREQ (type, "esp")) return PART_ESP;
  if (STREQ (type, "swap")) return PART_SWAP;
  return PART_LINUX;
}

static enum fs_type
fs_of (const char *fs, enum part_type type)
{
  if (fs) {
    if (STREQ (fs, "ext4")) return FS_EXT4;
    if (STREQ (fs, "vfat")) return FS_VFAT;
    if (STREQ (fs, "swap")) return FS_SWAP;
    return FS_NONE;
  }
  switch (type) {
  case PART_BIOS: return FS_NONE;
  case PART_ESP: return FS_VFAT;
  case PART_SWAP: return FS_SWAP;
  default: return FS_EXT4;
  }
}

static int
add_part (struct disk_plan *plan, const char *name, enum part_type type,
          uint64_t size, const char *fs, const char *mount, const char *label)
{
  size_t i = plan->layout.nparts;
  struct part *part = &plan->parts[i];
  struct plan_part *info = &plan->info[i];

  if (i >= MAX_PARTS) {
    error ("too many partitions (at most %d)", MAX_PARTS);
    return -1;
  }
  info->name = xstrdup (name);
  part->name = info->name;
  part->type = type;
  part->size = size;
  info->fs = fs_of (fs, type);
  if (mount)
    info->mount = xstrdup (mount);
  else if (STREQ (name, "root"))
    info->mount = xstrdup ("/");
  else if (type == PART_ESP)
    info->mount = xstrdup ("/boot/efi");
  info->label = xstrdup (label ? label : name);
  plan->layout.nparts++;
  if (info->mount && STREQ (info->mount, "/"))
    plan->root = i;
  if (type == PART_ESP && plan->esp == -1)
    plan->esp = i;
  if (type == PART_BIOS)
    plan->bios = i;
  if (type == PART_SWAP && plan->swap == -1)
    plan->swap = i;
  return 0;
}

/* The layout a loader needs when the profile names no partitions. */
static int
default_parts (struct disk_plan *plan, const struct profile *p)
{
  const char *loader = plan->loader;
  bool gpt = !plan->layout.msdos;
  const char *label = profile_get (p, "rootfs", NULL, "label");

  if (gpt && (STREQ (loader, "bios") || STREQ (loader, "hybrid")))
    if (add_part (plan, "bios", PART_BIOS, MiB, NULL, NULL, NULL) == -1)
      return -1;
  if (STREQ (loader, "uefi") || STREQ (loader, "hybrid"))
    if (add_part (plan, "esp", PART_ESP, DEFAULT_ESP_SIZE, NULL, NULL,
                  "ESP") == -1)
      return -1;
  return add_part (plan, "root", PART_LINUX, 0, NULL, "/", label);
}

static int
profile_parts (struct disk_plan *plan, const struct profile *p)
{
  size_t n = profile_count (p, "partition");

  for (size_t i = 0; i < n; ++i) {
    const char *name = profile_section_name (p, "partition", i);
    const char *type = profile_get (p, "partition", name, "type");
    enum part_type t = type ? type_of (type) : type_of (name);
    uint64_t size = profile_is_set (p, "partition", name, "size")
      ? profile_get_size (p, "partition", name, "size") : 0;
    const char *label = profile_get (p, "partition", name, "label");

    if (size == 0 && i + 1 < n) {
      error ("%s: partition %s: only the last partition may leave out its "
             "size", profile_where (p, "partition", name, "size"), name);
      return -1;
    }
    if (STREQ (name, "root") && !label)
      label = profile_get (p, "rootfs", NULL, "label");
    if (add_part (plan, name, t, size,
                  profile_get (p, "partition", name, "fs"),
                  profile_get (p, "partition", name, "mount"), label) == -1)
      return -1;
  }
  return 0;
}

/* The loader needs certain partitions; say which is missing. */
static int
check_parts (const struct disk_plan *plan)
{
  const char *loader = plan->loader;
  bool bios = STREQ (loader, "bios") || STREQ (loader, "hybrid");
  bool efi = STREQ (loader, "uefi") || STREQ (loader, "hybrid");

  if (plan->root == -1) {
    error ("the layout has no root filesystem: name a partition \"root\" "
           "or give one \"mount = /\"");
    return -1;
  }
  if (plan->info[plan->root].fs != FS_EXT4) {
    error ("partition %s: the root filesystem must be ext4",
           plan->info[plan->root].name);
    return -1;
  }
  if (bios && !plan->layout.msdos && plan->bios == -1) {
    error ("loader %s on a GPT disk needs a BIOS boot partition "
           "([partition bios] with size = 1M)", loader);
    return -1;
  }
  if (plan->layout.msdos && plan->bios != -1) {
    error ("an msdos disk has no BIOS boot partition: GRUB goes in the gap "
           "before the first partition; remove [partition %s]",
           plan->info[plan->bios].name);
    return -1;
  }
  if (efi && plan->esp == -1) {
    error ("loader %s needs an EFI system partition ([partition esp])",
           loader);
    return -1;
  }
  return 0;
}

int
plan_disk (const struct profile *p, uint64_t root_bytes,
           struct disk_plan *plan)
{
  const char *seed = profile_get (p, "image", NULL, "seed");
  uint64_t needed, given;
  struct part *root;

  memset (plan, 0, sizeof *plan);
  plan->root = plan->esp = plan->bios = plan->swap = -1;
  plan->loader = xstrdup (profile_get (p, "boot", NULL, "loader"));
  plan->layout.msdos = STREQ (profile_get (p, "image", NULL, "table"),
                              "msdos");
  plan->layout.parts = plan->parts;

  if (profile_count (p, "partition") > 0) {
    if (profile_parts (plan, p) == -1)
      return -1;
  }
  else if (default_parts (plan, p) == -1)
    return -1;
  if (check_parts (plan) == -1)
    return -1;

  /* The root filesystem: its given size must hold the content. */
  root = &plan->parts[plan->root];
  if (root->size && root->size < root_bytes) {
    error ("partition %s: %llu MiB is too small for the content: it needs "
           "at least %llu MiB", root->name,
           (unsigned long long) (root->size / MiB),
           (unsigned long long) ((root_bytes + MiB - 1) / MiB));
    return -1;
  }

  /* A partition without a size takes the rest of a given disk size, or
   * (only the root) what the content needs.
   */
  given = profile_is_set (p, "image", NULL, "size")
    ? profile_get_size (p, "image", NULL, "size") : 0;
  {
    struct part *last = &plan->parts[plan->layout.nparts - 1];
    uint64_t min_last = last == root ? root_bytes : MiB;
    needed = partition_disk_size (&plan->layout, min_last);
    if (given && given < needed) {
      error ("image size %llu MiB is too small for the content: it needs "
             "at least %llu MiB (%s)", (unsigned long long) (given / MiB),
             (unsigned long long) ((needed + MiB - 1) / MiB),
             profile_where (p, "image", NULL, "size"));
      return -1;
    }
    plan->layout.disk_size = given ? given : needed;
  }
  /* QEMU's SD card emulation takes only power-of-two sizes. */
  if (STREQ (profile_get (p, "machine", NULL, "disk"), "sd")) {
    uint64_t pow2 = MiB;
    while (pow2 < plan->layout.disk_size)
      pow2 <<= 1;
    if (given && given != pow2) {
      error ("image size %llu MiB: an SD card (disk = sd) must be a power "
             "of two in size, such as %llu MiB (%s)",
             (unsigned long long) (given / MiB),
             (unsigned long long) (pow2 / MiB),
             profile_where (p, "image", NULL, "size"));
      return -1;
    }
    plan->layout.disk_size = pow2;
  }

  uuid_make (plan->layout.disk_uuid, seed, "disk");
  plan->layout.disk_signature = uuid_make32 (seed, "mbr");
  uuid_make (plan->hash_seed, seed, "ext4-hash-seed");
  for (size_t i = 0; i < plan->layout.nparts; ++i) {
    CLEANUP_FREE char *purpose = xasprintf ("part:%s", plan->info[i].name);
    CLEANUP_FREE char *fspurpose = xasprintf ("fs:%s", plan->info[i].name);
    uuid_make (plan->parts[i].uuid, seed, purpose);
    uuid_make (plan->info[i].fs_uuid, seed, fspurpose);
    plan->info[i].vfat_id = uuid_make32 (seed, fspurpose);
  }
  return 0;
}

void
plan_free (struct disk_plan *plan)
{
  for (size_t i = 0; i < plan->layout.nparts; ++i) {
    free (plan->info[i].name);
    free (plan->info[i].mount);
    free (plan->info[i].label);
  }
  free (plan->loader);
  memset (plan, 0, sizeof *plan);
}

char *
plan_fstab (const struct disk_plan *plan)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&buf, &len);

  if (!fp) {
    error_errno ("open_memstream");
    return NULL;
  }
  fprintf (fp, "# /etc/fstab: written by mkvmimg from the image layout.\n"
           "# <file system> <mount point> <type> <options> <dump> <pass>\n");
  for (size_t i = 0; i < plan->layout.nparts; ++i) {
    const struct plan_part *info = &plan->info[i];
    switch (info->fs) {
    case FS_EXT4:
      if (!info->mount)
        break;
      fprintf (fp, "UUID=%s %s ext4 %s 0 %d\n", info->fs_uuid, info->mount,
               STREQ (info->mount, "/") ? "errors=remount-ro" : "defaults",
               STREQ (info->mount, "/") ? 1 : 2);
      break;
    case FS_VFAT:
      if (!info->mount)
        break;
      {
        CLEANUP_FREE char *id = vfat_uuid_string (info->vfat_id);
        fprintf (fp, "UUID=%s %s vfat umask=0077 0 1\n", id, info->mount);
      }
      break;
    case FS_SWAP:
      fprintf (fp, "UUID=%s none swap sw 0 0\n", info->fs_uuid);
      break;
    case FS_NONE:
      break;
    }
  }
  fclose (fp);
  return buf;
}
