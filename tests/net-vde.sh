#!/bin/sh
# Two VMs on one VDE switch made by 'mkvmimg net create': busybox
# initramfs guests with static addresses, direct kernel boot, under
# 'mkvmimg run --console FILE'; each pings the other (asserted on their
# consoles).  Their MACs differ, are what the guests see, and are the
# same on a second run.  SIGTERM to 'mkvmimg run' leaves no qemu; 'net
# destroy' leaves no vde_switch or slirpvde; a missing switch is a
# clear error.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 cpio gzip pgrep modinfo vde_switch slirpvde
. "$top_srcdir/tests/net-lib.sh"

MKVMIMG_NET_DIR=$tmp/nets
export MKVMIMG_NET_DIR
switches ()
{
  pgrep -f "(vde_switch|slirpvde) .*$tmp/nets" || true
}
_kill_switches ()
{
  for pid in $(switches); do
    kill -9 "$pid" 2>/dev/null
  done
}
cleanup_fn _kill_switches

# The switch, with slirpvde for DHCP/NAT.
$MKVMIMG net create lab --dhcp > "$tmp/create.out"
[ "$(cat "$tmp/create.out")" = "$tmp/nets/lab/ctl" ] || fail "net create printed $(cat "$tmp/create.out")"
[ -S "$tmp/nets/lab/ctl/ctl" ] || fail "no control socket"
mode=$(stat -c %a "$tmp/nets/lab/ctl/ctl")
[ "$mode" = 660 ] || fail "control socket mode $mode, expected 660"
$MKVMIMG net list > "$tmp/list"
grep -q "^lab	running	$tmp/nets/lab/ctl	dhcp$" "$tmp/list" || { cat "$tmp/list"; fail "net list"; }
[ "$(switches | wc -l)" -eq 2 ] || fail "expected vde_switch and slirpvde running"
expect_fail $MKVMIMG net create lab 2> "$tmp/again.err"
grep -q "already runs" "$tmp/again.err" || fail "second create: $(cat "$tmp/again.err")"

guest ()
{
  name=$1 ip=$2 peer=$3
  net_initramfs "$tmp/$name" "
ip link set lo up
ip link set eth0 up
ip addr add $ip/24 dev eth0
echo \"MAC=\$(cat /sys/class/net/eth0/address)\"
i=0
while ! ping -c 1 -W 1 $peer > /dev/null 2>&1; do
  i=\$((i + 1)); [ \$i -lt 150 ] || break
done
ping -c 2 $peer
echo PING-DONE-$name
sleep 600"
  net_machine "$tmp/$name.machine" "$tmp/$name/initrd.gz" \
    'nic = virtio' 'net = vde:lab'
}
guest vma 10.0.3.1 10.0.3.2
guest vmb 10.0.3.2 10.0.3.1

$MKVMIMG run "$tmp/vma.machine" --console "$tmp/vma.console" 2> "$tmp/vma.err" &
pida=$!
$MKVMIMG run "$tmp/vmb.machine" --console "$tmp/vmb.console" 2> "$tmp/vmb.err" &
pidb=$!
for i in $(seq 1 240); do
  grep -q PING-DONE-vma "$tmp/vma.console" 2>/dev/null &&
    grep -q PING-DONE-vmb "$tmp/vmb.console" 2>/dev/null && break
  sleep 1
done
for vm in vma vmb; do
  grep -q "PING-DONE-$vm" "$tmp/$vm.console" || {
    cat "$tmp/$vm.err"; tail -20 "$tmp/$vm.console"; fail "$vm did not finish pinging"; }
  grep -q '2 packets transmitted, 2 packets received' "$tmp/$vm.console" || {
    tail -20 "$tmp/$vm.console"; fail "$vm could not ping its peer"; }
done
grep -q 'using TCG' "$tmp/vma.err" || fail "no TCG line"
echo "both guests pinged each other"

# The MACs: what each guest saw, different, stable, in 52:54:00.
maca=$(sed -n 's/^MAC=\([0-9a-f:]*\).*/\1/p' "$tmp/vma.console")
macb=$(sed -n 's/^MAC=\([0-9a-f:]*\).*/\1/p' "$tmp/vmb.console")
echo "MACs: $maca $macb"
case $maca in 52:54:00:??:??:??) ;; *) fail "MAC $maca" ;; esac
[ "$maca" != "$macb" ] || fail "both VMs have MAC $maca"
[ "$maca" != 52:54:00:12:34:56 ] || fail "QEMU's default MAC"
for vm in vma vmb; do
  $MKVMIMG run "$tmp/$vm.machine" --print-command > "$tmp/$vm.cmd"
done
grep -q "mac=$maca" "$tmp/vma.cmd" || fail "second run of vma: another MAC: $(cat "$tmp/vma.cmd")"
grep -q "mac=$macb" "$tmp/vmb.cmd" || fail "second run of vmb: another MAC"
grep -q -- "-netdev vde,id=net0,sock=$tmp/nets/lab/ctl " "$tmp/vma.cmd" || fail "vde netdev"

# SIGTERM to mkvmimg run: qemu goes with it.
kill -TERM $pida $pidb
rca=0; wait $pida || rca=$?
rcb=0; wait $pidb || rcb=$?
[ $rca -ne 0 ] && [ $rcb -ne 0 ] || fail "mkvmimg run exited 0 on SIGTERM"
no_qemu_left "SIGTERM"

# A missing switch: a clear error before qemu starts.
net_machine "$tmp/nosw.machine" "$tmp/vma/initrd.gz" 'nic = virtio' 'net = vde:nosuch'
expect_fail $MKVMIMG run "$tmp/nosw.machine" --console "$tmp/nosw.console" 2> "$tmp/nosw.err"
grep -q "^mkvmimg: net = vde:nosuch: no VDE switch listens at $tmp/nets/nosuch/ctl (start one with 'mkvmimg net create nosuch')" \
  "$tmp/nosw.err" || fail "missing switch: $(cat "$tmp/nosw.err")"

# Destroy: nothing left running, nothing left on disk.
$MKVMIMG net destroy lab
[ -z "$(switches)" ] || fail "left running: $(switches)"
[ ! -e "$tmp/nets/lab" ] || fail "switch directory left"
$MKVMIMG net list > "$tmp/list2"
[ ! -s "$tmp/list2" ] || fail "net list after destroy: $(cat "$tmp/list2")"
expect_fail $MKVMIMG net destroy lab

# SIGTERM while 'net create' runs: either it had finished (exit 0, the
# switch runs) or nothing is left behind.
$MKVMIMG net create race --dhcp > /dev/null 2> "$tmp/race.err" &
pid=$!
sleep 0.3
kill -TERM $pid 2>/dev/null || true
rc=0; wait $pid || rc=$?
if [ $rc -eq 0 ]; then
  $MKVMIMG net list | grep -q "^race	running" || fail "create exited 0 but no switch"
  $MKVMIMG net destroy race
else
  echo "net create interrupted (exit $rc)"
fi
[ -z "$(switches)" ] || fail "left running after SIGTERM to net create: $(switches)"
[ ! -e "$tmp/nets/race" ] || fail "switch directory left after SIGTERM"
echo OK
