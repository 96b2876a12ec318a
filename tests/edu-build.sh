#!/bin/sh
# The edu example driver builds out of tree against Debian's kernel
# headers (linux-headers-amd64), without a warning, into a module for
# Debian's kernel that matches QEMU's edu device and depends on nothing.
. "$top_srcdir/tests/functions.sh"
requires make gcc modinfo

kernel=$(debian_kernel)
[ -n "$kernel" ] || fail "no Debian kernel in /boot (run setup.sh)"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver/build" ] ||
  fail "no headers for $kver in /lib/modules/$kver/build (run setup.sh)"

# Never build in the source tree.  Not with the flags of an outer make
# (make check VAR=...), which kbuild would take as its own.
unset MAKEFLAGS MFLAGS MAKELEVEL
cp -R "$top_srcdir/examples/drivers/edu" "$tmp/edu"
chmod -R u+w "$tmp/edu"
make -C "$tmp/edu" KVER="$kver" > "$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log"
  fail "make KVER=$kver failed"
}
cat "$tmp/build.log"
if grep -E 'warning:|error:' "$tmp/build.log"; then
  fail "the build printed warnings"
fi
ko=$tmp/edu/edu.ko
[ -f "$ko" ] || fail "no edu.ko"

vermagic=$(modinfo -F vermagic "$ko")
alias=$(modinfo -F alias "$ko")
license=$(modinfo -F license "$ko")
depends=$(modinfo -F depends "$ko")
name=$(modinfo -F name "$ko")
echo "vermagic: $vermagic"
echo "alias: $alias"
echo "license: $license"
echo "depends: '$depends'"

case "$vermagic" in
  "$kver "*) ;;
  *) fail "vermagic '$vermagic' is not for $kver" ;;
esac
[ "$alias" = 'pci:v00001234d000011E8sv*sd*bc*sc*i*' ] ||
  fail "unexpected alias '$alias'"
[ "$license" = GPL ] || fail "unexpected license '$license'"
[ -z "$depends" ] || fail "edu.ko depends on '$depends'"
[ "$name" = edu ] || fail "unexpected module name '$name'"
modinfo -F parm "$ko" | grep -q '^msi:' || fail "no msi parameter"

# The module's alias matches the device as the kernel would announce it.
modalias='pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00'
case "$modalias" in
  $alias) ;;
  *) fail "alias '$alias' does not match $modalias" ;;
esac

# KDIR= works as well as KVER=, and clean removes the products.
make -C "$tmp/edu" KDIR="/lib/modules/$kver/build" clean > /dev/null
[ ! -e "$ko" ] || fail "make clean left edu.ko"
make -C "$tmp/edu" KDIR="/lib/modules/$kver/build" > /dev/null 2>&1 ||
  fail "make KDIR=... failed"
[ "$(modinfo -F vermagic "$ko")" = "$vermagic" ] ||
  fail "KDIR= and KVER= builds differ"
