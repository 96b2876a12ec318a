#!/bin/sh
# Partition tables written by partition_write, checked with sfdisk and
# sgdisk: types, 1 MiB alignment, sizes, names, seeded GUIDs, the MBR
# signature, reproducibility, and the "does not fit" error.
. "$top_srcdir/tests/functions.sh"
requires sfdisk sgdisk
T="$top_builddir/tests/test-disk"
MiB=1048576

# ---- GPT --------------------------------------------------------------
$T layout "$tmp/gpt.img" gpt bios:1M esp:64M swap:64M root:0 \
   --seed one --size 512M >"$tmp/gpt.out"
cat "$tmp/gpt.out"
[ "$(stat -c %s "$tmp/gpt.img")" -eq $((512 * MiB)) ] || fail "GPT image size"
# Sparse: only the tables are allocated.
[ "$(du -k "$tmp/gpt.img" | cut -f1)" -lt 1024 ] || fail "GPT image not sparse"
sfdisk --verify "$tmp/gpt.img" >"$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "sfdisk --verify"; }
grep -q "No errors detected" "$tmp/verify" || fail "sfdisk --verify output"
sgdisk -v "$tmp/gpt.img" >"$tmp/sgdisk" 2>&1 || { cat "$tmp/sgdisk"; fail "sgdisk -v"; }
grep -q "No problems found" "$tmp/sgdisk" || { cat "$tmp/sgdisk"; fail "sgdisk -v found problems"; }
sfdisk --dump "$tmp/gpt.img" >"$tmp/gpt.dump"
cat "$tmp/gpt.dump"

upper () { tr a-f A-F; }
uuid_of () { $T uuid "$1" "$2" | cut -d' ' -f1 | upper; }

grep -q '^label: gpt$' "$tmp/gpt.dump" || fail "not a GPT"
grep -q "^label-id: $(uuid_of one disk)\$" "$tmp/gpt.dump" || fail "disk GUID"
grep -q "^disk $(uuid_of one disk | tr A-F a-f) " "$tmp/gpt.out" || fail "disk GUID reported"

# name start(sectors) size(sectors) type
check_part ()
{
  n=$1 name=$2 start=$3 size=$4 type=$5
  line=$(grep "^$tmp/gpt.img$n :" "$tmp/gpt.dump") || fail "no partition $n"
  echo "$line" | grep -q "start= *$start," || fail "part $n start: $line"
  echo "$line" | grep -q "size= *$size," || fail "part $n size: $line"
  echo "$line" | grep -q "type=$type," || fail "part $n type: $line"
  echo "$line" | grep -q "name=\"$name\"" || fail "part $n name: $line"
  echo "$line" | grep -q "uuid=$(uuid_of one "$name")," || fail "part $n uuid: $line"
  [ $((start % 2048)) -eq 0 ] || fail "part $n not aligned to 1 MiB"
}
check_part 1 bios 2048 2048 21686148-6449-6E6F-744E-656564454649
check_part 2 esp 4096 131072 C12A7328-F81F-11D2-BA4B-00A0C93EC93B
check_part 3 swap 135168 131072 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
# root: the rest, up to the 1 MiB tail kept for the backup GPT.
check_part 4 root 266240 $((512 * 2048 - 2048 - 266240)) 0FC63DAF-8483-4772-8E79-3D69D8477DE4
# Offsets reported by partition_write match the table.
grep -q "^4 root $((266240 * 512)) $(((512 * 2048 - 2048 - 266240) * 512)) " "$tmp/gpt.out" \
  || fail "root offset/size reported"

# The same seed gives the same image, byte for byte; another seed not.
$T layout "$tmp/gpt2.img" gpt bios:1M esp:64M swap:64M root:0 \
   --seed one --size 512M >/dev/null
cmp "$tmp/gpt.img" "$tmp/gpt2.img" || fail "same seed, different images"
$T layout "$tmp/gpt3.img" gpt bios:1M esp:64M swap:64M root:0 \
   --seed two --size 512M >/dev/null
