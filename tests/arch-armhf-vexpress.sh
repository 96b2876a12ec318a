#!/bin/sh
# An armhf vexpress-a9 board boots from an SD card image made from a
# buildroot-like output directory: zImage (Debian's armmp kernel), the
# board's device tree from the kernel package, and the root filesystem
# once as rootfs.tar (streamed into a new ext4) and once as rootfs.ext2
# (copied as it is, grown to the partition, keeping its UUID).  The
# kernel has the SD controller (armmmci) and ext4 as modules: a generated
# busybox initrd (armhf busybox-static) loads them.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/arch-lib.sh"
requires qemu-system-arm apt-get dpkg-deb depmod modprobe mke2fs tune2fs \
  dumpe2fs

kdir=$(foreign armhf linux-image-armmp)
busybox=$(foreign armhf busybox-static)/bin/busybox
kernel=$(foreign_kernel "$kdir")
release=${kernel##*/vmlinuz-}
dtb=$kdir/usr/lib/linux-image-$release/vexpress-v2p-ca9.dtb
[ -f "$dtb" ] || fail "no $dtb in the armmp kernel package"
grep -qx 'CONFIG_MMC_ARMMMCI=m' "$kdir/boot/config-$release" ||
  fail "the armmp kernel's armmmci is not a module: the initrd below is wrong"
trim_modules "$kdir" "$tmp/mods" armmmci ext4 crc32c_generic

# The buildroot output: images/ as buildroot leaves it.
br=$tmp/images
mkdir -p "$br"
cp "$kernel" "$br/zImage"
cp "$dtb" "$br/"
make_foreign_root "$tmp/root" VEXPRESS-OK "$busybox"
tar -C "$tmp/root" --owner=0 --group=0 -cf "$br/rootfs.tar" .

cat > "$tmp/vexpress.conf" <<EOC
[image]
arch = armhf
format = qcow2
[rootfs]
source = buildroot:images
[kernel]
initrd = busybox
busybox = $busybox
modules = mods
release = $release
cmdline = console=ttyAMA0,115200 no_timer_check
[machine]
type = vexpress-a9
memory = 256M
cpus = 1
EOC
$MKVMIMG build "$tmp/vexpress.conf" -o "$tmp/tar.qcow2" ||
  fail "build from rootfs.tar"
m=$tmp/tar.qcow2.machine
for kv in "arch = armhf" "qemu = qemu-system-arm" "type = vexpress-a9" \
          "firmware = direct" "console = ttyAMA0" "disk = sd" "nic = none" \
          "dtb = tar.qcow2.dtb" "kernel = tar.qcow2.vmlinuz"; do
  grep -qxF "$kv" "$m" || { cat "$m"; fail "machine file: no '$kv'"; }
done
cmp "$tmp/tar.qcow2.dtb" "$dtb" || fail "the dtb beside the image differs"
cmp "$tmp/tar.qcow2.vmlinuz" "$kernel" || fail "the kernel is not the zImage"
$MKVMIMG boot "$tmp/tar.qcow2" --print-command > "$tmp/cmd"
for w in qemu-system-arm "-machine vexpress-a9" "-dtb " "if=sd" \
         "-m 256M"; do
  grep -qF -- "$w" "$tmp/cmd" || { cat "$tmp/cmd"; fail "command: no '$w'"; }
done
for w in "-cpu" "-vga" "virtio" "-netdev"; do
  grep -qF -- "$w" "$tmp/cmd" && fail "vexpress-a9 command has $w: $(cat "$tmp/cmd")"
done
# QEMU's SD card needs a power-of-two size.
size=$(qemu-img info --output=json "$tmp/tar.qcow2" |
       sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p')
[ $((size & (size - 1))) -eq 0 ] || fail "SD image size $size is not a power of two"
boot_expect "$tmp/tar.qcow2" 'VEXPRESS-OK armv7l'
grep -q "switching to /dev/mmcblk0p" "$tmp/console.log" ||
  fail "the root was not found on the SD card"

# A kernel without an initrd (buildroot's, with its drivers built in)
# cannot look up a filesystem UUID: root= names the partition.
$MKVMIMG build "$tmp/vexpress.conf" --set kernel.initrd=none \
  -o "$tmp/noinitrd.img" --set image.format=raw || fail "build without initrd"
partuuid=$(sfdisk --part-uuid "$tmp/noinitrd.img" 1 | tr A-Z a-z)
[ -n "$partuuid" ] || fail "no partition UUID in noinitrd.img"
grep -q "^cmdline = root=PARTUUID=$partuuid rootwait ro " "$tmp/noinitrd.img.machine" ||
  { cat "$tmp/noinitrd.img.machine"; fail "root= is not the partition's UUID"; }
grep -q "^initrd" "$tmp/noinitrd.img.machine" && fail "an initrd in noinitrd.img.machine"
rm -f "$tmp/noinitrd.img"

# rootfs.ext2 only: copied, not re-populated.  Its UUID is the root=.
rm "$br/rootfs.tar"
echo "from the ext2 image" > "$tmp/root/etc/ext2-marker"
mke2fs -q -t ext2 -d "$tmp/root" -L buildroot -U 0b1d2007-0000-4000-8000-00000000e2e2 \
  "$br/rootfs.ext2" 8M
$MKVMIMG build "$tmp/vexpress.conf" -o "$tmp/ext2.qcow2" ||
  fail "build from rootfs.ext2"
grep -q "root=UUID=0b1d2007-0000-4000-8000-00000000e2e2 " "$tmp/ext2.qcow2.machine" ||
  { cat "$tmp/ext2.qcow2.machine"; fail "root= is not the ext2 image's UUID"; }
qemu-img convert -O raw "$tmp/ext2.qcow2" "$tmp/ext2.raw"
extract_partition "$tmp/ext2.raw" root "$tmp/root.ext2"
dumpe2fs -h "$tmp/root.ext2" 2>/dev/null > "$tmp/sb"
grep -q "^Filesystem volume name: *buildroot$" "$tmp/sb" ||
  fail "the root is not the copied ext2 image: $(cat "$tmp/sb")"
grep -q "has_journal" "$tmp/sb" && fail "the copy became ext3/4 (re-populated?)"
blocks=$(sed -n 's/^Block count: *//p' "$tmp/sb")
bsize=$(sed -n 's/^Block size: *//p' "$tmp/sb")
[ $((blocks * bsize)) -gt $((8 * 1024 * 1024)) ] ||
  fail "the ext2 image was not grown to its partition ($blocks blocks)"
e2fsck -fn "$tmp/root.ext2" >/dev/null 2>&1 || fail "e2fsck of the copied root"
rm -f "$tmp/ext2.raw" "$tmp/root.ext2"
boot_expect "$tmp/ext2.qcow2" 'VEXPRESS-OK armv7l'
