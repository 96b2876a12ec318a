#!/bin/sh
# The base cache: a first build bootstraps and caches (sha256 sidecar
# checked with sha256sum -c), a second one reads the cache without
# hashing it again (its stamp) and makes the same image; a corrupt entry
# is detected and bootstrapped again (the image is still the same:
# mmdebstrap with SOURCE_DATE_EPOCH is reproducible); cache list /
# clean; --no-cache writes no entry.
. "$top_srcdir/tests/functions.sh"
requires mmdebstrap qemu-nbd sha256sum

export XDG_CACHE_HOME="$tmp/cache"
export SOURCE_DATE_EPOCH=1700000000
cat > "$tmp/base.conf" <<EOS
[image]
format = raw
seed = cache-test
[rootfs]
source = debootstrap
variant = essential
[kernel]
package = none
image = host
[boot]
loader = none
[system]
hostname = cachetest
EOS
cache=$tmp/cache/mkvmimg

$MKVMIMG build "$tmp/base.conf" -o "$tmp/1.img" 2> "$tmp/1.log"
grep -q 'bootstrapping Debian bookworm' "$tmp/1.log" || { cat "$tmp/1.log"; fail "no bootstrap"; }
grep -q 'cached the base' "$tmp/1.log" || fail "not cached"
$MKVMIMG cache list > "$tmp/list"
cat "$tmp/list"
[ "$(wc -l < "$tmp/list")" -eq 1 ] || fail "cache list: one entry expected"
grep -q ' bookworm essential amd64 http://deb.debian.org/debian ' "$tmp/list" ||
  fail "cache list description"
key=$(cut -d' ' -f1 "$tmp/list")
tar=$(ls "$cache"/"$key"*.tar)
(cd "$cache" && sha256sum -c --quiet "$(basename "$tar").sha256") ||
  fail "the sidecar does not match"
tar tf "$tar" | grep -q '^\./etc/passwd$' || fail "cached base is not a root tarball"

# Warm: no bootstrap, the same image.
$MKVMIMG build "$tmp/base.conf" -o "$tmp/2.img" 2> "$tmp/2.log"
grep -q 'using the cached base' "$tmp/2.log" || { cat "$tmp/2.log"; fail "cache not used"; }
grep -q 'bootstrapping' "$tmp/2.log" && fail "bootstrapped again"
# The stamp written with the entry spares the warm build a pass over it.
[ -f "$tar.stamp" ] || fail "no stamp beside the entry"
grep -q 'verifying the cached base' "$tmp/2.log" &&
  fail "the warm build hashed the unchanged entry again"
cmp "$tmp/1.img" "$tmp/2.img" || fail "the image from the cache differs"

# Corrupt the entry: it is not used, it is rebuilt.
printf 'X' | dd of="$tar" bs=1 seek=1000 conv=notrunc status=none
$MKVMIMG build "$tmp/base.conf" -o "$tmp/3.img" 2> "$tmp/3.log"
grep -q 'is corrupt' "$tmp/3.log" || { cat "$tmp/3.log"; fail "corruption not detected"; }
grep -q 'bootstrapping Debian bookworm' "$tmp/3.log" || fail "corrupt entry not rebuilt"
(cd "$cache" && sha256sum -c --quiet "$(basename "$tar").sha256") ||
  fail "the rebuilt entry does not match its sidecar"
cmp "$tmp/1.img" "$tmp/3.img" || fail "two bootstraps gave different images"

# An entry without its sidecar (a build killed between the renames) is
# listed, and removed by clean.
rm "$tar.sha256"
$MKVMIMG cache list | grep -q "$key" || fail "entry without sidecar not listed"

# clean
$MKVMIMG cache clean
[ -z "$($MKVMIMG cache list)" ] || fail "cache clean left entries"
[ -z "$(ls -A "$cache")" ] || { ls -la "$cache"; fail "files left in the cache"; }

# --no-cache: bootstraps once (the build reads the base twice), writes
# no entry, same image.
$MKVMIMG build "$tmp/base.conf" -o "$tmp/4.img" --no-cache 2> "$tmp/4.log"
[ "$(grep -c 'bootstrapping Debian bookworm' "$tmp/4.log")" -eq 1 ] ||
  { cat "$tmp/4.log"; fail "--no-cache: one bootstrap expected"; }
[ -z "$($MKVMIMG cache list)" ] || fail "--no-cache wrote an entry"
cmp "$tmp/1.img" "$tmp/4.img" || fail "--no-cache image differs"

# Usage errors.
expect_fail $MKVMIMG cache clean zz 2> "$tmp/err"
grep -q 'no such entry' "$tmp/err" || fail "cache clean with an unknown key"
set +e
$MKVMIMG cache frob 2>/dev/null
rc=$?
set -e
[ $rc -eq 2 ] || fail "cache frob: exit $rc, expected 2"
echo OK
