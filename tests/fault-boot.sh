#!/bin/sh
# SIGINT (to the whole job) and SIGTERM (to mkvmimg) while "mkvmimg boot"
# runs QEMU (new session, not hit by the ^C itself): the exit status says
# which signal, no QEMU (nor anything else) is left running, and the
# working directory (QMP socket) is removed.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-system-x86_64 qemu-img setsid pgrep

# No build needed: an empty disk, and a machine that boots the host's
# kernel directly (it prints to the console at once, then waits for a
# root filesystem that never comes).
kernel=$(debian_kernel)
[ -n "$kernel" ] || fail "no Debian kernel in /boot (run setup.sh)"
qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 16M
cat > "$tmp/disk.qcow2.machine" <<EOS
[machine]
memory = 256M
cpus = 1
firmware = direct
kernel = $kernel
cmdline = console=ttyS0,115200 panic=-1 no_timer_check rootwait root=/dev/nowhere
disk = virtio
disk-format = qcow2
EOS
mkdir "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR

for sig in INT TERM; do
  rm -f "$tmp/console.log"
  start_bg $MKVMIMG -v boot "$tmp/disk.qcow2" --snapshot \
    --expect 'NEVER-PRINTED' --timeout 300 --console "$tmp/console.log"
  wait_for_line 'running: .*qemu-system'
  # QEMU is up once it has written to the console.
  _wait_for "console output" test -s "$tmp/console.log"
  case $sig in
    INT) kill -INT -"$bg_pid"; want=130 ;;
    TERM) kill -TERM "$bg_pid"; want=143 ;;
  esac
  bg_finish
  [ "$bg_rc" -eq "$want" ] ||
    { cat "$tmp/bg.log" >&2; fail "SIG$sig during boot: exit $bg_rc, expected $want"; }
  assert_no_procs "SIG$sig during boot"
  assert_empty_dir "$tmp/t" "SIG$sig during boot (TMPDIR)"
  echo "ok: SIG$sig during boot"
done
echo OK
