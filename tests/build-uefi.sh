#!/bin/sh
# A UEFI image (GRUB x86_64-efi on the ESP) of a busybox system boots
# under OVMF.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd

cat > "$tmp/uefi.conf" <<EOS
[rootfs]
source = busybox
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = uefi
timeout = 0
EOS
$MKVMIMG build "$tmp/uefi.conf" -o "$tmp/uefi.qcow2"
grep -q '^firmware = uefi' "$tmp/uefi.qcow2.machine" || fail "machine firmware"
boot_expect "$tmp/uefi.qcow2" 'mkvmimg busybox system .* up on mkvmimg'
echo OK
