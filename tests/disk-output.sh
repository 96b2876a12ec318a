#!/bin/sh
# nbd_output_write: a sparse raw working file to qcow2 and raw through a
# socket-activated qemu-nbd, and to an NBD URI.  Checks: identical
# contents (qemu-img compare, cmp), sparse output, atomic final name,
# --force, errors that leave nothing behind (a URI that is unreachable
# or too small, a qemu-nbd killed in the middle, a SIGTERM), and no
# qemu-nbd left running.
. "$top_srcdir/tests/functions.sh"
requires qemu-img qemu-nbd nbdkit pgrep
T="$top_builddir/tests/test-disk"
MiB=1048576

no_qemu_nbd_left ()
{
  if pgrep -f "qemu-nbd.*$tmp" >/dev/null; then
    pgrep -af "qemu-nbd.*$tmp" >&2
    fail "a qemu-nbd is left behind"
  fi
}
server_pid=
stop_server ()
{
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    # Not our child (--fork): wait until it is gone.
    for i in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
  fi
  server_pid=
}
cleanup_fn stop_server

# ---- The working file: data at scattered offsets, holes, and an
# allocated range of zeros (which must not be written either).
w="$tmp/working.raw"
truncate -s 1G "$w"
data=0
for mib in 0 5 100 333 900; do
  head -c $((3 * MiB)) /dev/urandom | dd of="$w" bs=1M seek=$mib conv=notrunc status=none
  data=$((data + 3 * MiB))
done
printf 'x' | dd of="$w" bs=1 seek=$((700 * MiB + 12345)) conv=notrunc status=none
dd if=/dev/zero of="$w" bs=1M seek=500 count=64 conv=notrunc status=none
# The last byte of the disk, for the end of the copy.
printf 'E' | dd of="$w" bs=1 seek=$((1024 * MiB - 1)) conv=notrunc status=none
[ "$(du -k "$w" | cut -f1)" -ge $((64 * 1024)) ] || fail "zeros not allocated in the working file"

# ---- qcow2 ------------------------------------------------------------
$T -v output "$w" "$tmp/out.qcow2" qcow2 2>"$tmp/debug"
grep -q "libnbd: debug" "$tmp/debug" || fail "-v does not turn on libnbd debug"
grep -q "qemu-nbd is pid" "$tmp/debug" || fail "qemu-nbd pid not found"
qemu-img compare "$w" "$tmp/out.qcow2" || fail "qcow2 differs from the working file"
qemu-img check "$tmp/out.qcow2" || fail "qemu-img check"
qemu-img info --output=json "$tmp/out.qcow2" >"$tmp/info"
cat "$tmp/info"
grep -q '"format": "qcow2"' "$tmp/info" || fail "not qcow2"
grep -q '"virtual-size": 1073741824' "$tmp/info" || fail "virtual size"
actual=$(sed -n 's/.*"actual-size": \([0-9]*\).*/\1/p' "$tmp/info")
echo "data $data bytes, qcow2 actual size $actual bytes"
# Data, two 64 KiB clusters for the single bytes, metadata: nothing for
# the holes or the 64 MiB of zeros.
[ "$actual" -lt $((data + 2 * MiB)) ] || fail "qcow2 is not sparse: $actual bytes for $data of data"
[ "$(stat -c %a "$tmp/out.qcow2")" = "$(printf '%o' $((0644 & ~$(umask))))" ] \
  || fail "output mode $(stat -c %a "$tmp/out.qcow2")"
ls -a "$tmp" | grep -q mkvmimg- && fail "temporary file left beside the output"
no_qemu_nbd_left

# ---- qemu-nbd is started with malloc limits (without them it maps and
# faults in a fresh buffer for every request), after the user's own.
mkdir "$tmp/bin"
real_qemu_nbd=$(command -v qemu-nbd)
cat >"$tmp/bin/qemu-nbd" <<EOF
#!/bin/sh
printf '%s\n' "\$GLIBC_TUNABLES" >"$tmp/tunables"
exec "$real_qemu_nbd" "\$@"
EOF
chmod +x "$tmp/bin/qemu-nbd"
PATH="$tmp/bin:$PATH" GLIBC_TUNABLES=glibc.malloc.tcache_count=7 \
  $T output "$w" "$tmp/tuned.qcow2" qcow2
