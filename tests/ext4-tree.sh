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

# Debian's ping carries cap_net_raw=ep (iputils-ping; optional here, the
# synthetic capability of tests/ext4-roundtrip.sh is always checked).
if [ -f /usr/bin/ping ] && command -v getcap >/dev/null &&
   command -v getfattr >/dev/null &&
   getcap /usr/bin/ping | grep -q cap_net_raw; then
  mkdir -p "$tmp/ping/usr/bin"
  cp -a /usr/bin/ping "$tmp/ping/usr/bin/"
  "$t4" --size 32M "$tmp/ping.img" "$tmp/ping"
  want=$(getfattr --only-values -n security.capability /usr/bin/ping | od -An -tx1 | tr -s ' \n' ' ')
  debugfs -R "ea_list /usr/bin/ping" "$tmp/ping.img" 2>/dev/null |
    grep -F "security.capability (20) =$want" || fail "ping lost its capability"
else
  echo "no /usr/bin/ping with a capability here: skipped that part"
fi
echo OK
