#!/bin/sh
# The ESP: vfat_mkfs at a partition's offset, vfat_add_file with mtools,
# checked with mdir/mtype/mcopy, fsck.fat and blkid.
. "$top_srcdir/tests/functions.sh"
requires mdir mtype mcopy fsck.fat blkid
T="$top_builddir/tests/test-disk"
export MTOOLS_SKIP_CHECK=1

img="$tmp/disk.img"
$T layout "$img" gpt bios:1M esp:64M root:0 --seed vfat --size 256M >"$tmp/layout"
off=$(awk '$2 == "esp" { print $3 }' "$tmp/layout")
size=$(awk '$2 == "esp" { print $4 }' "$tmp/layout")
[ "$off" -eq 2097152 ] || fail "ESP offset $off"

uuid=$($T vfat "$img" "$off" "$size" ESP 1a2b3c4d)
[ "$uuid" = "1A2B-3C4D" ] || fail "vfat_uuid_string: $uuid"

# A binary file at the removable-media path, another one beside it, and
# the first one again (replaced in place, directories already there).
head -c 300000 /dev/urandom >"$tmp/bootx64.efi"
head -c 5000 /dev/urandom >"$tmp/grub.cfg"
$T addfile "$img" "$off" "$tmp/bootx64.efi" /EFI/BOOT/BOOTX64.EFI
$T addfile "$img" "$off" "$tmp/grub.cfg" /EFI/BOOT/grub.cfg
head -c 200000 /dev/urandom >"$tmp/bootx64.efi"
$T addfile "$img" "$off" "$tmp/bootx64.efi" /EFI/BOOT/BOOTX64.EFI

mdir -i "$img@@$off" ::/EFI/BOOT >"$tmp/mdir"
cat "$tmp/mdir"
grep -q "BOOTX64  *EFI  *200000" "$tmp/mdir" || fail "mdir does not list BOOTX64.EFI"
mtype -i "$img@@$off" ::/EFI/BOOT/BOOTX64.EFI >"$tmp/back"
cmp "$tmp/back" "$tmp/bootx64.efi" || fail "mtype gives different bytes"
mcopy -i "$img@@$off" ::/EFI/BOOT/grub.cfg "$tmp/back2"
cmp "$tmp/back2" "$tmp/grub.cfg" || fail "mcopy gives different bytes"

# The filesystem itself, extracted from the image.
dd if="$img" of="$tmp/esp.img" bs=1M skip=$((off / 1048576)) count=$((size / 1048576)) status=none
fsck.fat -n "$tmp/esp.img" >"$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "fsck.fat"; }
cat "$tmp/fsck"
! grep -qi "warning" "$tmp/fsck" || fail "fsck.fat warns"
blkid -p -o export "$tmp/esp.img" >"$tmp/blkid"
cat "$tmp/blkid"
grep -q "^TYPE=vfat$" "$tmp/blkid" || fail "blkid TYPE"
grep -q "^LABEL=ESP$" "$tmp/blkid" || fail "blkid LABEL"
grep -q "^UUID=1A2B-3C4D$" "$tmp/blkid" || fail "blkid UUID"
grep -q "^VERSION=FAT32$" "$tmp/blkid" || fail "a 64 MiB ESP should be FAT32"
# And in place, at the partition's offset.
blkid -p -o export --offset "$off" "$img" | grep -q "^UUID=1A2B-3C4D$" || fail "blkid --offset"
# The partition table and what lies outside the ESP are untouched.
sfdisk --verify "$img" | grep -q "No errors detected" || fail "table damaged"
$T layout "$tmp/disk.orig" gpt bios:1M esp:64M root:0 --seed vfat --size 256M >/dev/null
cmp -n "$off" "$img" "$tmp/disk.orig" || fail "bytes before the ESP changed"
end=$((off + size))
cmp -i "$end" "$img" "$tmp/disk.orig" || fail "bytes after the ESP changed"

# Small sizes: FAT16 and FAT12, still checked clean.
for s in 8M 2M; do
  truncate -s 16M "$tmp/small.img"
  $T vfat "$tmp/small.img" 0 $s SMALL 00000001 >/dev/null
  fsck.fat -n "$tmp/small.img" >"$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "fsck.fat $s"; }
  $T addfile "$tmp/small.img" 0 "$tmp/grub.cfg" /a/b/c.cfg
  mtype -i "$tmp/small.img" ::/a/b/c.cfg | cmp - "$tmp/grub.cfg" || fail "small $s"
  rm "$tmp/small.img"
done

# Errors: a filesystem that does not fit in the file; a missing host file.
expect_fail $T vfat "$img" $((250 * 1048576)) 64M ESP 1 2>"$tmp/err"
grep -q "does not fit" "$tmp/err" || fail "no error for a vfat past the end"
expect_fail $T addfile "$img" "$off" "$tmp/nonexistent" /EFI/x 2>"$tmp/err"
grep -q "nonexistent" "$tmp/err" || fail "missing host file message"
echo OK
