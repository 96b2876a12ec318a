#!/bin/sh
# An aarch64 image boots through UEFI under qemu-system-aarch64 -M virt
# (TCG): AAVMF (qemu-efi-aarch64) starts GRUB arm64-efi from
# \EFI\BOOT\BOOTAA64.EFI on the ESP (made with grub-mkimage from the
# modules of Debian's grub-efi-arm64-bin, [boot] grub-dir), GRUB loads
# Debian's arm64 kernel and a busybox initrd from the root filesystem.
# loader = uefi is the aarch64 default: the profile does not say it.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/arch-lib.sh"
requires qemu-system-aarch64 apt-get dpkg-deb depmod modprobe grub-mkimage \
  mdir file
[ -r /usr/share/AAVMF/AAVMF_CODE.fd ] ||
  fail "no AAVMF firmware (install qemu-efi-aarch64: see setup.sh)"

kdir=$(foreign arm64 linux-image-arm64)
busybox=$(foreign arm64 busybox-static)/bin/busybox
grub=$(foreign arm64 grub-efi-arm64-bin)/usr/lib/grub
kernel=$(foreign_kernel "$kdir")
trim_modules "$kdir" "$tmp/mods" virtio_pci virtio_blk ext4 crc32c_generic
make_foreign_root "$tmp/root" ARM64-UEFI-OK "$busybox"

cat > "$tmp/uefi.conf" <<EOC
[image]
arch = aarch64
format = raw
[rootfs]
source = dir:root
[kernel]
image = $kernel
initrd = busybox
busybox = $busybox
modules = mods
cmdline = console=ttyAMA0,115200 no_timer_check
[boot]
grub-dir = $grub
timeout = 0
[machine]
memory = 512M
cpus = 1
EOC
$MKVMIMG build "$tmp/uefi.conf" -o "$tmp/uefi.img" ||
  fail "build of the aarch64 UEFI image"
m=$tmp/uefi.img.machine
for kv in "arch = aarch64" "firmware = uefi" "type = virt" \
          "ovmf-code = /usr/share/AAVMF/AAVMF_CODE.fd" \
          "ovmf-vars = /usr/share/AAVMF/AAVMF_VARS.fd"; do
  grep -qxF "$kv" "$m" || { cat "$m"; fail "machine file: no '$kv'"; }
done

# GRUB for arm64 at the removable media path, and no x86 one.
extract_partition "$tmp/uefi.img" esp "$tmp/esp.img"
mdir -b -i "$tmp/esp.img" ::/EFI/BOOT > "$tmp/esp.list" ||
  fail "no /EFI/BOOT on the ESP"
grep -q "BOOTAA64.EFI" "$tmp/esp.list" || fail "no BOOTAA64.EFI: $(cat "$tmp/esp.list")"
grep -q "BOOTX64.EFI" "$tmp/esp.list" && fail "an x86 BOOTX64.EFI on an arm64 ESP"
mcopy -i "$tmp/esp.img" ::/EFI/BOOT/BOOTAA64.EFI "$tmp/grub.efi"
file "$tmp/grub.efi" | grep -qi "EFI application.*aarch64" ||
  fail "BOOTAA64.EFI is not an arm64 EFI application: $(file "$tmp/grub.efi")"
rm -f "$tmp/esp.img" "$tmp/grub.efi"

$MKVMIMG boot "$tmp/uefi.img" --print-command > "$tmp/cmd"
grep -qF "AAVMF_CODE.fd,readonly=on" "$tmp/cmd" ||
  fail "no AAVMF pflash: $(cat "$tmp/cmd")"
boot_expect "$tmp/uefi.img" 'ARM64-UEFI-OK aarch64'
grep -q "Loading Linux" "$tmp/console.log" || fail "GRUB did not load the kernel"
