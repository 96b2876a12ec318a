#!/bin/sh
# An aarch64 image boots under qemu-system-aarch64 -M virt (TCG) by
# direct kernel boot: Debian's arm64 kernel, a busybox initrd generated
# with arm64 busybox-static and the kernel's virtio and ext4 modules,
# and a small root filesystem whose init prints a marker.  The machine
# file carries the arch's QEMU binary, machine type, CPU and console.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/arch-lib.sh"
requires qemu-system-aarch64 apt-get dpkg-deb depmod modprobe

kdir=$(foreign arm64 linux-image-arm64)
busybox=$(foreign arm64 busybox-static)/bin/busybox
kernel=$(foreign_kernel "$kdir")
trim_modules "$kdir" "$tmp/mods" virtio_pci virtio_mmio virtio_blk ext4 \
  crc32c_generic
make_foreign_root "$tmp/root" ARM64-DIRECT-OK "$busybox"

cat > "$tmp/arm64.conf" <<EOC
[image]
arch = aarch64
[rootfs]
source = dir:root
[kernel]
image = $kernel
initrd = busybox
busybox = $busybox
modules = mods
cmdline = console=ttyAMA0,115200 no_timer_check
[boot]
loader = none
[machine]
memory = 512M
cpus = 1
EOC
$MKVMIMG build "$tmp/arm64.conf" -o "$tmp/arm64.qcow2" ||
  fail "build of the aarch64 image"

m=$tmp/arm64.qcow2.machine
for kv in "arch = aarch64" "qemu = qemu-system-aarch64" "type = virt" \
          "firmware = direct" "console = ttyAMA0" "disk = virtio"; do
  grep -qxF "$kv" "$m" || { cat "$m"; fail "machine file: no '$kv'"; }
done
$MKVMIMG boot "$tmp/arm64.qcow2" --print-command > "$tmp/cmd"
for w in qemu-system-aarch64 "-machine virt" "-cpu cortex-a57" \
         virtio-blk-pci; do
  grep -qF -- "$w" "$tmp/cmd" || { cat "$tmp/cmd"; fail "command: no '$w'"; }
done
grep -qF -- "-vga" "$tmp/cmd" && fail "virt has no VGA: $(cat "$tmp/cmd")"

# The guest says it is an aarch64 machine, from the root on the disk.
boot_expect "$tmp/arm64.qcow2" 'ARM64-DIRECT-OK aarch64'
grep -q "mkvmimg initramfs: switching to" "$tmp/console.log" ||
  fail "the initrd did not switch to the root filesystem"
