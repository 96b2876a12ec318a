/* GRUB for BIOS (i386-pc) without grub-install or grub-bios-setup: make
 * core.img with grub-mkimage, embed it in the BIOS boot partition (GPT)
 * or the gap after the MBR (msdos), write boot.img to sector 0 keeping
 * the partition table, and patch the two sector pointers the way
 * grub-bios-setup does for a hard disk.
 */
#include <config.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "mkvmimg.h"
#include "grub.h"
#include "tempfiles.h"

#define SECTOR 512

/* Offsets in boot.img (GRUB's include/grub/i386/pc/boot.h). */
#define BOOT_BPB_START      0x03 /* a FAT/NTFS BPB would be here */
#define BOOT_BPB_END        0x5a
#define BOOT_KERNEL_SECTOR  0x5c /* LBA of core.img's first sector, 64 bit */
#define BOOT_BOOT_DRIVE     0x64 /* 0xff: the drive the BIOS booted from */
#define BOOT_DRIVE_CHECK    0x66 /* "jmp 3f" over the DL sanity check */
#define BOOT_NT_MAGIC       0x1b8 /* disk signature, then the partitions */
#define BOOT_SIGNATURE      0x1fe /* 0x55 0xaa */

/* The last (first used) blocklist entry of diskboot.img, at the end of
 * core.img's first sector: { uint64 start; uint16 len; uint16 segment; }
 * little endian.  diskboot loads len sectors from start to segment:0.
 */
#define DISKBOOT_LIST       (SECTOR - 12)
#define DISKBOOT_LIST_LEN   (DISKBOOT_LIST + 8)
#define DISKBOOT_LIST_SEG   (DISKBOOT_LIST + 10)
#define DISKBOOT_SEGMENT    0x820 /* GRUB_BOOT_MACHINE_KERNEL_SEG + 0x20 */

/* Modules built into core.img: enough to find the root filesystem, read
 * grub.cfg and boot Linux without /boot/grub/i386-pc.
 */
static const char *const bios_modules[] = {
  "biosdisk", "part_gpt", "part_msdos", "ext2",
  "search", "search_fs_uuid", "search_fs_file", "search_label",
  "normal", "configfile", "linux", "boot", "echo", "test", "gzio",
  "serial", "terminal", "ls", "cat", "halt", "reboot", "sleep",
  NULL
};

static int
pread_all (int fd, void *buf, size_t len, uint64_t offset, const char *what)
{
  ssize_t r;
  size_t done = 0;

  while (done < len) {
    r = pread (fd, (char *) buf + done, len - done, offset + done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      error_errno ("grub bios: read %s", what);
      return -1;
    }
    if (r == 0) {
      error ("grub bios: read %s: the image ends at byte %llu", what,
             (unsigned long long) (offset + done));
      return -1;
    }
    done += r;
  }
  return 0;
}

static int
pwrite_all (int fd, const void *buf, size_t len, uint64_t offset,
            const char *what)
{
  ssize_t r;
  size_t done = 0;

  while (done < len) {
    r = pwrite (fd, (const char *) buf + done, len - done, offset + done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      error_errno ("grub bios: write %s", what);
      return -1;
    }
    done += r;
  }
  return 0;
}

/* On msdos, core.img lives in the gap before the first partition: check
 * that no partition in the MBR starts before the end of core.img.
 */
static int
check_msdos_gap (const unsigned char *mbr, uint64_t core_lba,
                 uint64_t core_sectors)
{
  int i;

  for (i = 0; i < 4; i++) {
    const unsigned char *p = mbr + 0x1be + 16 * i;
    uint32_t start, len;

    memcpy (&start, p + 8, 4);
    memcpy (&len, p + 12, 4);
    start = le32toh (start);
    len = le32toh (len);
    if (p[4] == 0 || len == 0)
      continue;
    if (start < core_lba + core_sectors && start + (uint64_t) len > core_lba) {
      error ("grub bios: core.img (sectors %llu..%llu) overlaps partition %d "
             "(starting at sector %u); leave 1 MiB before the first "
             "partition", (unsigned long long) core_lba,
             (unsigned long long) (core_lba + core_sectors - 1), i + 1,
             start);
      return -1;
    }
  }
  return 0;
}

