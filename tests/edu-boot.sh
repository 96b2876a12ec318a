#!/bin/sh
# The edu example driver works on QEMU's edu device: Debian's kernel boots
# in QEMU (TCG) with "-device edu" and a tiny busybox initramfs that loads
# the freshly built edu.ko.  The driver's self-test must pass with INTx
# interrupts, and again with MSI; user space must get 6! = 720 from sysfs
# and a round trip through /dev/edu (the device's DMA engine); an open
# /dev/edu must fail cleanly when the device is unbound.
. "$top_srcdir/tests/functions.sh"
requires make gcc qemu-system-x86_64 cpio gzip timeout readelf

kernel=$(debian_kernel)
[ -n "$kernel" ] || fail "no Debian kernel in /boot (run setup.sh)"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver/build" ] ||
  fail "no headers for $kver in /lib/modules/$kver/build (run setup.sh)"
busybox=/bin/busybox
[ -x "$busybox" ] || fail "no $busybox (install busybox-static)"
if readelf -l "$busybox" | grep -q 'program interpreter'; then
  fail "$busybox is not static (install busybox-static)"
fi

# Build the module out of the source tree.  Not with the flags of an outer make
# (make check VAR=...), which kbuild would take as its own.
unset MAKEFLAGS MFLAGS MAKELEVEL
cp -R "$top_srcdir/examples/drivers/edu" "$tmp/edu"
chmod -R u+w "$tmp/edu"
make -C "$tmp/edu" KVER="$kver" > "$tmp/build.log" 2>&1 || {
  cat "$tmp/build.log"
  fail "make KVER=$kver failed"
}
depends=$(modinfo -F depends "$tmp/edu/edu.ko")
[ -z "$depends" ] || fail "edu.ko depends on '$depends': load those first"

# The initramfs: busybox, the module and /init.
root=$tmp/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
cp "$tmp/edu/edu.ko" "$root/edu.ko"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# "quiet" would hide the driver's messages.
echo 8 > /proc/sys/kernel/printk

say ()
{
  echo "edu-test: $*"
}

# Use the bound device through sysfs and /dev/edu.
use_device ()
{
  dev=$(ls -d /sys/bus/pci/drivers/edu/0000:* 2>/dev/null | head -n 1)
  if [ -z "$dev" ]; then
    say "no device bound"
    return
  fi
  say "bound ${dev##*/} modalias $(cat "$dev/modalias")"
  say "id $(cat "$dev/id")"
  echo 6 > "$dev/factorial" && say "factorial 6 = $(cat "$dev/factorial")"
  if echo 13 > "$dev/factorial"; then
    say "factorial 13 accepted"
  else
    say "factorial 13 refused"
  fi
  echo 0x0f0f1234 > "$dev/liveness" && say "liveness $(cat "$dev/liveness")"
  printf 'edu dma round trip' > /dev/edu &&
    say "dev read '$(head -c 18 /dev/edu)'"
  say "dev seek '$(dd if=/dev/edu bs=1 skip=4 count=3 2>/dev/null)'"
  say "dev size $(wc -c < /dev/edu)"
  if dd if=/dev/zero of=/dev/edu bs=1 seek=4095 count=1 2> /tmp/err; then
    say "dev write past the end accepted"
  else
    say "dev write past the end refused: $(cat /tmp/err)"
  fi
  say "interrupts $(cat "$dev/interrupts")"
}

say "start"
insmod /edu.ko || say "insmod failed"
use_device
rmmod edu || say "rmmod failed"
[ -e /dev/edu ] && say "/dev/edu left after rmmod"

insmod /edu.ko msi=1 || say "insmod msi=1 failed"
use_device
# Unbind the device under an open /dev/edu, then bind it again.
name=${dev##*/}
exec 3< /dev/edu
echo "$name" > /sys/bus/pci/drivers/edu/unbind
if dd bs=1 count=1 <&3 > /dev/null 2> /tmp/err; then
  say "read after unbind succeeded"
else
  say "read after unbind failed: $(cat /tmp/err)"
fi
exec 3<&-
echo "$name" > /sys/bus/pci/drivers/edu/bind
use_device
rmmod edu || say "rmmod failed"
say "done"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip > "$tmp/initramfs.gz"

start=$(date +%s.%N)
set +e
timeout 240 qemu-system-x86_64 -machine accel=tcg -m 512 \
  -nographic -no-reboot -device edu \
  -kernel "$kernel" -initrd "$tmp/initramfs.gz" \
  -append 'console=ttyS0 panic=-1 no_timer_check quiet' \
  < /dev/null > "$tmp/console.raw" 2>&1
rc=$?
set -e
end=$(date +%s.%N)
tr -d '\r' < "$tmp/console.raw" > "$tmp/console.log"
cat "$tmp/console.log"
echo "qemu exited with status $rc after" \
  "$(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }') s"
[ $rc -ne 124 ] || fail "QEMU timed out after 240 s"
[ $rc -eq 0 ] || fail "QEMU exited with status $rc"

log=$tmp/console.log
# count N REGEX: the console has exactly N lines matching REGEX.
count ()
{
  n=$(grep -c -E -- "$2" "$log" || :)
  [ "$n" -eq "$1" ] ||
    fail "expected $1 console lines matching '$2', found $n"
}
dev='edu [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: '

grep -q -F 'edu-test: start' "$log" || fail "/init did not run"
grep -q -F 'edu-test: done' "$log" || fail "/init did not finish"
# Three probes: INTx, MSI, MSI again after unbind and bind.
count 3 "${dev}id 0x010000ed \(version 1\.0\)\$"
count 3 "${dev}selftest liveness: ok\$"
count 1 "${dev}selftest interrupt: ok \(INTx, irq [0-9]+\)\$"
count 2 "${dev}selftest interrupt: ok \(MSI, irq [0-9]+\)\$"
count 3 "${dev}selftest factorial: ok \(5! = 120, 0! = 1, 12! = 479001600\)\$"
count 3 "${dev}selftest dma: ok \(4095 bytes to the device and back, bus address 0x[0-9a-f]+\)\$"
count 3 "${dev}selftest: all passed\$"
count 3 "${dev}ready: /dev/edu\$"
count 0 'FAILED|(BUG|WARNING):|Oops|Call Trace|EDU: clamping'
count 0 'edu-test: (no device bound|insmod|rmmod|/dev/edu left)'

count 3 '^edu-test: bound [0-9a-f:.]+ modalias pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00$'
count 3 '^edu-test: id 0x010000ed$'
count 3 '^edu-test: factorial 6 = 720$'
count 3 '^edu-test: factorial 13 refused$'
count 3 '^edu-test: liveness 0xf0f0edcb$'
count 3 "^edu-test: dev read 'edu dma round trip'\$"
count 3 "^edu-test: dev seek 'dma'\$"
count 3 '^edu-test: dev size 4095$'
count 3 '^edu-test: dev write past the end refused: .*No space left on device'
count 1 '^edu-test: read after unbind failed: .*No such device'

# Each probe's self-test takes 7 interrupts; user space adds more.
for n in $(sed -n 's/^edu-test: interrupts //p' "$log"); do
  [ "$n" -gt 7 ] || fail "only $n interrupts handled"
done
