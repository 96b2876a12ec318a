#!/bin/sh
# mkvmimg run for real, in the background, with the CPU halted (--gdb
# --gdb-wait, no guest needs to boot): gdb attaches in batch mode, reads
# the instruction pointer (the reset vector) and detaches; the QMP
# socket answers scripts; SPICE and VNC run with password
# authentication; --overlay creates a qcow2 over the pristine image;
# busy gdb and forward ports and a running VM are refused; nothing is left running.
# First, without QEMU: the gdb line names a kernel tree's vmlinux, on each arch
# (and gdb-multiarch for a foreign one).
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 qemu-img gdb socat pgrep

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

# qmp DIR COMMAND: the reply to one QMP command on DIR/qmp.sock.
qmp ()
{
  printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$2" |
    socat -t 5 - "UNIX-CONNECT:$1/qmp.sock"
}

qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 64M
sum=$(md5sum < "$tmp/disk.qcow2")
printf '[machine]\nname = gdbvm\n' > "$tmp/disk.qcow2.machine"
port=$(( 30000 + $$ % 20000 ))

# The vmlinux beside a kernel tree's image is named in the gdb line,
# for each arch's image (arch/x86/boot/bzImage, arch/arm64/boot/Image,
# arch/arm/boot/zImage).  No QEMU runs: the wrapper is true.
for t in x86_64:x86/boot/bzImage aarch64:arm64/boot/Image armhf:arm/boot/zImage; do
  arch=${t%%:*} image=${t#*:}
  mkdir -p "$tmp/linux-$arch/arch/${image%/*}"
  echo image > "$tmp/linux-$arch/arch/$image"
  echo symbols > "$tmp/linux-$arch/vmlinux"
  printf '[machine]\narch = %s\nfirmware = direct\nkernel = linux-%s/arch/%s\ndisk = none\nnic = none\n' \
    $arch $arch $image > "$tmp/tree-$arch.machine"
  $MKVMIMG run "$tmp/tree-$arch.machine" --gdb=$port --qemu-wrapper true \
    < /dev/null > /dev/null 2> "$tmp/tree-$arch.err" ||
    { cat "$tmp/tree-$arch.err"; fail "$arch: run with a true wrapper"; }
  # A foreign arch needs gdb-multiarch.
  case $arch:$(uname -m) in
    x86_64:x86_64|aarch64:aarch64|armhf:armv7l) gdb=gdb ;;
    *) gdb=gdb-multiarch ;;
  esac
  grep -qF "  $gdb $tmp/linux-$arch/vmlinux -ex 'target remote 127.0.0.1:$port'" "$tmp/tree-$arch.err" ||
    fail "$arch: no '$gdb' with the vmlinux in the gdb line: $(cat "$tmp/tree-$arch.err")"
done

# SPICE, gdb waiting, an overlay.
$MKVMIMG run "$tmp/disk.qcow2" --overlay "$tmp/over.qcow2" --display spice \
  --gdb=$port --gdb-wait --daemonize --run-dir "$tmp/run1" \
  > "$tmp/a.out" 2> "$tmp/a.err" || { cat "$tmp/a.err"; fail "run --daemonize"; }
