#!/bin/sh
# GRUB really boots: disks assembled with standard tools (sfdisk, mke2fs
# -d, mkfs.fat, mtools), GRUB put in place by grub_install_bios,
# grub_make_efi and grub_rootfs_entries (through tests/test-grub), then
# booted under QEMU (TCG):
#   1. SeaBIOS, GPT disk (BIOS boot partition + ESP + root)
#   2. OVMF, the same hybrid GPT disk
#   3. SeaBIOS, msdos disk (root only, core.img in the gap after the MBR)
# Each boot must show GRUB's menu on the serial console and reach the
# root filesystem's /sbin/init, which prints a marker and powers off.
. "$top_srcdir/tests/functions.sh"

requires qemu-system-x86_64 sfdisk mke2fs mkfs.fat mmd mcopy mdir \
  grub-mkimage timeout
test_grub="$top_builddir/tests/test-grub"
[ -x "$test_grub" ] || fail "$test_grub is not built"
busybox=/bin/busybox
[ -x "$busybox" ] || fail "$busybox is missing (busybox-static)"
kernel=$(debian_kernel)
initrd=$(debian_initrd)
[ -r "$kernel" ] && [ -r "$initrd" ] || fail "no Debian kernel and initrd in /boot"
kver=${kernel#/boot/vmlinuz-}
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -r "$ovmf_code" ] && [ -r "$ovmf_vars" ] || fail "OVMF (4M) is missing"

title="mkvmimg Linux $kver"
cmdline="console=tty0 console=ttyS0,115200 panic=-1 no_timer_check noresume"

# make_root DIR TARGETS UUID MARKER: a busybox root with the Debian
# kernel and initrd, and GRUB's entries for TARGETS.
make_root ()
{
  d=$1
  mkdir -p "$d/bin" "$d/sbin" "$d/proc" "$d/sys" "$d/dev" "$d/run" \
    "$d/tmp" "$d/etc" "$d/boot"
  cp "$busybox" "$d/bin/busybox"
  ln -s busybox "$d/bin/sh"
  cat > "$d/sbin/init" <<INIT
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "$4" > /dev/console
/bin/busybox poweroff -f
INIT
  chmod 0755 "$d/sbin/init"
  cp "$kernel" "$d/boot/vmlinuz-$kver"
  cp "$initrd" "$d/boot/initrd.img-$kver"
  "$test_grub" entries "$tmp/entries.tar" "$2" "$3" \
    "/boot/vmlinuz-$kver" "/boot/initrd.img-$kver" "$cmdline" 2
  tar -C "$d" -xf "$tmp/entries.tar"
  [ -s "$d/boot/grub/grub.cfg" ] || fail "no grub.cfg in the entries"
}

# boot NAME IMAGE MARKER [QEMU ARGS...]
boot ()
{
  name=$1 image=$2 marker=$3
  shift 3
  log="$tmp/$name.console"
  : > "$log"
  start=$(date +%s)
  set +e
  timeout 300 qemu-system-x86_64 -accel tcg -m 1024 -no-reboot \
    -display none -monitor none -serial "file:$log" \
    -drive "file=$image,format=raw,if=virtio" "$@" \
    < /dev/null > "$tmp/$name.qemu" 2>&1
  rc=$?
  set -e
  end=$(date +%s)
  echo "$name: qemu exited with status $rc after $((end - start)) s"
  if ! grep -q "$marker" "$log"; then
    echo "--- $name: last 40 lines of the console ---"
    tail -n 40 "$log" | tr -d '\033'
    echo "--- $name: qemu said ---"
    cat "$tmp/$name.qemu"
    fail "$name: the guest did not print $marker"
  fi
  grep -q "$title" "$log" || fail "$name: GRUB's menu entry '$title' was not on the serial console"
  if grep -a "error: " "$log" | grep -v "^\[ *[0-9.]*\]"; then
    fail "$name: GRUB reported an error"
  fi
  grep -q "Command line: .*root=UUID=$uuid ro console=tty0 console=ttyS0,115200" "$log" ||
    fail "$name: the kernel command line is not the one from grub.cfg"
  # Evidence in the test log: the menu, the command line, the marker.
  grep -a -o "$title" "$log" | head -n 1 | sed "s/^/$name: menu: /"
  grep -a -m 1 "Command line: " "$log" | tr -d '\r' | sed "s/^/$name: /"
  grep -a -m 1 "$marker" "$log" | tr -d '\r' | sed "s/^/$name: init: /"
  echo "$name: booted in $((end - start)) s (TCG)"
}

