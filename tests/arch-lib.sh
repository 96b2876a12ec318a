# Shared by the foreign-architecture tests (tests/arch-*.sh): source it
# after functions.sh.
#   foreign DEBIAN-ARCH PACKAGE   the unpacked package (fetch-foreign.sh),
#                                 from a cache shared by the tests
#   foreign_kernel DIR            /boot/vmlinuz-* of an unpacked kernel
#   trim_modules DIR DEST MOD...  DEST/lib/modules/REL with only MODs and
#                                 what they depend on, and its modules.dep
#   make_foreign_root DIR MARKER BUSYBOX
#                                 make_marker_root with another busybox

# Downloads land in the build tree, once per CI run.
foreign_cache=${MKVMIMG_FOREIGN_CACHE:-$top_builddir/tests/foreign-cache}

foreign ()
{
  "$top_srcdir/tests/fetch-foreign.sh" "$foreign_cache" "$1" "$2" ||
    fail "cannot fetch $2 for $1 from the Debian mirror"
}

foreign_kernel ()
{
  k=$(ls -1v "$1"/boot/vmlinuz-* 2>/dev/null | tail -n 1)
  [ -n "$k" ] || fail "no /boot/vmlinuz-* in $1"
  echo "$k"
}

trim_modules ()
{
  src=$1 dest=$2
  shift 2
  rel=$(ls "$src/lib/modules")
  modprobe -d "$src" -S "$rel" -a --show-depends "$@" > "$tmp/trim.deps" ||
    fail "modules $* not in $src"
  mkdir -p "$dest/lib/modules/$rel"
  awk '$1 == "insmod" { print $2 }' "$tmp/trim.deps" | while read -r ko; do
    rel_path=${ko#"$src/lib/modules/$rel/"}
    mkdir -p "$dest/lib/modules/$rel/${rel_path%/*}"
    cp "$ko" "$dest/lib/modules/$rel/$rel_path"
  done
  cp "$src/lib/modules/$rel/modules.builtin" \
    "$src/lib/modules/$rel/modules.builtin.modinfo" \
    "$src/lib/modules/$rel/modules.order" "$dest/lib/modules/$rel/"
  /sbin/depmod -b "$dest" "$rel"
}

make_foreign_root ()
{
  dir=$1 marker=$2 busybox=$3
  make_marker_root "$dir" "$marker"
  cp "$busybox" "$dir/bin/busybox"
  # The marker line also says which machine the guest is.
  sed -i "s|^echo \"$marker\"|echo \"$marker \$(uname -m)\"|" "$dir/sbin/init"
  ln -sf busybox "$dir/bin/uname"
}
