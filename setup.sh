#!/bin/sh
# Install every build and run-time dependency of mkvmimg from Debian 12
# packages.  Idempotent; run as root (or through sudo) on a fresh machine.
set -e

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi

PACKAGES="
  build-essential autoconf automake libtool pkg-config gettext
  libarchive-dev libpopt-dev libnbd-dev libparted-dev e2fslibs-dev
  libext2fs-dev libcrypt-dev libkmod-dev libguestfs-dev
  qemu-utils qemu-system-x86 ovmf grub-pc-bin grub-efi-amd64-bin grub-common
  mtools dosfstools e2fsprogs fdisk parted
  gdisk
  procps time
  zlib1g-dev liblzma-dev libbz2-dev
  debootstrap mmdebstrap busybox-static
  openssh-client
  linux-image-amd64 linux-headers-amd64 kmod
  zstd xz-utils lz4 lzop bzip2 gzip cpio
  nbd-client nbdkit socat expect jq file
  clang libclang-rt-14-dev valgrind
  qemu-system-arm qemu-efi-aarch64 qemu-efi-arm
  vde2 libvirt-clients libxml2-utils gdb
"

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $PACKAGES

# Debian's kernel images are 0600: mkvmimg's tests read them as an
# unprivileged user too, as a developer in the kvm group would.
for k in /boot/vmlinuz-*; do
  [ -f "$k" ] && $SUDO chmod 0644 "$k"
done
exit 0
