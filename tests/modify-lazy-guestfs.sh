#!/bin/sh
# libguestfs is loaded by the modify fallback (a root that is not
# ext2/3/4) when it runs, not at the start of every command: --version
# and initramfs list do not load it.  The fallback still loads it and
# passes its errors on: LIBGUESTFS_PATH (libguestfs's own variable)
# names an empty directory, so guestfs_launch fails at once ("cannot
# find any suitable ... appliance") instead of booting the appliance,
# after dlopen, guestfs_create and guestfs_add_drive_opts_argv ran.
# The image is left as it was.  Then the fallback for real, on a btrfs
# root: libguestfs boots its appliance (about 25 s under TCG), adds a
# file and removes one; btrfs restore reads the result.
. "$top_srcdir/tests/functions.sh"
requires qemu-img qemu-nbd cpio mkfs.btrfs btrfs

# How many times the dynamic loader opened libguestfs.so for a command.
guestfs_loads ()
{
  LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'file=libguestfs\.so' || true
}

cd "$tmp"
mkdir -p root/etc && echo hello > root/etc/hello
(cd root && find . | cpio -o -H newc --quiet) > small.cpio

n=$(guestfs_loads $MKVMIMG --version)
[ "$n" -eq 0 ] || fail "--version loaded libguestfs"
$MKVMIMG initramfs list small.cpio | grep -q 'etc/hello' || fail "initramfs list"
n=$(guestfs_loads $MKVMIMG initramfs list small.cpio)
[ "$n" -eq 0 ] || fail "initramfs list loaded libguestfs"

# The fallback: a whole-disk image with something that is not ext2/3/4.
qemu-img create -q -f raw other.raw 16M
printf 'XFSB not an ext superblock' | dd of=other.raw conv=notrunc status=none
sum=$(sha256sum < other.raw)
mkdir empty
set +e
LIBGUESTFS_PATH=$tmp/empty LD_DEBUG=files \
  $MKVMIMG modify other.raw --add root/etc/hello:/etc/hello 2> modify.log
rc=$?
set -e
grep -v '^ *[0-9]*:' modify.log > errors.log || true
[ $rc -eq 1 ] || { cat errors.log; fail "modify exited $rc, not 1"; }
[ "$(sha256sum < other.raw)" = "$sum" ] || fail "a failed modify changed the image"
if grep -q 'built without' errors.log; then
  # configure --without-libguestfs: nothing to load.
  grep -q 'file=libguestfs\.so' modify.log && fail "loaded libguestfs without it"
  echo OK
  exit 0
fi
grep -q 'file=libguestfs\.so.*dynamically loaded by' modify.log ||
  { cat errors.log; fail "the fallback did not load libguestfs"; }
grep -q 'modify through libguestfs: start the appliance: .*appliance' errors.log ||
  { cat errors.log; fail "libguestfs's error not passed on"; }

# Through the appliance (libguestfs's own direct backend, as
# bench/inspect uses; the libvirt one needs a daemon).
mkdir -p broot/etc
echo old > broot/etc/old
echo keep > broot/etc/keep
truncate -s 200M btrfs.raw
mkfs.btrfs -q --rootdir broot btrfs.raw > /dev/null 2>&1 || fail "mkfs.btrfs"
qemu-img convert -O qcow2 btrfs.raw btrfs.qcow2
rm btrfs.raw
LIBGUESTFS_BACKEND=direct \
  $MKVMIMG modify btrfs.qcow2 --add root/etc/hello:/etc/new/hello \
  --remove /etc/old 2> appliance.log || { cat appliance.log; fail "modify through libguestfs"; }
qemu-img convert -O raw btrfs.qcow2 result.raw
mkdir restored
btrfs restore result.raw restored > restore.log 2>&1 || { cat restore.log; fail "btrfs restore"; }
[ "$(cat restored/etc/new/hello)" = hello ] || fail "/etc/new/hello not added"
[ "$(cat restored/etc/keep)" = keep ] || fail "/etc/keep lost"
[ ! -e restored/etc/old ] || fail "/etc/old not removed"
echo OK
