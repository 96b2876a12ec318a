#!/bin/sh
# ext4_size_for never under-estimates: a filesystem of exactly the
# estimated size holds thousands of small files, a big directory, long
# symlinks, xattr blocks, big and sparse files; a margin is left free.
. "$top_srcdir/tests/functions.sh"
requires mke2fs e2fsck dumpe2fs

mta="$top_builddir/tests/make-test-archive"
t4="$top_builddir/tests/test-ext4"

field () { dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"; }

check () {                      # check NAME MARGIN ARCHIVE...
  name=$1 margin=$2
  shift 2
  img="$tmp/$name.img"
  "$t4" --estimate --margin "$margin" "$img" "$@" > "$tmp/est" ||
    fail "$name: does not fit in the estimated size"
  size=$(sed -n 's/^size //p' "$tmp/est")
  [ "$(stat -c %s "$img")" -eq "$size" ] || fail "$name: image size"
  e2fsck -fn "$img" > /dev/null || fail "$name: e2fsck"
  blocks=$(field "$img" "Block count")
  free=$(field "$img" "Free blocks")
  reserved=$(field "$img" "Reserved block count")
  [ $((blocks * 4096)) -eq "$size" ] || fail "$name: filesystem size"
  echo "$name: estimate $(tr '\n' ' ' < "$tmp/est"); used $(( (blocks - free) * 4096 )) bytes, free $((free * 4096))"
  [ $(( (free - reserved) * 4096 )) -ge "$margin" ] ||
    fail "$name: margin $margin not left free"
  # and not wildly more than needed
  [ $(( (blocks - free) * 4096 * 2 + 64 * 1048576 )) -ge "$size" ] ||
    fail "$name: estimate $size is more than twice what is used"
}

$mta many "$tmp/many.tar"
check many 0 "$tmp/many.tar"
check many-margin 67108864 "$tmp/many.tar"
$mta --compress gzip big:300 "$tmp/big.tar.gz"
check big 0 "$tmp/big.tar.gz"
# Two sources, the second replacing files of the first.
$mta full "$tmp/full.tar"
$mta overlay "$tmp/overlay.tar"
check full 0 "$tmp/full.tar" "$tmp/overlay.tar"
echo OK
