#!/bin/sh
# A root source archive cut short: in the middle (tar, tar.gz, tar.zst,
# tar.xz, cpio, and initramfs cpio.gz / cpio.zst), and exactly between
# two tar entries, where only the missing end-of-archive blocks tell.
# The build fails with an error naming the source, and leaves no output
# and no temporary file.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-nbd qemu-img gzip zstd xz cpio

mkdir -p "$tmp/root/etc" "$tmp/root/bin" "$tmp/out" "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR
head -c 2M /dev/urandom > "$tmp/root/etc/first"
head -c 3M /dev/urandom > "$tmp/root/etc/second"
echo last > "$tmp/root/bin/last"
# The order of the entries is fixed, so that the cut between two of them
# is known.
(cd "$tmp/root" && printf '%s\n' . etc etc/first etc/second bin bin/last |
  tar --owner=0 --group=0 --no-recursion -cf "$tmp/s.tar" -T -)
(cd "$tmp/root" && printf '%s\n' . etc etc/first etc/second bin bin/last |
  cpio -o -H newc --quiet > "$tmp/s.cpio")
gzip -c "$tmp/s.tar" > "$tmp/s.tar.gz"
zstd -q -c "$tmp/s.tar" > "$tmp/s.tar.zst"
xz -c "$tmp/s.tar" > "$tmp/s.tar.xz"
gzip -c "$tmp/s.cpio" > "$tmp/s.cpio.gz"
zstd -q -c "$tmp/s.cpio" > "$tmp/s.cpio.zst"

# Between etc/second and bin: tar's block numbers say where.
block=$(tar -R -tf "$tmp/s.tar" |
  sed -n 's|^block \([0-9]*\): \(\./\)\{0,1\}bin/\{0,1\}$|\1|p')
[ -n "$block" ] || { tar -R -tf "$tmp/s.tar"; fail "no block number for bin/"; }
head -c $((block * 512)) "$tmp/s.tar" > "$tmp/cut-between.tar"
tar -tf "$tmp/cut-between.tar" >/dev/null ||
  fail "GNU tar refuses the cut archive: the case does not test what it should"
gzip -c "$tmp/cut-between.tar" > "$tmp/cut-between.tar.gz"

try ()
{
  src=$1 what=$2
  printf '[rootfs]\nsource = %s\n[kernel]\nimage = host\n[boot]\nloader = none\n' \
    "$src" > "$tmp/p.conf"
  set +e
  $MKVMIMG -q build "$tmp/p.conf" -o "$tmp/out/disk.qcow2" 2> "$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$tmp/err"; fail "$what: exit status $rc, expected 1"; }
  path=${src#*:}
  grep -q "^mkvmimg: $path: " "$tmp/err" ||
    { cat "$tmp/err"; fail "$what: no error naming $path"; }
  assert_empty_dir "$tmp/out" "$what"
  assert_empty_dir "$tmp/t" "$what (TMPDIR)"
  assert_no_procs "$what"
  echo "ok: $what: $(head -n 1 "$tmp/err")"
}

# Whole, they build (so the failures below are the cuts').
for f in s.tar s.tar.zst s.cpio.gz; do
  printf '[rootfs]\nsource = %s\n[kernel]\nimage = host\n[boot]\nloader = none\n' \
    "$tmp/$f" > "$tmp/p.conf"
  $MKVMIMG -q build "$tmp/p.conf" -o "$tmp/out/disk.qcow2" ||
    fail "the whole $f does not build"
  rm "$tmp/out"/*
done

for f in s.tar s.tar.gz s.tar.zst s.tar.xz s.cpio s.cpio.gz s.cpio.zst; do
  size=$(stat -c %s "$tmp/$f")
  head -c $((size / 2)) "$tmp/$f" > "$tmp/half-$f"
  case $f in
    *.tar*) prefix=tar: ;;
    *) prefix=cpio: ;;
  esac
  try "$prefix$tmp/half-$f" "$f cut in the middle"
done
# Found by content rather than named.
try "$tmp/half-s.tar" "s.tar cut in the middle, found by content"
try "$tmp/half-s.cpio.zst" "s.cpio.zst cut in the middle, found by content"
try "tar:$tmp/cut-between.tar" "tar cut between two entries"
try "tar:$tmp/cut-between.tar.gz" "tar.gz cut between two entries"
echo OK
