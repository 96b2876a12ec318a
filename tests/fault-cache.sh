#!/bin/sh
# The Debian base cache when things go wrong, without a network: a
# stand-in mmdebstrap writes a small root tarball.  What debian-cache.sh
# does not cover:
#  - an entry whose sidecar is garbage, or missing (a build killed
#    between the two renames): not used, bootstrapped again, and valid;
#  - a bootstrap that fails half-way, or is interrupted (SIGTERM, and
#    SIGINT to the whole job): no entry, no temporary file in the cache,
#    no bootstrap process left;
#  - a bootstrap that claims success but wrote a tarball cut short: not
#    cached, no image; an entry cut short whose sidecar matches: the
#    build fails with an error naming the entry, and makes no image.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires qemu-nbd qemu-img sha256sum setsid pgrep

# The root the stand-in "bootstraps": a few files, in a fixed order.
mkdir -p "$tmp/base/etc" "$tmp/base/usr/bin"
echo base > "$tmp/base/etc/debian_version"
head -c 1M /dev/urandom > "$tmp/base/usr/bin/tool"
echo last > "$tmp/base/etc/zz-last"
(cd "$tmp/base" &&
  printf '%s\n' . etc etc/debian_version usr usr/bin usr/bin/tool etc/zz-last |
  tar --owner=0 --group=0 --no-recursion -cf "$tmp/base.tar" -T -)
# Cut between usr/bin/tool and etc/zz-last.
block=$(tar -R -tf "$tmp/base.tar" |
  sed -n 's|^block \([0-9]*\): \(\./\)\{0,1\}etc/zz-last$|\1|p')
[ -n "$block" ] || fail "no block number for etc/zz-last"
head -c $((block * 512)) "$tmp/base.tar" > "$tmp/cut.tar"

mkdir -p "$tmp/bin"
cat > "$tmp/bin/mmdebstrap" <<EOS
#!/bin/sh
# Stand-in for mmdebstrap: the tarball on stdout, as --format=tar - does.
# FAKE_MMDEBSTRAP: ok, fail (half, then exit 1), short (half, exit 0),
# hold (half, then wait, with a worker process); slowclean (as hold, but
# SIGTERM makes it take 3 s to remove its "chroot", as mmdebstrap
# unmounts and removes its own).
if [ "\$1" = --version ]; then echo "mmdebstrap 1.3.5 (test stand-in)"; exit 0; fi
echo run >> "$tmp/bootstraps"
case "\${FAKE_MMDEBSTRAP:-ok}" in
  ok) cat "$tmp/base.tar" ;;
  fail) head -c 4096 "$tmp/base.tar"; echo "E: stand-in failure" >&2; exit 1 ;;
  short) cat "$tmp/cut.tar" ;;
  hold) head -c 4096 "$tmp/base.tar"
        # A worker of its own, as mmdebstrap has: killed with its group.
        sleep 300 &
        echo \$\$ > "$tmp/held"
        read go < "$tmp/go" ;;
  slowclean) head -c 4096 "$tmp/base.tar"
        mkdir "\$TMPDIR/mmdebstrap.chroot"
        trap 'sleep 3; rmdir "\$TMPDIR/mmdebstrap.chroot"; exit 1' TERM
        echo \$\$ > "$tmp/held"
        while :; do sleep 0.1; done ;;
esac
EOS
chmod 0755 "$tmp/bin/mmdebstrap"
mkfifo "$tmp/go"
PATH="$tmp/bin:$PATH"
export PATH

export XDG_CACHE_HOME="$tmp/cache"
cache=$tmp/cache/mkvmimg
mkdir -p "$tmp/out" "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR
cat > "$tmp/p.conf" <<EOS
[rootfs]
source = debootstrap
bootstrap = mmdebstrap
mirror = file:///nonexistent/debian
variant = essential
updates = no
[kernel]
package = none
image = host
[boot]
loader = none
EOS

