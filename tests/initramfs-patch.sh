#!/bin/sh
# initramfs patch: rewrite and --append on a multi-segment image (an
# uncompressed early segment, a zstd main one), every operation, the
# refusals, reproducibility.
. "$top_srcdir/tests/functions.sh"
requires cpio zstd xz

SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
cd "$tmp"

echo microcode > ucode.bin
cat > early.spec <<EOS
dir /kernel 0755 0 0
dir /kernel/x86 0755 0 0
dir /kernel/x86/microcode 0755 0 0
file /kernel/x86/microcode/GenuineIntel.bin ucode.bin 0644 0 0
EOS
echo '#!/bin/sh' > init
echo old > old.txt
echo keep > keep.txt
cat > main.spec <<EOS
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
file /init init 0755 0 0
dir /etc 0755 0 0
file /etc/replace-me old.txt 0644 0 0
file /etc/keep keep.txt 0600 12 34 /etc/keep-link
dir /usr 0755 0 0
dir /usr/lib 0755 0 0
slink /lib usr/lib 0777 0 0
dir /junk 0755 0 0
file /junk/a old.txt 0644 0 0
file /junk/b old.txt 0644 0 0
EOS
$MKVMIMG initramfs create -q --spec early.spec --compress=none -o early.img
$MKVMIMG initramfs create -q --spec main.spec --compress=zstd -o main.img
early_size=$(stat -c %s early.img)
{ cat early.img; head -c 508 /dev/zero; cat main.img; } > in.img
main_offset=$(( early_size + 508 ))

echo new > new.txt
head -c 100000 /dev/urandom > blob
cat > add.spec <<EOS
dir /opt 0750 0 0
nod /dev/null 0666 0 0 c 1 3
file /opt/blob blob 0644 0 0 /opt/blob-link
EOS

# Rewrite.
$MKVMIMG initramfs patch in.img -o out.img \
  --add new.txt:/etc/replace-me:0640:5:6 --add blob:/lib/modules/extra/x.ko \
  --mkdir /var/empty:0700 --symlink /init:/sbin/init --remove /junk \
  --spec add.spec
$MKVMIMG initramfs list out.img > out.list
cat out.list
cmp -n $main_offset in.img out.img || fail "the early segment was not copied byte for byte"
grep -q "^segment 1: offset $main_offset, .* zstd\$" out.list || fail "main segment not zstd at the same offset"
grep -q '^-rw-r----- 5/6 *4 .* etc/replace-me$' out.list || fail "replaced entry"
# Replaced where it stood: still between /etc and /etc/keep.
sed -n '/^segment 1/,$p' out.list | awk '{print $6}' | tr '\n' ' ' > order
grep -q ' etc etc/replace-me etc/keep etc/keep-link ' order || fail "replaced entry moved: $(cat order)"
grep -q 'junk' out.list && fail "--remove /junk left something"
grep -q ' etc/keep-link link to etc/keep$' out.list || fail "hardlink lost"
grep -q '^crw------- 0/0 *5,1 .* dev/console$' out.list || fail "device node lost"
grep -q '^crw-rw-rw- 0/0 *1,3 .* dev/null$' out.list || fail "device node from --spec"
grep -q '^drwx------ 0/0 .* var/empty$' out.list || fail "--mkdir"
grep -q '^lrwxrwxrwx .* sbin/init -> /init$' out.list || fail "--symlink"
grep -q ' opt/blob-link link to opt/blob$' out.list || fail "hardlink from --spec"
grep -q ' lib/modules/extra/x.ko$' out.list || fail "--add"
# Parents are made where missing, not over the lib -> usr/lib link.
grep -q '^drwxr-xr-x 0/0 .* lib/modules$' out.list || fail "missing parent not made"
grep -q '^d.* lib$' out.list && fail "a directory made over the lib symlink"
grep -q '^d.* sbin$' out.list || fail "parent of --symlink not made"
# Independent check of the data with zstd and cpio.
mkdir check && (cd check &&
  tail -c +$(( main_offset + 1 )) ../out.img | zstd -qdc | cpio -idm 2>/dev/null)
cmp check/lib/modules/extra/x.ko blob || fail "added data differs"
cmp check/opt/blob blob || fail "spec data differs"
[ "$(cat check/etc/replace-me)" = new ] || fail "replaced data"
[ "$(cat check/etc/keep-link)" = keep ] || fail "hardlink data"

# Reproducible.
$MKVMIMG initramfs patch in.img -o out2.img \
  --add new.txt:/etc/replace-me:0640:5:6 --add blob:/lib/modules/extra/x.ko \
  --mkdir /var/empty:0700 --symlink /init:/sbin/init --remove /junk \
  --spec add.spec
