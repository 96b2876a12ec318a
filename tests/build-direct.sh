#!/bin/sh
# loader = none: no boot loader; the machine boots the kernel directly.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd

make_marker_root "$tmp/root" MKVMIMG-DIRECT-ROOT-OK
cat > "$tmp/direct.conf" <<EOS
[rootfs]
source = $tmp/root
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = none
EOS
$MKVMIMG build "$tmp/direct.conf" -o "$tmp/direct.qcow2"
grep -q '^firmware = direct' "$tmp/direct.qcow2.machine" || fail "machine"
[ -s "$tmp/direct.qcow2.vmlinuz" ] && [ -s "$tmp/direct.qcow2.initrd" ] || fail "kernel not beside the image"
boot_expect "$tmp/direct.qcow2" MKVMIMG-DIRECT-ROOT-OK
grep -q 'cmdline: .*root=UUID=' "$tmp/console.log" || fail "root=UUID not on the command line"
echo OK
