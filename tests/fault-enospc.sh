#!/bin/sh
# A full disk: the output directory, then $TMPDIR (the working file), on
# a small tmpfs.  The build and "initramfs patch" fail with a message
# naming the file and "No space left on device", leave no output and no
# temporary file, and an existing output (--force) is left as it was.
# Mounting needs root: as another user the test skips.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-nbd qemu-img mount umount zstd

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: mounting a small tmpfs needs root" >&2
  exit 77
fi

full=$tmp/full
mkdir "$full"
_umount_full ()
{
  if mountpoint -q "$full"; then umount "$full"; fi
}
cleanup_fn _umount_full
mount_full ()
{
  _umount_full
  mount -t tmpfs -o size="$1",mode=0755 fault-enospc "$full" ||
    fail "mount a $1 tmpfs on $full"
}
# Root without the right to mount (a container): nothing to test with.
if ! mount -t tmpfs -o size=1M fault-enospc "$full" 2>"$tmp/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here: $(cat "$tmp/mount.err")" >&2
  exit 77
fi
umount "$full"

mkdir -p "$tmp/root/etc"
head -c 16M /dev/urandom > "$tmp/root/etc/random"
tar -C "$tmp/root" --owner=0 --group=0 -cf "$tmp/root.tar" .
cat > "$tmp/p.conf" <<EOS
[rootfs]
source = tar:$tmp/root.tar
[kernel]
image = host
[boot]
loader = none
EOS
mkdir "$tmp/t"
echo "an old image" > "$tmp/old"

# check_enospc WHAT LOG FILE-REGEX: the command failed with the message.
check_enospc ()
{
  grep -v ': debug: ' "$2" | grep -q "^mkvmimg: .*$3.*No space left on device" || {
    cat "$2" >&2
    fail "$1: no 'No space left on device' error naming $3"
  }
  assert_no_procs "$1"
  echo "ok: $1: $(grep -m 1 "^mkvmimg: .*No space left" "$2")"
}

# The output directory is full.
for format in qcow2 raw; do
  for force in "" --force; do
    what="full output directory, $format${force:+, $force}"
    mount_full 8M
    [ -n "$force" ] && cp "$tmp/old" "$full/disk.img"
    bg_pid_done=""
    TMPDIR=$tmp/t expect_fail $MKVMIMG build "$tmp/p.conf" -o "$full/disk.img" \
      --set image.format=$format $force 2> "$tmp/log"
    check_enospc "$what" "$tmp/log" "$full/disk.img"
    if [ -n "$force" ]; then
      cmp "$tmp/old" "$full/disk.img" || fail "$what: the old output was changed"
      rm "$full/disk.img"
    fi
    assert_empty_dir "$full" "$what"
    assert_empty_dir "$tmp/t" "$what (TMPDIR)"
  done
done

# $TMPDIR is full: the working file cannot be written.
mount_full 8M
mkdir "$tmp/out"
bg_pid_done=""
TMPDIR=$full expect_fail $MKVMIMG build "$tmp/p.conf" -o "$tmp/out/disk.qcow2" \
  2> "$tmp/log"
check_enospc "full TMPDIR" "$tmp/log" "$full/mkvmimg\.[^/]*/"
assert_empty_dir "$full" "full TMPDIR"
assert_empty_dir "$tmp/out" "full TMPDIR (output directory)"

# initramfs patch into a full directory, rewriting a zstd segment.
printf 'dir /etc 0755 0 0\nfile /etc/random %s 0644 0 0\n' \
  "$tmp/root/etc/random" > "$tmp/spec"
$MKVMIMG initramfs create -q --spec "$tmp/spec" --compress=zstd \
  -o "$tmp/initrd.img"
echo hello > "$tmp/hello"
for force in "" --force; do
  what="initramfs patch into a full directory${force:+, $force}"
  mount_full 4M
  [ -n "$force" ] && cp "$tmp/old" "$full/new.img"
  bg_pid_done=""
  TMPDIR=$tmp/t expect_fail $MKVMIMG initramfs patch "$tmp/initrd.img" \
    --add "$tmp/hello:/etc/hello" -o "$full/new.img" $force 2> "$tmp/log"
  check_enospc "$what" "$tmp/log" "$full/"
  if [ -n "$force" ]; then
    cmp "$tmp/old" "$full/new.img" || fail "$what: the old output was changed"
    rm "$full/new.img"
  fi
  assert_empty_dir "$full" "$what"
  assert_empty_dir "$tmp/t" "$what (TMPDIR)"
done
echo OK
