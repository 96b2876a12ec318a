#!/bin/sh
# "profile check" prints a profile that reads back to the same resolved
# profile: for the built-in default, every example, and a profile full
# of quotes, lists, named sections and --set overrides.
. "$top_srcdir/tests/functions.sh"

cat > "$tmp/odd.conf" <<'P'
[image]
seed = "  spaces, a # and \"quotes\" \\ "
output = "odd#name.qcow2"
margin = 512M
[rootfs]
source = "dir:/srv/root fs"
[partition bios]
size = 1M
[partition esp]
size = 100M
label = ""
[partition my data]
size = 1G
mount = /srv/my data
bootable = yes
[partition root]
[device edu0]
type = edu
props = a=1, b=2  c=3
[kernel]
cmdline = "root=LABEL=root console=ttyS0,115200 quiet"
P

# roundtrip NAME ARGS...: check ARGS > 1; check 1 > 2; check - < 2 > 3;
# all equal, and the JSON of 1 and of 2 equal too.
roundtrip ()
{
  name=$1
  shift
  $MKVMIMG profile check "$@" > "$tmp/$name.1" || fail "$name: check"
  $MKVMIMG profile check "$tmp/$name.1" > "$tmp/$name.2" ||
    fail "$name: output does not read back"
  $MKVMIMG profile check - < "$tmp/$name.2" > "$tmp/$name.3" ||
    fail "$name: standard input"
  cmp "$tmp/$name.1" "$tmp/$name.2" || fail "$name: differs after reading back"
  cmp "$tmp/$name.1" "$tmp/$name.3" || fail "$name: differs from stdin"
  $MKVMIMG profile check --json "$@" > "$tmp/$name.j1"
  $MKVMIMG profile check --json "$tmp/$name.1" > "$tmp/$name.j2"
  cmp "$tmp/$name.j1" "$tmp/$name.j2" || fail "$name: JSON differs"
  # Every schema key is printed, as a value or an unset comment, in
  # every section printed.
  sections=$(grep -c '^\[' "$tmp/$name.1")
  keys=$(grep -c -e '^[a-z-]* = ' -e '^# [a-z-]* = (unset)$' "$tmp/$name.1")
  [ "$keys" -gt "$sections" ] || fail "$name: too few keys"
}

roundtrip default
for f in "$top_srcdir"/profiles/*.conf; do
  roundtrip "$(basename "$f" .conf)" "$f"
done
roundtrip odd "$tmp/odd.conf"
roundtrip set "$tmp/odd.conf" --set partition.root.size=3G \
  --set 'partition.new one.type=swap' \
  --set image.seed= --set 'kernel.cmdline=a  b'

# The odd one's values survived.
grep -qxF 'seed = "  spaces, a # and \"quotes\" \\ "' "$tmp/odd.1" ||
  fail "seed printed"
grep -qxF '[partition my data]' "$tmp/odd.1" || fail "name with a space"
grep -qxF 'mount = /srv/my data' "$tmp/odd.1" || fail "path with a space"
grep -qxF 'seed = ""' "$tmp/set.1" || fail "empty --set value"
grep -qxF 'cmdline = a  b' "$tmp/set.1" || fail "inner spaces kept"
[ "$(grep -c '^\[' "$tmp/odd.1")" -eq 11 ] || fail "odd: 11 sections"

# Each key of the schema appears once per section in the output.
$MKVMIMG profile keys | awk '{ split($1, a, "."); print a[1], a[2] }' |
  sort > "$tmp/schema"
awk '/^\[/ { sec = substr($1, 2); sub(/\]$/, "", sec); next }
     /^# [a-z-]* = \(unset\)$/ { print sec, $2; next }
     / = / { print sec, $1 }' "$tmp/default.1" | sort -u > "$tmp/printed"
comm -23 "$tmp/printed" "$tmp/schema" | grep . && fail "printed keys not in the schema"
for s in image rootfs kernel boot machine; do
  grep "^$s " "$tmp/schema" > "$tmp/want"
  grep "^$s " "$tmp/printed" | cmp -s - "$tmp/want" || fail "[$s] keys"
done
echo OK
