#!/bin/sh
# qemu-nbd dies in the middle of writing the output (SIGKILL, or SIGTERM,
# on which it exits cleanly): the build fails with a message naming the
# output, never reports success, leaves no output, no temporary file,
# no process; an existing output (--force) is left as it was.  And
# inspect and modify interrupted while their qemu-nbd starts.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-nbd qemu-img setsid pgrep

hold_tools qemu-nbd

mkdir -p "$tmp/root/etc"
head -c 16M /dev/urandom > "$tmp/root/etc/random"
tar -C "$tmp/root" --owner=0 --group=0 -cf "$tmp/root.tar" .
rm -r "$tmp/root"
cat > "$tmp/p.conf" <<EOS
[rootfs]
source = tar:$tmp/root.tar
[kernel]
image = host
[boot]
loader = none
EOS
out=$tmp/out
mkdir "$out" "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR
echo "an old image" > "$tmp/old"

for sig in KILL TERM; do
  for force in "" --force; do
    what="qemu-nbd SIG$sig while writing${force:+, $force}"
    rm -f "$out"/*
    [ -n "$force" ] && cp "$tmp/old" "$out/disk.qcow2"
    start_bg env FAULT_HOLD=qemu-nbd \
      $MKVMIMG -v build "$tmp/p.conf" -o "$out/disk.qcow2" $force
    wait_for_file "$tmp/held"
    nbd=$(cat "$tmp/held")
    release_tool
    # Stopped once the handshake is done, before it can take a write
    # (16 MiB goes through in a few ms, faster than the test can stop
    # it), and killed once mkvmimg has sent its first write.
    wait_for_line 'nbd_get_size: leave'
    kill -STOP "$nbd" 2>/dev/null ||
      fail "$what: qemu-nbd was gone before the test could stop it"
    wait_for_line 'nbd_aio_pwrite: enter'
    grep -q "mkvmimg: built" "$tmp/bg.log" &&
      fail "$what: the build finished before qemu-nbd could be killed"
    kill -$sig "$nbd"
    kill -CONT "$nbd" 2>/dev/null || :
    bg_finish
    if [ $bg_rc -ne 1 ]; then
      grep '^mkvmimg' "$tmp/bg.log" >&2
      fail "$what: exit status $bg_rc, expected 1"
    fi
    grep -q "mkvmimg: built" "$tmp/bg.log" && fail "$what: reported success"
    # The error names the output.
    grep -v ': debug: ' "$tmp/bg.log" | grep -q "^mkvmimg: $out/disk.qcow2: " || {
      grep '^mkvmimg' "$tmp/bg.log" >&2
      fail "$what: no error naming the output"
    }
    grep -q "^mkvmimg: $out/disk.qcow2: .*(qemu-nbd exited or was killed)" \
      "$tmp/bg.log" || {
      grep '^mkvmimg' "$tmp/bg.log" >&2
      fail "$what: the error does not say that qemu-nbd went away"
    }
    assert_no_procs "$what"
    if [ -n "$force" ]; then
      cmp "$tmp/old" "$out/disk.qcow2" || fail "$what: the old output was changed"
      rm "$out/disk.qcow2"
    fi
    assert_empty_dir "$out" "$what"
    assert_empty_dir "$tmp/t" "$what (TMPDIR)"
    sock=$(sed -n "s/.*libnbd's socket is //p" "$tmp/bg.log")
    [ -n "$sock" ] && [ ! -e "$(dirname "$sock")" ] ||
      fail "$what: libnbd's socket directory $sock left behind"
    msg=$(grep -v ': debug: ' "$tmp/bg.log" | grep -m 1 '^mkvmimg: .*disk.qcow2: ')
    echo "ok: $what: $msg"
  done
done
# inspect and modify start qemu-nbd the same way: a signal while it is
# starting leaves no qemu-nbd, and modify leaves the image as it was.
rm -f "$out"/*
$MKVMIMG -q build "$tmp/p.conf" -o "$out/disk.qcow2"
cp "$out/disk.qcow2" "$tmp/before.qcow2"
echo added > "$tmp/added"
for cmd in inspect modify; do
  what="SIGTERM while $cmd starts qemu-nbd"
  case $cmd in
    inspect) start_bg env FAULT_HOLD=qemu-nbd $MKVMIMG inspect "$out/disk.qcow2" ;;
    modify) start_bg env FAULT_HOLD=qemu-nbd $MKVMIMG modify "$out/disk.qcow2" \
              --add "$tmp/added:/etc/added" ;;
  esac
  wait_for_file "$tmp/held"
  kill -TERM "$bg_pid"
  bg_finish
  [ $bg_rc -eq 143 ] || { cat "$tmp/bg.log" >&2; fail "$what: exit status $bg_rc"; }
  assert_no_procs "$what"
  cmp "$tmp/before.qcow2" "$out/disk.qcow2" || fail "$what: the image changed"
  assert_empty_dir "$tmp/t" "$what (TMPDIR)"
  echo "ok: $what"
done
echo OK
