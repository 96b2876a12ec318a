#!/bin/sh
# mkvmimg run --print-command: golden argv for each display (none, VNC,
# SPICE; TCP and Unix socket), network (user with forwards, VDE, tap,
# several NICs) and firmware (BIOS, UEFI, direct), with run options
# (overrides, gdb, wrapper, overlay, daemonize).  MACs are fixed by the
# machine's name.  And the refusals: a display without a password on a
# non-loopback address, bad --set, a busy forward port.
. "$top_srcdir/tests/functions.sh"
requires qemu-img

mkdir "$tmp/work"
TMPDIR=$tmp/work
MKVMIMG_NET_DIR=$tmp/nets
export TMPDIR MKVMIMG_NET_DIR

mask ()
{
  sed -e 's/ -accel kvm -cpu host / ACCEL /' -e 's/ -accel tcg / ACCEL /' \
      -e "s|$tmp|TMP|g" -e 's|TMP/work/mkvmimg\.[A-Za-z0-9]*|WORK|g'
}

check ()
{
  name=$1; shift
  $MKVMIMG run --print-command "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" ||
    { cat "$tmp/$name.err"; fail "$name: mkvmimg run --print-command $* failed"; }
  [ "$(wc -l < "$tmp/$name.out")" -eq 1 ] || fail "$name: not one line"
  mask < "$tmp/$name.out" > "$tmp/$name.masked"
  cat > "$tmp/$name.expected"
  diff -u "$tmp/$name.expected" "$tmp/$name.masked" || fail "$name: argv differs"
}

qemu-img create -q -f qcow2 "$tmp/bios.qcow2" 1G
qemu-img create -q -f raw "$tmp/uefi.raw" 64M
touch "$tmp/vmlinuz" "$tmp/initrd"

# BIOS, user networking with forwards from the file and the command
# line, no display: the console on the terminal (mon:stdio), reboots
# allowed; overrides of memory, CPUs and a key.
cat > "$tmp/bios.qcow2.machine" <<'EOF2'
[machine]
name = web1
forward = tcp:2222:22 udp:5353:53
EOF2
check bios-user "$tmp/bios.qcow2" --memory 2G --cpus 4 \
  --set machine.type=pc --forward tcp:8080:80 <<'EOF2'
qemu-system-x86_64 -nodefaults -machine pc ACCEL -m 2G -smp 4 -drive file=TMP/bios.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:5353-:53,hostfwd=tcp:127.0.0.1:8080-:80 -device virtio-net-pci,netdev=net0,mac=52:54:00:05:b2:eb -display none -serial mon:stdio -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2

# SPICE on loopback with a generated password (a secret object, not on
# the command line), qxl, the vdagent channel; gdb stub waiting; a
# wrapper; --snapshot.
check bios-spice "$tmp/bios.qcow2" --display spice --gdb --gdb-wait \
  --qemu-wrapper 'strace -f -o trace' --snapshot <<'EOF2'
strace -f -o trace qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/bios.qcow2,format=qcow2,if=none,id=disk0,snapshot=on -device virtio-blk-pci,drive=disk0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:5353-:53 -device virtio-net-pci,netdev=net0,mac=52:54:00:05:b2:eb -object secret,id=display-secret,file=WORK/display.password -display none -device qxl-vga -spice port=5930,addr=127.0.0.1,password-secret=display-secret -device virtio-serial-pci -chardev spicevmc,id=vdagent0,name=vdagent -device virtserialport,chardev=vdagent0,name=com.redhat.spice.0 -serial mon:stdio -gdb tcp:127.0.0.1:1234 -S -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2

# VNC on a Unix socket with a password file; gdb on another port; the
# console in a file.
echo secret > "$tmp/pw"
check bios-vnc-unix "$tmp/bios.qcow2" --display vnc --listen unix \
  --password-file "$tmp/pw" --gdb=4321 --console "$tmp/console.log" <<'EOF2'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/bios.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:5353-:53 -device virtio-net-pci,netdev=net0,mac=52:54:00:05:b2:eb -object secret,id=display-secret,file=TMP/pw -display none -device VGA -vnc unix:WORK/vnc.sock,password-secret=display-secret -chardev file,id=console0,path=TMP/console.log -serial chardev:console0 -gdb tcp:127.0.0.1:4321 -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2

# VNC on every address, with a password: allowed.  SPICE on a Unix
# socket, insecure (a warning).
check bios-vnc-any "$tmp/bios.qcow2" --display vnc --listen 0.0.0.0 <<'EOF2'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/bios.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:5353-:53 -device virtio-net-pci,netdev=net0,mac=52:54:00:05:b2:eb -object secret,id=display-secret,file=WORK/display.password -display none -device VGA -vnc 0.0.0.0:0,password-secret=display-secret -serial mon:stdio -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2
check bios-spice-insecure "$tmp/bios.qcow2" --display spice --listen unix \
  --set machine.insecure=yes <<'EOF2'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/bios.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp:127.0.0.1:5353-:53 -device virtio-net-pci,netdev=net0,mac=52:54:00:05:b2:eb -display none -device qxl-vga -spice unix=on,addr=WORK/spice.sock,disable-ticketing=on -device virtio-serial-pci -chardev spicevmc,id=vdagent0,name=vdagent -device virtserialport,chardev=vdagent0,name=com.redhat.spice.0 -serial mon:stdio -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2
