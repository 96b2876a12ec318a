#!/bin/sh
# mkvmimg inspect on every kind of image the build makes (BIOS/GPT,
# hybrid BIOS+UEFI, msdos with swap and data, direct kernel boot, the
# default profile) matches what the profile asked for: golden JSON with
# UUIDs, releases and content sizes masked, and the partitions and
# filesystems agree with sfdisk and blkid.  The image is not changed.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img jq sfdisk blkid make depmod

make_marker_root "$tmp/root" MKVMIMG-INSPECT
cd "$tmp"

profile ()
{
  name=$1 loader=$2 table=$3 format=$4
  cat > "$name.conf" <<EOS
[image]
table = $table
format = $format
seed = inspect-$name
[rootfs]
source = dir:$tmp/root
EOS
  case $loader in
    bios|hybrid) [ "$table" = gpt ] && printf '[partition bios]\nsize = 1M\n' >> "$name.conf" ;;
  esac
  [ "$loader" = hybrid ] && printf '[partition esp]\nsize = 32M\n' >> "$name.conf"
  printf '[partition root]\nsize = 96M\n' >> "$name.conf"
  if [ "$name" = msdos ]; then
    printf '[partition swap]\nsize = 16M\n[partition data]\nsize = 16M\nmount = /srv/data\n' >> "$name.conf"
  fi
  cat >> "$name.conf" <<EOS
[kernel]
image = host
initrd = host
cmdline = console=ttyS0,115200 inspect.$name
[boot]
loader = $loader
EOS
  $MKVMIMG -q build "$name.conf" -o "$name.img"
}

profile bios bios gpt raw
profile hybrid hybrid gpt qcow2
profile msdos bios msdos raw
profile direct none gpt qcow2
$MKVMIMG -q build -o default.qcow2

: > inspect.out
for img in bios hybrid msdos direct default; do
  f=$img.img; [ -f "$f" ] || f=$img.qcow2
  sum=$(sha256sum < "$f")
  $MKVMIMG inspect --json "$f" > "$img.json"
  [ "$(sha256sum < "$f")" = "$sum" ] || fail "inspect changed $f"
  loose=0; [ "$img" = default ] && loose=1
  echo "== $img" >> inspect.out
  jq -S --arg loose $loose -f "$top_srcdir/tests/inspect-mask.jq" "$img.json" >> inspect.out
  # The text form has the same facts.
  $MKVMIMG inspect "$f" > "$img.txt"
  grep -q "^  format: " "$img.txt" || fail "text output of $f"
done
diff -u "$top_srcdir/tests/inspect-built.expected" inspect.out ||
  fail "inspect output differs from tests/inspect-built.expected"

# Independent checks: the partition table as sfdisk reads it, the
# filesystems as blkid reads them.
for img in bios msdos; do
  sfdisk -J "$img.img" | jq -c '[.partitiontable.partitions[] |
    {start: (.start * 512), size: (.size * 512)}]' > sfdisk.parts
  jq -c '[.partitions[] | {start, size}]' "$img.json" > inspect.parts
  cmp -s sfdisk.parts inspect.parts || { cat sfdisk.parts inspect.parts; fail "$img: partitions differ from sfdisk"; }
  n=0
  for p in $(jq -r '.partitions[] | "\(.number):\(.start)"' "$img.json"); do
    num=${p%%:*} start=${p#*:}
    t=$(jq -r ".partitions[] | select(.number == $num) | .filesystem.type // \"\"" "$img.json")
    [ -n "$t" ] || continue
    u=$(jq -r ".partitions[] | select(.number == $num) | .filesystem.uuid" "$img.json")
    dd if="$img.img" of=part bs=1M iflag=skip_bytes skip="$start" count=1 status=none
    [ "$(blkid -p -o value -s TYPE part)" = "$t" ] || fail "$img partition $num: type $t, blkid says otherwise"
    [ "$(blkid -p -o value -s UUID part)" = "$u" ] || fail "$img partition $num: UUID $u, blkid says otherwise"
    n=$((n + 1))
  done
  [ $n -ge 1 ] || fail "$img: no filesystem checked"
done
# GPT partition UUIDs and names as sfdisk reads them.
sfdisk -J bios.img | jq -c '[.partitiontable.partitions[] | {uuid, name}]' > sfdisk.ids
jq -c '[.partitions[] | {uuid, name}]' bios.json > inspect.ids
cmp -s sfdisk.ids inspect.ids || { cat sfdisk.ids inspect.ids; fail "GPT UUIDs and names differ from sfdisk"; }
# The kernel command line is what the profile asked.
jq -r .system.grub_cfg.cmdline bios.json | grep -q 'ro console=ttyS0,115200 inspect.bios$' || fail "grub cmdline"
jq -r .machine.cmdline direct.json | grep -q 'inspect.direct$' || fail "machine cmdline"
# The default profile: the edu driver in updates/, loaded at boot.
[ "$(jq -r '.system.modules[0].updates[0]' default.json)" = edu.ko ] || fail "edu.ko not found"
[ "$(jq -r '.system.modules_load[0]' default.json)" = edu ] || fail "edu not loaded at boot"
echo OK
