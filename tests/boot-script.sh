#!/bin/sh
# mkvmimg boot with a console script and port forwards: a busybox
# initramfs whose /init answers each line it reads, uppercased, and
# serves HTTP on port 80.  --expect/--send/--send-file run in order;
# --send-file's content is never logged; --forward reaches the guest's
# port 80 from 127.0.0.1; an --expect for text printed before the
# previous match does not match; a script ending with --send waits for
# qemu to exit; a busy forward port is refused.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 cpio gzip pgrep modinfo
. "$top_srcdir/tests/net-lib.sh"

mkdir -p "$tmp/vm/root/www/cgi-bin"
echo "served over the forward" > "$tmp/vm/root/www/page.txt"
cat > "$tmp/vm/root/www/cgi-bin/done" <<'EOS'
#!/bin/sh
echo PAGE-FETCHED-BY-HOST > /dev/console
printf 'Content-Type: text/plain\r\n\r\nthanks\n'
EOS
chmod 755 "$tmp/vm/root/www/cgi-bin/done"
net_initramfs "$tmp/vm" '
stty -echo
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
httpd -p 80 -h /www
echo "READY-FOR-INPUT"
while read -r line; do
  case $line in
    quit) echo "BYE"; poweroff -f ;;
  esac
  echo "GOT:$(echo "$line" | tr a-z A-Z)"
done'
net_machine "$tmp/vm.machine" "$tmp/vm/initrd.gz" 'nic = virtio'

# A free port for the forward (the test may run beside others).
port=$(( 20000 + $$ % 20000 ))

printf 's3cr3t-pw\n' > "$tmp/password"
chmod 600 "$tmp/password"

# (a) In order: expect, send, expect the transformed echo, send the
# file, expect its transformation; meanwhile the host fetches a page
# through the forward, then a CGI script that says so on the console.
(
  # Once the guest's httpd runs (READY on the console), fetch the page.
  for i in $(seq 1 240); do
    grep -q READY-FOR-INPUT "$tmp/a.console" 2>/dev/null && break
    sleep 1
  done
  for i in 1 2 3 4 5; do
    if timeout 30 busybox wget -q -O "$tmp/page" "http://127.0.0.1:$port/page.txt"; then
      # Tell the guest, which says so on the console.
      timeout 30 busybox wget -q -O /dev/null "http://127.0.0.1:$port/cgi-bin/done" || true
      break
    fi
    sleep 1
  done
) &
fetcher=$!
_kill_fetcher ()
{
  kill $fetcher 2>/dev/null
}
cleanup_fn _kill_fetcher
rc=0
timeout 300 $MKVMIMG -v boot "$tmp/vm.machine" --timeout 240 \
  --forward "tcp:$port:80" \
  --expect 'READY-FOR-INPUT' --send 'hello\tworld\n' \
  --expect '^GOT:HELLO	WORLD$' --send-file "$tmp/password" \
  --expect 'GOT:S3CR3T-PW' --expect '^PAGE-FETCHED-BY-HOST' \
  --console "$tmp/a.console" > "$tmp/a.out" 2> "$tmp/a.err" || rc=$?
cat "$tmp/a.err"
[ $rc -eq 0 ] || fail "(a) script: exit $rc, expected 0"
grep -q "found 'READY-FOR-INPUT' on the console" "$tmp/a.err" || fail "(a) first expect"
grep -q "found '^GOT:HELLO	WORLD\$' on the console" "$tmp/a.err" || fail "(a) second expect"
grep -q "found 'GOT:S3CR3T-PW' on the console" "$tmp/a.err" || fail "(a) last expect"
grep -q "sending 'hello	world" "$tmp/a.err" || fail "(a) -v does not show --send"
if grep -q 's3cr3t-pw' "$tmp/a.err" "$tmp/a.out" "$tmp/a.console"; then
  fail "(a) the --send-file content was logged"
fi
grep -q "hostfwd=tcp:127.0.0.1:$port-:80" "$tmp/a.err" || fail "(a) -v argv lacks the forward"
kill $fetcher 2>/dev/null || true
[ "$(cat "$tmp/page" 2>/dev/null)" = "served over the forward" ] ||
  fail "(a) the forward to the guest's port 80 did not answer"
no_qemu_left "(a)"
echo "(a) script and forward OK"

# (b) An --expect only matches after the previous match: READY was
# printed before GOT:X, so waiting for it again fails when the guest
# powers off.  The error names that --expect.
rc=0
timeout 300 $MKVMIMG boot "$tmp/vm.machine" --timeout 240 \
  --expect 'READY-FOR-INPUT' --send 'x\n' --expect 'GOT:X' \
  --send 'quit\n' --expect 'READY-FOR-INPUT' \
  > "$tmp/b.out" 2> "$tmp/b.err" || rc=$?
cat "$tmp/b.err"
[ $rc -eq 1 ] || fail "(b) exit $rc, expected 1"
grep -q "^mkvmimg: qemu exited (with status 0) before 'READY-FOR-INPUT' appeared on the console$" \
  "$tmp/b.err" || fail "(b) message"
grep -q '^BYE' "$tmp/b.out" || fail "(b) the guest did not read quit"
no_qemu_left "(b)"

# (c) A script ending with --send: then qemu's exit decides (0 here).
rc=0
timeout 300 $MKVMIMG -q boot "$tmp/vm.machine" --timeout 240 \
  --expect 'READY-FOR-INPUT' --send 'quit\r' \
  > "$tmp/c.out" 2> "$tmp/c.err" || rc=$?
cat "$tmp/c.err"
[ $rc -eq 0 ] || fail "(c) exit $rc, expected 0"
no_qemu_left "(c)"

# (d) Refusals before qemu starts: a busy port, a bad forward, a bad
# escape, a missing --send-file.
busybox nc -l -p "$port" > /dev/null 2>&1 &
listener=$!
sleep 1
rc=0
$MKVMIMG boot "$tmp/vm.machine" --forward "tcp:$port:22" --expect x \
  2> "$tmp/d.err" || rc=$?
kill $listener 2>/dev/null || true
[ $rc -eq 1 ] || fail "(d) busy port: exit $rc"
grep -q "^mkvmimg: forward tcp:$port:22: port $port on 127.0.0.1 is already in use" \
  "$tmp/d.err" || { cat "$tmp/d.err"; fail "(d) busy port message"; }
rc=0
$MKVMIMG boot "$tmp/vm.machine" --forward "tcp:22" 2> "$tmp/d.err" || rc=$?
[ $rc -eq 1 ] && grep -q 'expected tcp:HOSTPORT:GUESTPORT' "$tmp/d.err" ||
  fail "(d) bad forward"
rc=0
$MKVMIMG boot "$tmp/vm.machine" --send 'a\q' 2> "$tmp/d.err" || rc=$?
[ $rc -eq 2 ] || fail "(d) bad escape: exit $rc, expected 2"
rc=0
$MKVMIMG boot "$tmp/vm.machine" --send-file "$tmp/nonexistent" 2> "$tmp/d.err" || rc=$?
[ $rc -eq 1 ] && grep -q nonexistent "$tmp/d.err" || fail "(d) missing --send-file"
no_qemu_left "(d)"
echo OK
