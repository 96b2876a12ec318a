#!/bin/sh
# Many tiny files (100000 in CI; HOSTILE_MANY_FILES=1000000 by hand):
# the build works with memory bounded by the number of entries, not by
# their data, and every file is in the image.  Prints the wall time and
# the peak RSS (GNU time) of mkvmimg and its children.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd e2fsck debugfs
[ -x /usr/bin/time ] || { echo "SKIP: GNU time is not installed (run setup.sh)" >&2; exit 77; }

n=${HOSTILE_MANY_FILES:-100000}
mkdir "$tmp/wd"
TMPDIR=$tmp/wd
export TMPDIR

$top_builddir/tests/make-test-archive --compress zstd "tiny:$n" "$tmp/many.tar.zst"
cat > "$tmp/many.conf" <<EOS
[image]
format = raw
[rootfs]
source = tar:$tmp/many.tar.zst
[kernel]
image = host
[boot]
loader = none
EOS
# An AddressSanitizer build keeps freed memory in a quarantine (256 MiB
# by default) and shadows the heap: no quarantine, and room for the
# shadow and redzones (the limit below is tripled).
sanitized=false
if ldd "$MKVMIMG" 2>/dev/null | grep -q libasan; then
  sanitized=true
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
  export ASAN_OPTIONS
fi
set +e
/usr/bin/time -f '%e %M' -o "$tmp/time" \
  timeout 3000 $MKVMIMG -q build "$tmp/many.conf" -o "$tmp/many.img" 2> "$tmp/err"
rc=$?
set -e
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "build of $n files: exit status $rc"; }
read -r secs kb < "$tmp/time"
echo "$n files: ${secs}s wall, peak RSS $((kb / 1024)) MiB"
# The path table costs about 100 bytes a file; the data (4 KiB a file
# in the image) must not be held.
limit=$((64 * 1024 + n / 1024 * 200))
if $sanitized; then limit=$((limit * 3)); fi
[ "$kb" -le "$limit" ] || fail "$n files: peak RSS $kb KiB, more than $limit KiB"
[ -z "$(ls -A "$tmp/wd")" ] || fail "working files left: $(ls -A "$tmp/wd")"

root="$tmp/many.img?offset=$(( $(partition_start "$tmp/many.img" root) * 512 ))"
e2fsck -fn "$root" > "$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "e2fsck"; }
used=$(sed -n 's/^root: \([0-9]*\)\/.*/\1/p' "$tmp/fsck")
[ "$used" -ge "$n" ] || { cat "$tmp/fsck"; fail "$used inodes in use for $n files"; }
last=$((n - 1))
f=$(printf '/t%04d/f%03d' $((last / 1000)) $((last % 1000)))
[ "$(debugfs -R "cat $f" "$root" 2>/dev/null)" = "$last" ] || fail "$f"
[ "$(debugfs -R 'cat /t0000/f000' "$root" 2>/dev/null)" = 0 ] || fail "/t0000/f000"
echo OK
