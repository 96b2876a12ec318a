#!/bin/sh
# mkvmimg run --libvirt-xml: the domain XML validates against libvirt's
# schema (virt-xml-validate) and 'virsh define' (test driver) takes it, for BIOS, UEFI (x86_64 and aarch64) and direct kernel machines
# with every display and network kind, and says the same as the QEMU
# command line: disk, firmware, MACs, forwards, display, devices.
. "$top_srcdir/tests/functions.sh"
requires qemu-img virt-xml-validate xmllint virsh

mkdir "$tmp/work"
TMPDIR=$tmp/work
MKVMIMG_NET_DIR=$tmp/nets
export TMPDIR MKVMIMG_NET_DIR

qemu-img create -q -f qcow2 "$tmp/bios.qcow2" 1G
qemu-img create -q -f raw "$tmp/uefi.raw" 64M
touch "$tmp/vmlinuz" "$tmp/initrd"
cat > "$tmp/bios.qcow2.machine" <<'EOF2'
[machine]
name = web1
forward = tcp:2222:22

[device edu0]
type = edu
EOF2
cat > "$tmp/uefi.raw.machine" <<EOF2
[machine]
firmware = uefi
name = db1
disk = scsi
nic = e1000
net = tap:tap7

[nic lan2]
net = vde:lab
EOF2
cat > "$tmp/direct.machine" <<EOF2
[machine]
firmware = direct
kernel = vmlinuz
initrd = initrd
cmdline = console=ttyS0 root=/dev/vda
disk = none
memory = 512M
cpus = 1
EOF2

# xpath FILE EXPR: the value, by xmllint.
xpath ()
{
  xmllint --xpath "$2" "$1" 2>/dev/null
}

validate ()
{
  name=$1; shift
  $MKVMIMG run --libvirt-xml "$@" > "$tmp/$name.xml" 2> "$tmp/$name.err" ||
    { cat "$tmp/$name.err"; fail "$name: --libvirt-xml failed"; }
  virt-xml-validate "$tmp/$name.xml" domain > "$tmp/$name.val" 2>&1 ||
    { cat "$tmp/$name.xml" "$tmp/$name.val"; fail "$name: does not validate"; }
  # libvirt's test driver: what 'virsh define' says, without a daemon.
  virsh -q -c test:///default define "$tmp/$name.xml" > "$tmp/$name.virsh" 2>&1 ||
    { cat "$tmp/$name.virsh"; fail "$name: virsh define refuses it"; }
  $MKVMIMG run --print-command "$@" > "$tmp/$name.cmd" 2>/dev/null
  echo "$name: validates, virsh defines it"
}

# BIOS, user networking with a forward, SPICE, an emulated device.
validate bios-spice "$tmp/bios.qcow2" --display spice
x=$tmp/bios-spice.xml
[ "$(xpath "$x" 'string(/domain/name)')" = web1 ] || fail "name"
[ "$(xpath "$x" 'string(/domain/memory)')" = 1048576 ] || fail "memory"
[ "$(xpath "$x" 'string(/domain/devices/disk/source/@file)')" = "$tmp/bios.qcow2" ] || fail "disk"
[ "$(xpath "$x" 'string(/domain/devices/disk/driver/@type)')" = qcow2 ] || fail "disk format"
[ "$(xpath "$x" 'string(/domain/devices/disk/target/@bus)')" = virtio ] || fail "disk bus"
mac=$(xpath "$x" 'string(/domain/devices/interface[@type="user"]/mac/@address)')
grep -q "mac=$mac" "$tmp/bios-spice.cmd" || fail "MAC $mac differs from the command line"
[ "$(xpath "$x" 'string(/domain/devices/interface/portForward/range/@start)')" = 2222 ] || fail "forward"
[ "$(xpath "$x" 'string(/domain/devices/graphics/@type)')" = spice ] || fail "graphics"
[ "$(xpath "$x" 'string(/domain/devices/graphics/listen/@address)')" = 127.0.0.1 ] || fail "listen"
[ "$(xpath "$x" 'string(/domain/devices/video/model/@type)')" = qxl ] || fail "qxl"
[ "$(xpath "$x" 'string(/domain/devices/channel/target/@name)')" = com.redhat.spice.0 ] || fail "vdagent channel"
xpath "$x" '/domain/*[local-name()="commandline"]' | grep -q "value=\"edu\"" || fail "edu device"

# UEFI, SCSI, e1000 on a tap device, a second NIC on VDE, VNC on a
# Unix socket.
validate uefi-vnc "$tmp/uefi.raw" --display vnc --listen unix
x=$tmp/uefi-vnc.xml
xpath "$x" 'string(/domain/os/loader)' | grep -q OVMF_CODE || fail "loader"
[ "$(xpath "$x" 'string(/domain/os/loader/@type)')" = pflash ] || fail "pflash"
[ "$(xpath "$x" 'string(/domain/devices/disk/target/@bus)')" = scsi ] || fail "scsi"
[ "$(xpath "$x" 'string(/domain/devices/interface[@type="ethernet"]/target/@dev)')" = tap7 ] || fail "tap"
[ "$(xpath "$x" 'string(/domain/devices/interface/model/@type)')" = e1000 ] || fail "e1000"
xpath "$x" '/domain/*[local-name()="commandline"]' | grep -q "vde,id=vde1,sock=$tmp/nets/lab/ctl" || fail "vde NIC"
[ "$(xpath "$x" 'string(/domain/devices/graphics/listen/@type)')" = socket ] || fail "vnc socket"

