#!/bin/sh
# grub_install_bios on GPT and msdos disks made with sfdisk: sector 0 is
# boot.img with the partition table, disk signature and 0x55aa kept, the
# kernel sector, boot drive and drive check patched; core.img sits where
# it was asked for with diskboot's blocklist pointing at its next sector;
# the tables are unchanged; what does not fit is refused, disk untouched.
. "$top_srcdir/tests/functions.sh"

requires sfdisk grub-mkimage od cmp
test_grub="$top_builddir/tests/test-grub"
[ -x "$test_grub" ] || fail "$test_grub is not built"
boot_img=/usr/lib/grub/i386-pc/boot.img
diskboot_img=/usr/lib/grub/i386-pc/diskboot.img
uuid=0a1b2c3d-1111-2222-3333-444455556666

# u64 FILE OFFSET / u16 FILE OFFSET / u8 FILE OFFSET: little endian.
u64 () { od -An -t u8 -j "$2" -N 8 --endian=little "$1" | tr -d ' '; }
u16 () { od -An -t u2 -j "$2" -N 2 --endian=little "$1" | tr -d ' '; }
u8 () { od -An -t x1 -j "$2" -N 1 "$1" | tr -d ' '; }
# same FILE1 OFFSET1 FILE2 OFFSET2 LENGTH
same () { cmp -s -n "$5" -i "$2:$4" "$1" "$3"; }

# check_disk DISK CORE_LBA SAVED_SECTOR0
check_disk ()
{
  disk=$1 lba=$2 old=$3
  same "$disk" 0 "$boot_img" 0 3 || fail "$disk: boot.img's jump is not at 0"
  same "$disk" 3 "$old" 3 $((0x5a - 3)) || fail "$disk: the BPB area was not kept"
  same "$disk" $((0x5a)) "$boot_img" $((0x5a)) 2 || fail "$disk: kernel address"
  [ "$(u64 "$disk" $((0x5c)))" = "$lba" ] ||
    fail "$disk: kernel sector is $(u64 "$disk" $((0x5c))), not $lba"
  [ "$(u8 "$disk" $((0x64)))" = ff ] || fail "$disk: boot drive is not 0xff"
  [ "$(u8 "$disk" $((0x66)))$(u8 "$disk" $((0x67)))" = 9090 ] ||
    fail "$disk: the drive check jump is not NOPed"
  same "$disk" $((0x68)) "$boot_img" $((0x68)) $((0x1b8 - 0x68)) ||
    fail "$disk: boot.img's code differs"
  same "$disk" 440 "$old" 440 72 ||
    fail "$disk: disk signature, partition table or 0x55aa changed"
  [ "$(u16 "$disk" 510)" = 43605 ] || fail "$disk: no 0x55aa"

  # core.img: diskboot.img, then the rest where its blocklist says.
  core=$((lba * 512))
  same "$disk" $core "$diskboot_img" 0 $((512 - 12)) ||
    fail "$disk: no diskboot.img at sector $lba"
  start=$(u64 "$disk" $((core + 0x1f4)))
  len=$(u16 "$disk" $((core + 0x1fc)))
  seg=$(u16 "$disk" $((core + 0x1fe)))
  [ "$start" = $((lba + 1)) ] || fail "$disk: blocklist start $start, not $((lba + 1))"
  [ "$seg" = $((0x820)) ] || fail "$disk: blocklist segment $seg"
  # The length covers what grub-mkimage made: the image of the same
  # config and modules has that many sectors after its first.
  [ "$len" -gt 20 ] || fail "$disk: blocklist length $len"
  [ "$len" = "$expected_len" ] || fail "$disk: blocklist length $len, core.img has $expected_len more sectors"
  # The next entry down (the list's end) is empty.
  [ "$(u16 "$disk" $((core + 0x1f0)))" = 0 ] || fail "$disk: a second blocklist entry"
}

# The size of core.img for this UUID, as grub-mkimage itself makes it
# (with the same modules: test-grub -v prints the command line).
TEST_GRUB_VERBOSE=1 "$test_grub" bios /dev/null gpt 1M 1M $uuid 2> "$tmp/v" || :
modules=$(sed -n 's/.*running: grub-mkimage .* -o [^ ]* //p' "$tmp/v")
[ -n "$modules" ] || { cat "$tmp/v"; fail "no grub-mkimage command line under -v"; }
printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\n' \
  $uuid > "$tmp/early.cfg"
