# Sourced by the boot-script, run-* and net-* tests after functions.sh:
# tiny direct-kernel VMs with a network card.
#
#   net_initramfs DIR INIT-BODY   DIR/initrd.gz: busybox, the virtio_net
#                                 module and its dependencies from the
#                                 host's /lib/modules (loaded in order),
#                                 and an /init running INIT-BODY with the
#                                 console on /dev/console
#   net_machine FILE INITRD [KEY=VALUE...]  a direct-kernel machine file
#   qemus                         pids of qemu processes naming $tmp/
#   no_qemu_left WHAT             fail if one is still there after 5 s

kernel=$(debian_kernel)
[ -n "$kernel" ] && [ -r "$kernel" ] || fail "no readable Debian kernel in /boot (setup.sh)"
[ -x /bin/busybox ] || fail "/bin/busybox missing (busybox-static, setup.sh)"
kver=${kernel#/boot/vmlinuz-}

# The modules MODULE needs, dependencies first, one path a line.
_net_modules ()
{
  for dep in $(modinfo -k "$kver" -F depends "$1" | tr ',' ' '); do
    _net_modules "$dep"
  done
  modinfo -k "$kver" -n "$1"
}

net_initramfs ()
{
  d=$1
  mkdir -p "$d/root/bin" "$d/root/dev" "$d/root/proc" "$d/root/sys" \
    "$d/root/lib/modules" "$d/root/www" "$d/root/tmp"
  cp /bin/busybox "$d/root/bin/busybox"
  : > "$d/root/modules"
  # virtio_pci provides the bus; virtio_net and its dependencies the NIC.
  for m in $(_net_modules virtio_pci) $(_net_modules virtio_net); do
    base=$(basename "$m")
    grep -qx "$base" "$d/root/modules" && continue
    case $m in
      *.ko) cp "$m" "$d/root/lib/modules/$base" ;;
      *.ko.xz) xz -dc "$m" > "$d/root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
      *.ko.zst) zstd -qdc "$m" > "$d/root/lib/modules/${base%.zst}"; base=${base%.zst} ;;
      *) fail "unexpected module file $m" ;;
    esac
    echo "$base" >> "$d/root/modules"
  done
  {
    echo '#!/bin/busybox sh'
    echo '/bin/busybox --install -s /bin'
    echo 'export PATH=/bin'
    echo 'mount -t devtmpfs devtmpfs /dev'
    echo 'mount -t proc proc /proc'
    echo 'mount -t sysfs sysfs /sys'
    echo 'exec </dev/console >/dev/console 2>&1'
    echo 'for m in $(cat /modules); do insmod /lib/modules/$m; done'
    echo "$2"
  } > "$d/root/init"
  chmod 755 "$d/root/init"
  (cd "$d/root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$d/initrd.gz"
}

# net_machine FILE INITRD [LINE...]: extra lines go into [machine].
net_machine ()
{
  f=$1 initrd=$2
  shift 2
  {
    echo '[machine]'
    echo 'firmware = direct'
    echo "kernel = $kernel"
    echo "initrd = $initrd"
    echo 'cmdline = console=ttyS0 panic=-1 quiet'
    echo 'memory = 256M'
    echo 'cpus = 1'
    echo 'disk = none'
    for line; do
      echo "$line"
    done
  } > "$f"
}

qemus ()
{
  pgrep -f "qemu-system-x86_64 .*$tmp/" || true
}
_kill_qemus ()
{
  for pid in $(qemus); do
    kill -9 "$pid" 2>/dev/null
  done
}
cleanup_fn _kill_qemus
no_qemu_left ()
{
  for i in 1 2 3 4 5; do
    [ -z "$(qemus)" ] && return 0
    sleep 1
  done
  fail "$1: qemu left running: $(qemus)"
}
