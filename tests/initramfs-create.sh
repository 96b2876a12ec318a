#!/bin/sh
# initramfs create and list: a spec (every line type, device nodes and
# hardlinks without root), a directory, every compression checked with
# the standard tools, golden list output, reproducibility.
. "$top_srcdir/tests/functions.sh"
requires cpio gzip bzip2 xz lz4 lzop zstd perl

SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

cd "$tmp"
printf 'hello busybox\n' > busybox.bin
printf 'motd\n' > motd
sed "s|@ABS@|$tmp|" "$top_srcdir/tests/initramfs-list.spec" > golden.spec

# Golden output of list and list --json.
$MKVMIMG initramfs create -q --spec golden.spec --compress=none -o golden.img
$MKVMIMG initramfs list golden.img > list.out
diff -u "$top_srcdir/tests/initramfs-list.expected" list.out ||
  fail "list output differs from tests/initramfs-list.expected"
$MKVMIMG initramfs list --json golden.img > list.json
diff -u "$top_srcdir/tests/initramfs-list-json.expected" list.json ||
  fail "list --json output differs from tests/initramfs-list-json.expected"
perl -MJSON::PP -e 'local $/; decode_json (<STDIN>)' < list.json ||
  fail "list --json is not JSON"

# GNU cpio agrees on the device nodes, owners and the hardlink (stored
# once: bin/busybox has the data, bin/sh shares its inode).
cpio -itv < golden.img > cpio.out 2>/dev/null
grep -q '^crw------- .* 5, *1 .* dev/console$' cpio.out || fail "dev/console"
grep -q '^brw-rw---- .* 8, *0 .* dev/sda$' cpio.out || fail "dev/sda"
grep -q '^-rwsr-xr-x .* sbin-setuid$' cpio.out || fail "setuid bit"
grep -q '^-rwxr-xr-x *2 root *root *14 .* bin/busybox$' cpio.out || fail "hardlink data"
grep -q '^-rwxr-xr-x *2 root *root *0 .* bin/sh$' cpio.out || fail "hardlink stored twice"
mkdir unpacked
(cd unpacked && cpio -idm --no-absolute-filenames < ../golden.img 2>/dev/null)
[ "$(cat unpacked/bin/sh)" = "hello busybox" ] || fail "hardlink content"
[ "$(stat -c %i unpacked/bin/sh)" = "$(stat -c %i unpacked/bin/busybox)" ] ||
  fail "bin/sh is not a hardlink of bin/busybox"

# Sequential inode numbers: 1, 2, 3... in the order of the spec (0 for
# the trailer), the
# hardlink sharing its file's.
inodes=$(od -A n -c golden.img | tr -d ' \n' | grep -o '070701[0-9a-f]\{8\}' |
         sed 's/^070701//' | tr '\n' ' ')
[ "$inodes" = "00000001 00000002 00000003 00000004 00000005 00000005 00000006 00000007 00000008 00000009 0000000a 0000000b 0000000c 00000000 " ] ||
  fail "inode numbers: $inodes"

# Every compression, checked with its own tool, reproducible.
for c in none gzip bzip2 lzma xz lzo lz4 zstd gzip:1 zstd:19 xz:0; do
  name=${c%%:*}
  $MKVMIMG initramfs create -q --spec golden.spec --compress=$c -o a.$name
  sleep 1 # a different wall clock must not matter
  $MKVMIMG initramfs create -q --spec golden.spec --compress=$c -o b.$name
  cmp a.$name b.$name || fail "$c: two runs differ"
  case $name in
    none) cat a.$name > plain ;;
    gzip) gzip -dc a.$name > plain ;;
    bzip2) bzip2 -dc a.$name > plain ;;
    lzma) xz --format=lzma -dc a.$name > plain ;;
    xz) xz -dc a.$name > plain
        xz --robot -lvv a.$name | grep -q 'CRC32' || fail "xz check is not CRC32" ;;
    lzo) lzop -dc a.$name > plain ;;
    lz4) [ "$(od -A n -t x1 -N 4 a.$name | tr -d ' ')" = 02214c18 ] ||
           fail "lz4 is not in the legacy frame format"
         lz4 -dc a.$name > plain ;;
    zstd) zstd -qdc a.$name > plain ;;
  esac
  cmp plain golden.img || fail "$c: the cpio inside differs from the uncompressed one"
  $MKVMIMG initramfs list a.$name | sed 1d > l.$name
  sed 1d list.out | cmp - l.$name || fail "$c: list differs"
  $MKVMIMG initramfs list a.$name | sed -n 1p | grep -q ", $name\$" ||
    fail "$c: compression not detected"
  rm -f a.$name b.$name
