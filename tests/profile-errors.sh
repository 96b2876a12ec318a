#!/bin/sh
# Every kind of profile error is reported once, as
# "mkvmimg: FILE:LINE: ...", with exit status 1 and nothing on stdout;
# binary input is an error, never a crash.
. "$top_srcdir/tests/functions.sh"

n=0
# expect_error NAME LINE MESSAGE: $tmp/NAME.conf fails with exactly one
# error, "mkvmimg: $tmp/NAME.conf:LINE: MESSAGE".
expect_error ()
{
  f=$tmp/$1.conf
  set +e
  $MKVMIMG profile check "$f" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$tmp/err"; fail "$1: exit status $rc, expected 1"; }
  [ ! -s "$tmp/out" ] || fail "$1: output on stdout"
  want="mkvmimg: $f:$2: $3"
  if [ "$(cat "$tmp/err")" != "$want" ]; then
    echo "got:      $(cat "$tmp/err")" >&2
    echo "expected: $want" >&2
    fail "$1: wrong message"
  fi
  n=$((n + 1))
}

cat > "$tmp/section.conf" <<'P'
[rootfs]
source = none
# a typo
[imgae]
size = 4G
P
expect_error section 4 "unknown section [imgae]"

cat > "$tmp/key.conf" <<'P'
[rootfs]
source = none

[partition root]
sise = 4G
P
expect_error key 5 "unknown key 'sise' in section [partition]"

cat > "$tmp/dupkey.conf" <<'P'
[rootfs]
source = none
[image]
size = 4G
format = raw
size = 8G
P
expect_error dupkey 6 "duplicate key 'size' (first at $tmp/dupkey.conf:4)"

cat > "$tmp/dupsection.conf" <<'P'
[rootfs]
source = none
[partition root]
size = 4G
[partition swap]
size = 1G
[partition root]
P
expect_error dupsection 7 \
  "duplicate section [partition root] (first at $tmp/dupsection.conf:3)"

cat > "$tmp/dupunnamed.conf" <<'P'
[rootfs]
source = none
[rootfs]
P
expect_error dupunnamed 3 \
  "duplicate section [rootfs] (first at $tmp/dupunnamed.conf:1)"

cat > "$tmp/size.conf" <<'P'
[rootfs]
source = none
[image]
format = raw
size = 4Q
P
expect_error size 5 "[image] size: '4Q' is not a size (such as 512M or 4G)"

cat > "$tmp/minsize.conf" <<'P'
[rootfs]
source = none
[machine]
memory = 32M
P
expect_error minsize 4 "[machine] memory: 32M is less than the minimum, 64M"

cat > "$tmp/enum.conf" <<'P'
[rootfs]
source = none
[image]
format = vmdk
P
expect_error enum 4 "[image] format: 'vmdk' is not one of: qcow2,raw"

cat > "$tmp/bool.conf" <<'P'
[rootfs]
source = none
[partition root]
bootable = maybe
P
expect_error bool 4 \
  "[partition root] bootable: 'maybe' is not a boolean (yes, no, true, false, on, off, 1, 0)"

cat > "$tmp/int.conf" <<'P'
[rootfs]
source = none
[boot]
timeout = 61
P
expect_error int 4 "[boot] timeout: 61 is out of range 0..60"

cat > "$tmp/notint.conf" <<'P'
[rootfs]
source = none
[machine]
cpus = two
P
expect_error notint 4 "[machine] cpus: 'two' is not an integer"

cat > "$tmp/percent.conf" <<'P'
[rootfs]
source = none
[image]
margin = 2000%
P
expect_error percent 4 \
  "[image] margin: '2000%' is neither a size (such as 512M) nor a percentage (0% to 1000%)"

cat > "$tmp/kv.conf" <<'P'
[rootfs]
source = none
[device edu0]
type = edu
props = a=1, b
P
expect_error kv 5 "[device edu0] props: 'b' is not key=value"

cat > "$tmp/quote.conf" <<'P'
[rootfs]
source = none
[kernel]
cmdline = "console=ttyS0 quiet
P
expect_error quote 4 "cmdline: unterminated quote"

cat > "$tmp/afterquote.conf" <<'P'
[rootfs]
source = none
[kernel]
cmdline = "console=ttyS0" quiet
P
expect_error afterquote 4 "cmdline: text after the closing quote"

cat > "$tmp/escape.conf" <<'P'
[rootfs]
source = none
[kernel]
cmdline = "a\nb"
P
expect_error escape 4 \
  'cmdline: unknown escape in quoted value (only \" and \\)'

cat > "$tmp/noequals.conf" <<'P'
[rootfs]
source = none
[image]
size 4G
P
expect_error noequals 4 "expected 'key = value' or '[section]'"

cat > "$tmp/outside.conf" <<'P'
# no section yet
size = 4G
[rootfs]
source = none
P
expect_error outside 2 "key 'size' outside any section"

