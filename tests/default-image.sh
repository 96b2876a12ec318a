#!/bin/sh
# The built-in default profile: offline, a busybox system with the edu
# example driver built for the host's kernel and QEMU's edu device.  It
# boots and the driver's self-test passes.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd make depmod modinfo

cd "$tmp"
$MKVMIMG build
[ -f mkvmimg.qcow2 ] && [ -f mkvmimg.qcow2.machine ] || fail "default output names"
grep -q '^\[device edu\]' mkvmimg.qcow2.machine || fail "edu device not in the machine"
grep -q '^type = edu' mkvmimg.qcow2.machine || fail "edu device type"

boot_expect mkvmimg.qcow2 'selftest: all passed'
for t in liveness interrupt factorial dma; do
  grep -q "edu .*selftest $t: ok" "$tmp/console.log" || fail "selftest $t"
done
grep -q 'edu .*id 0x010000ed' "$tmp/console.log" || fail "identification"
# The generated busybox initrd found the root filesystem by UUID.
grep -q 'mkvmimg initramfs: switching to /dev/vda' "$tmp/console.log" ||
  fail "the generated initrd did not mount the root"
! grep -q 'FAILED' "$tmp/console.log" || fail "a selftest failed"

# The same profile text is what "profile show default" prints.
$MKVMIMG profile show default | grep -q '^\[module edu\]' || fail "profile show"
echo OK
