#!/bin/sh
# Hostile archives and directories as the root source of mkvmimg build:
# names are confined to the image, devices and setuid bits are kept as
# data, and what cannot be confined (an entry through a symbolic link,
# "..", an impossible size, a truncated archive) is a clear error that
# leaves no output, no working file and nothing outside on the host.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img debugfs e2fsck sfdisk

mta=$top_builddir/tests/make-test-archive
outside=$tmp/outside
mkdir "$outside" "$tmp/wd"
# The working directory is under $tmp: leftovers are seen.
TMPDIR=$tmp/wd
export TMPDIR

# build SOURCE [PROFILE LINES]: $tmp/out.qcow2 and $tmp/root.ext4, or
# the exit status in $rc and stderr in $tmp/err.
build ()
{
  printf '[rootfs]\nsource = %s\n[kernel]\nimage = host\n[boot]\nloader = none\n%s\n' \
    "$1" "${2-}" > "$tmp/b.conf"
  rm -f "$tmp/out.qcow2"*
  set +e
  timeout 300 $MKVMIMG -q build "$tmp/b.conf" -o "$tmp/out.qcow2" 2> "$tmp/err"
  rc=$?
  set -e
  [ $rc -lt 124 ] || { cat "$tmp/err"; fail "$1: exit status $rc (timeout or signal)"; }
  [ -z "$(ls -A "$tmp/wd")" ] || fail "$1: working files left: $(ls -A "$tmp/wd")"
  [ -z "$(ls -A "$outside")" ] || fail "$1: written outside: $(ls -A "$outside")"
  if [ $rc -ne 0 ]; then
    [ ! -e "$tmp/out.qcow2" ] || { cat "$tmp/err"; fail "$1: exit status $rc but an output was left"; }
    return 0
  fi
  qemu-img convert -O raw "$tmp/out.qcow2" "$tmp/disk.raw"
  extract_partition "$tmp/disk.raw" root "$tmp/root.ext4"
  rm -f "$tmp/disk.raw"
  e2fsck -fn "$tmp/root.ext4" > "$tmp/fsck" 2>&1 || {
    cat "$tmp/fsck"; fail "$1: e2fsck finds errors"; }
}
# must_fail SOURCE REGEX [PROFILE LINES]: exit status 1, one clear message.
must_fail ()
{
  build "$1" "${3-}"
  [ $rc -eq 1 ] || { cat "$tmp/err"; fail "$1: exit status $rc, expected 1"; }
  grep -Eq "$2" "$tmp/err" || { cat "$tmp/err"; fail "$1: no message matching '$2'"; }
}
dbg () { debugfs -R "$1" "$tmp/root.ext4" 2>/dev/null; }
# has PATH WHAT REGEX: debugfs stat of PATH matches REGEX.
has ()
{
  dbg "stat $1" | grep -Eq "$3" || { dbg "stat $1"; fail "$src: $1: $2"; }
}

# Confined: absolute and dotted names land inside the image; symlinks
# leaving the root are kept (never followed); devices and setuid bits are
# data, whoever runs the build.
$mta confined "$tmp/confined.tar"
$mta --format cpio confined "$tmp/confined.cpio"
for src in "tar:$tmp/confined.tar" "cpio:$tmp/confined.cpio"; do
  build "$src"
  [ $rc -eq 0 ] || { cat "$tmp/err"; fail "$src: build failed"; }
  [ "$(dbg 'cat /etc/absolute')" = "absolute name" ] || fail "$src: /etc/absolute"
  [ "$(dbg 'cat /etc/dots')" = "slashes and dots" ] || fail "$src: /etc/dots"
  [ "$(dbg 'cat /etc/a..b')" = "dots inside a name" ] || fail "$src: a..b"
  [ "$(dbg 'cat /etc/...')" = "three dots" ] || fail "$src: ..."
  has /etc/link-abs "absolute symlink target" 'Fast link dest: "/etc/shadow"'
  has /etc/link-rel "relative symlink target" \
    'Fast link dest: "\.\./\.\./\.\./\.\./\.\./\.\./etc/shadow"'
  has /etc/link-loop "looping symlink" 'Fast link dest: "link-loop"'
  has /dev/mem "char device" 'Type: character special +Mode: +0640'
  has /dev/mem "char device numbers" 'Device major/minor number: 01:01'
  has /dev/mem "group" 'Group: +15 '
  has /dev/sda1 "block device" 'Type: block special +Mode: +0660'
  has /dev/sda1 "block device numbers" 'Device major/minor number: 08:01'
  has /bin/suid-root "setuid" 'Mode: +04755'
  has /bin/sgid-other "setgid" 'Mode: +02755'
  has /bin/sgid-other "owner" 'User: +1234 +Group: +4321 '
  has /bin/all-bits "mode 07777" 'Mode: +07777'
  has /locked "mode 0 directory" 'Type: directory +Mode: +0000'
  [ "$(dbg 'cat /locked/inside')" = "inside a mode 0 directory" ] ||
    fail "$src: file in a mode 0 directory"
  # The image holds nothing else at its root.
  names=$(dbg 'ls -p /' | awk -F/ 'NF > 6 { print $6 }' | sort | tr '\n' ' ')
  [ "$names" = ". .. bin boot dev etc locked lost+found " ] ||
    fail "$src: unexpected names at the root: $names"
  # A tar hardlink to an absolute name is a hardlink inside the image
  # (newc has no such entry).
  case $src in
    tar:*)
      [ "$(dbg 'stat /etc/hard-abs' | sed -n 's/^Inode: \([0-9]*\).*/\1/p')" = \
        "$(dbg 'stat /etc/absolute' | sed -n 's/^Inode: \([0-9]*\).*/\1/p')" ] ||
        fail "$src: hardlink to an absolute name" ;;
  esac
