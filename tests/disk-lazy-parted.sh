#!/bin/sh
# libparted is loaded only by the commands that partition: its library
# constructor runs "sh -c dmidecode ..." in every process that has it
# loaded.  A dmidecode first on PATH records each start.
. "$top_srcdir/tests/functions.sh"
T="$top_builddir/tests/test-disk"

mkdir "$tmp/bin" "$tmp/root"
cat > "$tmp/bin/dmidecode" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/dmidecode.calls"
exit 1
EOF
chmod +x "$tmp/bin/dmidecode"
PATH="$tmp/bin:$PATH"
export PATH

echo hello > "$tmp/root/hello"
$MKVMIMG initramfs create -o "$tmp/small.img" "$tmp/root"
$MKVMIMG initramfs list "$tmp/small.img" >/dev/null
$MKVMIMG --help >/dev/null
if [ -e "$tmp/dmidecode.calls" ]; then
  cat "$tmp/dmidecode.calls"
  fail "libparted was loaded by commands that do not partition"
fi

# Writing a partition table does load it (so the check above can see it).
$T layout "$tmp/disk.img" gpt root:0 --size 8M >/dev/null
[ -s "$tmp/dmidecode.calls" ] ||
  fail "partitioning did not load libparted (no dmidecode call seen)"
echo "dmidecode calls while partitioning: $(wc -l < "$tmp/dmidecode.calls")"
