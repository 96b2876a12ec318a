#!/bin/sh
# Set up (installs Debian packages), build mkvmimg, then build the image
# of the built-in default profile (offline: the host's kernel, a busybox
# system, the edu example driver, QEMU's edu device) and boot it.
set -e
cd "$(dirname "$0")"
./setup.sh
[ -x configure ] || ./autogen.sh
# The plain build of check.sh (build-plain/), unless the tree itself was
# configured by hand.
if [ -f config.status ]; then
  bin=.
  make -j2
else
  bin=build-plain
  mkdir -p $bin
  (cd $bin && { [ -f Makefile ] || ../configure --enable-gcc-warnings; } &&
   make -j2)
fi

$bin/mkvmimg build --force
$bin/mkvmimg boot mkvmimg.qcow2 --expect 'selftest: all passed' --timeout 300
