#!/bin/sh
# ext4 sink: every kind of entry survives tar -> ext4 (libext2fs, no
# mount, no root), checked with e2fsck and read back with debugfs.
. "$top_srcdir/tests/functions.sh"
requires mke2fs e2fsck debugfs dumpe2fs

mta="$top_builddir/tests/make-test-archive"
t4="$top_builddir/tests/test-ext4"
uuid=6c6a2b0e-8a55-4d1b-9d0e-3f4c5a6b7c8d
seed=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9

# Populate as nobody when we are root and nobody can run the driver:
# owners, devices, setuid and capabilities must come from the archive.
chmod 755 "$tmp"
mkdir "$tmp/w"
chmod 777 "$tmp/w"
run=
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null &&
   runuser -u nobody -- test -x "$t4"; then
  run="runuser -u nobody --"
fi
echo "populating as: $(${run:-env} id -un)"

$mta --compress gzip full "$tmp/w/full.tar.gz"
$mta full "$tmp/full.tar"
img="$tmp/w/disk.img"
$run "$t4" --offset 1M --size 200M --epoch 1700000000 --uuid $uuid \
  --hash-seed $seed --label testroot "$img" "$tmp/w/full.tar.gz"
if [ -n "$run" ]; then
  [ "$(stat -c %U "$img")" = nobody ] || fail "image not written by nobody"
fi

# The first MiB (where a partition table would be) is untouched.
cmp -n 1048576 "$img" /dev/zero || fail "bytes written before the offset"

fs="$tmp/fs"
dd if="$img" of="$fs" bs=1M skip=1 status=none
e2fsck -fn "$fs" || fail "e2fsck found errors"

dumpe2fs -h "$fs" > "$tmp/sb" 2>/dev/null
grep -q "^Filesystem UUID: *$uuid\$" "$tmp/sb" || fail "uuid"
grep -q "^Filesystem volume name: *testroot\$" "$tmp/sb" || fail "label"
grep -q "^Directory Hash Seed: *$seed\$" "$tmp/sb" || fail "hash seed"
grep -q "^Inode size:[[:space:]]*256\$" "$tmp/sb" || fail "inode size"
grep "^Filesystem features:" "$tmp/sb" | grep -q "extent.*metadata_csum" ||
  fail "features"

. "$top_srcdir/tests/ext4-checks.sh"
check_full_tree

# The same inputs give the same bytes.
$run "$t4" --offset 1M --size 200M --epoch 1700000000 --uuid $uuid \
  --hash-seed $seed --label testroot "$tmp/w/again.img" "$tmp/w/full.tar.gz"
cmp "$img" "$tmp/w/again.img" || fail "not reproducible"

# Offset 0, and a directory source with a socket in it.
mkdir "$tmp/w/dir"
$mta --socket "$tmp/w/dir/sock"
echo data > "$tmp/w/dir/file"
chmod 777 "$tmp/w/dir"
$run "$t4" --size 32M "$tmp/w/zero.img" "$tmp/w/dir"
e2fsck -fn "$tmp/w/zero.img" || fail "e2fsck (offset 0)"
fs="$tmp/w/zero.img"
st /sock;        has "Type: socket" socket
[ "$(dbg 'cat /file')" = data ] || fail "directory source"
echo OK
