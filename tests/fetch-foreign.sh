#!/bin/sh
# Fetch and unpack a Debian package of another architecture, for the
# foreign-architecture tests (kernels, busybox-static, GRUB modules):
#
#   fetch-foreign.sh CACHE DEBIAN-ARCH PACKAGE
#
# prints the directory the package is unpacked in (CACHE/DEBIAN-ARCH/
# PACKAGE).  A metapackage (linux-image-arm64) is followed to the one
# package it depends on.  apt-get runs with a private state directory
# under CACHE, so the host's apt and dpkg configuration (its
# architectures, lists and status) stay as they are; the sources are the
# host's.  What was unpacked once is not fetched again.
set -eu

[ $# -eq 3 ] || { echo "usage: $0 CACHE DEBIAN-ARCH PACKAGE" >&2; exit 2; }
cache=$1 arch=$2 pkg=$3
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$cache/$arch/$pkg
if [ -f "$dest/.unpacked" ]; then
  echo "$dest"
  exit 0
fi

# Tests running in parallel share the cache: one fetch at a time.
exec 9>"$cache/.lock"
flock 9
if [ -f "$dest/.unpacked" ]; then
  echo "$dest"
  exit 0
fi

state=$cache/apt-$arch
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" \
  "$state/debs"
: >> "$state/status"
set -- -q -o Dir::State="$state" -o Dir::State::Lists="$state/lists" \
  -o Dir::State::status="$state/status" -o Dir::Cache="$state/cache" \
  -o APT::Architecture="$arch" -o APT::Architectures::="$arch" \
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root

if ! [ -f "$state/updated" ]; then
  # A source that fails (a mirror in sync) is not fatal as long as the
  # package is found in the others.
  apt-get "$@" update >"$state/update.log" 2>&1 ||
    echo "fetch-foreign: apt-get update had errors (see $state/update.log)" >&2
  : > "$state/updated"
fi

real=$pkg
dep=$(apt-cache "$@" depends "$pkg" 2>/dev/null |
      awk -v p="$pkg" '$1 == "Depends:" && index($2, p "-") != 1 &&
                       $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$dep" ] && real=$dep
if ! apt-cache "$@" show "$real" >/dev/null 2>&1; then
  echo "fetch-foreign: no package $real for $arch in the host's apt" \
    "sources (see $state/update.log)" >&2
  exit 1
fi

rm -f "$state/debs/"*.deb
(cd "$state/debs" && apt-get "$@" download "$real") >"$state/download.log" 2>&1 || {
  cat "$state/download.log" >&2
  echo "fetch-foreign: apt-get download $real ($arch) failed" >&2
  exit 1
}
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$state/debs/"*.deb; do
  dpkg-deb -x "$deb" "$dest"
done
rm -f "$state/debs/"*.deb
# What the kernel package's postinst does: modules.dep and friends.
for dir in "$dest"/lib/modules/*; do
  [ -d "$dir/kernel" ] || continue
  /sbin/depmod -b "$dest" "${dir##*/}"
done
echo "$real" > "$dest/.unpacked"
echo "$dest"
