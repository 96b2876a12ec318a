#!/bin/sh
# End to end: a Debian bookworm image bootstrapped from the mirror (less,
# locales-all, vim, sudo, openssh-server, linux-image-amd64), root's
# password from a file, an SSH key.  Image A boots under SeaBIOS: root
# logs in on the serial console and runs a command.  Image B, built
# again from the same profile (from the base cache), boots under OVMF:
# the serial console shows login:, root logs in over SSH through a
# forwarded port.  The two machines have different SSH host keys and
# machine IDs.  The edu example driver (load = auto, with QEMU's edu
# device in the machine) is loaded by udev from its modalias, and user
# space reads 6! from it.
. "$top_srcdir/tests/functions.sh"
requires mmdebstrap qemu-system-x86_64 qemu-nbd ssh ssh-keygen make gcc
unset MAKEFLAGS MFLAGS MAKELEVEL

# A private cache: the test owns what it creates and removes
# (DEBIAN_LOGIN_CACHE: a directory kept between runs, when iterating).
export XDG_CACHE_HOME="${DEBIAN_LOGIN_CACHE:-$tmp/cache}"
unset SOURCE_DATE_EPOCH

printf 'Debian-Login-Test-7\n' > "$tmp/root.pw"
ssh-keygen -q -t ed25519 -N '' -C mkvmimg-test -f "$tmp/key"

cat > "$tmp/debian.conf" <<EOS
[rootfs]
source = debootstrap
suite = bookworm
variant = minbase
include = less locales-all vim sudo openssh-server
[kernel]
package = linux-image-amd64
cmdline = "console=ttyS0,115200"
[boot]
loader = hybrid
timeout = 0
[system]
hostname = mkvmimg-debian
root-password-file = root.pw
root-ssh-key = key.pub
[run stamp]
command = echo built-by-mkvmimg > /etc/mkvmimg-stamp
[module edu]
source = $top_srcdir/examples/drivers/edu
load = auto
[device edu]
type = edu
EOS

start=$(date +%s)
$MKVMIMG build "$tmp/debian.conf" -o "$tmp/a.qcow2"
echo "cold build: $(( $(date +%s) - start )) s"
$MKVMIMG cache list > "$tmp/cache.list"
cat "$tmp/cache.list"
[ "$(wc -l < "$tmp/cache.list")" -eq 1 ] || fail "one cache entry expected"
grep -q 'bookworm minbase amd64' "$tmp/cache.list" || fail "cache list"

start=$(date +%s)
$MKVMIMG build "$tmp/debian.conf" -o "$tmp/b.qcow2" 2> "$tmp/build-b.log"
cat "$tmp/build-b.log"
echo "warm build: $(( $(date +%s) - start )) s"
grep -q 'using the cached base' "$tmp/build-b.log" || fail "second build did not use the cache"
grep -q 'bootstrapping' "$tmp/build-b.log" && fail "second build bootstrapped again"

# A: SeaBIOS, log in as root on the serial console.
timeout 600 $MKVMIMG boot "$tmp/a.qcow2" --timeout 540 \
  --console "$tmp/a.console" \
  --expect 'mkvmimg-debian login:' --send 'root\n' \
  --expect 'Password:' --send-file "$tmp/root.pw" \
  --expect 'root@mkvmimg-debian:~#' \
  --send 'while [ ! -s /etc/ssh/ssh_host_ed25519_key.pub ]; do sleep 1; done; echo "R=$((6*7)) $(cat /etc/mkvmimg-stamp) $(cat /etc/machine-id) $(cut -d" " -f2 /etc/ssh/ssh_host_ed25519_key.pub)"; uname -r\n' \
  --expect 'R=42 built-by-mkvmimg [0-9a-f]{32} [A-Za-z0-9+/]+' \
  --send 'echo "EDU $(grep -c "^edu " /proc/modules) $(ls /etc/modules-load.d | grep -c edu) $(echo 6 > /sys/bus/pci/drivers/edu/0000:*/factorial && cat /sys/bus/pci/drivers/edu/0000:*/factorial)"\n' \
  --expect 'EDU 1 0 720' \
  > /dev/null || {
  echo "--- console (last 40 lines)"; tail -n 40 "$tmp/a.console"
  fail "root could not log in on the serial console (SeaBIOS)"
}
a_ids=$(tr -d '\r' < "$tmp/a.console" | grep -Eo 'R=42 built-by-mkvmimg [0-9a-f]{32} [A-Za-z0-9+/]+' | tail -n 1)
echo "image A: $a_ids"
grep -q 'Password: ' "$tmp/a.console" || fail "no password prompt"
grep -q 'Debian-Login-Test-7' "$tmp/a.console" && fail "the password was echoed"

