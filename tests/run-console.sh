#!/bin/sh
# mkvmimg run with the console on a terminal (a pty made by script(1)):
# what is typed reaches the guest, the guest's output comes back, and
# Ctrl-a x quits QEMU, which ends mkvmimg run with nothing left behind.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 cpio gzip pgrep modinfo script
. "$top_srcdir/tests/net-lib.sh"

net_initramfs "$tmp/vm" '
echo CONSOLE-READY
while read -r line; do echo "ECHO:$line" | tr a-z A-Z; done'
net_machine "$tmp/vm.machine" "$tmp/vm/initrd.gz" 'nic = none'

mkfifo "$tmp/keys"
wait_for ()
{
  for i in $(seq 1 240); do
    grep -q "$1" "$tmp/term.log" 2>/dev/null && return 0
    sleep 1
  done
  return 1
}
(
  wait_for CONSOLE-READY || exit 1
  printf 'hello\r'
  wait_for ECHO:HELLO || exit 1
  printf '\001x'
  sleep 30                      # keep the terminal open until it quits
) > "$tmp/keys" &
typist=$!
_kill_typist ()
{
  kill $typist 2>/dev/null
}
cleanup_fn _kill_typist

rc=0
timeout 300 script -qfec "$MKVMIMG run $tmp/vm.machine" "$tmp/term.log" \
  < "$tmp/keys" > /dev/null 2>&1 || rc=$?
kill $typist 2>/dev/null || true
grep -q 'CONSOLE-READY' "$tmp/term.log" || { cat "$tmp/term.log"; fail "no console output"; }
grep -q 'ECHO:HELLO' "$tmp/term.log" || { tail "$tmp/term.log"; fail "typed text did not reach the guest"; }
grep -q 'Ctrl-a x quits' "$tmp/term.log" || fail "no hint how to quit"
grep -q 'QEMU: Terminated' "$tmp/term.log" || { tail "$tmp/term.log"; fail "Ctrl-a x did not quit"; }
[ $rc -eq 0 ] || { tail "$tmp/term.log"; fail "mkvmimg run exited $rc after Ctrl-a x"; }
no_qemu_left "Ctrl-a x"
echo OK
