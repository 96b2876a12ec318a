#!/bin/sh
# Root filesystem sources other than tar: a multi-segment initramfs
# (later segments win, as the kernel unpacks them), a buildroot output
# directory (rootfs.tar), a bare directory and a bare tarball.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img debugfs e2fsck

echo first > "$tmp/hello"
echo second > "$tmp/hello2"
cat > "$tmp/root.spec" <<EOS
dir /etc 0755 0 0
file /etc/hello $tmp/hello 0644 0 0
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
slink /etc/link hello 0777 0 0
EOS
$MKVMIMG initramfs create --spec "$tmp/root.spec" --compress zstd -o "$tmp/root.img"
$MKVMIMG initramfs patch "$tmp/root.img" --append --add "$tmp/hello2:/etc/hello:0600" \
  -o "$tmp/root2.img"
[ "$($MKVMIMG initramfs list "$tmp/root2.img" | grep -c '^segment')" -eq 2 ] ||
  fail "expected a two-segment initramfs"

root_of ()
{
  qemu-img convert -O raw "$1" "$tmp/disk.raw"
  extract_partition "$tmp/disk.raw" root "$tmp/root.ext4"
  e2fsck -fn "$tmp/root.ext4" >/dev/null || fail "e2fsck: $1"
}
dbg () { debugfs -R "$1" "$tmp/root.ext4" 2>/dev/null; }
build ()
{
  printf '[rootfs]\nsource = %s\n[kernel]\nimage = host\n[boot]\nloader = none\n' "$1" \
    > "$tmp/src.conf"
  rm -f "$tmp/out.qcow2"*
  $MKVMIMG -q build "$tmp/src.conf" -o "$tmp/out.qcow2"
  root_of "$tmp/out.qcow2"
}

# cpio: every segment, the later /etc/hello over the earlier one.
build "cpio:$tmp/root2.img"
[ "$(dbg 'cat /etc/hello')" = second ] || fail "cpio: the appended segment did not win"
dbg 'stat /etc/hello' | grep -q 'Mode:  0600' || fail "cpio: mode of the later entry"
dbg 'stat /dev/console' | grep -q 'Device major/minor number: 05:01' || fail "cpio: device node"
dbg 'stat /etc/link' | grep -q 'Fast link dest: "hello"' || fail "cpio: symlink"
# The same image found by its content, as a bare path.
build "$tmp/root2.img"
[ "$(dbg 'cat /etc/hello')" = second ] || fail "bare initramfs path"

# buildroot: output/images holds rootfs.tar.
mkdir -p "$tmp/br/tree/etc" "$tmp/br/images"
echo buildroot > "$tmp/br/tree/etc/issue"
tar -C "$tmp/br/tree" --owner=0 --group=0 -cf "$tmp/br/images/rootfs.tar" .
build "buildroot:$tmp/br/images"
[ "$(dbg 'cat /etc/issue')" = buildroot ] || fail "buildroot"
# A buildroot directory without rootfs.tar is a clear error.
mkdir "$tmp/br/empty"
printf '[rootfs]\nsource = buildroot:%s\n[kernel]\nimage = host\n[boot]\nloader = none\n' \
  "$tmp/br/empty" > "$tmp/bad.conf"
set +e
$MKVMIMG build "$tmp/bad.conf" -o "$tmp/bad.qcow2" 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "rootfs.tar" "$tmp/err" || { cat "$tmp/err"; fail "buildroot without rootfs.tar"; }
[ ! -e "$tmp/bad.qcow2" ] || fail "output left behind"

# Bare directory and bare tarball.
build "$tmp/br/tree"
[ "$(dbg 'cat /etc/issue')" = buildroot ] || fail "bare directory"
build "$tmp/br/images/rootfs.tar"
[ "$(dbg 'cat /etc/issue')" = buildroot ] || fail "bare tarball"
echo OK
