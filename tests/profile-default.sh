#!/bin/sh
# The built-in default profile: "profile show default" prints
# profiles/default.conf, "profile check" accepts it, and checking it
# equals checking without a profile.  The example profiles are valid.
. "$top_srcdir/tests/functions.sh"

$MKVMIMG profile show default > "$tmp/default.conf"
cmp "$tmp/default.conf" "$top_srcdir/profiles/default.conf" ||
  fail "show default differs from profiles/default.conf"
$MKVMIMG profile show > "$tmp/default2.conf"
cmp "$tmp/default.conf" "$tmp/default2.conf" || fail "show without a name"

$MKVMIMG profile check "$tmp/default.conf" > "$tmp/checked"
$MKVMIMG profile check > "$tmp/builtin"
cmp "$tmp/checked" "$tmp/builtin" || fail "built-in differs from its text"
# Every section of the schema is printed (the content is the build's).
for s in image rootfs kernel boot machine; do
  grep -qxF "[$s]" "$tmp/builtin" || fail "default: [$s] not printed"
done

set +e
$MKVMIMG profile show nosuch >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "show nosuch: exit $rc, expected 2"
set +e
$MKVMIMG profile check a b >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "check with two profiles: exit $rc, expected 2"

# The examples.
for f in "$top_srcdir"/profiles/*.conf; do
  $MKVMIMG profile check "$f" > /dev/null || fail "$f"
done
$MKVMIMG profile check "$top_srcdir/profiles/hybrid.conf" > "$tmp/hybrid"
grep '^\[partition ' "$tmp/hybrid" > "$tmp/parts"
printf '%s\n' '[partition bios]' '[partition esp]' '[partition swap]' \
  '[partition root]' | cmp -s - "$tmp/parts" || fail "hybrid: partitions"
grep -qxF 'loader = hybrid' "$tmp/hybrid" || fail "hybrid: loader"
$MKVMIMG profile check "$top_srcdir/profiles/tarball-bios.conf" > "$tmp/bios"
grep -qxF 'loader = bios' "$tmp/bios" || fail "tarball-bios: loader"
grep -qxF 'source = tar:rootfs.tar.zst' "$tmp/bios" || fail "tarball-bios: source"
echo OK
