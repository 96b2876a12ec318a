#!/bin/sh
# [kernel] tree: the image, release and modules of a kernel build tree
# (a tiny tree with the layout of a built one; no kernel is compiled).
. "$top_srcdir/tests/functions.sh"
requires qemu-img debugfs make

tree=$tmp/linux
release=6.1.0-mkvmimg-test
mkdir -p "$tree/arch/x86/boot" "$tree/include/config"
cp "$(debian_kernel)" "$tree/arch/x86/boot/bzImage"
echo "$release" > "$tree/include/config/kernel.release"
echo "drivers/misc/hello.ko" > "$tree/modules.order"
# modules_install as Kbuild does it: into $(INSTALL_MOD_PATH)/lib/modules/REL.
printf 'hello module\n' > "$tree/hello.ko"
cat > "$tree/Makefile" <<'EOS'
modules_install:
	mkdir -p $(INSTALL_MOD_PATH)/lib/modules/$(shell cat include/config/kernel.release)/kernel/drivers/misc
	cp hello.ko $(INSTALL_MOD_PATH)/lib/modules/$(shell cat include/config/kernel.release)/kernel/drivers/misc/
EOS
cat > "$tmp/tree.conf" <<EOS
[rootfs]
source = busybox
[kernel]
tree = $tree
[boot]
loader = none
EOS
(unset MAKEFLAGS MFLAGS MAKELEVEL; $MKVMIMG build "$tmp/tree.conf" -o "$tmp/tree.qcow2")
grep -q "^kernel = tree.qcow2.vmlinuz" "$tmp/tree.qcow2.machine" || fail "machine kernel"
cmp "$tmp/tree.qcow2.vmlinuz" "$tree/arch/x86/boot/bzImage" || fail "kernel image"
qemu-img convert -O raw "$tmp/tree.qcow2" "$tmp/disk.raw"
extract_partition "$tmp/disk.raw" root "$tmp/root.ext4"
debugfs -R "stat /boot/vmlinuz-$release" "$tmp/root.ext4" 2>/dev/null | grep -q 'Type: regular' ||
  fail "/boot/vmlinuz-$release not in the image"
debugfs -R "cat /lib/modules/$release/kernel/drivers/misc/hello.ko" "$tmp/root.ext4" 2>/dev/null |
  grep -q 'hello module' || fail "modules_install output not in the image"

# A tree that was never built is a clear error.
mkdir -p "$tmp/unbuilt"
set +e
$MKVMIMG build --set "kernel.tree=$tmp/unbuilt" "$tmp/tree.conf" -o "$tmp/x.qcow2" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "has the kernel been built" "$tmp/err" || { cat "$tmp/err"; fail "unbuilt tree"; }
echo OK
