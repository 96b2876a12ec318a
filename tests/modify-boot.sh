#!/bin/sh
# mkvmimg modify, then boot: a driver module added to a built image
# (the edu example, built for the image's kernel, loaded at boot) does
# its self-test on QEMU's edu device, the patched initrd boots, and a
# new kernel command line is what the kernel gets: in the machine
# description of a directly booted image, in grub.cfg of a BIOS one
# (printed from /proc/cmdline).
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd qemu-img e2fsck make depmod modinfo jq

cd "$tmp"
# The default profile without its [module edu].
cat > noedu.conf <<EOS
[image]
format = qcow2
seed = modify-boot
[rootfs]
source = busybox
[kernel]
image = host
initrd = host
cmdline = "console=ttyS0,115200"
[device edu]
type = edu
[boot]
loader = none
EOS
$MKVMIMG -q build noedu.conf -o noedu.qcow2
$MKVMIMG inspect --json noedu.qcow2 > before.json
[ "$(jq '[.system.modules[].updates[]] | length' before.json)" -eq 0 ] || fail "edu there already"
echo marker > marker
$MKVMIMG -q modify noedu.qcow2 --module "$top_srcdir/examples/drivers/edu" --load boot \
  --cmdline 'console=ttyS0,115200 mkvmimg.modified=yes' \
  --initramfs-add marker:/etc/mkvmimg-modify-marker
# The initrd QEMU loads (beside the image) is patched, and it still boots.
$MKVMIMG initramfs list noedu.qcow2.initrd | grep -q ' etc/mkvmimg-modify-marker$' ||
  fail "the machine's initrd was not patched"
$MKVMIMG inspect --json noedu.qcow2 > after.json
[ "$(jq -r '.system.modules[0].updates[0]' after.json)" = edu.ko ] || fail "edu.ko not installed"
[ "$(jq -r '.system.modules_load[0]' after.json)" = edu ] || fail "edu not loaded at boot"
grep -q '^cmdline = root=UUID=[-0-9a-f]* ro console=ttyS0,115200 mkvmimg.modified=yes$' noedu.qcow2.machine ||
  { cat noedu.qcow2.machine; fail "machine cmdline"; }
qemu-img convert -O raw noedu.qcow2 noedu.raw
extract_partition "$tmp/noedu.raw" root noedu.ext4
e2fsck -fn noedu.ext4 > fsck.log 2>&1 || { cat fsck.log; fail "e2fsck after modify"; }
boot_expect noedu.qcow2 'selftest: all passed'
grep -q 'edu .*selftest dma: ok' console.log || fail "edu selftest"
grep -q 'Kernel command line: .* mkvmimg.modified=yes' console.log || fail "the kernel did not get the new cmdline"

# A BIOS image booted by GRUB: its grub.cfg gets the new command line.
make_marker_root "$tmp/root" MKVMIMG-MODIFY-BOOT
cat > bios.conf <<EOS
[image]
format = qcow2
seed = modify-bios
[rootfs]
source = dir:$tmp/root
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = bios
timeout = 0
EOS
$MKVMIMG -q build bios.conf -o bios.qcow2
$MKVMIMG -q modify bios.qcow2 --cmdline 'console=ttyS0,115200 panic=-1 no_timer_check modify.marker=42'
boot_expect bios.qcow2 MKVMIMG-MODIFY-BOOT
grep -q '^cmdline: .* modify.marker=42' console.log || fail "/proc/cmdline has no new words"
echo OK