done
# Nothing went to the host's own /etc.
[ ! -e /etc/absolute ] && [ ! -e /etc/dots ] || fail "written to the host's /etc"

# A host directory: symlinks are stored, not followed; a FIFO is a node
# (opening it would block); devices and setuid files as they are.
src=dir:$tmp/hd
mkdir -p "$tmp/hd/sub"
ln -s "$outside" "$tmp/hd/abs"
ln -s ../../outside "$tmp/hd/sub/rel"
ln -s /etc "$tmp/hd/hostetc"
mkfifo "$tmp/hd/fifo"
echo s > "$tmp/hd/suid"
chmod 4755 "$tmp/hd/suid"
if [ "$(id -u)" = 0 ]; then
  mknod "$tmp/hd/null" c 1 3
fi
build "$src"
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "$src: build failed"; }
has /abs "absolute symlink" "Fast link dest: \"$outside\""
has /sub/rel "relative symlink" 'Fast link dest: "\.\./\.\./outside"'
has /hostetc "host /etc symlink" 'Type: symlink'
has /fifo "FIFO" 'Type: FIFO'
has /suid "setuid" 'Mode: +04755'
if [ "$(id -u)" = 0 ]; then
  has /null "device" 'Device major/minor number: 01:03'
fi

# Entries through a symbolic link that leaves the root, and names that
# climb out with "..": refused, the build fails.
$mta "through:$outside" "$tmp/through.tar"
$mta --format cpio "through:$outside" "$tmp/through.cpio"
for src in "tar:$tmp/through.tar" "cpio:$tmp/through.cpio"; do
  must_fail "$src" 'link/file: refusing the entry: link is a symbolic link'
done
$mta dotdot "$tmp/dotdot.tar"
$mta --format cpio dotdot "$tmp/dotdot.cpio"
for src in "tar:$tmp/dotdot.tar" "cpio:$tmp/dotdot.cpio"; do
  must_fail "$src" 'sub/\.\./\.\./escaped: refusing an entry whose name leaves the root'
done

# 2000 nested directories: a path of 6000 bytes, beyond the host's
# PATH_MAX, is fine inside the image (and quick: the estimate once was
# cubic in the depth).
$mta deep:2000 "$tmp/deep.tar"
src=tar:$tmp/deep.tar
t0=$(date +%s)
build "$src"
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "$src: build failed"; }
secs=$(( $(date +%s) - t0 ))
echo "2000 nested directories: ${secs}s"
[ $secs -lt 60 ] || fail "$src: ${secs}s to build"
deep=$(printf '/dd%.0s' $(seq 2000))/bottom
[ "$(dbg "cat $deep")" = "at the bottom" ] || fail "$src: the bottom file"

# Huge sizes.  A sparse 1 TiB file with 4 KiB of data fits in a small
# image (ext4 keeps the hole); 17 TiB is beyond the largest ext4 file.
$mta huge:1024 "$tmp/huge.tar"
src=tar:$tmp/huge.tar
build "$src" "[image]
size = 64M"
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "$src: build failed"; }
has /huge "size" 'Size: 1099511627776$'
[ "$(du -k "$tmp/out.qcow2" | cut -f1)" -lt 65536 ] || fail "$src: output not sparse"
$mta huge:17000:head "$tmp/huge17.tar"
must_fail "tar:$tmp/huge17.tar" 'huge: the file claims 18253611008000 bytes, more than the largest ext4 file'
# Headers that claim more than the archive holds: truncated, at once.
$mta lying:1024 "$tmp/lying.tar"
$mta --format cpio lying:4 "$tmp/lying.cpio"
must_fail "tar:$tmp/lying.tar" 'lying.tar: Truncated input file'
must_fail "cpio:$tmp/lying.cpio" 'lying.cpio: .*truncated'
# Real data that does not fit a given size.
$mta big:60 "$tmp/big.tar"
must_fail "tar:$tmp/big.tar" \
  'image size 40 MiB is too small for the content: it needs at least [0-9]+ MiB' \
  "[image]
size = 40M"
echo OK
