#!/bin/sh
# Hostile initramfs input for the commands that write to the host
# (initramfs extract) or pass entries on (initramfs create, patch):
# what initramfs-extract.sh does not cover already.  Nothing is ever
# written outside the target; what is refused is named, once per entry.
. "$top_srcdir/tests/functions.sh"
requires cpio

mta=$top_builddir/tests/make-test-archive
outside=$tmp/outside
mkdir "$outside"
cd "$tmp"
root=no
[ "$(id -u)" = 0 ] && root=yes

# extract IMAGE DIR: exit status in $rc, stderr in err; never a signal,
# never anything outside.
extract ()
{
  rm -rf "$2"
  set +e
  timeout 120 $MKVMIMG initramfs extract "$1" "$2" 2> err
  rc=$?
  set -e
  [ $rc -lt 124 ] || { tail -n 5 err; fail "$1: exit status $rc (timeout or signal)"; }
  [ -z "$(ls -A "$outside")" ] || fail "$1: written outside: $(ls -A "$outside")"
}
refused ()
{
  grep -Fq "refusing entry \"$2\"" err || { cat err; fail "$1: $2 not refused"; }
}

# Kept as data: symlinks leaving the root stay links (never followed),
# devices, setuid and odd modes as in the archive (as root).
$mta --format cpio confined confined.cpio
extract confined.cpio x
[ $rc -eq 1 ] || fail "confined: exit status $rc (absolute names are refused)"
refused confined /etc/absolute
refused confined //.//etc/./dots
[ "$(grep -c refusing err)" = 2 ] || { cat err; fail "confined: other entries refused"; }
[ "$(cat x/etc/a..b)" = "dots inside a name" ] || fail "confined: a..b"
[ "$(cat x/etc/...)" = "three dots" ] || fail "confined: ..."
[ "$(readlink x/etc/link-abs)" = /etc/shadow ] || fail "confined: link-abs"
[ "$(readlink x/etc/link-rel)" = ../../../../../../etc/shadow ] ||
  fail "confined: link-rel"
[ "$(readlink x/etc/link-loop)" = link-loop ] || fail "confined: link-loop"
[ ! -e /etc/absolute ] && [ ! -e /etc/dots ] || fail "written to the host's /etc"
if [ $root = yes ]; then
  [ -c x/dev/mem ] && [ "$(stat -c %t,%T,%a,%g x/dev/mem)" = 1,1,640,15 ] ||
    fail "confined: dev/mem"
  [ -b x/dev/sda1 ] && [ "$(stat -c %t,%T x/dev/sda1)" = 8,1 ] ||
    fail "confined: dev/sda1"
  [ "$(stat -c %a x/bin/suid-root)" = 4755 ] || fail "confined: setuid"
  [ "$(stat -c %a,%u,%g x/bin/sgid-other)" = 2755,1234,4321 ] ||
    fail "confined: setgid and owner"
  [ "$(stat -c %a x/bin/all-bits)" = 7777 ] || fail "confined: mode 07777"
  [ "$(stat -c %a x/locked)" = 0 ] || fail "confined: mode 0 directory"
  [ "$(cat x/locked/inside)" = "inside a mode 0 directory" ] ||
    fail "confined: file in a mode 0 directory"
fi

# Through a symlink leaving the root: a file, a directory, a file in
# that directory, a hardlink, and a file through a link to the link.
$mta --format cpio "through:$outside" through.cpio
extract through.cpio x
[ $rc -eq 1 ] || fail "through: exit status $rc"
for name in link/file link/dir link/dir/file link/hard chain/file; do
  refused through $name
done
[ "$(cat x/fine)" = fine ] || fail "through: fine"
[ "$(readlink x/chain)" = link ] || fail "through: chain"

# The target directory already holds a symlink leaving it.
mkdir pre
ln -s "$outside" pre/evil
echo data > payload
printf 'dir /evil 0755 0 0\nfile /evil/x %s 0644 0 0\n' "$tmp/payload" > pre.spec
$MKVMIMG initramfs create -q --compress=none --spec pre.spec -o pre.img
set +e
$MKVMIMG initramfs extract pre.img pre 2> err; rc=$?
set -e
[ $rc -eq 1 ] || fail "pre-existing symlink: exit status $rc"
refused pre-existing evil
refused pre-existing evil/x
[ -z "$(ls -A "$outside")" ] || fail "pre-existing symlink: written outside"

