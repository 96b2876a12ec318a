#!/bin/sh
# SIGINT (to the whole job) and SIGTERM (to mkvmimg) during "initramfs
# patch" of a large image: while the rewritten segment streams into xz,
# and while the compressor is starting; to a new output and in place
# (-o IMAGE --force).  The original is byte-identical afterwards, no
# temporary file is left beside it or in $TMPDIR, no process is left.
. "$top_srcdir/tests/functions.sh"
. "$top_srcdir/tests/fault-lib.sh"
requires xz zstd setsid pgrep cmp

hold_tools zstd

mkdir "$tmp/img" "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR
head -c 24M /dev/urandom > "$tmp/random"
printf 'dir /etc 0755 0 0\nfile /etc/random %s 0644 0 0\n' "$tmp/random" \
  > "$tmp/spec"
$MKVMIMG initramfs create -q --spec "$tmp/spec" --compress=none \
  -o "$tmp/orig.img"
rm "$tmp/random"
echo hello > "$tmp/hello"

# patch_case WHAT SIG IN-PLACE HOLD COMPRESS
patch_case ()
{
  what="$1, SIG$2"
  cp "$tmp/orig.img" "$tmp/img/initrd.img"
  if [ "$3" = yes ]; then
    dest=$tmp/img/initrd.img force=--force
    what="$what, in place"
  else
    dest=$tmp/img/new.img force=""
  fi
  start_bg env FAULT_HOLD="$4" $MKVMIMG initramfs patch \
    "$tmp/img/initrd.img" --add "$tmp/hello:/etc/hello" --compress="$5" \
    -o "$dest" $force
}

finish_case ()
{
  case $1 in
    INT) kill -INT -"$bg_pid"; want=130 ;;
    TERM) kill -TERM "$bg_pid"; want=143 ;;
  esac
  bg_finish
  if [ "$bg_rc" -ne "$want" ]; then
    cat "$tmp/bg.log" >&2
    fail "$what: exit status $bg_rc, expected $want"
  fi
  assert_no_procs "$what"
  cmp "$tmp/orig.img" "$tmp/img/initrd.img" ||
    fail "$what: the original initramfs was changed"
  rm "$tmp/img/initrd.img"
  assert_empty_dir "$tmp/img" "$what"
  assert_empty_dir "$tmp/t" "$what (TMPDIR)"
  echo "ok: $what"
}

for sig in INT TERM; do
  for inplace in no yes; do
    # Streaming into xz: 24 MiB of random data take it seconds.
    patch_case "writing the xz segment" $sig $inplace "" xz
    wait_for_line 'rewriting the last'
    sleep 0.3
    kill -0 "$bg_pid" 2>/dev/null ||
      fail "$what: the patch finished before the signal"
    finish_case $sig

    # zstd started, not reading yet.
    patch_case "zstd starting" $sig $inplace zstd zstd
    wait_for_file "$tmp/held"
    finish_case $sig
  done
done
echo OK