# UEFI on aarch64 and armhf: the arch's firmware (AAVMF, AAVMF32), not
# OVMF; without it, the error names the arch's firmware package.
qemu-img create -q -f raw "$tmp/a64.raw" 64M
printf '[machine]\narch = aarch64\nfirmware = uefi\nname = arm1\n' > "$tmp/a64.raw.machine"
validate a64-uefi "$tmp/a64.raw"
x=$tmp/a64-uefi.xml
[ "$(xpath "$x" 'string(/domain/os/type/@arch)')" = aarch64 ] || fail "aarch64: arch"
# Without KVM the CPU is the one the command line gives (virt's default
# is 32-bit), and UEFI on arm64 has ACPI.
if [ ! -w /dev/kvm ] || [ "$(uname -m)" != aarch64 ]; then
  [ "$(xpath "$x" 'string(/domain/cpu/model)')" = cortex-a57 ] ||
    fail "aarch64: cpu model '$(xpath "$x" 'string(/domain/cpu/model)')'"
  grep -q -- "-cpu cortex-a57" "$tmp/a64-uefi.cmd" || fail "aarch64: -cpu"
fi
[ "$(xpath "$x" 'count(/domain/features/acpi)')" = 1 ] || fail "aarch64 uefi: acpi"
[ "$(xpath "$x" 'string(/domain/os/loader)')" = /usr/share/AAVMF/AAVMF_CODE.fd ] ||
  fail "aarch64: loader $(xpath "$x" 'string(/domain/os/loader)')"
[ "$(xpath "$x" 'string(/domain/os/nvram/@template)')" = /usr/share/AAVMF/AAVMF_VARS.fd ] ||
  fail "aarch64: nvram template"
grep -q -- "-drive if=pflash,format=raw,unit=0,file=/usr/share/AAVMF/AAVMF_CODE.fd," "$tmp/a64-uefi.cmd" ||
  fail "aarch64: the command line has other firmware: $(cat "$tmp/a64-uefi.cmd")"
printf '[machine]\narch = armhf\nfirmware = uefi\nname = arm2\ndisk = none\n' > "$tmp/a32.machine"
$MKVMIMG run --libvirt-xml "$tmp/a32.machine" > "$tmp/a32.xml" ||
  fail "armhf: --libvirt-xml failed"
[ "$(xpath "$tmp/a32.xml" 'string(/domain/os/loader)')" = /usr/share/AAVMF/AAVMF32_CODE.fd ] ||
  fail "armhf: loader $(xpath "$tmp/a32.xml" 'string(/domain/os/loader)')"
[ "$(xpath "$tmp/a32.xml" 'count(/domain/features/acpi)')" = 0 ] ||
  fail "armhf: ACPI on a 32-bit Arm machine"
# No AAVMF (hidden under an empty tmpfs where a user namespace may
# mount one).
if unshare -rm true 2>/dev/null; then
  rc=0
  unshare -rm sh -c 'mount -t tmpfs none /usr/share/AAVMF && exec "$@"' sh \
    $MKVMIMG run --libvirt-xml "$tmp/a64.raw" > /dev/null 2> "$tmp/nofw.err" || rc=$?
  [ $rc -eq 1 ] || { cat "$tmp/nofw.err"; fail "aarch64 without AAVMF: exit $rc"; }
  grep -q "^mkvmimg: UEFI firmware for aarch64: .*install Debian's qemu-efi-aarch64 package" "$tmp/nofw.err" ||
    fail "aarch64 without AAVMF: $(cat "$tmp/nofw.err")"
else
  echo "no user namespace: the missing-firmware case is not checked"
fi

# Direct kernel boot, no disk, no display, --snapshot irrelevant.
validate direct "$tmp/direct.machine"
x=$tmp/direct.xml
[ "$(xpath "$x" 'string(/domain/os/kernel)')" = "$tmp/vmlinuz" ] || fail "kernel"
[ "$(xpath "$x" 'string(/domain/os/initrd)')" = "$tmp/initrd" ] || fail "initrd"
[ "$(xpath "$x" 'string(/domain/os/cmdline)')" = "console=ttyS0 root=/dev/vda" ] || fail "cmdline"
[ "$(xpath "$x" 'string(/domain/vcpu)')" = 1 ] || fail "vcpu"
[ "$(xpath "$x" 'count(/domain/devices/disk)')" = 0 ] || fail "a disk"

# An overlay and --snapshot: the overlay is the disk; transient.
validate overlay "$tmp/bios.qcow2" --overlay "$tmp/over.qcow2"
[ "$(xpath "$tmp/overlay.xml" 'string(/domain/devices/disk/source/@file)')" = "$tmp/over.qcow2" ] ||
  fail "overlay disk"
validate snapshot "$tmp/bios.qcow2" --snapshot
[ "$(xpath "$tmp/snapshot.xml" 'count(/domain/devices/disk/transient)')" = 1 ] || fail "transient"

# Hostile names are escaped.
validate escaped "$tmp/bios.qcow2" --set "machine.name=a<b>&'c\""
[ "$(xpath "$tmp/escaped.xml" 'string(/domain/name)')" = "a<b>&'c\"" ] || fail "escaping"
echo OK
