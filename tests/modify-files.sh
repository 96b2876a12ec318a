#!/bin/sh
# mkvmimg modify on a built image, without booting: files added (with
# mode and owner) and removed, an SSH key, root's password, the kernel
# command line in grub.cfg, the initramfs patched; e2fsck finds nothing
# wrong, debugfs sees the changes.  --overlay leaves the image alone; a
# modify that fails midway leaves it byte-identical.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img debugfs e2fsck sfdisk perl make

make_marker_root "$tmp/root" MKVMIMG-MODIFY
mkdir -p "$tmp/root/usr/lib"
ln -s usr/lib "$tmp/root/lib"           # as on a merged-/usr system
cd "$tmp"
cat > img.conf <<EOS
[image]
format = raw
seed = modify-files
[rootfs]
source = dir:$tmp/root
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200
[boot]
loader = bios
EOS
$MKVMIMG -q build img.conf -o img.raw
rel=$(basename "$(debian_kernel)" | sed 's/^vmlinuz-//')

echo hello > hello
mkdir -p tree/sub && echo a > tree/sub/a
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMkvmimgTestKeyTestKeyTestKeyTestKey test@mkvmimg' > key.pub
echo 'S3cret-pw-Not-Logged' > pw
$MKVMIMG -v modify img.raw --add hello:/etc/hello:0640:1:2 --add tree:/opt/tree \
  --add hello:/lib/via-symlink \
  --remove /bin/ls --ssh-key key.pub --root-password-file pw \
  --cmdline 'console=ttyS0,115200 modify.marker=1' \
  --initramfs-add hello:/etc/hello-initrd 2> modify.log || { cat modify.log; fail "modify"; }
! grep -q S3cret modify.log || fail "the password was logged"

root_fs ()
{
  rm -f "$2"
  extract_partition "$tmp/$1" root "$2"
}
root_fs img.raw root.ext4
e2fsck -fn root.ext4 > fsck.log 2>&1 || { cat fsck.log; fail "e2fsck after modify"; }
debugfs -R 'stat /etc/hello' root.ext4 2>/dev/null > stat.txt
grep -q 'Mode:  0640' stat.txt || { cat stat.txt; fail "mode of /etc/hello"; }
grep -q 'User:     1   Group:     2' stat.txt || { cat stat.txt; fail "owner of /etc/hello"; }
[ "$(debugfs -R 'cat /etc/hello' root.ext4 2>/dev/null)" = hello ] || fail "content of /etc/hello"
[ "$(debugfs -R 'cat /opt/tree/sub/a' root.ext4 2>/dev/null)" = a ] || fail "added directory"
[ "$(debugfs -R 'cat /usr/lib/via-symlink' root.ext4 2>/dev/null)" = hello ] || fail "DEST through a symlink"
debugfs -R 'ls /bin' root.ext4 2>/dev/null | grep -qw ls && fail "/bin/ls not removed"
debugfs -R 'ls /bin' root.ext4 2>/dev/null | grep -qw busybox || fail "/bin lost busybox"
debugfs -R 'cat /root/.ssh/authorized_keys' root.ext4 2>/dev/null | cmp -s - key.pub || fail "authorized_keys"
debugfs -R 'stat /root/.ssh/authorized_keys' root.ext4 2>/dev/null | grep -q 'Mode:  0600' || fail "authorized_keys mode"
hash=$(debugfs -R 'cat /etc/shadow' root.ext4 2>/dev/null | sed -n 's/^root:\([^:]*\):.*/\1/p')
case $hash in '$y$'*) ;; *) fail "root's hash is not yescrypt: $hash" ;; esac
[ "$(perl -e 'print crypt($ARGV[0], $ARGV[1])' S3cret-pw-Not-Logged "$hash")" = "$hash" ] || fail "the hash does not verify"
debugfs -R 'cat /boot/grub/grub.cfg' root.ext4 2>/dev/null | grep -q "ro console=ttyS0,115200 modify.marker=1\$" || fail "grub.cfg cmdline"
debugfs -R "dump /boot/initrd.img-$rel initrd" root.ext4 2>/dev/null
$MKVMIMG initramfs list initrd | grep -q 'etc/hello-initrd' || fail "initramfs not patched"
$MKVMIMG inspect --json img.raw > after.json
grep -q '"cmdline": ".* modify.marker=1"' after.json || fail "inspect does not see the cmdline"