root_sectors=409600             # 200 MiB

# --- GPT, hybrid: BIOS boot 1 MiB, ESP 64 MiB, root ---------------------
uuid=3c0d8a56-7b1e-4f4e-9a53-6d1b0a9e2c71
gpt="$tmp/gpt.raw"
truncate -s 300M "$gpt"
sfdisk -q "$gpt" <<SFDISK
label: gpt
unit: sectors
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=4096, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=135168, size=$root_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
SFDISK
make_root "$tmp/root-gpt" hybrid "$uuid" MKVMIMG-GRUB-BOOT-OK
[ -d "$tmp/root-gpt/boot/grub/i386-pc" ] && [ -d "$tmp/root-gpt/boot/grub/x86_64-efi" ] ||
  fail "hybrid entries lack a module directory"
mke2fs -q -F -t ext4 -b 4096 -E offset=$((135168 * 512)),root_owner=0:0 -U "$uuid" \
  -d "$tmp/root-gpt" "$gpt" $((root_sectors / 8))
"$test_grub" efi "$tmp/bootx64.efi" "$uuid"
mkfs.fat --offset 4096 -n ESP "$gpt" 65536 > /dev/null
esp="$gpt@@$((4096 * 512))"
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$tmp/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mdir -i "$esp" ::/EFI/BOOT | grep -q BOOTX64 || fail "BOOTX64.EFI is not on the ESP"
sfdisk -d "$gpt" > "$tmp/gpt.before"
"$test_grub" bios "$gpt" gpt $((2048 * 512)) $((2048 * 512)) "$uuid"
sfdisk -d "$gpt" > "$tmp/gpt.after"
cmp "$tmp/gpt.before" "$tmp/gpt.after" || fail "the GPT changed"

boot bios-gpt "$gpt" MKVMIMG-GRUB-BOOT-OK
if grep -q "efi: EFI v" "$tmp/bios-gpt.console"; then
  fail "bios-gpt: booted through EFI"
fi

cp "$ovmf_vars" "$tmp/ovmf-vars.fd"
boot uefi-gpt "$gpt" MKVMIMG-GRUB-BOOT-OK \
  -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code" \
  -drive "if=pflash,format=raw,file=$tmp/ovmf-vars.fd"
grep -q "efi: EFI v" "$tmp/uefi-gpt.console" || fail "uefi-gpt: the kernel did not see EFI"

# --- msdos: root only, from 1 MiB; core.img in sectors 1..2047 ----------
uuid=9f4e2b17-0c3a-4d88-b6e5-1a7c2d9e8f30
dos="$tmp/msdos.raw"
truncate -s 256M "$dos"
sfdisk -q "$dos" <<SFDISK
label: dos
label-id: 0x4d4b5649
unit: sectors
start=2048, size=$root_sectors, type=83, bootable
SFDISK
make_root "$tmp/root-msdos" bios "$uuid" MKVMIMG-GRUB-BOOT-OK
[ -d "$tmp/root-msdos/boot/grub/i386-pc" ] || fail "bios entries lack i386-pc"
[ ! -d "$tmp/root-msdos/boot/grub/x86_64-efi" ] || fail "bios entries hold x86_64-efi"
# core.img carries every module grub.cfg needs: the module directory is
# a bonus, so boot this one without it.
rm -r "$tmp/root-msdos/boot/grub/i386-pc"
mke2fs -q -F -t ext4 -b 4096 -E offset=$((2048 * 512)),root_owner=0:0 -U "$uuid" \
  -d "$tmp/root-msdos" "$dos" $((root_sectors / 8))
sfdisk -d "$dos" > "$tmp/dos.before"
"$test_grub" bios "$dos" msdos 512 $((2047 * 512)) "$uuid"
sfdisk -d "$dos" > "$tmp/dos.after"
cmp "$tmp/dos.before" "$tmp/dos.after" || fail "the msdos partition table changed"

boot bios-msdos "$dos" MKVMIMG-GRUB-BOOT-OK
