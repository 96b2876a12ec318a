#!/bin/sh
# Foreign architectures, bad input: each build or boot fails before any
# work with a message naming what is wrong and what to do.  No download,
# no QEMU run.
. "$top_srcdir/tests/functions.sh"

cd "$tmp"
mkdir root
echo "not really a kernel" > kernel

# want NAME REGEX -- CMD...: CMD fails (exit 1) and says REGEX.
want ()
{
  name=$1 regex=$2
  shift 3
  set +e
  "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
  rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$tmp/$name.err"; fail "$name: exit $rc, expected 1"; }
  grep -Eq -- "$regex" "$tmp/$name.err" ||
    fail "$name: no /$regex/ in: $(cat "$tmp/$name.err")"
  ! ls "$tmp"/*.img "$tmp"/*.img.machine >/dev/null 2>&1 ||
    fail "$name: left an output behind"
}

profile ()
{
  name=$1
  shift
  printf '%s\n' "$@" > "$tmp/$name.conf"
}

profile unknown '[image]' 'arch = mips' '[rootfs]' 'source = dir:root'
want unknown "unknown.conf:2: .*'mips' is not one of: x86_64,aarch64,armhf" \
  -- $MKVMIMG build unknown.conf -o out.img
printf '[machine]\narch = sparc64\n' > unknown.machine
want unknown-machine "unknown.machine: unknown architecture 'sparc64' \(expected one of x86_64, aarch64, armhf\)" \
  -- $MKVMIMG boot unknown.machine --print-command

# A board that needs a device tree, without one (profile and machine file).
profile nodtb '[image]' 'arch = armhf' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 6.1.0-1-armmp' \
  '[machine]' 'type = vexpress-a9'
want nodtb "nodtb.conf:9: machine type vexpress-a9 needs a device tree: set dtb to the board's vexpress-v2p-ca9.dtb" \
  -- $MKVMIMG build nodtb.conf -o out.img
printf '[machine]\narch = armhf\ntype = vexpress-a9\nfirmware = direct\nkernel = kernel\ndisk = none\n' > nodtb.machine
want nodtb-machine "nodtb.machine: machine type vexpress-a9 needs a device tree" \
  -- $MKVMIMG boot nodtb.machine --print-command

# The foreign kernel is missing: "host" is the wrong architecture, a path
# that does not exist.
profile hostkernel '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = host'
want hostkernel "\"host\" means this .* host's kernel, not an aarch64 one: .*linux-image-arm64" \
  -- $MKVMIMG build hostkernel.conf -o out.img
profile nokernel '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = vmlinuz-6.1.0-1-arm64'
want nokernel "kernel image .*vmlinuz-6.1.0-1-arm64 \(nokernel.conf:6\): No such file" \
  -- $MKVMIMG build nokernel.conf -o out.img
profile norelease '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel'
want norelease "cannot tell its release .*give \[kernel\] release" \
  -- $MKVMIMG build norelease.conf -o out.img

# A kernel of another architecture, told by its boot header.
dd if=/dev/zero of=bzImage bs=1024 count=1 2>/dev/null
printf 'HdrS' | dd of=bzImage bs=1 seek=514 conv=notrunc 2>/dev/null
profile x86kernel '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = bzImage' 'release = 6.1.0-1-amd64'
want x86kernel "kernel image .*bzImage is an x86_64 kernel, not aarch64 \(x86kernel.conf:2\)" \
  -- $MKVMIMG build x86kernel.conf -o out.img

# The initrd's busybox must run in the guest.
if [ -x /bin/busybox ] && [ "$(uname -m)" != aarch64 ]; then
  profile busybox '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
    '[kernel]' 'image = kernel' 'release = 6.1.0-1-arm64' 'initrd = busybox' \
    'busybox = /bin/busybox'
  want busybox "\[kernel\] busybox: /bin/busybox is built for $(uname -m), not for aarch64 .*busybox-static:arm64" \
    -- $MKVMIMG build busybox.conf -o out.img
  profile bbsource '[image]' 'arch = aarch64' '[rootfs]' 'source = busybox' \
    '[kernel]' 'image = kernel' 'release = 6.1.0-1-arm64' '[boot]' 'loader = none'
  want bbsource "source = busybox is made from this host's busybox" \
    -- $MKVMIMG build bbsource.conf -o out.img
fi

# What the architecture and board cannot do.
profile bios '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 1' '[boot]' 'loader = hybrid'
want bios "bios.conf:9: loader = hybrid: aarch64 has no BIOS" \
  -- $MKVMIMG build bios.conf -o out.img
profile sd '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 1' '[boot]' 'loader = none' \
  '[machine]' 'disk = sd'
want sd "sd.conf:11: disk = sd needs a board with an SD card controller" \
  -- $MKVMIMG build sd.conf -o out.img
profile board '[image]' 'arch = aarch64' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 1' '[boot]' 'loader = none' \
  '[machine]' 'type = vexpress-a9'
want board "machine type vexpress-a9 is an armhf board, not aarch64" \
  -- $MKVMIMG build board.conf -o out.img
profile memory '[image]' 'arch = armhf' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 1' '[machine]' 'type = vexpress-a9' \
  'memory = 2G' 'dtb = kernel'
want memory "machine type vexpress-a9 takes at most 1G of memory" \
  -- $MKVMIMG build memory.conf -o out.img
profile virtio '[image]' 'arch = armhf' '[rootfs]' 'source = dir:root' \
  '[kernel]' 'image = kernel' 'release = 1' '[machine]' 'type = vexpress-a9' \
  'disk = virtio' 'dtb = kernel'
want virtio "vexpress-a9 has no PCI bus for a virtio disk: use disk = sd" \
  -- $MKVMIMG build virtio.conf -o out.img
profile sdsize '[image]' 'arch = armhf' 'size = 100M' '[rootfs]' \
  'source = dir:root' '[kernel]' 'image = kernel' 'release = 1' \
  '[machine]' 'type = vexpress-a9' 'dtb = kernel'
want sdsize "image size 100 MiB: an SD card \(disk = sd\) must be a power of two in size, such as 128 MiB" \
  -- $MKVMIMG build sdsize.conf -o out.img

# A buildroot rootfs.ext2 is copied as it is: no GRUB in it.
mkdir images
cp kernel images/Image
mke2fs -q -t ext2 -d root images/rootfs.ext2 4M
profile ext2 '[image]' 'arch = aarch64' '[rootfs]' 'source = buildroot:images' \
  '[kernel]' 'release = 1'
want ext2 "rootfs.ext2 is copied as the root filesystem, where GRUB's files cannot be added: use \[boot\] loader = none" \
  -- $MKVMIMG build ext2.conf -o out.img
echo "not ext2" > images/rootfs.ext2
profile notext2 '[image]' 'arch = aarch64' '[rootfs]' 'source = buildroot:images' \
  '[kernel]' 'release = 1' '[boot]' 'loader = none'
want notext2 "rootfs.ext2: not an ext2/3/4 filesystem image" \
  -- $MKVMIMG build notext2.conf -o out.img

# Debian for another architecture: the architectures agree, and
# qemu-user-static with binfmt_misc are there (or the message says
# which is missing).
profile mismatch '[image]' 'arch = x86_64' '[rootfs]' 'source = debootstrap' \
  'architecture = arm64'
if command -v mmdebstrap >/dev/null; then
  want mismatch "mismatch.conf:5: \[rootfs\] architecture = arm64 does not match \[image\] arch = x86_64" \
    -- $MKVMIMG build mismatch.conf -o out.img
  foreign=aarch64 qemu_user=qemu-aarch64-static
  [ "$(uname -m)" = aarch64 ] && foreign=x86_64 qemu_user=qemu-x86_64-static
  binfmt=/proc/sys/fs/binfmt_misc
  if ! [ -x /usr/bin/$qemu_user ]; then
    expected="needs /usr/bin/$qemu_user: install Debian's qemu-user-static and binfmt-support"
  elif ! [ -e $binfmt/status ]; then
    expected="binfmt_misc is not mounted"
  elif ! [ -e $binfmt/${qemu_user%-static} ]; then
    expected="is not registered with binfmt_misc"
  else
    expected=""                 # all there: the bootstrap would run
  fi
  if [ -n "$expected" ]; then
    profile foreign '[image]' "arch = $foreign" '[rootfs]' 'source = debootstrap'
    want foreign "\[rootfs\] source = debootstrap for $foreign .*$expected" \
      -- $MKVMIMG build foreign.conf -o out.img
  fi
fi

# A hand-written machine file: the arch brings its defaults (no BIOS on
# aarch64: UEFI with AAVMF; vexpress-a9: no NIC, an SD card), and what
# the board cannot do is refused before QEMU starts.
printf '[machine]\narch = aarch64\ndisk = none\n' > a64.machine
$MKVMIMG boot a64.machine --print-command > a64.cmd ||
  fail "print-command of an aarch64 machine"
for w in "qemu-system-aarch64 " "-machine virt " "-cpu cortex-a57 " \
         "/usr/share/AAVMF/AAVMF_CODE.fd" "virtio-net-pci"; do
  grep -qF -- "$w" a64.cmd || fail "aarch64 machine: no '$w' in $(cat a64.cmd)"
done
grep -qF -- "-vga" a64.cmd && fail "aarch64 virt got a VGA: $(cat a64.cmd)"
printf '[machine]\narch = aarch64\nfirmware = bios\ndisk = none\n' > a64bios.machine
want a64bios "a64bios.machine: aarch64 has no BIOS firmware" \
  -- $MKVMIMG boot a64bios.machine --print-command
printf '[machine]\narch = armhf\ntype = vexpress-a9\nfirmware = direct\nkernel = kernel\ndtb = kernel\nmemory = 128M\n' > vexpress.machine
echo > vexpress.img
$MKVMIMG boot vexpress.img --machine vexpress.machine --print-command > vexpress.cmd ||
  fail "print-command of a vexpress-a9 machine"
for w in "qemu-system-arm " "-machine vexpress-a9 " "-dtb " "if=sd" "-m 128M"; do
  grep -qF -- "$w" vexpress.cmd || fail "vexpress-a9: no '$w' in $(cat vexpress.cmd)"
done
for w in "-netdev" "-cpu" "-vga" "virtio"; do
  grep -qF -- "$w" vexpress.cmd && fail "vexpress-a9: '$w' in $(cat vexpress.cmd)"
done
rm vexpress.img
printf '[machine]\narch = armhf\ntype = vexpress-a9\nfirmware = direct\nkernel = kernel\ndtb = kernel\nnic = virtio\ndisk = none\n' > vexnic.machine
want vexnic "vexnic.machine: machine type vexpress-a9 has no PCI bus for a virtio NIC: use nic = none" \
  -- $MKVMIMG boot vexnic.machine --print-command
