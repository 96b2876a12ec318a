#!/bin/sh
# The swap signature written by swap_mkswap, read by blkid and swaplabel.
. "$top_srcdir/tests/functions.sh"
requires blkid swaplabel
T="$top_builddir/tests/test-disk"

img="$tmp/disk.img"
$T layout "$img" gpt esp:40M swap:64M root:0 --seed swap --size 256M >"$tmp/layout"
off=$(awk '$2 == "swap" { print $3 }' "$tmp/layout")
size=$(awk '$2 == "swap" { print $4 }' "$tmp/layout")
uuid=$(awk '$2 == "swap" { print $5 }' "$tmp/layout")
$T swap "$img" "$off" "$size" "$uuid" swaplabel1

blkid -p -o export --offset "$off" "$img" >"$tmp/blkid"
cat "$tmp/blkid"
grep -q "^TYPE=swap$" "$tmp/blkid" || fail "blkid TYPE"
grep -q "^UUID=$uuid$" "$tmp/blkid" || fail "blkid UUID"
grep -q "^LABEL=swaplabel1$" "$tmp/blkid" || fail "blkid LABEL"
grep -q "^VERSION=1$" "$tmp/blkid" || fail "blkid VERSION"

dd if="$img" of="$tmp/swap.img" bs=1M skip=$((off / 1048576)) count=$((size / 1048576)) status=none
swaplabel "$tmp/swap.img" >"$tmp/swaplabel"
cat "$tmp/swaplabel"
grep -q "^LABEL: swaplabel1$" "$tmp/swaplabel" || fail "swaplabel LABEL"
grep -q "^UUID: *$uuid$" "$tmp/swaplabel" || fail "swaplabel UUID"
# last_page (offset 1028) is the number of pages - 1.
last=$(od -An -tu4 -j1028 -N4 "$tmp/swap.img" | tr -d ' ')
[ "$last" -eq $((size / 4096 - 1)) ] || fail "last_page $last"
cmp -n 4096 "$tmp/swap.img" /dev/zero >/dev/null 2>&1 && fail "first page empty"
cmp -i 4096 "$tmp/swap.img" /dev/zero -n $((size - 4096)) || fail "swap area beyond the header not zero"

# Another label and no UUID (random), replacing the first signature.
$T swap "$tmp/swap.img" 0 "$size" - "" 2>"$tmp/err" && fail "'-' accepted as a UUID"
$T swap "$tmp/swap.img" 0 "$size" 01234567-89ab-4def-8123-456789abcdef "" 
blkid -p -o export "$tmp/swap.img" | grep -q "^UUID=01234567-89ab-4def-8123-456789abcdef$" || fail "second UUID"
! blkid -p -o export "$tmp/swap.img" | grep -q "^LABEL=" || fail "empty label"

# Errors: too small, label too long.
expect_fail $T swap "$tmp/swap.img" 0 8192 "$uuid" x 2>"$tmp/err"
grep -q "too small" "$tmp/err" || fail "too-small message"
expect_fail $T swap "$tmp/swap.img" 0 "$size" "$uuid" 12345678901234567 2>"$tmp/err"
grep -q "longer than 16" "$tmp/err" || fail "long label message"
echo OK