done

# ${NAME} in a file's location, as gen_init_cpio does.
printf 'file /x ${MKVMIMG_TEST_DIR}/motd 0644 0 0\n' > env.spec
MKVMIMG_TEST_DIR=$tmp $MKVMIMG initramfs create -q --spec env.spec -o env.img
$MKVMIMG initramfs list env.img | grep -q ' 5 .* x$' || fail "\${NAME} in a spec"

# Reproducible without SOURCE_DATE_EPOCH too: never the wall clock.
(unset SOURCE_DATE_EPOCH
 $MKVMIMG initramfs create -q --spec golden.spec -o nosde1.img
 sleep 1
 $MKVMIMG initramfs create -q --spec golden.spec -o nosde2.img)
cmp nosde1.img nosde2.img || fail "without SOURCE_DATE_EPOCH: two runs differ"

# A directory: sorted, owners 0:0 (or kept), hardlinks, mtimes clamped.
mkdir -p tree/b tree/a/deep
echo one > tree/b/file
ln tree/b/file tree/a/link
ln -s ../b/file tree/a/sym
mkfifo tree/fifo
echo x > tree/a/deep/x
touch -d '2030-01-01' tree/a/deep/x
chown -R 1234:5678 tree 2>/dev/null || true
$MKVMIMG initramfs create -q -o dir.img tree
$MKVMIMG initramfs list dir.img > dir.list
names=$(sed 1d dir.list | awk '{ print $6 }' | tr '\n' ' ')
[ "$names" = ". a a/deep a/deep/x a/link a/sym b b/file fifo " ] ||
  fail "directory entries not sorted: $names"
grep -q ' 1234/5678 ' dir.list && fail "owners not mapped to 0:0"
grep -q '2030-01-01' dir.list && fail "mtime not clamped to SOURCE_DATE_EPOCH"
grep -q ' b/file link to a/link$' dir.list || fail "hardlink in a directory"
gzip -dc dir.img | cpio -itv 2>/dev/null | grep -q '^-rw-r--r-- *2 root *root *0 .* b/file$' ||
  fail "hardlink data stored twice"
if [ "$(id -u)" = 0 ]; then
  $MKVMIMG initramfs create -q --keep-owner -o keep.img tree
  $MKVMIMG initramfs list keep.img | grep -q ' 1234/5678 ' ||
    fail "--keep-owner did not keep the owners"
fi
$MKVMIMG initramfs create -q -o dir2.img tree
cmp dir.img dir2.img || fail "directory: two runs differ"

# Refusals: nothing is left behind.
expect_fail $MKVMIMG initramfs create -q -o dir.img tree      # exists
$MKVMIMG initramfs create -q --force -o dir.img tree
printf 'dir /a 0755 0 0\nfile /b nosuchfile 0644 0 0\n' > bad1.spec
printf 'dir /a 0755 0 0\n\nnod /c 0600 0 0 x 1 1\n' > bad2.spec
printf 'dir /a 0755 0 0\nslink /c\n' > bad3.spec
printf 'frob /a 0755 0 0\n' > bad4.spec
printf 'dir /a 0855 0 0\n' > bad5.spec
printf 'dir /../a 0755 0 0\n' > bad6.spec
for n in 1 2 3 4 5 6; do
  expect_fail $MKVMIMG initramfs create --spec bad$n.spec -o bad.img 2> err
  cat err
  [ ! -e bad.img ] || fail "bad$n.spec: output left behind"
  ls -A | grep -q '^\.bad\.img' && fail "bad$n.spec: temporary file left behind"
done
expect_fail $MKVMIMG initramfs create --spec bad2.spec -o bad.img 2> err
grep -q 'bad2.spec:3:' err || fail "spec errors do not name file:line"
expect_fail $MKVMIMG initramfs create --compress=zip -o bad.img tree
expect_fail $MKVMIMG initramfs create --compress=gzip:42 -o bad.img tree
expect_fail $MKVMIMG initramfs create -o bad.img
expect_fail $MKVMIMG initramfs create -o bad.img tree --spec golden.spec
# A file too large for newc (a sparse 4 GiB file).
mkdir big && truncate -s 4G big/huge
expect_fail $MKVMIMG initramfs create -o bad.img big 2> err
grep -q 'too large' err || fail "no 'too large' error"
[ ! -e bad.img ] || fail "too large: output left behind"
echo OK