cat "$tmp/tunables"
grep -q '^glibc\.malloc\.tcache_count=7:.*glibc\.malloc\.mmap_threshold=' \
  "$tmp/tunables" || fail "qemu-nbd's malloc limits, after the user's"
qemu-img compare "$w" "$tmp/tuned.qcow2" || fail "tuned qcow2 differs"
rm -f "$tmp/tuned.qcow2"

# ---- raw --------------------------------------------------------------
$T output "$w" "$tmp/out.raw" raw
cmp "$w" "$tmp/out.raw" || fail "raw output differs"
used=$(($(du -k "$tmp/out.raw" | cut -f1) * 1024))
echo "raw output uses $used bytes"
[ "$used" -lt $((data + 2 * MiB)) ] || fail "raw output is not sparse: $used bytes"

# ---- An existing output: refused and untouched without --force.
echo precious >"$tmp/exists.qcow2"
expect_fail $T output "$w" "$tmp/exists.qcow2" qcow2 2>"$tmp/err"
grep -q "exists" "$tmp/err" || fail "message for an existing output"
[ "$(cat "$tmp/exists.qcow2")" = precious ] || fail "existing output was changed"
$T output "$w" "$tmp/exists.qcow2" qcow2 --force
qemu-img compare "$w" "$tmp/exists.qcow2" || fail "--force output differs"
expect_fail $T output "$w" "$tmp/fmt.img" vmdk 2>"$tmp/err"
[ ! -e "$tmp/fmt.img" ] || fail "output left for an unknown format"

# ---- An NBD URI: a target full of old data, larger than the disk.
target="$tmp/target.raw"
head -c $((64 * MiB)) /dev/urandom >"$target"
dd if=/dev/urandom of="$target" bs=1M seek=500 count=8 conv=notrunc status=none
printf 'KEEP' | dd of="$target" bs=1 seek=$((1024 * MiB + 4096)) conv=notrunc status=none
truncate -s 1200M "$target"
sock="$tmp/nbd.sock"
# --fork: qemu-nbd returns once it is listening.
qemu-nbd -f raw --discard=unmap -k "$sock" -t --fork --pid-file "$tmp/server.pid" "$target"
server_pid=$(cat "$tmp/server.pid")
$T output "$w" "nbd+unix:///?socket=$sock" raw
stop_server
cmp -n $((1024 * MiB)) "$w" "$target" || fail "NBD export differs from the working file"
[ "$(dd if="$target" bs=1 skip=$((1024 * MiB + 4096)) count=4 status=none)" = KEEP ] \
  || fail "bytes past the disk were changed"
# Old data was zeroed by zero requests that may punch holes (the server
# runs with --discard=unmap), not by writing zeros.
used=$(($(du -k "$target" | cut -f1) * 1024))
echo "NBD target uses $used bytes"
[ "$used" -lt $((data + 2 * MiB)) ] || fail "target holes were written: $used bytes"

# An export smaller than the disk.
truncate -s 512M "$tmp/small.raw"
rm -f "$tmp/server.pid"
qemu-nbd -f raw -k "$sock" -t --fork --pid-file "$tmp/server.pid" "$tmp/small.raw"
server_pid=$(cat "$tmp/server.pid")
expect_fail $T output "$w" "nbd+unix:///?socket=$sock" raw 2>"$tmp/err"
cat "$tmp/err"
grep -q "smaller than the 1073741824-byte disk" "$tmp/err" || fail "too-small export message"
stop_server

# An unreachable URI: a clear error, nothing created.
expect_fail $T output "$w" "nbd+unix:///?socket=$tmp/nonexistent" raw 2>"$tmp/err"
cat "$tmp/err"
grep -q "nbd+unix:///?socket=$tmp/nonexistent: .*No such file" "$tmp/err" \
  || fail "unreachable URI message"
[ ! -e "$tmp/nonexistent" ] || fail "something created for an unreachable URI"
no_qemu_nbd_left