# B: OVMF (the same hybrid disk under UEFI firmware), SSH with the key.
# (In [machine]: the [device edu] section follows it.)
sed -e '/^ovmf-/d' \
  -e 's|^firmware = .*|firmware = uefi\novmf-code = /usr/share/OVMF/OVMF_CODE_4M.fd\novmf-vars = /usr/share/OVMF/OVMF_VARS_4M.fd|' \
  "$tmp/b.qcow2.machine" > "$tmp/uefi.machine"
port=$(( 20000 + $$ % 20000 ))
$MKVMIMG boot "$tmp/b.qcow2" --machine "$tmp/uefi.machine" --timeout 560 \
  --console "$tmp/b.console" --forward "tcp:$port:22" \
  --expect 'this-never-appears-on-the-console' > "$tmp/b.boot" 2>&1 &
boot_pid=$!
# wait returns the killed job's status (143): not a failure of the test.
stop_vm () { kill "$boot_pid" 2>/dev/null; wait "$boot_pid" 2>/dev/null || :; }
cleanup_fn stop_vm

i=0
until grep -q 'mkvmimg-debian login:' "$tmp/b.console" 2>/dev/null; do
  kill -0 "$boot_pid" 2>/dev/null || {
    cat "$tmp/b.boot"; tail -n 40 "$tmp/b.console"
    fail "the UEFI boot stopped"; }
  i=$((i + 1))
  [ $i -lt 540 ] || { tail -n 40 "$tmp/b.console"; fail "no login: under OVMF"; }
  sleep 1
done

ssh_out=
for try in $(seq 1 30); do
  if ssh_out=$(timeout 60 ssh -o StrictHostKeyChecking=no \
                 -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
                 -o ConnectTimeout=20 -i "$tmp/key" -p "$port" \
                 root@127.0.0.1 \
                 'uname -r; cat /etc/hostname; echo "ids $(cat /etc/machine-id) $(cut -d" " -f2 /etc/ssh/ssh_host_ed25519_key.pub)"' \
                 2> "$tmp/ssh.err"); then
    break
  fi
  ssh_out=
  sleep 5
done
stop_vm
[ -n "$ssh_out" ] || { cat "$tmp/ssh.err"; tail -n 40 "$tmp/b.console"; fail "ssh login failed"; }
echo "$ssh_out"
echo "$ssh_out" | sed -n 1p | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-amd64$' ||
  fail "uname -r over ssh"
[ "$(echo "$ssh_out" | sed -n 2p)" = mkvmimg-debian ] || fail "hostname over ssh"

# Each machine made its own identity at its first boot.
b_ids=$(echo "$ssh_out" | sed -n 3p)
a_mid=$(echo "$a_ids" | cut -d' ' -f3)
a_key=$(echo "$a_ids" | cut -d' ' -f4)
b_mid=$(echo "$b_ids" | cut -d' ' -f2)
b_key=$(echo "$b_ids" | cut -d' ' -f3)
[ -n "$a_mid" ] && [ -n "$b_mid" ] && [ -n "$a_key" ] && [ -n "$b_key" ] ||
  fail "identities not read: A '$a_ids', B '$b_ids'"
[ "$a_mid" != "$b_mid" ] || fail "both machines have machine ID $a_mid"
[ "$a_key" != "$b_key" ] || fail "both machines have the same SSH host key"
echo OK