bootstraps ()
{
  if [ -e "$tmp/bootstraps" ]; then wc -l < "$tmp/bootstraps"; else echo 0; fi
}
build_ok ()
{
  rm -f "$tmp/out"/*
  $MKVMIMG build "$tmp/p.conf" -o "$tmp/out/disk.img" 2> "$tmp/log" ||
    { cat "$tmp/log"; fail "$1: the build failed"; }
}
entry_valid ()
{
  tars=$(ls "$cache"/*.tar)
  [ "$(echo "$tars" | wc -l)" -eq 1 ] || fail "$1: one entry expected: $tars"
  (cd "$cache" && sha256sum -c --quiet "$(basename "$tars").sha256") ||
    fail "$1: the entry does not match its sidecar"
  cmp "$tars" "$tmp/base.tar" || fail "$1: the entry is not the bootstrapped tarball"
}
# No entry (its tarball or sidecars) and no temporary file in the cache
# (other files, such as a memo of the tool's version, may stay).
no_entry ()
{
  if ls -A "$cache" | grep -q -e '^\.' -e '\.tar' -e '\.info$'; then
    ls -la "$cache"
    fail "$1: an entry or a temporary file left in the cache"
  fi
}
no_stale ()
{
  if ls -A "$cache" | grep -q '^\.'; then
    ls -la "$cache"
    fail "$1: temporary file left in the cache"
  fi
  assert_empty_dir "$tmp/t" "$1 (TMPDIR)"
  assert_no_procs "$1"
}

build_ok "first build"
[ "$(bootstraps)" -eq 1 ] || fail "first build: one bootstrap expected"
entry_valid "first build"
tar=$(ls "$cache"/*.tar)

# A garbage sidecar.
echo "not a checksum" > "$tar.sha256"
build_ok "garbage sidecar"
grep -q 'no valid checksum' "$tmp/log" ||
  { cat "$tmp/log"; fail "garbage sidecar not reported"; }
[ "$(bootstraps)" -eq 2 ] || fail "garbage sidecar: the entry was used"
entry_valid "garbage sidecar"

# No sidecar.
rm "$tar.sha256"
build_ok "missing sidecar"
[ "$(bootstraps)" -eq 3 ] || fail "missing sidecar: the entry was used"
entry_valid "missing sidecar"
no_stale "missing sidecar"
echo "ok: entries with a garbage or missing sidecar are bootstrapped again"

# A bootstrap that fails half-way: no entry, no image.
$MKVMIMG cache clean -q
rm -f "$tmp/out"/*
FAKE_MMDEBSTRAP=fail expect_fail $MKVMIMG build "$tmp/p.conf" \
  -o "$tmp/out/disk.img" 2> "$tmp/log"
grep -q 'bootstrapping Debian .* failed' "$tmp/log" ||
  { cat "$tmp/log"; fail "no bootstrap failure message"; }
no_entry "failed bootstrap"
assert_empty_dir "$tmp/out" "failed bootstrap"
no_stale "failed bootstrap"
echo "ok: a failed bootstrap leaves nothing"

# Interrupted while bootstrapping.
for sig in TERM INT; do
  rm -f "$tmp/held"
  start_bg env FAKE_MMDEBSTRAP=hold $MKVMIMG build "$tmp/p.conf" \
    -o "$tmp/out/disk.img"
  wait_for_file "$tmp/held"
  case $sig in
    INT) kill -INT -"$bg_pid"; want=130 ;;
    TERM) kill -TERM "$bg_pid"; want=143 ;;
  esac
  bg_finish
  [ "$bg_rc" -eq "$want" ] || {
    cat "$tmp/bg.log"
    fail "SIG$sig while bootstrapping: exit $bg_rc, expected $want"
  }
  no_entry "SIG$sig while bootstrapping"
  assert_empty_dir "$tmp/out" "SIG$sig while bootstrapping"
  no_stale "SIG$sig while bootstrapping"
  echo "ok: SIG$sig while bootstrapping leaves nothing"
done

# A bootstrap that needs more than the usual 2 s after SIGTERM to clean
# up (mmdebstrap unmounting and removing a large chroot) gets that time,
# and mkvmimg says why it waits.
start_bg env FAKE_MMDEBSTRAP=slowclean $MKVMIMG build "$tmp/p.conf" \
  -o "$tmp/out/disk.img"
wait_for_file "$tmp/held"
[ -d "$tmp/t/mmdebstrap.chroot" ] || fail "slow cleanup: no chroot made"
kill -TERM "$bg_pid"
bg_finish
[ "$bg_rc" -eq 143 ] || { cat "$tmp/bg.log"; fail "slow cleanup: exit $bg_rc"; }
grep -q '^mkvmimg: waiting for mmdebstrap to clean up$' "$tmp/bg.log" ||
  { cat "$tmp/bg.log"; fail "slow cleanup: no message while waiting"; }
[ ! -e "$tmp/t/mmdebstrap.chroot" ] ||
  fail "slow cleanup: killed before it removed its chroot"
no_entry "slow cleanup"
assert_empty_dir "$tmp/out" "slow cleanup"
no_stale "slow cleanup"
echo "ok: a bootstrapper gets the time to clean up after SIGTERM"

# A bootstrap that exits 0 with a tarball cut short between two entries:
# no image without the rest of the root, and no entry that would fail
# every later build.
rm -f "$tmp/out"/*
FAKE_MMDEBSTRAP=short expect_fail $MKVMIMG build "$tmp/p.conf" \
  -o "$tmp/out/disk.img" 2> "$tmp/log"
grep -q "^mkvmimg: $cache/.*cut short" "$tmp/log" ||
  { cat "$tmp/log"; fail "cut-short bootstrap: no error naming the cache entry"; }
assert_empty_dir "$tmp/out" "cut-short bootstrap"
no_entry "cut-short bootstrap"
no_stale "cut-short bootstrap"
echo "ok: a cut-short bootstrap is not cached: $(grep -m 1 'cut short' "$tmp/log")"

# An entry cut short whose sidecar matches (written so by hand).
$MKVMIMG cache clean -q
build_ok "rebuild"
tar=$(ls "$cache"/*.tar)
cp "$tmp/cut.tar" "$tar"
(cd "$cache" && sha256sum "$(basename "$tar")" > "$(basename "$tar").sha256")
rm -f "$tmp/out"/*
expect_fail $MKVMIMG build "$tmp/p.conf" -o "$tmp/out/disk.img" 2> "$tmp/log"
grep -q "^mkvmimg: $tar: .*truncated" "$tmp/log" ||
  { cat "$tmp/log"; fail "cut-short entry: no error naming it"; }
assert_empty_dir "$tmp/out" "cut-short entry"
no_stale "cut-short entry"
echo "ok: a cut-short entry makes no image"
echo OK
