#!/bin/sh
# mkvmimg inspect on images other tools made: qemu-img create, sfdisk,
# mkfs.vfat + mtools for an ESP with \EFI\BOOT\BOOTX64.EFI, mkfs.ext4 -d
# for a root with os-release and a module under updates/; as raw, as
# qcow2, through an NBD URI, and a disk without a partition table.  The
# values are checked against blkid and what was put there; the bytes of
# the image do not change.
. "$top_srcdir/tests/functions.sh"
requires qemu-img qemu-nbd sfdisk mkfs.vfat mmd mcopy mkfs.ext4 blkid jq

cd "$tmp"
mkdir -p root/etc root/boot root/lib/modules/9.9.9-test/kernel/drivers \
  root/lib/modules/9.9.9-test/updates root/etc/modules-load.d
printf 'PRETTY_NAME="Foreign Linux 1.0"\nNAME="Foreign"\nID=foreign\nVERSION_ID="1.0"\n' > root/etc/os-release
echo foreignhost > root/etc/hostname
echo notakernel > root/boot/vmlinuz-9.9.9-test
# As a buildroot or kernel tree names an arm64 and an armhf kernel.
echo notakernel > root/boot/Image
echo notakernel > root/boot/zImage
echo notaninitrd > root/boot/initrd.img-9.9.9-test
echo x > root/lib/modules/9.9.9-test/kernel/drivers/a.ko
echo x > root/lib/modules/9.9.9-test/kernel/drivers/b.ko.xz
echo x > root/lib/modules/9.9.9-test/updates/mine.ko
echo mine > root/etc/modules-load.d/mine.conf

qemu-img create -q -f raw disk.raw 64M
sfdisk -q disk.raw <<EOS
label: gpt
start=2048, size=32768, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
start=34816, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="linux root"
EOS
mkfs.vfat -n MYESP -C esp.img 16384 > /dev/null
mmd -i esp.img ::/EFI ::/EFI/BOOT
head -c 12345 /dev/urandom > bootx64.efi
mcopy -i esp.img bootx64.efi ::/EFI/BOOT/BOOTX64.EFI
mcopy -i esp.img bootx64.efi "::/EFI/a long file name.efi"
rootsize=$(( (65536 - 34816 - 33) * 512 ))
mkfs.ext4 -q -L foreignroot -d root -F root.img $((rootsize / 1024))k
dd if=esp.img of=disk.raw bs=512 seek=2048 conv=notrunc status=none
dd if=root.img of=disk.raw bs=512 seek=34816 conv=notrunc status=none
qemu-img convert -O qcow2 disk.raw disk.qcow2

check ()
{
  j=$1
  [ "$(jq -r .partition_table.type "$j")" = gpt ] || fail "$j: table"
  [ "$(jq '.partitions | length' "$j")" -eq 2 ] || fail "$j: 2 partitions"
  [ "$(jq -r '.partitions[0].kind' "$j")" = esp ] || fail "$j: esp kind"
  [ "$(jq -r '.partitions[0].name' "$j")" = "EFI system" ] || fail "$j: name"
  [ "$(jq -r '.partitions[0].filesystem.type' "$j")" = vfat ] || fail "$j: vfat"
  [ "$(jq -r '.partitions[0].filesystem.label' "$j")" = MYESP ] || fail "$j: vfat label"
  [ "$(jq -r '.partitions[0].filesystem.uuid' "$j")" = "$(blkid -p -o value -s UUID esp.img)" ] || fail "$j: vfat uuid"
  [ "$(jq -r '.partitions[1].filesystem.type' "$j")" = ext4 ] || fail "$j: ext4"
  [ "$(jq -r '.partitions[1].filesystem.label' "$j")" = foreignroot ] || fail "$j: ext4 label"
  [ "$(jq -r '.partitions[1].filesystem.uuid' "$j")" = "$(blkid -p -o value -s UUID root.img)" ] || fail "$j: ext4 uuid"
  [ "$(jq -r '.partitions[1].uuid' "$j")" = "$(sfdisk --part-uuid disk.raw 2)" ] || fail "$j: partition uuid"
  [ "$(jq -r '.system.os_release.PRETTY_NAME' "$j")" = "Foreign Linux 1.0" ] || fail "$j: os-release"
  [ "$(jq -r '.system.hostname' "$j")" = foreignhost ] || fail "$j: hostname"
  [ "$(jq -r '[.system.kernels[].path] | sort | join(" ")' "$j")" = \
    "/boot/Image /boot/vmlinuz-9.9.9-test /boot/zImage" ] ||
    fail "$j: kernels $(jq -c '[.system.kernels[].path]' "$j")"
  [ "$(jq -r '.system.initrds[0].release' "$j")" = 9.9.9-test ] || fail "$j: initrd"
  [ "$(jq -r '.system.modules[0].count' "$j")" -eq 3 ] || fail "$j: module count"
  [ "$(jq -r '.system.modules[0].updates[0]' "$j")" = mine.ko ] || fail "$j: updates"
  [ "$(jq -r '.system.modules_load[0]' "$j")" = mine ] || fail "$j: modules-load.d"
  [ "$(jq -r '.bootloader.type' "$j")" = efi ] || fail "$j: boot loader"
  [ "$(jq -r '.bootloader.efi.size' "$j")" -eq 12345 ] || fail "$j: BOOTX64.EFI size"
  [ "$(jq -r '.bootloader.efi.path' "$j")" = '\EFI\BOOT\BOOTX64.EFI' ] || fail "$j: BOOTX64.EFI path"
  [ "$(jq -r '.bootloader.efi.arch' "$j")" = x86_64 ] || fail "$j: BOOTX64.EFI arch"
  [ "$(jq -r '.machine' "$j")" = null ] || fail "$j: machine"
}

