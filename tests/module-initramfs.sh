#!/bin/sh
# [module] load = initramfs: the edu driver is put into Debian's initrd
# (an appended segment) and loaded there, before the root filesystem is
# mounted.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd make depmod modinfo

cat > "$tmp/early.conf" <<EOS
[rootfs]
source = busybox
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[module edu]
source = $top_srcdir/examples/drivers/edu
load = initramfs
[device edu]
type = edu
[boot]
loader = none
EOS
$MKVMIMG build "$tmp/early.conf" -o "$tmp/early.qcow2"
# The initrd beside the image has one more segment than the host's.
host_segments=$($MKVMIMG initramfs list "$(debian_initrd)" | grep -c '^segment')
segments=$($MKVMIMG initramfs list "$tmp/early.qcow2.initrd" | grep -c '^segment')
[ "$segments" -eq $((host_segments + 1)) ] || fail "initrd segments: $segments"
$MKVMIMG initramfs list "$tmp/early.qcow2.initrd" | grep -q 'updates/edu.ko$' ||
  fail "edu.ko not in the initrd"

boot_expect "$tmp/early.qcow2" 'mkvmimg busybox system .* up'
log=$tmp/console.log
grep -q 'mkvmimg: edu loaded from the initramfs' "$log" || fail "not loaded by the initrd"
grep -q 'edu .*selftest: all passed' "$log" || fail "edu self-test"
# Loaded before the root filesystem was mounted.
probe=$(grep -n 'edu .*selftest: all passed' "$log" | head -n 1 | cut -d: -f1)
mounted=$(grep -n 'EXT4-fs (vda[0-9]*): mounted' "$log" | head -n 1 | cut -d: -f1)
[ -n "$mounted" ] || fail "root mount not seen"
[ "$probe" -lt "$mounted" ] || fail "edu probed (line $probe) after the root was mounted (line $mounted)"
echo OK