# ".." anywhere in a name.
$mta --format cpio dotdot dotdot.cpio
extract dotdot.cpio x
[ $rc -eq 1 ] || fail "dotdot: exit status $rc"
refused dotdot sub/../../escaped

# 2000 nested directories: names beyond PATH_MAX are refused as such,
# everything shorter is extracted.
$mta --format cpio deep:2000 deep.cpio
extract deep.cpio x
[ $rc -eq 1 ] || fail "deep: exit status $rc"
n=$(grep -c "refusing entry" err)
[ "$n" -gt 0 ] || fail "deep: nothing refused"
[ "$(grep -c "the name is longer than the host's limit of [0-9]* bytes" err)" = "$n" ] ||
  { grep -v "longer than" err | cut -c 1-200; fail "deep: refused for another reason"; }
[ -d "x$(printf '/dd%.0s' $(seq 1000))" ] || fail "deep: 1000 levels not extracted"
echo "deep: $n of 2001 entries refused (PATH_MAX)"

# A header that claims 4 GiB: truncated, and not 4 GiB written.
$mta --format cpio lying:4 lying.cpio
extract lying.cpio x
[ $rc -eq 1 ] || fail "lying: exit status $rc"
grep -q truncated err || { cat err; fail "lying: not reported as truncated"; }
[ ! -e x ] || [ "$(du -sk x | cut -f1)" -lt 1024 ] || fail "lying: $(du -sk x) written"

# initramfs create from a hostile directory: symlinks are stored, not
# followed; a FIFO is a node (reading it would hang); setuid kept.
mkdir -p hd/sub
ln -s "$outside" hd/abs
ln -s ../../outside hd/sub/rel
mkfifo hd/fifo
echo s > hd/suid
chmod 4755 hd/suid
[ $root = yes ] && mknod hd/null c 1 3
timeout 60 $MKVMIMG initramfs create -q -o hd.img hd ||
  fail "create from a hostile directory: exit status $?"
$MKVMIMG initramfs list hd.img > list
grep -q "^l.* abs -> $outside\$" list || { cat list; fail "create: abs symlink"; }
grep -q '^l.* sub/rel -> \.\./\.\./outside$' list || { cat list; fail "create: rel symlink"; }
grep -q '^p.* fifo$' list || { cat list; fail "create: FIFO"; }
grep -q '^-rws.* suid$' list || { cat list; fail "create: setuid"; }
[ $root = no ] || grep -q '^c.* 1,3 .* null$' list || { cat list; fail "create: device"; }
extract hd.img y
[ $rc -eq 0 ] || { cat err; fail "extract of the created image: exit status $rc"; }
[ "$(readlink y/abs)" = "$outside" ] || fail "create: abs symlink extracted"

# A spec with "..": refused with its file:line, no output.
printf 'file /../../escape %s 0644 0 0\n' "$tmp/payload" > dotdot.spec
set +e
$MKVMIMG initramfs create --spec dotdot.spec -o spec.img 2> err; rc=$?
set -e
[ $rc -eq 1 ] || fail "spec with ..: exit status $rc"
grep -q "dotdot.spec:1: .*refusing a name with \"..\"" err || { cat err; fail "spec with .."; }
[ ! -e spec.img ] || fail "spec with ..: output left"

# patch: destinations and removals that climb out, and an image with
# "..": refused, no output, no temporary file beside it.
mkdir p
for args in "confined.cpio --add $tmp/payload:../../escape" \
            "confined.cpio --add $tmp/payload:/etc/../../escape" \
            "confined.cpio --remove ../etc" \
            "dotdot.cpio --add $tmp/payload:/ok"; do
  set +e
  $MKVMIMG initramfs patch $args -o p/out.img 2> err; rc=$?
  set -e
  [ $rc -eq 1 ] || { cat err; fail "patch $args: exit status $rc"; }
  grep -q 'refusing an entry whose name leaves the root ("..")' err ||
    { cat err; fail "patch $args: message"; }
  [ -z "$(ls -A p)" ] || fail "patch $args: left $(ls -A p)"
done
# Entries through symlinks are the kernel's business inside the
# initramfs: patch passes them on unchanged, and writes nothing else.
$MKVMIMG initramfs patch -q through.cpio --add "$tmp/payload:/added" -o p/out.img
$MKVMIMG initramfs list p/out.img > list
for name in link/file link/dir/file chain/file added; do
  grep -q " $name\$" list || { cat list; fail "patch: $name not passed on"; }
done
[ -z "$(ls -A "$outside")" ] || fail "patch: written outside"
echo OK