cmp out.img out2.img || fail "two runs of patch differ"

# Another compression for the rewritten segment; the kernel's xz.
$MKVMIMG initramfs patch in.img -o out-xz.img --add new.txt:/new --compress=xz:1
$MKVMIMG initramfs list out-xz.img > xz.list
grep -q '^segment 1: .* xz$' xz.list || fail "--compress=xz"
tail -c +$(( main_offset + 1 )) out-xz.img > main.xz
xz --robot -lvv main.xz | grep -q CRC32 || fail "xz without CRC32"

# --remove of something in the early segment rewrites that one too.
$MKVMIMG initramfs patch in.img -o out-rm.img --remove /kernel/x86/microcode/GenuineIntel.bin
$MKVMIMG initramfs list out-rm.img > rm.list
grep -q GenuineIntel rm.list && fail "not removed from the early segment"
grep -q '^segment 1: .* zstd$' rm.list || fail "main segment lost"
grep -q ' etc/keep$' rm.list || fail "main entries lost"

# --append: the input unchanged, a new segment after it.
$MKVMIMG initramfs patch in.img -o app.img --append --add new.txt:/etc/replace-me \
  --add blob:/lib/modules/extra/x.ko
in_size=$(stat -c %s in.img)
cmp -n $in_size in.img app.img || fail "--append changed the input bytes"
$MKVMIMG initramfs list app.img > app.list
grep -q '^segment 2: .* none$' app.list || fail "--append: no new segment"
sed -n '/^segment 2/,$p' app.list | grep -q ' etc/replace-me$' || fail "--append: entry"
$MKVMIMG initramfs extract app.img app
[ "$(cat app/etc/replace-me)" = new ] || fail "--append: the new segment does not win"
cmp app/usr/lib/modules/extra/x.ko blob || fail "--append: through the lib symlink"
$MKVMIMG initramfs patch in.img -o app-gz.img --append --compress=gzip --add new.txt:/x
$MKVMIMG initramfs list app-gz.img > gz.list
grep -q '^segment 2: .* gzip$' gz.list || fail "--append --compress"

# Refusals: a clear error, a non-zero exit, no output left behind.
check_no_output ()
{
  [ ! -e bad.img ] || fail "$1: output left behind"
  ls -A | grep -q '^\.bad\.img' && fail "$1: temporary file left behind"
  return 0
}
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --append --remove /init 2> err
grep -q 'cannot be used with --append' err || fail "--append --remove: no explanation"
check_no_output "--append --remove"
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --remove /nonexistent 2> err
grep -q 'no such entry' err || fail "--remove of nothing"
check_no_output "--remove of nothing"
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --add nosuchfile:/x
check_no_output "missing --add source"
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --add new.txt:/x:999
check_no_output "bad mode"
expect_fail $MKVMIMG initramfs patch in.img -o out.img --add new.txt:/x 2> err
grep -q 'exists' err || fail "existing output replaced without --force"
$MKVMIMG initramfs patch in.img -o out.img --force --add new.txt:/x
printf 'dir /a 0755 0 0\nfile /b\n' > bad.spec
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --spec bad.spec 2> err
grep -q 'bad.spec:2:' err || fail "spec error without file:line"
check_no_output "bad spec"
truncate -s 4G huge
expect_fail $MKVMIMG initramfs patch in.img -o bad.img --add huge:/huge 2> err
grep -q 'too large' err || fail "4 GiB file"
check_no_output "4 GiB file"
head -c $(( main_offset + 200 )) in.img > trunc.img
expect_fail $MKVMIMG initramfs patch trunc.img -o bad.img --add new.txt:/x 2> err
grep -q 'truncated' err || fail "truncated image"
check_no_output "truncated image"
cp in.img corrupt.img
printf 'garbage!garbage!' | dd of=corrupt.img bs=1 seek=$(( main_offset + 60 )) conv=notrunc 2>/dev/null
expect_fail $MKVMIMG initramfs patch corrupt.img -o bad.img --add new.txt:/x 2> err
cat err
check_no_output "corrupt zstd"
head -c 1000 /dev/urandom > random.img
printf 'X' | dd of=random.img bs=1 count=1 conv=notrunc 2>/dev/null
expect_fail $MKVMIMG initramfs patch random.img -o bad.img --add new.txt:/x 2> err
grep -q 'unknown format' err || fail "unknown format"
check_no_output "unknown format"
expect_fail $MKVMIMG initramfs patch random.img -o bad.img --append --add new.txt:/x 2> err
grep -q 'not an initramfs' err || fail "--append on junk"
check_no_output "--append on junk"
echo OK