grep -q "^mkvmimg: warning: display spice without a password (insecure = yes)" \
  "$tmp/bios-spice-insecure.err" || fail "insecure: no warning: $(cat "$tmp/bios-spice-insecure.err")"

# UEFI, e1000 on a VDE switch (by path) and a second NIC on a tap,
# overlay, daemonized (pid file, console log, QMP in the run dir).
mkdir -p "$tmp/sw"
cat > "$tmp/uefi.raw.machine" <<EOF2
[machine]
firmware = uefi
name = db1
nic = e1000
net = vde:$tmp/sw

[nic lan2]
model = virtio
net = tap:tap7
mac = 52:54:00:aa:bb:cc
EOF2
check uefi-vde-tap "$tmp/uefi.raw" --overlay "$tmp/over.qcow2" \
  --daemonize --run-dir "$tmp/rundir" <<'EOF2'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.fd,readonly=on -drive if=pflash,format=raw,unit=1,file=WORK/OVMF_VARS.fd -drive file=TMP/over.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev vde,id=net0,sock=TMP/sw -device e1000,netdev=net0,mac=52:54:00:c6:fb:e6 -netdev tap,id=net1,ifname=tap7,script=no,downscript=no -device virtio-net-pci,netdev=net1,mac=52:54:00:aa:bb:cc -display none -chardev file,id=console0,path=TMP/rundir/console.log -serial chardev:console0 -daemonize -pidfile TMP/rundir/qemu.pid -qmp unix:TMP/rundir/qmp.sock,server=on,wait=off
EOF2
[ ! -e "$tmp/over.qcow2" ] || fail "--print-command created the overlay"

# Direct kernel boot, no disk, a VDE switch by name, no NIC forwards.
cat > "$tmp/direct.machine" <<EOF2
[machine]
firmware = direct
kernel = vmlinuz
initrd = initrd
cmdline = console=ttyS0
disk = none
name = k1
net = vde:lab
EOF2
check direct-vde "$tmp/direct.machine" <<'EOF2'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -kernel TMP/vmlinuz -initrd TMP/initrd -append console=ttyS0 -netdev vde,id=net0,sock=TMP/nets/lab/ctl -device virtio-net-pci,netdev=net0,mac=52:54:00:ea:2e:a4 -display none -serial mon:stdio -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF2

# --gdb without PORT before IMAGE: IMAGE is not taken for a port.
$MKVMIMG run --gdb "$tmp/bios.qcow2" --print-command > "$tmp/gdb-order.out" ||
  fail "--gdb IMAGE"
grep -q -- "-gdb tcp:127.0.0.1:1234 " "$tmp/gdb-order.out" || fail "--gdb IMAGE: $(cat "$tmp/gdb-order.out")"
$MKVMIMG run --gdb 2345 "$tmp/bios.qcow2" --print-command > "$tmp/gdb-order.out" ||
  fail "--gdb PORT IMAGE"
grep -q -- "-gdb tcp:127.0.0.1:2345 " "$tmp/gdb-order.out" || fail "--gdb PORT IMAGE"
[ ! -e "$tmp/rundir" ] || fail "--print-command created the run directory"

# Refusals.
refuse ()
{
  what=$1 msg=$2; shift 2
  rc=0
  $MKVMIMG run "$@" > /dev/null 2> "$tmp/refuse.err" || rc=$?
  [ $rc -ne 0 ] || fail "$what: accepted"
  grep -q -- "$msg" "$tmp/refuse.err" || { cat "$tmp/refuse.err"; fail "$what: message"; }
}
refuse "insecure VNC on 0.0.0.0" \
  "^mkvmimg: display vnc on 0.0.0.0 without a password: refused" \
  "$tmp/bios.qcow2" --print-command --display vnc --listen 0.0.0.0 \
  --set machine.insecure=yes
refuse "insecure SPICE on a LAN address" \
  "^mkvmimg: display spice on 192.168.1.10 without a password: refused" \
  "$tmp/bios.qcow2" --print-command --display spice --listen 192.168.1.10 \
  --set machine.insecure=yes
refuse "bad display" "display = x11: expected one of none, vnc, spice" \
  "$tmp/bios.qcow2" --print-command --display x11
refuse "bad --set" "expected machine.KEY=VALUE" \
  "$tmp/bios.qcow2" --print-command --set memory=2G
refuse "unknown key" "unknown key 'colour' in \[machine\]" \
  "$tmp/bios.qcow2" --print-command --set machine.colour=red
refuse "bad mac" "mac = 53:54:00:00:00:01: expected a unicast MAC" \
  "$tmp/bios.qcow2" --print-command --set machine.mac=53:54:00:00:00:01
refuse "forward on vde" "is not on user networking" \
  "$tmp/direct.machine" --print-command --forward tcp:2222:22
refuse "missing password file" "password file $tmp/nonexistent" \
  "$tmp/bios.qcow2" --print-command --display vnc --password-file "$tmp/nonexistent"
refuse "gdb-wait without gdb" "gdb-wait needs --gdb" \
  "$tmp/bios.qcow2" --print-command --gdb-wait
echo OK
