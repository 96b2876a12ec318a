#!/bin/sh
# The profile defaults that follow [image] arch and [machine] type come
# from the architecture table: "profile check" prints them resolved.
. "$top_srcdir/tests/functions.sh"

mkdir "$tmp/root"
# check ARCH [TYPE] -- KEY=VALUE...: each key of the resolved profile.
check ()
{
  arch=$1 type=$2
  shift 3
  {
    printf '[image]\narch = %s\n[rootfs]\nsource = dir:root\n' "$arch"
    [ -z "$type" ] || printf '[machine]\ntype = %s\n' "$type"
  } > "$tmp/p.conf"
  $MKVMIMG profile check "$tmp/p.conf" > "$tmp/resolved" ||
    fail "profile check for $arch $type"
  for kv; do
    grep -qxF "${kv%%=*} = ${kv#*=}" "$tmp/resolved" ||
      fail "$arch $type: no '${kv%%=*} = ${kv#*=}' in: $(cat "$tmp/resolved")"
  done
}

check x86_64 "" -- architecture=amd64 qemu=qemu-system-x86_64 type=q35 \
  loader=hybrid disk=virtio nic=virtio serial-console=ttyS0 \
  "cmdline=console=tty0 console=ttyS0,115200"
check aarch64 "" -- architecture=arm64 qemu=qemu-system-aarch64 type=virt \
  loader=uefi disk=virtio nic=virtio serial-console=ttyAMA0 \
  "cmdline=console=ttyAMA0,115200"
check armhf "" -- architecture=armhf qemu=qemu-system-arm type=virt \
  loader=uefi disk=virtio serial-console=ttyAMA0
check armhf vexpress-a9 -- loader=none disk=sd nic=none \
  qemu=qemu-system-arm
# Other names of the same architectures are not profile values.
printf '[image]\narch = arm64\n[rootfs]\nsource = dir:root\n' > "$tmp/arm64.conf"
expect_fail $MKVMIMG profile check "$tmp/arm64.conf" 2> "$tmp/err" >/dev/null
grep -q "'arm64' is not one of: x86_64,aarch64,armhf" "$tmp/err" ||
  fail "arch = arm64: $(cat "$tmp/err")"