# shellcheck disable=SC2086
grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -c "$tmp/early.cfg" \
  -p /boot/grub -o "$tmp/core.img" $modules
size=$(stat -c %s "$tmp/core.img")
expected_len=$(( (size + 511) / 512 - 1 ))
echo "core.img: $size bytes, $((expected_len + 1)) sectors"

# --- GPT -----------------------------------------------------------------
gpt="$tmp/gpt.raw"
truncate -s 16M "$gpt"
sfdisk -q "$gpt" <<SFDISK
label: gpt
unit: sectors
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
SFDISK
sfdisk -d "$gpt" > "$tmp/gpt.table"
dd if="$gpt" of="$tmp/gpt.sector0" bs=512 count=1 status=none

# Too small a BIOS boot partition: refused, the disk untouched.
cp "$gpt" "$tmp/gpt.copy"
expect_fail "$test_grub" bios "$gpt" gpt $((2048 * 512)) 32K $uuid
cmp "$gpt" "$tmp/gpt.copy" || fail "a refused install changed the disk"
# Not on a sector boundary, or at sector 0: refused.
expect_fail "$test_grub" bios "$gpt" gpt 1000 1M $uuid
expect_fail "$test_grub" bios "$gpt" gpt 0 1M $uuid
# Over the GPT itself, or as if it were an msdos disk: refused.
expect_fail "$test_grub" bios "$gpt" gpt 512 1M $uuid
expect_fail "$test_grub" bios "$gpt" msdos 512 $((2047 * 512)) $uuid
cmp "$gpt" "$tmp/gpt.copy" || fail "a refused install changed the disk"

"$test_grub" bios "$gpt" gpt $((2048 * 512)) $((2048 * 512)) $uuid
check_disk "$gpt" 2048 "$tmp/gpt.sector0"
sfdisk -d "$gpt" | cmp - "$tmp/gpt.table" || fail "the GPT changed"
sfdisk --verify "$gpt" > "$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "sfdisk --verify"; }
# core.img itself, apart from the blocklist, as grub-mkimage made it.
same "$gpt" $((2049 * 512)) "$tmp/core.img" 512 $((size - 512)) ||
  fail "core.img is not at sectors 2049.. of the GPT disk"
# Nothing written past the end of core.img.
cmp -s -n $((4096 * 512 - (2049 + expected_len) * 512)) \
  -i $(((2049 + expected_len) * 512)):0 "$gpt" /dev/zero ||
  fail "data after core.img in the BIOS boot partition"

# --- msdos ---------------------------------------------------------------
dos="$tmp/dos.raw"
truncate -s 16M "$dos"
sfdisk -q "$dos" <<SFDISK
label: dos
label-id: 0x4d4b5649
unit: sectors
start=2048, type=83, bootable
SFDISK
sfdisk -d "$dos" > "$tmp/dos.table"
dd if="$dos" of="$tmp/dos.sector0" bs=512 count=1 status=none
"$test_grub" bios "$dos" msdos 512 $((2047 * 512)) $uuid
check_disk "$dos" 1 "$tmp/dos.sector0"
sfdisk -d "$dos" | cmp - "$tmp/dos.table" || fail "the msdos table changed"
od -An -t x4 -j 440 -N 4 --endian=little "$dos" | grep -q 4d4b5649 ||
  fail "the disk signature was not kept"

# A partition inside the gap: refused, the disk untouched.
bad="$tmp/bad.raw"
truncate -s 16M "$bad"
printf 'label: dos\nunit: sectors\nstart=64, type=83\n' | sfdisk -q "$bad"
cp "$bad" "$tmp/bad.copy"
expect_fail "$test_grub" bios "$bad" msdos 512 $((63 * 512)) $uuid
expect_fail "$test_grub" bios "$bad" msdos 512 $((2047 * 512)) $uuid
expect_fail "$test_grub" bios "$bad" gpt $((2048 * 512)) 1M $uuid
cmp "$bad" "$tmp/bad.copy" || fail "a refused install changed the disk"

# No partition table at all: refused.
truncate -s 4M "$tmp/blank.raw"
expect_fail "$test_grub" bios "$tmp/blank.raw" msdos 512 $((2047 * 512)) $uuid
cmp -s -n 4194304 "$tmp/blank.raw" /dev/zero || fail "a refused install wrote to a blank disk"