for f in disk.raw disk.qcow2; do
  sum=$(sha256sum < $f)
  $MKVMIMG inspect --json $f > $f.json
  [ "$(sha256sum < $f)" = "$sum" ] || fail "inspect changed $f"
  check $f.json
done
[ "$(jq -r .image.format disk.qcow2.json)" = qcow2 ] || fail "qcow2 format"
[ "$(jq -r .image.virtual_size disk.qcow2.json)" -eq 67108864 ] || fail "virtual size"

# Any NBD URI (here qemu-nbd on a Unix socket).
qemu-nbd --fork --persistent --read-only -f qcow2 --socket="$tmp/nbd.sock" \
  --pid-file="$tmp/nbd.pid" disk.qcow2
stop_nbd () { kill "$(cat "$tmp/nbd.pid")" 2>/dev/null; }
cleanup_fn stop_nbd
$MKVMIMG inspect --json "nbd+unix:///?socket=$tmp/nbd.sock" > uri.json
check uri.json
[ "$(jq -r .image.format uri.json)" = nbd ] || fail "URI format"

# A filesystem on the whole disk, no partition table.
$MKVMIMG inspect --json root.img > whole.json
[ "$(jq -r .partition_table whole.json)" = null ] || fail "whole disk: table"
[ "$(jq -r '.partitions[0].number' whole.json)" -eq 0 ] || fail "whole disk: partition 0"
[ "$(jq -r '.system.hostname' whole.json)" = foreignhost ] || fail "whole disk: system"
[ "$(jq -r '.bootloader.type' whole.json)" = none ] || fail "whole disk: boot loader"

# The ESP of an arm64 or armhf image: its removable-media boot file
# (BOOTAA64.EFI, BOOTARM.EFI), said in JSON and in text.
for f in BOOTAA64.EFI:aarch64 BOOTARM.EFI:armhf; do
  file=${f%%:*} arch=${f#*:}
  mkfs.vfat -C esp-$arch.img 16384 > /dev/null
  mmd -i esp-$arch.img ::/EFI ::/EFI/BOOT
  head -c 4321 /dev/urandom > boot.efi
  mcopy -i esp-$arch.img boot.efi ::/EFI/BOOT/$file
  cp disk.raw $arch.raw
  dd if=esp-$arch.img of=$arch.raw bs=512 seek=2048 conv=notrunc status=none
  $MKVMIMG inspect --json $arch.raw > $arch.json
  [ "$(jq -r '.bootloader.type' $arch.json)" = efi ] || fail "$arch: boot loader"
  [ "$(jq -r '.bootloader.efi.partition' $arch.json)" -eq 1 ] || fail "$arch: ESP partition"
  [ "$(jq -r '.bootloader.efi.path' $arch.json)" = "\\EFI\\BOOT\\$file" ] ||
    fail "$arch: path $(jq -r '.bootloader.efi.path' $arch.json)"
  [ "$(jq -r '.bootloader.efi.arch' $arch.json)" = $arch ] || fail "$arch: arch"
  [ "$(jq -r '.bootloader.efi.size' $arch.json)" -eq 4321 ] || fail "$arch: size"
  $MKVMIMG inspect $arch.raw > $arch.txt
  grep -q "^    path: \\\\EFI\\\\BOOT\\\\$file\$" $arch.txt || { cat $arch.txt; fail "$arch: text path"; }
  grep -q "^    arch: $arch\$" $arch.txt || fail "$arch: text arch"
done

# Errors.
expect_fail $MKVMIMG inspect
expect_fail $MKVMIMG inspect no-such-image 2> err.log
grep -q 'no-such-image' err.log || fail "error names the image"
echo OK
