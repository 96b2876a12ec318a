# Shared by the tests that put make-test-archive's "full" archive into
# ext4 (tests/ext4-roundtrip.sh through the sink, tests/build-roundtrip.sh
# through mkvmimg build): read the filesystem $fs back with debugfs and
# compare every kind of entry with the archive $tmp/full.tar.

check_full_tree ()
{
  dbg () { debugfs -R "$1" "$fs" 2>/dev/null; }
  st () { dbg "stat $1" > "$tmp/stat"; }
  has () { grep -qF -- "$1" "$tmp/stat" || { cat "$tmp/stat"; fail "$2: no '$1'"; }; }
  same_data () {
    dbg "dump $1 $tmp/dumped"
    a=$(sha256sum < "$tmp/dumped")
    b=$($mta --cat "$tmp/full.tar" "${1#/}" | sha256sum)
    [ "$a" = "$b" ] || fail "$1: contents differ"
  }

  # Root: the "." entry's metadata.
  st /
  has "mtime: 0x499602d2:eb79a2c4" "root mtime"
  has "Mode:  0755" "root mode"
  dbg "ls /" | grep -q "lost+found" || fail "lost+found is gone"

  # Regular files, empty file, contents.
  [ "$(dbg 'cat /etc/hello.txt')" = "hello world" ] || fail "hello.txt"
  st /empty;       has "Size: 0" empty; has "Mode:  0600" empty
  same_data /big.bin
  same_data /usr/bin/ping

  # Sparse: 3 data ranges in 64 MiB; 5 blocks (40 sectors) allocated.
  same_data /sparse.img
  st /sparse.img;  has "Size: 67108881" sparse; has "Blockcount: 40" sparse

  # Directories with setgid and sticky bits.
  st /dir-sgid;    has "Mode:  02775" setgid
  st /tmp;         has "Mode:  01777" sticky

  # Symlinks: fast (in the inode) and slow (a block).
  st /link-short;  has 'Fast link dest: "etc/hello.txt"' "fast symlink"
  st /link-long;   has "Type: symlink" "slow symlink"; has "Size: 100" "slow symlink"
  [ "$(dbg 'cat /link-long')" = "/$(printf 'L%.0s' $(seq 99))" ] ||
    fail "slow symlink target"

  # Hard link: the same inode, two links.
  st /etc/hello.txt; i1=$(sed -n 's/^Inode: \([0-9]*\).*/\1/p' "$tmp/stat")
  has "Links: 2" "hardlink count"
  st /hardlink;    i2=$(sed -n 's/^Inode: \([0-9]*\).*/\1/p' "$tmp/stat")
  [ -n "$i1" ] && [ "$i1" = "$i2" ] || fail "hardlink: inodes $i1 and $i2"

  # Device nodes, fifo.
  st /dev/null;    has "Type: character special" null; has "Device major/minor number: 01:03" null
  has "Mode:  0666" null
  st /dev/sda;     has "Type: block special" sda; has "Device major/minor number: 08:00" sda
  has "Group:     6" sda
  st /dev/big;     has "(New-style) Device major/minor number: 300:70000" "big dev"
  st /fifo;        has "Type: FIFO" fifo

  # Owners (debugfs prints 32-bit ids signed: 4000000000 is -294967296).
  st /own/u1000;   has "User:  1000   Group:  1000" u1000; has "Mode:  0640" u1000
  st /own/nobody;  has "User: 65534   Group: 65534" nobody
  st /own/big;     has "User: -294967296   Group:     5" "32-bit uid"

  # setuid, file capability (the bytes setcap writes), user.* and trusted.*.
  st /usr/bin/suid; has "Mode:  04755" setuid
  dbg "ea_list /usr/bin/ping" > "$tmp/stat"
  has "security.capability (20) = 01 00 00 02 00 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00" capability
  has 'user.test (5) = "hello"' user.test
  has 'trusted.foo (3) = "bar"' trusted.foo

  # Times: nanoseconds, atime and ctime of their own, after 2038.
  st /times/ns
  has "mtime: 0x6553f100:1d6f3454" "mtime ns"
  has "atime: 0x5f5e1000:77359400" "atime ns"
  has "ctime: 0x62590080:00000004" "ctime ns"
  st /times/y2100
  has "mtime: 0xf4865700:1d6f3455 -- Fri Jan  1 00:00:00 2100" "post-2038 mtime"

  # Long and non-UTF-8 names.
  long=$(printf 'n%.0s' $(seq 255))
  [ "$(dbg "cat /names/$long")" = "long name" ] || fail "255-byte name"
  [ "$(dbg "cat /names/bad-$(printf '\377\376')")" = "not utf-8" ] ||
    fail "non-UTF-8 name"

  # Deep nesting; parents that no entry describes (0755 root).
  [ "$(dbg 'cat /deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/a/b/c/d/e/f/g/h/i/j/k/l/m/n/leaf')" = deep ] ||
    fail "deep file"
  [ "$(dbg 'cat /implicit/x/y/file')" = "implicit parents" ] || fail "implicit"
  st /implicit/x;  has "Mode:  0755" implicit; has "User:     0   Group:     0" implicit
}
