#!/bin/sh
# Set up (installs Debian packages), build mkvmimg, then build the image
# of the built-in default profile (offline: the host's kernel, a busybox
# system, the edu example driver, QEMU's edu device) and boot it.
set -e
cd "$(dirname "$0")"
./setup.sh
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j2

./mkvmimg build --force
./mkvmimg boot mkvmimg.qcow2 --expect 'selftest: all passed' --timeout 300
