#!/bin/sh
# The download cache of the foreign-architecture tests (arch-lib.sh:
# tests/foreign-cache in the build tree) is removed by make distclean,
# so that distcheck finds nothing left, and kept by make clean, so that
# a rebuild does not download it again.  A dry run (make -n) of the
# build tree's own Makefile: nothing is removed.
. "$top_srcdir/tests/functions.sh"
requires make

cd "$top_builddir"
# Not the jobserver or the flags of the make that runs this test.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -n distclean > "$tmp/distclean.out" 2>&1 ||
  { cat "$tmp/distclean.out"; fail "make -n distclean"; }
grep -q "rm -rf tests/foreign-cache" "$tmp/distclean.out" ||
  fail "make distclean does not remove tests/foreign-cache"
make -n clean > "$tmp/clean.out" 2>&1 ||
  { cat "$tmp/clean.out"; fail "make -n clean"; }
! grep -q "foreign-cache" "$tmp/clean.out" ||
  fail "make clean removes the download cache"
echo OK
