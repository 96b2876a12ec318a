#!/bin/sh
# Bad driver modules and devices: clear errors before anything is built.
. "$top_srcdir/tests/functions.sh"
requires make modinfo perl

kernel=$(debian_kernel)
release=${kernel#/boot/vmlinuz-}
mkdir "$tmp/out"
check_error ()
{
  want=$1 conf=$2
  set +e
  $MKVMIMG build "$conf" -o "$tmp/out/x.qcow2" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$tmp/stderr"; fail "exit $rc, expected 1 ($conf)"; }
  grep -q -- "$want" "$tmp/stderr" || { cat "$tmp/stderr"; fail "no '$want' ($conf)"; }
  [ -z "$(ls -A "$tmp/out")" ] || fail "output left behind"
}
profile ()
{
  printf '[rootfs]\nsource = busybox\n[kernel]\nimage = host\n[boot]\nloader = none\n'
  cat
}

# A prebuilt module for another kernel: both releases are named.
cp -r "$top_srcdir/examples/drivers/edu" "$tmp/edu"
(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "/lib/modules/$release/build" M="$tmp/edu" modules >/dev/null 2>&1)
[ -f "$tmp/edu/edu.ko" ] || fail "edu.ko not built"
other=$(echo "$release" | sed 's/^\([0-9]*\.[0-9]*\.\)[0-9]/\19/')
[ ${#other} -eq ${#release} ] && [ "$other" != "$release" ] || other=$(echo "$release" | tr 0-8 1-9)
perl -pi -e "s/vermagic=\Q$release\E/vermagic=$other/" "$tmp/edu/edu.ko"
[ "$(modinfo -F vermagic "$tmp/edu/edu.ko" | cut -d' ' -f1)" = "$other" ] || fail "vermagic not changed"
printf '[module edu]\nko = %s\n' "$tmp/edu/edu.ko" | profile > "$tmp/vermagic.conf"
check_error "built for kernel $other, but the image's kernel is $release" "$tmp/vermagic.conf"

# A module that does not compile: the compiler's message is shown.
mkdir "$tmp/bad"
echo 'obj-m := bad.o' > "$tmp/bad/Kbuild"
printf '#include <linux/module.h>\nthis is not C;\nMODULE_LICENSE("GPL");\n' > "$tmp/bad/bad.c"
printf '[module bad]\nsource = %s\n' "$tmp/bad" | profile > "$tmp/bad.conf"
check_error "error:" "$tmp/bad.conf"
grep -q "module bad: the build failed" "$tmp/stderr" || fail "no build failure summary"

# A source directory that is not a Kbuild directory.
mkdir "$tmp/empty"
printf '[module empty]\nsource = %s\n' "$tmp/empty" | profile > "$tmp/empty.conf"
check_error "neither a Kbuild nor a Makefile" "$tmp/empty.conf"

# A device the chosen QEMU does not know.
printf '[device x]\ntype = no-such-device\n' | profile > "$tmp/device.conf"
check_error 'does not know the device type "no-such-device"' "$tmp/device.conf"

# --strict: a driver with no device to bind is an error, a warning without.
printf '[module edu]\nsource = %s\n' "$top_srcdir/examples/drivers/edu" | profile > "$tmp/nodev.conf"
$MKVMIMG build "$tmp/nodev.conf" -o "$tmp/nodev.qcow2" 2>"$tmp/stderr"
grep -q "warning: module edu: no \[device\]" "$tmp/stderr" || { cat "$tmp/stderr"; fail "no warning"; }
rm -f "$tmp/nodev.qcow2"*
set +e
$MKVMIMG build --strict "$tmp/nodev.conf" -o "$tmp/out/x.qcow2" 2>"$tmp/stderr"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "module edu: no \[device\]" "$tmp/stderr" || fail "--strict did not fail"
[ -z "$(ls -A "$tmp/out")" ] || fail "output left behind"
echo OK
