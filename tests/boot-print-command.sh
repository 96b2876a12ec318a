#!/bin/sh
# mkvmimg boot --print-command: the qemu command line for BIOS, UEFI and
# direct kernel machines (golden argv), and how IMAGE, IMAGE.machine and
# --machine are chosen.  The accelerator (KVM or TCG, depending on the
# host) and temporary paths are masked.
. "$top_srcdir/tests/functions.sh"
requires qemu-img

mkdir "$tmp/work"
TMPDIR=$tmp/work
export TMPDIR

# Masks: the accelerator, this test's directory, mkvmimg's working dir,
# the MAC derived from the image's path (tests/net-vde.sh checks those).
mask ()
{
  sed -e 's/ -accel kvm -cpu host / ACCEL /' -e 's/ -accel tcg / ACCEL /' \
      -e 's/,mac=52:54:00:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]/,mac=MAC/g' \
      -e "s|$tmp|TMP|g" -e 's|TMP/work/mkvmimg\.[A-Za-z0-9]*|WORK|g'
}

check ()
{
  name=$1; shift
  $MKVMIMG boot --print-command "$@" > "$tmp/$name.out" ||
    fail "$name: mkvmimg boot --print-command $* failed"
  [ "$(wc -l < "$tmp/$name.out")" -eq 1 ] || fail "$name: not one line"
  mask < "$tmp/$name.out" > "$tmp/$name.masked"
  cat > "$tmp/$name.expected"
  diff -u "$tmp/$name.expected" "$tmp/$name.masked" || fail "$name: argv differs"
}

qemu-img create -q -f qcow2 "$tmp/disk.qcow2" 1G
qemu-img create -q -f raw "$tmp/disk.raw" 64M

# No machine file: the defaults (BIOS, virtio disk and NIC, q35, 1G, 2
# CPUs), the qcow2 format probed from the image.
check bios "$tmp/disk.qcow2" <<'EOF'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/disk.qcow2,format=qcow2,if=none,id=disk0 -device virtio-blk-pci,drive=disk0 -netdev user,id=net0 -device virtio-net-pci,netdev=net0,mac=MAC -display none -chardev stdio,id=console0,signal=off -serial chardev:console0 -no-reboot -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF

# IMAGE.machine beside the image: UEFI, SCSI, e1000, an emulated device,
# --snapshot.
cat > "$tmp/disk.raw.machine" <<'EOF'
# written by hand
[machine]
firmware = uefi
memory = 2G
cpus = 1
disk = scsi
nic = e1000

[device edu0]
type = edu
dma_mask = 0xffffffff
EOF
check uefi "$tmp/disk.raw" --snapshot <<'EOF'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 2G -smp 1 -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.fd,readonly=on -drive if=pflash,format=raw,unit=1,file=WORK/OVMF_VARS.fd -drive file=TMP/disk.raw,format=raw,if=none,id=disk0,snapshot=on -device virtio-scsi-pci,id=scsi0 -device scsi-hd,drive=disk0,bus=scsi0.0 -netdev user,id=net0 -device e1000,netdev=net0,mac=MAC -device edu,dma_mask=0xffffffff -display none -chardev stdio,id=console0,signal=off -serial chardev:console0 -no-reboot -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF
# Given as IMAGE.machine, the image is the name without .machine.
check uefi-by-machine "$tmp/disk.raw.machine" --snapshot < "$tmp/uefi.expected"

# Direct kernel boot, no disk: IMAGE is the .machine file itself.  The
# kernel and initrd are relative to the .machine file's directory, not
# to the current directory; the command line is one quoted word.
mkdir "$tmp/m" "$tmp/elsewhere"
cat > "$tmp/m/initramfs.machine" <<'EOF'
[machine]
firmware = direct
kernel = vmlinuz
initrd = ../initrd.gz
cmdline = console=ttyS0 panic=-1 it's="quoted"
memory = 512M
disk = none
nic = none
EOF
cd "$tmp/elsewhere"
check direct ../m/initramfs.machine <<'EOF'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 512M -smp 2 -kernel TMP/m/vmlinuz -initrd TMP/m/../initrd.gz -append 'console=ttyS0 panic=-1 it'\''s="quoted"' -display none -chardev stdio,id=console0,signal=off -serial chardev:console0 -no-reboot -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF
# The same machine through --machine, without an IMAGE.
check direct-by-option --machine ../m/initramfs.machine < "$tmp/direct.expected"
cd "$tmp"

