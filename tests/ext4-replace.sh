#!/bin/sh
# ext4 sink: later entries replace earlier ones of the same path (file
# over file, directory metadata over directory, directory over file,
# file over empty directory); a file over a non-empty directory fails.
. "$top_srcdir/tests/functions.sh"
requires mke2fs e2fsck debugfs

mta="$top_builddir/tests/make-test-archive"
t4="$top_builddir/tests/test-ext4"

$mta full "$tmp/full.tar"
$mta overlay "$tmp/overlay.tar"
$mta notempty "$tmp/notempty.tar"
fs="$tmp/fs.img"
"$t4" --size 128M "$fs" "$tmp/full.tar" "$tmp/overlay.tar"
e2fsck -fn "$fs" || fail "e2fsck found errors"

dbg () { debugfs -R "$1" "$fs" 2>/dev/null; }
st () { dbg "stat $1" > "$tmp/stat"; }
has () { grep -qF -- "$1" "$tmp/stat" || { cat "$tmp/stat"; fail "$2: no '$1'"; }; }

# Root metadata from the second "." entry.
st /;             has "Mode:  0750" root; has "User:     7" root
# File over file: new contents and mode; the old inode lives on as the
# other hard link, with one link left.
[ "$(dbg 'cat /etc/hello.txt')" = replaced ] || fail "file over file"
st /etc/hello.txt; has "Mode:  0600" "file over file"; has "Links: 1" "new file"
[ "$(dbg 'cat /hardlink')" = "hello world" ] || fail "old inode"
st /hardlink;     has "Links: 1" "old inode links"
# Directory over directory: metadata and xattrs replaced, children kept.
st /etc;          has "Mode:  0700" "dir metadata"; has "User:    42   Group:    43" "dir owner"
dbg "ea_list /etc" > "$tmp/stat"; has 'user.dir (3) = "yes"' "dir xattr"
# Directory over file, and a file inside it.
st /empty;        has "Type: directory" "dir over file"; has "Mode:  0711" "dir over file"
[ "$(dbg 'cat /empty/inside')" = inside ] || fail "file in replaced dir"
# Files and symlinks over symlinks, fifos, empty directories.
st /link-short;   has "Type: regular" "file over symlink"
st /fifo;         has 'Fast link dest: "was-a-fifo"' "symlink over fifo"
st /tmp;          has "Type: regular" "file over empty dir"
# The replaced big file's blocks are free again; its xattrs are gone.
st /big.bin;      has "Size: 10" "big.bin replaced"
dbg "ea_list /usr/bin/ping" > "$tmp/stat"
! grep -q capability "$tmp/stat" || fail "old xattrs survived replacement"
# Root is one link per subdirectory more: "tmp" became a file.
dbg "ls -l /" > "$tmp/ls"
subdirs=$(awk 'length($2) == 5 && $2 ~ /^4/ && $NF != "." && $NF != ".."' "$tmp/ls" | wc -l)
st /;             has "Links: $((subdirs + 2))" "root links count"

# A hard link that carries data (cpio gives it with the last name):
# the shared inode gets the new data, both names see it.
"$t4" --size 64M --put-hardlink "big.bin:big-link:new data" "$tmp/hl.img" \
  "$tmp/full.tar"
e2fsck -fn "$tmp/hl.img" || fail "e2fsck after a hard link with data"
[ "$(debugfs -R 'cat /big.bin' "$tmp/hl.img" 2>/dev/null)" = "new data" ] ||
  fail "hard link data"
debugfs -R "stat /big-link" "$tmp/hl.img" 2>/dev/null > "$tmp/stat"
has "Links: 2" "hard link with data"; has "Size: 8" "hard link with data"

# A file over a non-empty directory is an error naming the entry.
expect_fail "$t4" --size 64M "$tmp/bad.img" "$tmp/full.tar" "$tmp/notempty.tar" \
  2> "$tmp/err"
cat "$tmp/err"
grep -qF "mkvmimg: populate ext4: etc: cannot replace a non-empty directory with a regular file" "$tmp/err" ||
  fail "message"
echo OK
