#!/bin/sh
# initramfs extract: every segment, later entries over earlier ones, and
# never a write outside the directory.
. "$top_srcdir/tests/functions.sh"
requires cpio zstd

cd "$tmp"

# One newc entry on stdout: NAME MODE(octal) [DATA [INO [NLINK]]].
newc ()
{
  _name=$1 _mode=$2 _data=${3-} _ino=${4-1} _nlink=${5-1}
  _ns=$(( ${#_name} + 1 ))
  printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
    "$_ino" "$(( 0$_mode ))" 0 0 "$_nlink" 0 "${#_data}" 0 0 0 0 "$_ns" 0
  printf '%s\0' "$_name"
  head -c $(( (4 - (110 + _ns) % 4) % 4 )) /dev/zero
  printf '%s' "$_data"
  head -c $(( (4 - ${#_data} % 4) % 4 )) /dev/zero
}
trailer ()
{
  newc TRAILER!!! 0 "" 0
}

mkdir outside
# Everything that tries to escape aims at $tmp/outside.
{
  newc good 100644 "good data"
  newc "$tmp/outside/abs" 100644 "absolute"
  newc ../outside/dotdot 100644 "dot dot"
  newc link 120777 "$tmp/outside"
  newc link/through 100644 "through an absolute symlink"
  newc rel 120777 "../outside"
  newc rel/through2 100644 "through a relative symlink"
  newc dirlink 120777 "$tmp/outside"
  newc dirlink 40755
  newc dirlink/x 100644 "through a symlink replaced by a directory"
  newc sub 40755
  newc in 120777 "sub"
  newc in 40755
  newc in/ok 100644 "through a symlink that stays inside"
  newc hard 100644 "" 7 2
  newc hard2 100644 "" 8 2
  trailer
} > evil.cpio
# The same refusals must hold whatever the compression.
zstd -q -c evil.cpio > evil.zst

for img in evil.cpio evil.zst; do
  rm -rf x
  expect_fail $MKVMIMG initramfs extract $img x 2> err
  cat err
  for name in "$tmp/outside/abs" ../outside/dotdot link/through rel/through2 \
              dirlink dirlink/x; do
    grep -q "refusing entry \"$name\"" err || fail "$img: $name not refused"
  done
  grep -q 'refusing entry "in' err && fail "$img: an inside symlink was refused"
  [ -z "$(ls -A outside)" ] || fail "$img: something was written outside: $(ls -A outside)"
  [ "$(cat x/good)" = "good data" ] || fail "$img: good entry not extracted"
  [ "$(cat x/sub/ok)" = "through a symlink that stays inside" ] ||
    fail "$img: inside symlink not followed"
  [ -L x/link ] && [ -L x/rel ] || fail "$img: symlinks not extracted"
done

# Multi-segment: an uncompressed early segment, a zstd main one over it.
mkdir a b
echo one > a/f; echo early > a/only-early
echo two > b/f; echo main > b/only-main
$MKVMIMG initramfs create -q --compress=none -o early.img a
$MKVMIMG initramfs create -q --compress=zstd -o main.img b
{ cat early.img; head -c 512 /dev/zero; cat main.img; } > multi.img
$MKVMIMG initramfs list multi.img > list
grep -q '^segment 0: offset 0, .* none$' list || fail "segment 0"
grep -q '^segment 1: offset [0-9]*, .* zstd$' list || fail "segment 1"
$MKVMIMG initramfs extract multi.img y
[ "$(cat y/f)" = two ] || fail "later entries do not win"
[ "$(cat y/only-early)" = early ] && [ "$(cat y/only-main)" = main ] ||
  fail "an entry of one segment is missing"

# Hardlinks, device nodes and owners from a spec; restored as root,
# skipped with one warning otherwise.
echo data > payload
cat > nodes.spec <<EOS
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/loop9 0660 0 6 b 7 9
file /bin/prog payload 0755 1234 5678 /bin/alias /sbin/alias2
EOS
$MKVMIMG initramfs create -q --compress=gzip --spec nodes.spec -o nodes.img
if [ "$(id -u)" = 0 ]; then
  $MKVMIMG initramfs extract nodes.img z 2> err
  [ -c z/dev/console ] && [ "$(stat -c %t,%T z/dev/console)" = 5,1 ] ||
    fail "dev/console not created as root"
  [ -b z/dev/loop9 ] && [ "$(stat -c %t,%T z/dev/loop9)" = 7,9 ] ||
    fail "dev/loop9 not created as root"
  [ "$(stat -c %u:%g z/bin/prog)" = 1234:5678 ] || fail "owner not restored as root"
  grep -q warning err && fail "a warning as root"
  if command -v setpriv >/dev/null; then
    mkdir unpriv && chown 65534:65534 unpriv
    chmod 755 "$tmp"
    setpriv --reuid=65534 --regid=65534 --clear-groups \
      $MKVMIMG initramfs extract nodes.img unpriv/z 2> err
    cat err
    [ "$(grep -c 'warning: .*not running as root' err)" = 1 ] ||
      fail "not one warning when not root"
    [ -e unpriv/z/dev/console ] && fail "device node created when not root"
    [ "$(cat unpriv/z/sbin/alias2)" = data ] || fail "file not extracted when not root"
  fi
else
  $MKVMIMG initramfs extract nodes.img z 2> err
  [ "$(grep -c 'warning: .*not running as root' err)" = 1 ] ||
    fail "not one warning when not root"
  [ -e z/dev/console ] && fail "device node created when not root"
fi
[ "$(stat -c %i z/bin/prog)" = "$(stat -c %i z/bin/alias)" ] &&
  [ "$(stat -c %i z/bin/prog)" = "$(stat -c %i z/sbin/alias2)" ] ||
  fail "hardlinks not extracted as hardlinks"
[ "$(cat z/sbin/alias2)" = data ] || fail "hardlink data"

# Bad input: a clear error and a non-zero exit.
head -c 300 early.img > trunc.img
expect_fail $MKVMIMG initramfs extract trunc.img t1 2> err
grep -q 'the uncompressed segment at offset 0 is truncated' err ||
  { cat err; fail "truncated cpio"; }
head -c 100 main.img > trunc.zst
expect_fail $MKVMIMG initramfs extract trunc.zst t2 2> err
grep -q 'the zstd segment at offset 0 is truncated' err ||
  { cat err; fail "truncated zstd"; }
echo 'not an initramfs' > junk.img
expect_fail $MKVMIMG initramfs extract junk.img t3 2> err
grep -q 'unknown format' err || fail "unknown format"
: > empty.img
expect_fail $MKVMIMG initramfs extract empty.img t4
echo OK