# Removing a directory tree.
$MKVMIMG -q modify img.raw --remove /opt/tree
root_fs img.raw root.ext4
e2fsck -fn root.ext4 > fsck.log 2>&1 || { cat fsck.log; fail "e2fsck after removing a tree"; }
debugfs -R 'ls /opt' root.ext4 2>/dev/null | grep -qw tree && fail "/opt/tree not removed"

# --overlay: the changes go to a new qcow2 backed by the image.
sum=$(sha256sum < img.raw)
$MKVMIMG -q modify img.raw --overlay ov.qcow2 --add hello:/etc/in-overlay
[ "$(sha256sum < img.raw)" = "$sum" ] || fail "--overlay changed the image"
qemu-img info ov.qcow2 | grep -q "backing file: $tmp/img.raw" || fail "overlay backing file"
qemu-img convert -O raw ov.qcow2 ov.raw
root_fs ov.raw ov.ext4
[ "$(debugfs -R 'cat /etc/in-overlay' ov.ext4 2>/dev/null)" = hello ] || fail "not in the overlay"
e2fsck -fn ov.ext4 > fsck.log 2>&1 || { cat fsck.log; fail "e2fsck of the overlay"; }

# A modify that fails midway (the removal is done, then the module
# does not build) leaves the image byte-identical, and nothing behind.
mkdir bad
printf 'obj-m := bad.o\n' > bad/Kbuild
printf 'this is not C;\n' > bad/bad.c
ls -A > before.ls
expect_fail $MKVMIMG -q modify img.raw --remove /etc/hello --module bad 2> bad.log
grep -q 'build failed' bad.log || { cat bad.log; fail "no build error"; }
[ "$(sha256sum < img.raw)" = "$sum" ] || fail "a failed modify changed the image"
ls -A > after.ls
diff before.ls after.ls | grep "^[<>]" | grep -v "after.ls\|bad.log" | grep -q . && { diff before.ls after.ls; fail "a failed modify left files"; }
expect_fail $MKVMIMG -q modify img.raw --remove /no/such/file 2> missing.log
grep -q 'no such file' missing.log || fail "no error for a missing file"
[ "$(sha256sum < img.raw)" = "$sum" ] || fail "a failed removal changed the image"

# A profile fragment: [kernel] cmdline applied; other sections and
# unknown keys refused before anything changes.
printf '[kernel]\ncmdline = "console=ttyS0,115200 from.fragment=1"\n' > frag.conf
$MKVMIMG -q modify img.raw --profile frag.conf
$MKVMIMG inspect --json img.raw | grep -q '"cmdline": ".* from.fragment=1"' || fail "--profile cmdline"
sum=$(sha256sum < img.raw)
printf '[image]\nformat = raw\n' > frag.conf
expect_fail $MKVMIMG -q modify img.raw --profile frag.conf
printf '[kernel]\nbogus = 1\n' > frag.conf
expect_fail $MKVMIMG -q modify img.raw --profile frag.conf
[ "$(sha256sum < img.raw)" = "$sum" ] || fail "a refused fragment changed the image"

# A root whose journal needs recovery is refused, untouched.
cp img.raw dirty.raw
root_fs dirty.raw dirty.ext4
debugfs -w -R 'feature needs_recovery' dirty.ext4 > /dev/null 2>&1
dd if=dirty.ext4 of=dirty.raw bs=512 seek="$(partition_start "$tmp/dirty.raw" root)" conv=notrunc status=none
sum=$(sha256sum < dirty.raw)
expect_fail $MKVMIMG -q modify dirty.raw --add hello:/x 2> dirty.log
grep -q 'needs recovery' dirty.log || { cat dirty.log; fail "no error for a dirty journal"; }
[ "$(sha256sum < dirty.raw)" = "$sum" ] || fail "a dirty root was changed"

# Usage errors, and an image with no ext4 root.
expect_fail $MKVMIMG modify img.raw
expect_fail $MKVMIMG modify img.raw --add nocolon
expect_fail $MKVMIMG modify nbd://localhost/x --add hello:/x
qemu-img create -q -f raw blank.raw 16M
expect_fail $MKVMIMG modify blank.raw --add hello:/x 2> blank.log
grep -q 'no ext2/3/4 root filesystem, and no other' blank.log || { cat blank.log; fail "no clear error"; }
echo OK