cat > "$tmp/noname.conf" <<'P'
[rootfs]
source = none
[partition]
P
expect_error noname 3 "section [partition] needs a name: [partition NAME]"

cat > "$tmp/name.conf" <<'P'
[rootfs]
source = none
[boot efi]
P
expect_error name 3 "section [boot] takes no name"

cat > "$tmp/bracket.conf" <<'P'
[rootfs]
source = none
[boot
P
expect_error bracket 3 "missing ']' in section header"

cat > "$tmp/nosize.conf" <<'P'
[rootfs]
source = none
[partition esp]
type = esp
[partition root]
P
expect_error nosize 3 \
  "[partition esp]: size is required (only the last partition takes the rest of the disk)"

cat > "$tmp/required.conf" <<'P'
[rootfs]
label = x
P
expect_error required 1 "[rootfs] source is required"

cat > "$tmp/devtype.conf" <<'P'
[rootfs]
source = none
[device edu0]
addr = 0x10
P
expect_error devtype 3 "[device edu0] type is required"

cat > "$tmp/longname.conf" <<'P'
[rootfs]
source = none
[partition abcdefghijklmnopqrstuvwxyz0123456789]
size = 1M
[partition abcdefghijklmnopqrstuvwxyz0123456789a]
P
expect_error longname 5 \
  "[partition abcdefghijklmnopqrstuvwxyz0123456789a]: a partition name has at most 36 characters"

cat > "$tmp/module.conf" <<'P'
[rootfs]
source = none
[module edu]
source = /src/edu
ko = /tmp/edu.ko
P
expect_error module 3 \
  "[module edu]: give exactly one of source = DIR and ko = FILE"

cat > "$tmp/tree.conf" <<'P'
[rootfs]
source = none
[kernel]
image = host
tree = /usr/src/linux
P
expect_error tree 5 "[kernel] takes image or tree, not both"

cat > "$tmp/pciid.conf" <<'P'
[rootfs]
source = none
[device edu0]
type = edu
pci-id = 0x12:0x34
P
expect_error pciid 5 \
  "[device edu0] pci-id: '0x12:0x34' is not a PCI ID (VVVV:DDDD, hexadecimal)"

# Binary garbage, a NUL byte, bad UTF-8 and an over-long line.
printf '[rootfs]\nsource = none\n[image]\nseed = \001\377\n' > "$tmp/binary.conf"
expect_error binary 4 "invalid byte 0x01 at column 8 (a profile is UTF-8 text)"
printf '[rootfs]\nsource = none\n[image]\nseed = ab\000cd\n' > "$tmp/nul.conf"
expect_error nul 4 "NUL byte at column 10"
printf '[rootfs]\nsource = caf\303\251\n[image]\nseed = \303(\n' > "$tmp/utf8.conf"
expect_error utf8 4 "invalid byte 0xc3 at column 8 (a profile is UTF-8 text)"
{ printf '[rootfs]\nsource = none\n[kernel]\ncmdline = '
  head -c 5000 /dev/zero | tr '\0' x
  printf '\n'; } > "$tmp/long.conf"
expect_error long 4 "line longer than 4096 bytes"

# Several errors: all of them are reported, each with its line.
cat > "$tmp/many.conf" <<'P'
[rootfs]
source = none
[image]
format = vmdk
size = big
[machine]
cpus = 0
P
set +e
$MKVMIMG profile check "$tmp/many.conf" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "many: exit $rc"
grep -q "many.conf:4: \[image\] format" "$tmp/err" || fail "many: line 4"
grep -q "many.conf:5: \[image\] size" "$tmp/err" || fail "many: line 5"
grep -q "many.conf:7: \[machine\] cpus" "$tmp/err" || fail "many: line 7"
[ "$(wc -l < "$tmp/err")" -eq 3 ] || fail "many: not 3 errors"

# Real binary files: an error (1), not a crash (>= 128), every message
# naming file:line, and a bounded number of messages.
head -c 65536 /dev/urandom > "$tmp/random.conf"
for f in "$tmp/random.conf" /bin/true; do
  set +e
  $MKVMIMG profile check "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  [ $rc -eq 1 ] || fail "$f: exit status $rc"
  [ ! -s "$tmp/out" ] || fail "$f: output on stdout"
  [ "$(wc -l < "$tmp/err")" -le 20 ] || fail "$f: too many messages"
  if grep -v "^mkvmimg: $f:[0-9][0-9]*: " "$tmp/err"; then
    fail "$f: a message without file:line"
  fi
done
# Not a regular file, or endless.
set +e
$MKVMIMG profile check /dev/zero >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "/dev/zero: exit status $rc"
grep -q "^mkvmimg: reading profile /dev/zero: larger than" "$tmp/err" ||
  fail "/dev/zero: message"
expect_fail $MKVMIMG profile check "$tmp" 2>/dev/null
expect_fail $MKVMIMG profile check "$tmp/no-such-file.conf" 2>/dev/null

echo "$n error messages checked"
