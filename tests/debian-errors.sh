#!/bin/sh
# Bad input for [rootfs] source = debootstrap: an unknown suite, an
# unreachable mirror, a package that does not exist, a failing [run]
# step, debootstrap without root, a build interrupted during the
# bootstrap.  Each fails with a clear message and
# leaves no output (and no cache entry).
. "$top_srcdir/tests/functions.sh"
requires mmdebstrap qemu-nbd

export XDG_CACHE_HOME="$tmp/cache"
cat > "$tmp/base.conf" <<EOS
[image]
format = raw
[rootfs]
source = debootstrap
variant = essential
[kernel]
package = none
image = host
[boot]
loader = none
EOS

build_fails ()
{
  msg=$1
  shift
  rm -f "$tmp/out.img"
  if $MKVMIMG build "$tmp/base.conf" -o "$tmp/out.img" "$@" \
       > "$tmp/out" 2> "$tmp/err"; then
    fail "build succeeded: $*"
  fi
  grep -qE "$msg" "$tmp/err" || { cat "$tmp/err"; fail "no '$msg' for: $*"; }
  [ ! -e "$tmp/out.img" ] || fail "output left behind: $*"
  ! ls "$tmp"/.out.img* >/dev/null 2>&1 || fail "temporary output left: $*"
}

build_fails "suite = no-such-suite: the mirror http://deb.debian.org/debian has no such suite" \
  --set rootfs.suite=no-such-suite
build_fails "mirror = http://127.0.0.1:9/debian: cannot fetch" \
  --set rootfs.mirror=http://127.0.0.1:9/debian
build_fails "suite: 'Bad Suite' is not a suite name" --set 'rootfs.suite=Bad Suite'
build_fails "include: '-x' is not a package name" --set 'rootfs.include=-x'
build_fails "security-mirror: 'not a url' is not a URL" \
  --set 'rootfs.security-mirror=not a url'

# A package that does not exist: apt says so, the build fails.
build_fails "no-such-package-mkvmimg|bootstrapping Debian bookworm failed" \
  --set rootfs.include=no-such-package-mkvmimg
grep -q 'no-such-package-mkvmimg' "$tmp/err" || fail "the package is not named"

# Interrupted during the bootstrap: mmdebstrap is given the time to
# unmount /proc, /sys and /dev from its chroot and to remove it (killed
# after 2 s, it used to leave them mounted).  TMPDIR puts its chroot
# where this test can see it.
mkdir "$tmp/tmpdir"
TMPDIR="$tmp/tmpdir" $MKVMIMG build "$tmp/base.conf" -o "$tmp/int.img" \
  > /dev/null 2> "$tmp/err" &
bg=$!
started=
for i in $(seq 1200); do
  if [ "$(id -u)" -eq 0 ]; then
    grep -q " $tmp/tmpdir/mmdebstrap\.[^/ ]*/proc " /proc/self/mountinfo \
      && started=yes
  else
    ls -d "$tmp/tmpdir"/mmdebstrap.* > /dev/null 2>&1 && started=yes
  fi
  [ -n "$started" ] && break
  kill -0 $bg 2>/dev/null || break
  sleep 0.1
done
[ -n "$started" ] || { cat "$tmp/err"; fail "mmdebstrap's chroot never appeared"; }
sleep 1
kill -TERM $bg
st=0
wait $bg || st=$?
cat "$tmp/err"
[ "$st" -eq 143 ] || fail "interrupted build: exit status $st, not 143"
if grep " $tmp/" /proc/self/mountinfo; then
  fail "mounts left behind"
fi
if ls -d "$tmp/tmpdir"/mmdebstrap.* 2>/dev/null; then
  fail "mmdebstrap's chroot left behind"
fi
[ ! -e "$tmp/int.img" ] || fail "output left by the interrupted build"
for env in /proc/[0-9]*/environ; do
  if grep -qs "TMPDIR=$tmp/tmpdir" "$env"; then
    fail "a process is left: $(tr '\0' ' ' < "${env%/environ}/cmdline")"
  fi
done

# A failing [run] step: its output is shown, the build fails.
cat >> "$tmp/base.conf" <<'EOS'
[run first]
command = echo first-step-ran
[run broken]
command = echo broken-step-output; exit 3
EOS
build_fails '\[run broken\] failed \(exit status 3\)'
grep -q 'first-step-ran' "$tmp/err" || fail "first step output not shown"
grep -q 'broken-step-output' "$tmp/err" || fail "failing step output not shown"

# Nothing was cached by the failures.
[ -z "$($MKVMIMG cache list)" ] || { $MKVMIMG cache list; fail "a failed build left a cache entry"; }

# debootstrap needs root: said clearly when not root.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  chmod 0755 "$tmp"
  chmod 0644 "$tmp/base.conf"
  if setpriv --reuid=nobody --regid=nogroup --clear-groups \
       env HOME="$tmp" XDG_CACHE_HOME="$tmp/nobody-cache" \
       $MKVMIMG build "$tmp/base.conf" -o "$tmp/nobody.img" \
       --set rootfs.bootstrap=debootstrap 2> "$tmp/err"; then
    fail "debootstrap as nobody succeeded"
  fi
  grep -q 'debootstrap needs root' "$tmp/err" || { cat "$tmp/err"; fail "no root message"; }
fi
echo OK
