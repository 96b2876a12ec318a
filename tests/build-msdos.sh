#!/bin/sh
# An msdos-labelled BIOS image (GRUB's core in the gap after the MBR)
# with swap and a data partition boots, and its fstab names them all.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd blkid

make_marker_root "$tmp/root" MKVMIMG-MSDOS-ROOT-OK
cat > "$tmp/msdos.conf" <<EOS
[image]
table = msdos
format = raw
seed = msdos-test
[rootfs]
source = dir:$tmp/root
[partition root]
size = 128M
[partition swap]
size = 16M
[partition data]
size = 16M
mount = /srv/data
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = bios
timeout = 0
EOS
$MKVMIMG build "$tmp/msdos.conf" -o "$tmp/msdos.img"
sfdisk -d "$tmp/msdos.img" > "$tmp/table"
grep -q '^label: dos' "$tmp/table" || fail "not an msdos label"
[ "$(grep -c '^/' "$tmp/table")" -eq 3 ] || { cat "$tmp/table"; fail "3 partitions expected"; }
grep -q 'type=82' "$tmp/table" || fail "no swap partition type"

boot_expect "$tmp/msdos.img" MKVMIMG-MSDOS-ROOT-OK
grep -q ' none swap sw ' "$tmp/console.log" || fail "swap not in fstab"
grep -q ' /srv/data ext4 ' "$tmp/console.log" || fail "data not in fstab"

# Seeded builds are reproducible in their UUIDs.
$MKVMIMG build "$tmp/msdos.conf" -o "$tmp/again.img"
table_of ()
{
  sfdisk -d "$1" | sed -e "s|^$1||" -e '/^device:/d'
}
[ "$(table_of "$tmp/msdos.img")" = "$(table_of "$tmp/again.img")" ] || fail "seeded layouts differ"
echo OK
