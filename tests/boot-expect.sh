#!/bin/sh
# mkvmimg boot on real boots (TCG when there is no KVM): Debian's kernel
# with a tiny busybox initramfs made by cpio and gzip, on a direct-kernel
# machine without a disk.  --expect succeeds on a match, fails on a
# timeout, a kernel panic and qemu exiting first, saying which; --console
# keeps the log; no qemu is left behind, also after SIGTERM and SIGINT.
# And a UEFI machine reaching OVMF's boot manager.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-img cpio gzip pgrep

kernel=$(debian_kernel)
[ -n "$kernel" ] && [ -r "$kernel" ] || fail "no readable Debian kernel in /boot (setup.sh)"
[ -x /bin/busybox ] || fail "/bin/busybox missing (busybox-static, setup.sh)"

# qemu processes started for this test: their argv names $tmp.
qemus ()
{
  pgrep -f "qemu-system-x86_64 .*$tmp/" || true
}
_kill_qemus ()
{
  for pid in $(qemus); do
    kill -9 "$pid" 2>/dev/null
  done
}
cleanup_fn _kill_qemus
no_qemu_left ()
{
  # Give a process that is being reaped a moment to go away.
  for i in 1 2 3 4 5; do
    [ -z "$(qemus)" ] && return 0
    sleep 1
  done
  fail "$1: qemu left running: $(qemus)"
}

# machine NAME INIT-BODY: $tmp/NAME/NAME.machine, a direct-kernel machine
# whose initramfs runs INIT-BODY after mounting devtmpfs for a console.
machine ()
{
  d=$tmp/$1
  mkdir -p "$d/root/bin" "$d/root/dev" "$d/root/proc"
  cp /bin/busybox "$d/root/bin/busybox"
  {
    echo '#!/bin/busybox sh'
    echo '/bin/busybox mount -t devtmpfs devtmpfs /dev'
    echo 'exec </dev/console >/dev/console 2>&1'
    echo "$2"
  } > "$d/root/init"
  chmod 755 "$d/root/init"
  (cd "$d/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$d/initrd.gz"
  cat > "$d/$1.machine" <<EOF
[machine]
firmware = direct
kernel = $kernel
initrd = initrd.gz
cmdline = console=ttyS0 panic=-1 no_timer_check quiet
memory = 512M
cpus = 1
disk = none
nic = none
EOF
}

machine marker 'echo MKVMIMG-BOOT-MARKER; /bin/busybox sleep 600'
machine panic 'echo init is exiting now; exit 1'
machine poweroff 'echo powering off; /bin/busybox poweroff -f'

# (a) The marker appears: exit 0 well before the timeout, the console on
# stdout and in --console FILE, qemu stopped.
start=$(date +%s)
rc=0
timeout 300 $MKVMIMG boot "$tmp/marker/marker.machine" \
  --expect 'MKVMIMG-BOOT-MARKER' --timeout 240 --console "$tmp/a.console" \
  > "$tmp/a.out" 2> "$tmp/a.err" || rc=$?
elapsed=$(( $(date +%s) - start ))
cat "$tmp/a.err"
[ $rc -eq 0 ] || fail "(a) marker: exit $rc, expected 0"
[ $elapsed -lt 200 ] || fail "(a) took $elapsed s"
grep -q 'MKVMIMG-BOOT-MARKER' "$tmp/a.out" || fail "(a) console not on stdout"
grep -q 'MKVMIMG-BOOT-MARKER' "$tmp/a.console" || fail "(g) --console FILE lacks the marker"
grep -q "found 'MKVMIMG-BOOT-MARKER' on the console" "$tmp/a.err" || fail "(a) message"
no_qemu_left "(a)"
echo "(a) marker found after $elapsed s"

# (b) Never printed: exit 1 after the 30 s timeout, saying so, with the
# last console lines; -q: nothing on stdout.
start=$(date +%s)
rc=0
timeout 300 $MKVMIMG -q boot "$tmp/marker/marker.machine" \
  --expect 'NEVER-PRINTED' --timeout 30 --console "$tmp/b.console" \
  > "$tmp/b.out" 2> "$tmp/b.err" || rc=$?
elapsed=$(( $(date +%s) - start ))
cat "$tmp/b.err"
[ $rc -eq 1 ] || fail "(b) timeout: exit $rc, expected 1"
[ $elapsed -ge 30 ] && [ $elapsed -lt 60 ] || fail "(b) took $elapsed s for a 30 s timeout"
grep -q "^mkvmimg: timed out after 30 s waiting for 'NEVER-PRINTED' on the console$" \
  "$tmp/b.err" || fail "(b) no timeout message"
grep -q -e '^mkvmimg: last lines of the console:$' \
  -e '^mkvmimg: the console printed nothing$' "$tmp/b.err" || fail "(b) no last lines"
if grep -q MKVMIMG-BOOT-MARKER "$tmp/b.console"; then
  grep -q '^MKVMIMG-BOOT-MARKER$' "$tmp/b.err" || fail "(b) marker not in the last lines"
fi
[ ! -s "$tmp/b.out" ] || fail "(b) -q: console echoed on stdout"
no_qemu_left "(b)"

# (c) /init exits: a kernel panic, reported as such with its reason.
rc=0
timeout 300 $MKVMIMG boot "$tmp/panic/panic.machine" \
  --expect 'NEVER-PRINTED' --timeout 240 > "$tmp/c.out" 2> "$tmp/c.err" || rc=$?
cat "$tmp/c.err"
[ $rc -eq 1 ] || fail "(c) panic: exit $rc, expected 1"
grep -q "^mkvmimg: kernel panic on the console before 'NEVER-PRINTED' appeared: Kernel panic - not syncing: Attempted to kill init! exitcode=" \
  "$tmp/c.err" || fail "(c) no panic message with its reason"
grep -q -e '^mkvmimg: last lines of the console:$' "$tmp/c.err" || fail "(c) no last lines"
grep -q 'init is exiting now' "$tmp/c.out" || fail "(c) console"
no_qemu_left "(c)"

# (d) The guest powers off first: "qemu exited" (status 0).  Without
# --expect the same boot succeeds.
rc=0
timeout 300 $MKVMIMG boot "$tmp/poweroff/poweroff.machine" \
  --expect 'NEVER-PRINTED' --timeout 240 > "$tmp/d.out" 2> "$tmp/d.err" || rc=$?
cat "$tmp/d.err"
[ $rc -eq 1 ] || fail "(d) poweroff: exit $rc, expected 1"
grep -q "^mkvmimg: qemu exited (with status 0) before 'NEVER-PRINTED' appeared on the console$" \
  "$tmp/d.err" || fail "(d) no 'qemu exited' message"
grep -q '^powering off$' "$tmp/d.err" || fail "(d) last lines"
no_qemu_left "(d)"
rc=0
timeout 300 $MKVMIMG boot "$tmp/poweroff/poweroff.machine" --timeout 240 \
  > "$tmp/d2.out" 2> "$tmp/d2.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/d2.err"; fail "(d) without --expect: exit $rc, expected 0"; }
