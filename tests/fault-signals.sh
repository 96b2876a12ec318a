#!/bin/sh
# SIGINT (to the whole job, as ^C does) and SIGTERM (to mkvmimg alone, as
# timeout or a CI runner does) at each stage of "build": reading the
# sources, populating the root filesystem, the boot loader, the output
# (qemu-img, qemu-nbd starting, writing, the kernel copied beside the
# image); with and without an existing output to replace (--force).  After each:
# the exit status says which signal, no output (or the old one intact),
# no temporary file beside the output or in $TMPDIR, no process left.
#
# Stages with a child are pinned by holding the child (a stand-in that
# waits for the test, see fault-lib.sh); in-process stages last long
# enough (a large run of zeros to read) for the signal to land inside
# them, which the test checks.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-nbd qemu-img mke2fs grub-mkimage setsid pgrep

hold_tools mke2fs grub-mkimage qemu-img qemu-nbd cp

make_marker_root "$tmp/root" FAULT
tar -C "$tmp/root" --owner=0 --group=0 -cf "$tmp/root.tar" .
# Enough data that writing the output takes a while.
head -c 16M /dev/urandom > "$tmp/root/etc/random"
tar -C "$tmp/root" --owner=0 --group=0 -cf "$tmp/big.tar" .
rm -r "$tmp/root"
# 256 MiB of zeros: about a second to read, under a megabyte to store.
mkdir -p "$tmp/zeros/etc"
truncate -s 256M "$tmp/zeros/etc/zeros"
tar -C "$tmp/zeros" --owner=0 --group=0 -czf "$tmp/zeros.tar.gz" .
rm -r "$tmp/zeros"

profile ()
{
  cat <<EOS
[rootfs]
source = tar:$1
[kernel]
image = host
cmdline = console=ttyS0 no_timer_check
[boot]
loader = bios
EOS
}
profile "$tmp/root.tar" > "$tmp/small.conf"
# Direct kernel boot: the kernel is copied beside the image (by cp).
sed 's/^loader = bios$/loader = none/' "$tmp/small.conf" > "$tmp/direct.conf"
profile "$tmp/big.tar" > "$tmp/big.conf"
profile "$tmp/zeros.tar.gz" > "$tmp/zeros.conf"

out=$tmp/out
mkdir "$out" "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR

# A good build first (the stand-ins pass through), kept as the existing
# output of the --force cases.
$MKVMIMG -q build "$tmp/small.conf" -o "$out/disk.qcow2" ||
  fail "the build without faults failed"
mv "$out/disk.qcow2" "$tmp/old.qcow2"
mv "$out/disk.qcow2.machine" "$tmp/old.qcow2.machine"
assert_empty_dir "$tmp/t" "a good build"

# run_case NAME SIG FORCE CONF [HOLD]: start the build, HOLD the tool
# named (the caller then waits for the stage and calls deliver).
run_case ()
{
  case_name=$1 case_sig=$2 case_force=$3
  rm -f "$out"/disk.qcow2*
  force=""
  if [ "$case_force" = yes ]; then
    cp "$tmp/old.qcow2" "$out/disk.qcow2"
    cp "$tmp/old.qcow2.machine" "$out/disk.qcow2.machine"
    force=--force
  fi
  start_bg env FAULT_HOLD="${5:-}" \
    $MKVMIMG -v build "$4" -o "$out/disk.qcow2" $force
}

# deliver [NOT-YET-REGEX]: send the signal; a stage marker that must not
# have been printed yet shows that the signal landed where it should.
deliver ()
{
  if [ $# -gt 0 ] && grep -q -e "$1" "$tmp/bg.log"; then
    cat "$tmp/bg.log" >&2
    fail "$case_name: the build went past the stage before the signal"
  fi
  case $case_sig in
    INT) kill -INT -"$bg_pid"; want=130 ;;
    TERM) kill -TERM "$bg_pid"; want=143 ;;
  esac
  bg_finish
  what="$case_name, SIG$case_sig${force:+, $force}"
  if [ "$bg_rc" -ne "$want" ]; then
    cat "$tmp/bg.log" >&2
    fail "$what: exit status $bg_rc, expected $want"
  fi
  assert_no_procs "$what"
  if [ "$case_force" = yes ]; then
    cmp "$tmp/old.qcow2" "$out/disk.qcow2" ||
      fail "$what: the existing output was changed"
    cmp "$tmp/old.qcow2.machine" "$out/disk.qcow2.machine" ||
      fail "$what: the existing machine file was changed"
    rm "$out/disk.qcow2" "$out/disk.qcow2.machine"
  fi
  # libnbd's socket directory, which it removes only on nbd_close.
  sock=$(sed -n "s/.*libnbd's socket is //p" "$tmp/bg.log")
  if [ -n "$sock" ] && [ -e "$(dirname "$sock")" ]; then
    fail "$what: libnbd's socket directory $(dirname "$sock") left behind"
  fi
  assert_empty_dir "$out" "$what"
  assert_empty_dir "$tmp/t" "$what (TMPDIR)"
  echo "ok: $what"
}

for sig in INT TERM; do
  # Sources: libarchive inflating the zeros.
  run_case "reading the sources" $sig no "$tmp/zeros.conf"
  wait_for_line 'reading the root filesystem source'
  sleep 0.1
  deliver 'partitioning'

  # Populate: mke2fs running.
  run_case "populate (mke2fs)" $sig no "$tmp/small.conf" mke2fs
  wait_for_file "$tmp/held"
  deliver

  # Populate: the entries being written.
  run_case "populate (writing)" $sig no "$tmp/zeros.conf"
  wait_for_line 'populating the root filesystem'
  sleep 0.2
  deliver 'installing GRUB'

  # Boot loader: grub-mkimage running.
  run_case "boot loader" $sig no "$tmp/small.conf" grub-mkimage
  wait_for_file "$tmp/held"
  deliver

  # qemu-img creating the image under its temporary name.
  run_case "output (qemu-img)" $sig no "$tmp/small.conf" qemu-img
  wait_for_file "$tmp/held"
  deliver

  # qemu-nbd started by libnbd, not serving yet.
  run_case "output (qemu-nbd starting)" $sig no "$tmp/small.conf" qemu-nbd
  wait_for_file "$tmp/held"
  deliver

  # Once the image is being written, with and without an existing
  # output to replace.
  for f in no yes; do
    # qemu-nbd stopped in the middle of the writes, mkvmimg waiting for
    # their replies.
    run_case "output (writing)" $sig $f "$tmp/big.conf" qemu-nbd
    wait_for_file "$tmp/held"
    nbd=$(cat "$tmp/held")
    release_tool
    wait_for_line 'nbd_aio_pwrite: enter'
    kill -STOP "$nbd" 2>/dev/null ||
      fail "$case_name: qemu-nbd was gone before the test could stop it"
    deliver 'built'

    # The image written, the kernel being copied beside it: neither may
    # appear (nor replace the old image) without the other.
    run_case "output (kernel beside)" $sig $f "$tmp/direct.conf" cp
    wait_for_file "$tmp/held"
    deliver
  done
done
echo OK