# ---- Servers with fewer features (nbdkit filters): zeroing falls back
# from fast zero to plain zero requests, or to writing zero buffers when
# the server has no write-zeroes at all; a write error from the server
# fails the whole copy.
export T w
for mode in "zeromode=plugin fastzeromode=slow" "zeromode=none"; do
  cp --sparse=always "$target.orig" "$target" 2>/dev/null || {
    head -c $((64 * MiB)) /dev/urandom >"$target.orig"
    truncate -s 1G "$target.orig"
    cp --sparse=always "$target.orig" "$target"
  }
  # shellcheck disable=SC2086
  nbdkit -U - --filter=nozero file "$target" $mode \
    --run '"$T" -v output "$w" "$uri" raw' 2>"$tmp/nbdkit.log" \
    || { grep -a -v "libnbd: debug" "$tmp/nbdkit.log" | tail; fail "nbdkit $mode"; }
  cmp "$w" "$target" || fail "nbdkit $mode: export differs"
  case $mode in
    *fastzeromode=slow*)
      grep -aq "no fast zero, using plain zero requests" "$tmp/nbdkit.log" \
        || fail "no fallback from fast zero" ;;
  esac
done
cp --sparse=always "$target.orig" "$target"
set +e
nbdkit -U - --filter=error file "$target" error-pwrite-rate=1 error-pwrite=EIO \
  --run '"$T" output "$w" "$uri" raw' 2>"$tmp/err"
rc=$?
set -e
cat "$tmp/err"
[ $rc -ne 0 ] || fail "a server write error was not reported"
grep -q "test-disk: nbd+unix:.*: write at offset [0-9]*: Input/output error" "$tmp/err" \
  || fail "message for a server write error"
rm -f "$target" "$target.orig"

# ---- qemu-nbd killed half-way through a large write: failure, and no
# output under either name.
big="$tmp/big.raw"
yes 0123456789abcdef | head -c $((600 * MiB)) >"$big"
truncate -s 2G "$big"

# Wait until qemu-nbd serves the temporary file for output $1 and the
# copy is under way (the temporary qcow2 holds more than 32 MiB), so that
# what follows hits the middle of the write on a slow or a fast machine.
wait_for_copy ()
{
  for i in $(seq 1000); do
    pid=$(pgrep -f "qemu-nbd.*$tmp/\.$1" || true)
    size=$(stat -c %s "$tmp"/."$1".mkvmimg-* 2>/dev/null || echo 0)
    [ -n "$pid" ] && [ "$size" -gt $((32 * MiB)) ] && return 0
    sleep 0.02
  done
  fail "the copy to $1 did not start"
}

$T output "$big" "$tmp/killed.qcow2" qcow2 2>"$tmp/err" &
writer=$!
wait_for_copy killed.qcow2
[ ! -e "$tmp/killed.qcow2" ] || fail "final name exists before the image is complete"
ls -a "$tmp" | grep -q '^\.killed\.qcow2\.mkvmimg-' || fail "no temporary output while writing"
kill -KILL "$pid"
set +e
wait "$writer"
rc=$?
set -e
cat "$tmp/err"
[ "$rc" -ne 0 ] || fail "writing succeeded although qemu-nbd was killed"
[ "$rc" -eq 1 ] || fail "exit status $rc, expected 1"
[ -s "$tmp/err" ] || fail "no error message"
[ ! -e "$tmp/killed.qcow2" ] || fail "output exists after a failure"
ls -a "$tmp" | grep -q 'killed.*mkvmimg-' && fail "temporary output left after a failure"
no_qemu_nbd_left

# mkvmimg itself terminated: qemu-nbd is killed, the temporary removed.
$T output "$big" "$tmp/term.qcow2" qcow2 &
writer=$!
wait_for_copy term.qcow2
kill -TERM "$writer"
set +e
wait "$writer"
set -e
sleep 0.2
[ ! -e "$tmp/term.qcow2" ] || fail "output exists after SIGTERM"
ls -a "$tmp" | grep -q 'term.*mkvmimg-' && fail "temporary output left after SIGTERM"
no_qemu_nbd_left
echo OK