# Direct kernel boot with a root disk; IDE; no cmdline: console= from
# the machine's console; a comma in the image name is doubled.
cp "$tmp/disk.qcow2" "$tmp/a,b.qcow2"
cat > "$tmp/ide.machine" <<'EOF'
[machine]
firmware = direct
kernel = /boot/vmlinuz
disk = ide
disk-format = qcow2
console = ttyS1
type = pc
EOF
check ide "$tmp/a,b.qcow2" --machine "$tmp/ide.machine" <<'EOF'
qemu-system-x86_64 -nodefaults -machine pc ACCEL -m 1G -smp 2 -kernel /boot/vmlinuz -append console=ttyS1 -drive file=TMP/a,,b.qcow2,format=qcow2,if=none,id=disk0 -device ide-hd,drive=disk0 -netdev user,id=net0 -device virtio-net-pci,netdev=net0,mac=MAC -display none -chardev stdio,id=console0,signal=off -serial chardev:console0 -no-reboot -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF

# NVMe, the raw format probed.
printf '[machine]\ndisk = nvme\nnic = none\n' > "$tmp/nvme.machine"
check nvme "$tmp/disk.raw" --machine "$tmp/nvme.machine" <<'EOF'
qemu-system-x86_64 -nodefaults -machine q35 ACCEL -m 1G -smp 2 -drive file=TMP/disk.raw,format=raw,if=none,id=disk0 -device nvme,drive=disk0,serial=mkvmimg0 -display none -chardev stdio,id=console0,signal=off -serial chardev:console0 -no-reboot -qmp unix:WORK/qmp.sock,server=on,wait=off
EOF

# The accelerator: KVM exactly when /dev/kvm opens read-write.
if [ -w /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
  accel='-accel kvm -cpu host'
else
  accel='-accel tcg'
fi
grep -q -e " -machine q35 $accel -m " "$tmp/bios.out" ||
  fail "accelerator is not '$accel'"

# Errors: exit 1 with the file and line, or exit 2 for usage.
set +e
printf '[machine]\nmemory = 1G\nvga = std\n' > "$tmp/bad.machine"
$MKVMIMG boot --print-command "$tmp/disk.raw" --machine "$tmp/bad.machine" \
  > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "unknown key: exit $rc, expected 1"
grep -q "^mkvmimg: $tmp/bad.machine:3: unknown key 'vga' in \[machine\]$" "$tmp/err" ||
  fail "unknown key: message: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "unknown key: stdout not empty"

$MKVMIMG boot --print-command "$tmp/no-such.qcow2" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "missing image: exit $rc"
grep -q "no-such.qcow2: No such file or directory" "$tmp/err" ||
  fail "missing image: message: $(cat "$tmp/err")"

$MKVMIMG boot --print-command "$tmp/disk.raw" \
  --machine "$tmp/m/initramfs.machine" 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "image with disk = none: exit $rc"
grep -q "disk = none" "$tmp/err" || fail "image with disk = none: message"

$MKVMIMG boot --print-command 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "no IMAGE: exit $rc, expected 2"
$MKVMIMG boot --print-command "$tmp/disk.raw" --timeout soon 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad --timeout: exit $rc, expected 2"
$MKVMIMG boot --print-command "$tmp/disk.raw" --expect 'a(' 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad --expect: exit $rc, expected 2"
set -e

# mkvmimg removed its working directory.
[ -z "$(ls "$tmp/work")" ] || fail "working directory left: $(ls "$tmp/work")"
echo OK
