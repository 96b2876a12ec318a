#!/bin/sh
# Every kind of entry survives "mkvmimg build" from a tarball, built by
# an unprivileged user: owners, modes, setuid, devices, fifos, hardlinks,
# symlinks, xattrs (security.capability), ns and post-2038 timestamps,
# sparse files, long and non-UTF-8 names.  Read back with debugfs.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img debugfs e2fsck runuser

mta="$top_builddir/tests/make-test-archive"
chmod 755 "$tmp"
mkdir "$tmp/w" && chmod 777 "$tmp/w"
$mta --compress gzip full "$tmp/w/full.tar.gz"
$mta full "$tmp/full.tar"
chmod 644 "$tmp/w/full.tar.gz"
cat > "$tmp/w/roundtrip.conf" <<EOS
[image]
format = qcow2
[rootfs]
source = tar:full.tar.gz
[kernel]
image = host
[boot]
loader = none
EOS
(cd "$tmp/w" && TMPDIR=$tmp/w runuser -u nobody -- $MKVMIMG build roundtrip.conf -o out.qcow2)
[ "$(stat -c %U "$tmp/w/out.qcow2")" = nobody ] || fail "not built by nobody"

qemu-img convert -O raw "$tmp/w/out.qcow2" "$tmp/disk.raw"
fs=$tmp/fs
extract_partition "$tmp/disk.raw" root "$fs"
e2fsck -fn "$fs" || fail "e2fsck found errors"
. "$top_srcdir/tests/ext4-checks.sh"
check_full_tree
echo OK
