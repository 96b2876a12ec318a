#!/bin/sh
# ext4 sink from a real Debian tree (a directory source): sized by the
# estimate, checked by e2fsck, read back whole with debugfs rdump and
# compared with the original.  /usr/bin/ping's capability when present.
. "$top_srcdir/tests/functions.sh"
requires mke2fs e2fsck debugfs

t4="$top_builddir/tests/test-ext4"
tree=/usr/share/doc
[ -d $tree ] || tree=/usr/share/common-licenses

img="$tmp/tree.img"
"$t4" --estimate --offset 1M "$img" $tree
dd if="$img" of="$tmp/fs" bs=1M skip=1 status=none
e2fsck -fn "$tmp/fs" || fail "e2fsck found errors"

mkdir "$tmp/out"
debugfs -R "rdump / $tmp/out" "$tmp/fs" 2>/dev/null
rmdir "$tmp/out/lost+found"
diff -r --no-dereference $tree "$tmp/out" || fail "the tree differs"
n1=$(find $tree -mindepth 1 | wc -l)
n2=$(find "$tmp/out" -mindepth 1 | wc -l)
echo "$tree: $n1 entries, read back: $n2"
[ "$n1" -eq "$n2" ] || fail "entry counts differ"
# Owners and modes of a sample, as the host has them.
for f in $(find $tree -maxdepth 2 | head -n 50); do
  rel=${f#$tree}
  want=$(stat -c '%f %u %g' "$f")
  got=$(debugfs -R "stat ${rel:-/}" "$tmp/fs" 2>/dev/null |
        awk '/^Inode:/ { for (i = 1; i <= NF; i++) if ($i == "Mode:") m = $(i + 1) }
             /^User:/ { u = $2; g = $4 } END { print m, u, g }')
  mode=$(printf '%o' 0x$(echo "$want" | cut -d' ' -f1))
  [ "$(printf '%04o' $((0$mode & 07777))) $(echo "$want" | cut -d' ' -f2-)" = "$got" ] ||
    fail "$f: host '$mode $want', ext4 '$got'"
done

# A file capability set on the host (Debian's ping when iputils-ping is
# installed, else a copy of true given cap_net_raw=ep by setcap) comes
# through the directory source byte for byte.  The synthetic capability
# of tests/ext4-roundtrip.sh is checked everywhere.
mkdir -p "$tmp/ping/usr/bin"
if [ -f /usr/bin/ping ] && command -v getcap >/dev/null &&
   getcap /usr/bin/ping | grep -q cap_net_raw; then
  cp -a /usr/bin/ping "$tmp/ping/usr/bin/"
elif command -v setcap >/dev/null; then
  cp /bin/true "$tmp/ping/usr/bin/ping"
  setcap cap_net_raw=ep "$tmp/ping/usr/bin/ping" || rm "$tmp/ping/usr/bin/ping"
fi
if [ -f "$tmp/ping/usr/bin/ping" ] && command -v getfattr >/dev/null; then
  "$t4" --size 32M "$tmp/ping.img" "$tmp/ping"
  want=$(getfattr --only-values -n security.capability "$tmp/ping/usr/bin/ping" |
         od -An -tx1 | tr -s ' \n' ' ')
  echo "capability:$want"
  debugfs -R "ea_list /usr/bin/ping" "$tmp/ping.img" 2>/dev/null |
    grep -F "security.capability (20) =$want" || fail "ping lost its capability"
else
  echo "no ping with a capability, no setcap/getfattr here: skipped that part"
fi
echo OK
