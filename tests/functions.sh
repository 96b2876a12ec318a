# Shared by the shell tests: source it first.
#   requires CMD...      skip (exit 77) if a program is missing
#   cleanup_fn CMD       run CMD (a function) when the test exits
#   fail MSG             print and exit 1
#   expect_fail CMD...   the command must exit non-zero
#   tmp                  a private directory for this test, removed on exit
set -e
set -u

: "${MKVMIMG:?run tests through make check}"
: "${top_srcdir:?}"

fail ()
{
  echo "FAIL: $*" >&2
  exit 1
}

requires ()
{
  for cmd; do
    if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/sbin/$cmd" ]; then
      echo "SKIP: $cmd is not installed (run setup.sh)" >&2
      exit 77
    fi
  done
}

_cleanup_fns=""
cleanup_fn ()
{
  _cleanup_fns="$1 $_cleanup_fns"
}

_run_cleanups ()
{
  rc=$?
  set +e
  for fn in $_cleanup_fns; do
    "$fn"
  done
  exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

expect_fail ()
{
  set +e
  "$@"
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    fail "expected failure: $*"
  fi
  return 0
}

PATH="$PATH:/usr/sbin:/sbin"
export PATH

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/mkvmimg-test.XXXXXX")
_rm_tmp ()
{
  chmod -R u+w "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
cleanup_fn _rm_tmp

# The kernel and initrd that Debian's linux-image-amd64 installed (setup.sh).
debian_kernel ()
{
  ls -1v /boot/vmlinuz-*-amd64 2>/dev/null | tail -n 1
}
debian_initrd ()
{
  k=$(debian_kernel)
  [ -n "$k" ] && echo "/boot/initrd.img-${k#/boot/vmlinuz-}"
}

# A minimal root filesystem tree in DIR: busybox-static, and an init
# that prints the kernel command line, fstab and then MARKER (boot --expect
# stops at the marker), then powers off.
make_marker_root ()
{
  dir=$1 marker=$2
  mkdir -p "$dir/bin" "$dir/sbin" "$dir/etc" "$dir/dev" "$dir/proc" \
    "$dir/sys" "$dir/run" "$dir/tmp" "$dir/boot"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in sh mount cat echo poweroff sleep ls; do
    ln -sf busybox "$dir/bin/$applet"
  done
  cat > "$dir/sbin/init" <<EOS
#!/bin/sh
mount -t proc proc /proc
echo "cmdline: \$(cat /proc/cmdline)"
cat /etc/fstab
echo "$marker"
poweroff -f
EOS
  chmod 0755 "$dir/sbin/init"
}

# Boot an image and wait for a regex on its console (TCG: be patient).
boot_expect ()
{
  img=$1 regex=$2
  shift 2
  timeout 400 $MKVMIMG boot "$img" --expect "$regex" --timeout 360 \
    --console "$tmp/console.log" "$@" >/dev/null || {
    echo "--- console (last 40 lines)"; tail -n 40 "$tmp/console.log"
    fail "boot of $img did not print '$regex'"
  }
}

# The start sector of the partition named NAME (GPT) or numbered NAME
# (msdos) in a raw disk image.
partition_start ()
{
  sfdisk -d "$1" | awk -v n="$2" '
    /^\// && (index($0, "name=\"" n "\"") || $1 ~ ("[^0-9]" n "$")) {
      sub(/.*start= */, ""); sub(/,.*/, ""); print; exit }'
}

# Extract a partition of a raw disk image to a file.
extract_partition ()
{
  start=$(partition_start "$1" "$2")
  [ -n "$start" ] || { sfdisk -d "$1" >&2; fail "no partition $2 in $1"; }
  dd if="$1" of="$3" bs=512 skip="$start" status=none
}
