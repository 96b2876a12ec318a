#!/bin/sh
# ext4 sink errors: an entry through a symlink is refused (nothing is
# written through it); a full filesystem and a missing filesystem give
# clear messages.
. "$top_srcdir/tests/functions.sh"
requires mke2fs e2fsck debugfs

mta="$top_builddir/tests/make-test-archive"
t4="$top_builddir/tests/test-ext4"

# "evil" -> "/tmp", then "evil/x".
$mta hostile "$tmp/hostile.tar"
expect_fail "$t4" --size 32M "$tmp/h.img" "$tmp/hostile.tar" 2> "$tmp/err"
cat "$tmp/err"
grep -qF "mkvmimg: populate ext4: evil/x: refusing the entry: evil is a symbolic link" "$tmp/err" ||
  fail "symlink refusal message"
# Nothing went through the link: evil is still the symlink and no x
# was linked anywhere (the unfinished image is only looked at, a failed
# pipeline throws it away).
debugfs -R "stat /evil" "$tmp/h.img" 2>/dev/null | grep -qF 'Fast link dest: "/tmp"' ||
  fail "evil"
debugfs -R "ls /" "$tmp/h.img" 2>/dev/null | grep -qw x && fail "x was written"

# Too small: 40 MiB of data into 16 MiB.
$mta big:1 "$tmp/ok.tar"
$mta big:40 "$tmp/big.tar"
expect_fail "$t4" --size 16M "$tmp/small.img" "$tmp/big.tar" 2> "$tmp/err"
cat "$tmp/err"
grep -qF "mkvmimg: populate ext4: big: Could not allocate block in ext2 filesystem (the filesystem is too small" "$tmp/err" ||
  fail "ENOSPC message"

# No filesystem at that offset: libext2fs's own words.
truncate -s 32M "$tmp/zero.img"
expect_fail "$t4" --no-mkfs --offset 1M "$tmp/zero.img" "$tmp/big.tar" 2> "$tmp/err"
cat "$tmp/err"
grep -qF "mkvmimg: open ext4 filesystem $tmp/zero.img at offset 1048576: Bad magic number in super-block" "$tmp/err" ||
  fail "bad magic message"

# An entry of a type ext4 has no place for.
expect_fail "$t4" --size 32M --put-type 0160644:whiteout "$tmp/u.img" \
  "$tmp/ok.tar" 2> "$tmp/err"
cat "$tmp/err"
grep -qF "mkvmimg: populate ext4: whiteout: unknown entry type (mode 0160644)" "$tmp/err" ||
  fail "unknown type message"
"$t4" --size 32M --put-type 0100644:plain "$tmp/u.img" "$tmp/ok.tar" ||
  fail "--put-type itself"

# Too small for ext4 at all.
expect_fail "$t4" --size 1M "$tmp/tiny.img" "$tmp/big.tar" 2> "$tmp/err"
grep -qF "too small for ext4" "$tmp/err" || fail "tiny"
echo OK
