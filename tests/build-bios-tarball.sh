#!/bin/sh
# An unprivileged user builds a BIOS-bootable GPT qcow2 from a tarball,
# and it boots (SeaBIOS, GRUB i386-pc, Debian's kernel and initrd).
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-nbd e2fsck runuser

make_marker_root "$tmp/root" MKVMIMG-TARBALL-ROOT-OK
tar -C "$tmp/root" --owner=0 --group=0 -czf "$tmp/root.tar.gz" .
cat > "$tmp/bios.conf" <<EOS
# A tarball, GRUB for BIOS, the host's Debian kernel and initrd.
[image]
format = qcow2
[rootfs]
source = tar:$tmp/root.tar.gz
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 panic=-1 no_timer_check
[boot]
loader = bios
timeout = 0
EOS
chmod 0755 "$tmp"
chmod 0644 "$tmp/root.tar.gz" "$tmp/bios.conf"
mkdir "$tmp/out" && chown nobody "$tmp/out"
TMPDIR=$tmp/out runuser -u nobody -- $MKVMIMG build "$tmp/bios.conf" \
  -o "$tmp/out/bios.qcow2"
[ "$(stat -c %U "$tmp/out/bios.qcow2")" = nobody ] || fail "owner"
grep -q '^firmware = bios' "$tmp/out/bios.qcow2.machine" || fail "machine"
# Nothing of the build is left in the working directory.
[ -z "$(ls -A "$tmp/out" | grep -v '^bios.qcow2')" ] || fail "leftovers: $(ls -A "$tmp/out")"

# The root filesystem passes e2fsck.
qemu-img convert -O raw "$tmp/out/bios.qcow2" "$tmp/disk.raw"
extract_partition "$tmp/disk.raw" root "$tmp/root.ext4"
e2fsck -fn "$tmp/root.ext4"
debugfs -R 'cat /etc/fstab' "$tmp/root.ext4" 2>/dev/null | grep -q '^UUID=.* / ext4 ' || fail "fstab"

boot_expect "$tmp/out/bios.qcow2" MKVMIMG-TARBALL-ROOT-OK
grep -q "Booting .mkvmimg Linux" "$tmp/console.log" || fail "GRUB's boot message not seen on the serial console"
echo OK