grep -q 'powering off' "$tmp/d2.out" || fail "(d) without --expect: console"
no_qemu_left "(d) without --expect"

# (f) A signal to mkvmimg during the boot stops qemu.
signal_test ()
{
  sig=$1
  mkdir "$tmp/work-$sig"
  TMPDIR=$tmp/work-$sig $MKVMIMG boot "$tmp/marker/marker.machine" --expect 'NEVER-PRINTED' \
    --timeout 240 > "$tmp/f.out" 2> "$tmp/f.err" &
  pid=$!
  i=0
  while [ -z "$(qemus)" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || { kill -9 $pid; fail "(f) $sig: qemu did not start"; }
    sleep 0.2
  done
  sleep 3
  [ -n "$(qemus)" ] || fail "(f) $sig: qemu ended by itself"
  kill -s "$sig" $pid
  rc=0
  wait $pid || rc=$?
  [ $rc -ne 0 ] || fail "(f) $sig: mkvmimg exited 0"
  no_qemu_left "(f) SIG$sig"
  [ -z "$(ls "$tmp/work-$sig")" ] || fail "(f) $sig: working directory left behind"
  echo "(f) SIG$sig: mkvmimg exited with $rc, no qemu left"
}
signal_test TERM
signal_test INT

# A UEFI machine (SCSI disk, e1000, an edu device) on a blank disk:
# OVMF's boot manager reports on the serial console.
qemu-img create -q -f raw "$tmp/blank.raw" 64M
cat > "$tmp/blank.raw.machine" <<'EOF'
[machine]
firmware = uefi
cpus = 1
disk = scsi
nic = e1000

[device edu0]
type = edu
EOF
rc=0
timeout 300 $MKVMIMG boot "$tmp/blank.raw" --snapshot --expect 'BdsDxe' \
  --timeout 240 > "$tmp/u.out" 2> "$tmp/u.err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/u.err"; fail "UEFI: exit $rc, expected 0"; }
no_qemu_left "UEFI"
echo OK
