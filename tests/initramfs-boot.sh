#!/bin/sh
# Boot what 'initramfs patch' makes with Debian's kernel in QEMU (TCG) and
# assert on what the guest prints: Debian's own initrd (zstd, made by
# initramfs-tools) with a script hook patched in, and a busybox initramfs
# made by 'initramfs create --spec', each recompressed as gzip, xz, lz4
# and zstd (and, for busybox, bzip2, lzma, lzo and none); and both with a
# segment appended.
. "$top_srcdir/tests/functions.sh"
requires qemu-system-x86_64 timeout

kernel=$(debian_kernel)
initrd=$(debian_initrd)
[ -n "$kernel" ] && [ -r "$kernel" ] || fail "no readable Debian kernel in /boot (run setup.sh)"
[ -r "$initrd" ] || fail "no readable Debian initrd in /boot (run setup.sh)"
[ -x /bin/busybox ] || fail "/bin/busybox missing (busybox-static, run setup.sh)"

cd "$tmp"
token="mkvmimg-token-$$-$(date +%s)"
echo "$token" > added.txt

# Boot IMAGE and check that the guest printed MARKER and the token.
boot ()
{
  _img=$1 _marker=$2
  echo "booting $_img"
  timeout 240 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$_img" -append 'console=ttyS0 panic=-1 no_timer_check' \
    -serial mon:stdio -display none -monitor none < /dev/null > "$_img.log" 2>&1 ||
    true
  tr -d '\r' < "$_img.log" > "$_img.txt"
  grep -qx "$_marker" "$_img.txt" || {
    tail -n 30 "$_img.txt"; fail "$_img: the guest did not print $_marker"; }
  grep -qx "added: $token" "$_img.txt" || {
    tail -n 30 "$_img.txt"; fail "$_img: the guest did not print the added file"; }
  echo "$_img: $_marker, added: $token"
}

# 1. A busybox initramfs from a spec: no root, no fakeroot.
cat > init.sh <<'EOS'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo MKVMIMG-BUSYBOX-INIT
echo "added: $(/bin/busybox cat /etc/added.txt)"
/bin/busybox poweroff -f
EOS
cat > busybox.spec <<EOS
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /bin 0755 0 0
file /bin/busybox /bin/busybox 0755 0 0
slink /bin/sh busybox 0777 0 0
dir /proc 0755 0 0
dir /etc 0755 0 0
file /init init.sh 0755 0 0
EOS
$MKVMIMG initramfs create -q --spec busybox.spec -o busybox.img
# The four asked for, and the other compressions the kernel knows.
for c in gzip xz lz4 zstd bzip2 lzma lzo none; do
  $MKVMIMG initramfs patch -q busybox.img -o busybox-$c.img \
    --add added.txt:/etc/added.txt --compress=$c
  $MKVMIMG initramfs list busybox-$c.img > list
  grep -q "^segment 0: .* $c\$" list ||
    fail "busybox-$c.img is not $c"
  boot busybox-$c.img MKVMIMG-BUSYBOX-INIT
done

# An appended segment after a gzip one.
$MKVMIMG initramfs patch -q busybox.img -o busybox-append.img --append \
  --add added.txt:/etc/added.txt
boot busybox-append.img MKVMIMG-BUSYBOX-INIT

# 2. Debian's initrd: a hook run first in init-top, by Debian's own init.
cat > zz-marker <<'EOS'
#!/bin/sh
case "$1" in prereqs) echo ""; exit 0 ;; esac
echo MKVMIMG-DEBIAN-HOOK
echo "added: $(cat /etc/mkvmimg-added.txt)"
poweroff -f
EOS
$MKVMIMG initramfs extract -q "$initrd" debian
[ -f debian/scripts/init-top/ORDER ] || fail "no scripts/init-top/ORDER in $initrd"
{ echo '/scripts/init-top/zz-marker "$@"'; cat debian/scripts/init-top/ORDER; } > ORDER
rm -rf debian
for c in gzip:1 xz:0 lz4 zstd:1; do
  n=${c%%:*}
  $MKVMIMG initramfs patch -q "$initrd" -o debian-$n.img \
    --add ORDER:/scripts/init-top/ORDER \
    --add zz-marker:/scripts/init-top/zz-marker:0755 \
    --add added.txt:/etc/mkvmimg-added.txt --compress=$c
  $MKVMIMG initramfs list debian-$n.img > list
  grep -q "^segment [0-9]*: .* $n\$" list ||
    fail "debian-$n.img is not $n"
  boot debian-$n.img MKVMIMG-DEBIAN-HOOK
  rm -f debian-$n.img
done

# 3. --append on Debian's initrd: the kernel unpacks the new segment
# over the zstd one.
$MKVMIMG initramfs patch -q "$initrd" -o debian-append.img --append \
  --add ORDER:/scripts/init-top/ORDER \
  --add zz-marker:/scripts/init-top/zz-marker:0755 \
  --add added.txt:/etc/mkvmimg-added.txt
cmp -n "$(stat -c %s "$initrd")" "$initrd" debian-append.img ||
  fail "--append changed Debian's initrd"
boot debian-append.img MKVMIMG-DEBIAN-HOOK
echo OK