int
grub_install_bios (const char *image, const struct grub_config *cfg,
                   bool msdos, uint64_t core_offset, uint64_t core_max)
{
  CLEANUP_FREE char *core_file = NULL, *boot_file = NULL;
  CLEANUP_FREE unsigned char *core = NULL, *boot = NULL;
  CLEANUP_CLOSE int fd = -1;
  unsigned char sector0[SECTOR];
  size_t core_len, boot_len, core_sectors;
  uint64_t core_lba, v64;
  uint16_t v16;

  if (core_offset % SECTOR != 0 || core_offset == 0) {
    error ("grub bios: core.img offset %llu is not a sector after sector 0",
           (unsigned long long) core_offset);
    return -1;
  }
  core_lba = core_offset / SECTOR;

  if (!tmpdir_get ())
    return -1;
  core_file = tmpdir_path ("core.img");
  if (grub_mkimage ("i386-pc", core_file, cfg, bios_modules) == -1)
    return -1;
  core = (unsigned char *) read_whole_file (core_file, &core_len);
  if (!core)
    return -1;
  boot_file = xasprintf ("%s/i386-pc/boot.img", GRUB_LIB (cfg));
  boot = (unsigned char *) read_whole_file (boot_file, &boot_len);
  if (!boot)
    return -1;

  if (boot_len != SECTOR || boot[BOOT_SIGNATURE] != 0x55 ||
      boot[BOOT_SIGNATURE + 1] != 0xaa || boot[BOOT_DRIVE_CHECK] != 0xeb) {
    error ("grub bios: %s is not the boot.img this version knows "
           "(512 bytes, a jump at 0x%x, 0x55aa)", boot_file,
           BOOT_DRIVE_CHECK);
    return -1;
  }
  memcpy (&v16, core + DISKBOOT_LIST_SEG, 2);
  if (core_len < 2 * SECTOR || le16toh (v16) != DISKBOOT_SEGMENT) {
    error ("grub bios: %s does not start with diskboot.img "
           "(blocklist segment 0x%x at 0x%x)", core_file, DISKBOOT_SEGMENT,
           DISKBOOT_LIST_SEG);
    return -1;
  }

  /* core.img is written in whole sectors. */
  core_sectors = (core_len + SECTOR - 1) / SECTOR;
  if (core_sectors * SECTOR > core_max) {
    error ("grub bios: core.img (%zu bytes) does not fit in the %llu bytes "
           "of the %s", core_len, (unsigned long long) core_max,
           msdos ? "gap after the MBR" : "BIOS boot partition");
    return -1;
  }
  if (core_sectors - 1 > 0xffff) {
    error ("grub bios: core.img is too large for one blocklist");
    return -1;
  }
  core = xrealloc (core, core_sectors * SECTOR);
  memset (core + core_len, 0, core_sectors * SECTOR - core_len);

  /* diskboot.img: the rest of core.img follows its first sector. */
  v64 = htole64 (core_lba + 1);
  memcpy (core + DISKBOOT_LIST, &v64, 8);
  v16 = htole16 (core_sectors - 1);
  memcpy (core + DISKBOOT_LIST_LEN, &v16, 2);
  v16 = htole16 (DISKBOOT_SEGMENT);
  memcpy (core + DISKBOOT_LIST_SEG, &v16, 2);

  fd = open (image, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    error_errno ("grub bios: open %s", image);
    return -1;
  }
  if (pread_all (fd, sector0, SECTOR, 0, "sector 0") == -1)
    return -1;
  if (sector0[BOOT_SIGNATURE] != 0x55 || sector0[BOOT_SIGNATURE + 1] != 0xaa) {
    error ("grub bios: %s: sector 0 holds no partition table (no 0x55aa "
           "signature); partition the disk first", image);
    return -1;
  }
  /* The first MBR entry of a GPT disk is the protective one (0xee). */
  if (msdos == (sector0[0x1be + 4] == 0xee)) {
    error ("grub bios: %s: %s", image,
           msdos ? "the disk has a GPT, not an msdos partition table"
           : "the disk has no GPT (no protective MBR)");
    return -1;
  }
  if (msdos && check_msdos_gap (sector0, core_lba, core_sectors) == -1)
    return -1;
  if (!msdos && core_lba < 34) {
    error ("grub bios: core.img at sector %llu would overwrite the GPT",
           (unsigned long long) core_lba);
    return -1;
  }

  /* boot.img, keeping from the old sector 0 what grub-bios-setup keeps
   * for a hard disk: a BPB, the disk signature and the partition table.
   */
  memcpy (boot + BOOT_BPB_START, sector0 + BOOT_BPB_START,
          BOOT_BPB_END - BOOT_BPB_START);
  memcpy (boot + BOOT_NT_MAGIC, sector0 + BOOT_NT_MAGIC,
          BOOT_SIGNATURE - BOOT_NT_MAGIC);
  v64 = htole64 (core_lba);
  memcpy (boot + BOOT_KERNEL_SECTOR, &v64, 8);
  /* Use the drive in DL, and take the drive check (force DL to 0x80 when
   * a buggy BIOS passes a floppy number): NOP the jump over it.
   */
  boot[BOOT_BOOT_DRIVE] = 0xff;
  boot[BOOT_DRIVE_CHECK] = 0x90;
  boot[BOOT_DRIVE_CHECK + 1] = 0x90;

  if (pwrite_all (fd, core, core_sectors * SECTOR, core_offset,
                  "core.img") == -1)
    return -1;
  if (pwrite_all (fd, boot, SECTOR, 0, "boot.img to sector 0") == -1)
    return -1;
  /* No fsync: this is the working file, which is only read back. */
  debug ("grub bios: core.img: %zu bytes, %zu sectors at LBA %llu",
         core_len, core_sectors, (unsigned long long) core_lba);
  return 0;
}