sfdisk --dump "$tmp/gpt3.img" >"$tmp/gpt3.dump"
! grep -q "$(uuid_of one root)" "$tmp/gpt3.dump" || fail "seed two has seed one's root GUID"
grep -q "uuid=$(uuid_of two root)," "$tmp/gpt3.dump" || fail "seed two root GUID"
[ "$(uuid_of one root)" != "$(uuid_of two root)" ] || fail "seeds give the same UUID"
# Random (no seed) UUIDs differ between runs and are version 4.
a=$($T uuid - x | cut -d' ' -f1) b=$($T uuid - x | cut -d' ' -f1)
[ "$a" != "$b" ] || fail "random UUIDs repeat"
echo "$a" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
  || fail "random UUID format: $a"
echo "$(uuid_of one root)" | grep -Eq '^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB]' \
  || fail "seeded UUID is not version 4"

# A table with no partition taking the rest.
$T layout "$tmp/fixed.img" gpt esp:100M data:50M --seed s --size 200M >/dev/null
sfdisk --verify "$tmp/fixed.img" | grep -q "No errors detected" || fail "fixed verify"
sfdisk --json "$tmp/fixed.img" >"$tmp/fixed.json"
cat "$tmp/fixed.json"
tr -d ' \n' <"$tmp/fixed.json" >"$tmp/fixed.flat"
grep -q '"label":"gpt"' "$tmp/fixed.flat" || fail "json label"
grep -Eq '"start":2048,"size":204800,[^}]*"name":"esp"' "$tmp/fixed.flat" || fail "json esp"
grep -Eq '"start":206848,"size":102400,[^}]*"name":"data"' "$tmp/fixed.flat" || fail "json data"
[ "$(grep -c '"node"' "$tmp/fixed.json")" -eq 2 ] || fail "json: 2 partitions"

# ---- msdos ------------------------------------------------------------
$T layout "$tmp/dos.img" msdos esp:64M swap:64M root:0 \
   --seed one --size 512M >"$tmp/dos.out"
sfdisk --verify "$tmp/dos.img" | grep -q "No errors detected" || fail "msdos verify"
sfdisk --dump "$tmp/dos.img" >"$tmp/dos.dump"
cat "$tmp/dos.dump"
sig=$($T uuid one disk | cut -d' ' -f2)
grep -q "^label: dos$" "$tmp/dos.dump" || fail "not msdos"
grep -q "^label-id: 0x$sig\$" "$tmp/dos.dump" || fail "MBR signature, expected 0x$sig"
grep -Eq "dos.img1 : start= *2048, size= *131072, type=ef$" "$tmp/dos.dump" || fail "msdos ESP"
grep -Eq "dos.img2 : start= *133120, size= *131072, type=82$" "$tmp/dos.dump" || fail "msdos swap"
# The last partition runs to the end (no backup table on msdos); root
# carries the boot flag.
grep -Eq "dos.img3 : start= *264192, size= *784384, type=83, bootable$" "$tmp/dos.dump" \
  || fail "msdos root"
$T layout "$tmp/dos2.img" msdos esp:64M swap:64M root:0 --seed one --size 512M >/dev/null
cmp "$tmp/dos.img" "$tmp/dos2.img" || fail "msdos: same seed, different images"

# No BIOS boot partition on msdos.
expect_fail $T layout "$tmp/bad.img" msdos bios:1M root:0 2>"$tmp/err"
grep -q "msdos disk has no BIOS boot partition" "$tmp/err" || fail "msdos bios message"

# ---- Too small --------------------------------------------------------
needed=$($T needed gpt bios:1M esp:64M root:100M)
[ "$needed" -eq $(((1 + 1 + 64 + 100 + 1) * MiB)) ] || fail "partition_disk_size: $needed"
expect_fail $T layout "$tmp/small.img" gpt bios:1M esp:64M root:100M --size 100M 2>"$tmp/err"
cat "$tmp/err"
grep -q "needs at least $needed bytes" "$tmp/err" || fail "too-small message"
# Exactly the size needed fits.
$T layout "$tmp/exact.img" gpt bios:1M esp:64M root:100M --size "$needed" >/dev/null
sfdisk --verify "$tmp/exact.img" | grep -q "No errors detected" || fail "exact fit"
echo OK