cat "$tmp/a.err"
[ "$(cat "$tmp/a.out")" = "$tmp/run1/qemu.pid" ] || fail "pid file path not printed"
pid=$(cat "$tmp/run1/qemu.pid")
kill -0 "$pid" || fail "qemu is not running"
grep -q "gdb -ex 'target remote 127.0.0.1:$port'" "$tmp/a.err" || fail "no gdb command printed"
grep -q "remote-viewer spice://127.0.0.1:" "$tmp/a.err" || fail "no connect line"
[ "$(stat -c %a "$tmp/run1/display.password")" = 600 ] || fail "password file mode"
[ "$(stat -c %a "$tmp/run1")" = 700 ] || fail "run dir mode"
pw=$(cat "$tmp/run1/display.password")
[ ${#pw} -eq 8 ] || fail "password length"
if ps -o args= -p "$pid" | grep -q -- "$pw"; then
  fail "the password is on qemu's command line"
fi
qemu-img info -U "$tmp/over.qcow2" | grep -q "^backing file: $tmp/disk.qcow2" ||
  fail "overlay without its backing file"

# Halted until gdb lets it go.
qmp "$tmp/run1" query-status | grep -q '"status": *"prelaunch"\|"status": *"paused"' ||
  fail "not halted: $(qmp "$tmp/run1" query-status)"

# gdb: attach, read a register, detach (the CPU runs on).
timeout 60 gdb -nx -batch -ex 'set architecture i386:x86-64' \
  -ex "target remote 127.0.0.1:$port" -ex 'info registers rip' -ex detach \
  > "$tmp/gdb.out" 2>&1 || { cat "$tmp/gdb.out"; fail "gdb failed"; }
grep -q '^rip  *0xfff0' "$tmp/gdb.out" || { cat "$tmp/gdb.out"; fail "rip is not the reset vector"; }
echo "gdb read rip = 0xfff0"

# QMP: SPICE with password authentication.
qmp "$tmp/run1" query-spice > "$tmp/spice.json"
grep -q '"auth": *"spice"' "$tmp/spice.json" || fail "SPICE without a password: $(cat "$tmp/spice.json")"
grep -q '"host": *"127.0.0.1"' "$tmp/spice.json" || fail "SPICE not on 127.0.0.1"

# The same VM again: refused; the gdb port busy: refused.
expect_fail $MKVMIMG run "$tmp/disk.qcow2" --daemonize --run-dir "$tmp/run1" 2> "$tmp/b.err"
grep -q "this VM already runs (pid $pid)" "$tmp/b.err" || fail "second start: $(cat "$tmp/b.err")"
expect_fail $MKVMIMG run "$tmp/disk.qcow2" --snapshot --gdb=$port --daemonize \
  --run-dir "$tmp/run2" 2> "$tmp/c.err"
grep -q "^mkvmimg: --gdb: port $port on 127.0.0.1 is already in use$" "$tmp/c.err" ||
  fail "busy gdb port: $(cat "$tmp/c.err")"

# A busy forward port: refused before qemu starts.
busybox nc -l -p $((port + 1)) > /dev/null 2>&1 &
listener=$!
sleep 1
expect_fail $MKVMIMG run "$tmp/disk.qcow2" --snapshot --forward tcp:$((port + 1)):22 \
  --daemonize --run-dir "$tmp/run4" 2> "$tmp/d.err"
kill $listener 2>/dev/null || true
grep -q "^mkvmimg: forward tcp:$((port + 1)):22: port $((port + 1)) on 127.0.0.1 is already in use" \
  "$tmp/d.err" || fail "busy forward port: $(cat "$tmp/d.err")"

qmp "$tmp/run1" quit > /dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$pid" 2>/dev/null && fail "qemu did not quit over QMP"

# VNC on a Unix socket, password from a file.
printf 'pw123456' > "$tmp/pw"
$MKVMIMG -q run "$tmp/disk.qcow2" --snapshot --display vnc --listen unix \
  --password-file "$tmp/pw" --gdb=$port --gdb-wait --daemonize \
  --run-dir "$tmp/run3" > /dev/null || fail "VNC run"
[ -S "$tmp/run3/vnc.sock" ] || fail "no VNC socket"
qmp "$tmp/run3" query-vnc | grep -q '"auth": *"vnc"' || fail "VNC without a password"
qmp "$tmp/run3" quit > /dev/null
sleep 1
[ "$(md5sum < "$tmp/disk.qcow2")" = "$sum" ] || fail "the image was written"
for i in 1 2 3 4 5; do
  [ -z "$(qemus)" ] && break
  sleep 1
done
[ -z "$(qemus)" ] || fail "qemu left running"
echo OK
