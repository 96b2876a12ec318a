#!/bin/sh
# --set SECTION[.NAME].KEY=VALUE overrides keys, creates named sections
# (at the end) and unnamed ones, and is checked like the profile.
. "$top_srcdir/tests/functions.sh"

# get SECTION KEY < resolved profile: the value printed for KEY in the
# section whose header is exactly SECTION ("[partition root]").
get ()
{
  awk -v sec="$1" -v key="$2" '
    /^\[/ { cur = $0; next }
    cur == sec && $1 == key && $2 == "=" {
      sub(/^[^=]*= /, ""); print; exit
    }'
}

cat > "$tmp/p.conf" <<'P'
[image]
size = 4G

[rootfs]
source = none

[partition esp]
size = 128M

[partition root]
size = 2G
P

$MKVMIMG profile check "$tmp/p.conf" \
  --set image.size=16G \
  --set partition.root.size=8G \
  --set partition.data.size=1G \
  --set partition.a.b.c.type=swap \
  --set boot.timeout=5 \
  --set 'kernel.cmdline=console=ttyS0 quiet root=LABEL=x' \
  --set 'image.seed=a "quoted" # seed' \
  --set device.edu0.type=edu \
  --set device.edu0.props=dma_mask=0xffffffff,x=1 \
  > "$tmp/out"

[ "$(get '[image]' size < "$tmp/out")" = 16G ] || fail "image.size"
[ "$(get '[partition root]' size < "$tmp/out")" = 8G ] || fail "root size"
[ "$(get '[partition esp]' size < "$tmp/out")" = 128M ] || fail "esp size"
[ "$(get '[partition data]' size < "$tmp/out")" = 1G ] || fail "data created"
[ "$(get '[partition a.b.c]' type < "$tmp/out")" = swap ] ||
  fail "the last '.' starts the key"
[ "$(get '[partition a.b.c]' fs < "$tmp/out")" = swap ] ||
  fail "fs default from type"
[ "$(get '[boot]' timeout < "$tmp/out")" = 5 ] || fail "boot created"
[ "$(get '[kernel]' cmdline < "$tmp/out")" = 'console=ttyS0 quiet root=LABEL=x' ] ||
  fail "a value with '=' and spaces"
[ "$(get '[image]' seed < "$tmp/out")" = '"a \"quoted\" # seed"' ] ||
  fail "a value is taken as it is (printed quoted)"
[ "$(get '[device edu0]' type < "$tmp/out")" = edu ] || fail "device"

# New named sections come after the others, in the order of --set.
grep '^\[partition ' "$tmp/out" > "$tmp/parts"
printf '%s\n' '[partition esp]' '[partition root]' '[partition data]' \
  '[partition a.b.c]' | cmp -s - "$tmp/parts" || fail "partition order"

# The last --set of a key wins.
$MKVMIMG profile check "$tmp/p.conf" --set machine.cpus=3 \
  --set machine.cpus=5 > "$tmp/out"
[ "$(get '[machine]' cpus < "$tmp/out")" = 5 ] || fail "last --set wins"

# --set values are checked, and errors say --set.
set +e
$MKVMIMG profile check "$tmp/p.conf" --set machine.cpus=0 >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad --set value: exit $rc"
[ "$(cat "$tmp/err")" = "mkvmimg: --set: [machine] cpus: 0 is out of range 1..64" ] ||
  fail "bad --set value: $(cat "$tmp/err")"

# expect_set_error ASSIGNMENT MESSAGE
expect_set_error ()
{
  set +e
  $MKVMIMG profile check "$tmp/p.conf" --set "$1" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "--set $1: exit $rc"
  [ ! -s "$tmp/out" ] || fail "--set $1: output"
  [ "$(cat "$tmp/err")" = "mkvmimg: --set $1: $2" ] ||
    fail "--set $1: got '$(cat "$tmp/err")'"
}
expect_set_error image.sise=1 "unknown key 'sise' in section [image]"
expect_set_error imgae.size=1G "unknown section [imgae]"
expect_set_error nosuch./etc/motd.mode=0644 "unknown section [nosuch]"
expect_set_error partition.size=1G \
  "section [partition] needs a name: partition.NAME.size=..."
expect_set_error image.x.size=1G "section [image] takes no name"
expect_set_error image.size "expected SECTION[.NAME].KEY=VALUE"
expect_set_error imagesize=1G "expected SECTION[.NAME].KEY=VALUE"
expect_set_error partition..size=1G "invalid section name ''"

# --set without a value for --set is a usage error.
set +e
$MKVMIMG profile check "$tmp/p.conf" --set >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "--set without argument: exit $rc"

# A --set that makes a bad profile good, and one that makes a good one bad.
printf '[image]\n' > "$tmp/nosource.conf"
expect_fail $MKVMIMG profile check "$tmp/nosource.conf" 2>/dev/null
$MKVMIMG profile check "$tmp/nosource.conf" --set rootfs.source=none >/dev/null ||
  fail "--set supplies a required key"
expect_fail $MKVMIMG profile check "$tmp/p.conf" --set rootfs.source= 2>/dev/null

# The same through JSON.
$MKVMIMG profile check "$tmp/p.conf" --json --set partition.root.size=8G \
  --set device.edu0.type=edu --set 'device.edu0.props=a=1, b=2 c=3' \
  > "$tmp/json"
perl -MJSON::PP -e '
  local $/; my $j = decode_json(<STDIN>);
  my ($root) = grep { $_->{name} eq "root" } @{$j->{partition}};
  die "root size\n" unless $root->{size} == 8 * 1024**3;
  die "esp size\n" unless $j->{partition}[0]{size} == 128 * 1024**2;
  die "image size\n" unless $j->{image}{size} == 4 * 1024**3;
  die "props\n" unless join("|", @{$j->{device}[0]{props}}) eq "a=1|b=2|c=3";
  die "unset\n" if defined $j->{image}{seed};
  die "bool\n" unless ref $j->{partition}[0]{bootable} eq "JSON::PP::Boolean";
' < "$tmp/json" || fail "JSON"
echo OK
