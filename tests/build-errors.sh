#!/bin/sh
# Bad input to build: a clear error, exit 1, and no output left behind;
# an existing output is never touched.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd

mkdir "$tmp/out"
check_error ()
{
  want=$1
  shift
  set +e
  $MKVMIMG build "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$tmp/stderr"; fail "exit $rc, expected 1: $*"; }
  grep -q -- "$want" "$tmp/stderr" || { cat "$tmp/stderr"; fail "message '$want' not given: $*"; }
  [ -z "$(ls -A "$tmp/out")" ] || fail "output left behind: $(ls -A "$tmp/out")"
}

# A typo is an error naming file:line.
printf '[image]\nformat = qcow2\nsise = 4G\n' > "$tmp/typo.conf"
check_error "typo.conf:3" "$tmp/typo.conf" -o "$tmp/out/x.qcow2"
printf '[imgae]\n' > "$tmp/section.conf"
check_error "section.conf:1" "$tmp/section.conf" -o "$tmp/out/x.qcow2"

cat > "$tmp/small.conf" <<EOS
[image]
size = 8M
[rootfs]
source = busybox
[kernel]
image = host
initrd = host
[boot]
loader = bios
EOS
check_error "needs at least" "$tmp/small.conf" -o "$tmp/out/x.qcow2"
check_error "too small" "$tmp/small.conf" -o "$tmp/out/x.qcow2" \
  --set image.size=64M --set partition.root.size=4M --set partition.bios.size=1M \
  --set partition.bios.type=bios

# A bootable loader with no kernel anywhere.
printf '[rootfs]\nsource = busybox\n[boot]\nloader = bios\n' > "$tmp/nokernel.conf"
check_error "no kernel" "$tmp/nokernel.conf" -o "$tmp/out/x.qcow2"

# A missing source.
printf '[rootfs]\nsource = tar:%s/nonexistent.tar\n[boot]\nloader = none\n[kernel]\nimage = host\n' "$tmp" > "$tmp/nosource.conf"
check_error "nonexistent.tar" "$tmp/nosource.conf" -o "$tmp/out/x.qcow2"

# An NBD server that is not there.
printf '[rootfs]\nsource = busybox\n[boot]\nloader = none\n[kernel]\nimage = host\n' > "$tmp/ok.conf"
check_error "nbd" "$tmp/ok.conf" -o "nbd+unix:///?socket=$tmp/out/no-such.sock"

# An existing output is refused, and left as it was, even with --force
# when the build fails.
echo precious > "$tmp/out/x.qcow2"
set +e
$MKVMIMG build "$tmp/ok.conf" -o "$tmp/out/x.qcow2" 2>"$tmp/stderr"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q -- "--force" "$tmp/stderr" || fail "existing output not refused"
set +e
$MKVMIMG build "$tmp/nosource.conf" -o "$tmp/out/x.qcow2" --force 2>/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || fail "failing build with --force succeeded"
[ "$(cat "$tmp/out/x.qcow2")" = precious ] || fail "existing output damaged"
[ "$(ls -A "$tmp/out")" = x.qcow2 ] || fail "leftovers: $(ls -A "$tmp/out")"

# Usage errors exit 2.
set +e
$MKVMIMG build a.conf b.conf 2>/dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "two profiles: exit $rc"
echo OK
