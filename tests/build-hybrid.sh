#!/bin/sh
# One hybrid GPT image boots under SeaBIOS and under OVMF.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd

cat > "$tmp/hybrid.conf" <<EOS
[rootfs]
source = busybox
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = hybrid
timeout = 0
EOS
$MKVMIMG build "$tmp/hybrid.conf" -o "$tmp/hybrid.qcow2"
boot_expect "$tmp/hybrid.qcow2" 'mkvmimg busybox system .* up on mkvmimg'

# The same disk under UEFI firmware.
sed -e 's/^firmware = .*/firmware = uefi/' "$tmp/hybrid.qcow2.machine" \
  > "$tmp/uefi.machine"
printf 'ovmf-code = %s\novmf-vars = %s\n' \
  /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd \
  >> "$tmp/uefi.machine"
grep -q '^ovmf-code' "$tmp/hybrid.qcow2.machine" && \
  sed -i '$d' "$tmp/uefi.machine" && sed -i '$d' "$tmp/uefi.machine"
boot_expect "$tmp/hybrid.qcow2" 'mkvmimg busybox system .* up on mkvmimg' \
  --machine "$tmp/uefi.machine"
echo OK
