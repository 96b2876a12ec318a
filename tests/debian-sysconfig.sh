#!/bin/sh
# System configuration of the entry stream ([system], [user], [file]):
# applied to a small tree, checked in the ext4 root with debugfs; root's
# password hashed from a file and never in the image in clear; host keys
# dropped; two builds with one seed and SOURCE_DATE_EPOCH are identical;
# bad password files fail with no output.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd debugfs perl

r=$tmp/root
mkdir -p "$r/etc/skel" "$r/etc/ssh" "$r/usr/sbin" "$r/lib/systemd" \
  "$r/var/lib/dbus" "$r/usr/share/zoneinfo/Europe" "$r/home" "$r/root" \
  "$r/etc/default" "$r/boot"
cat > "$r/etc/passwd" <<'EOS'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
EOS
cat > "$r/etc/shadow" <<'EOS'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
EOS
cat > "$r/etc/group" <<'EOS'
root:x:0:
daemon:x:1:
sudo:x:27:
users:x:100:
EOS
cat > "$r/etc/gshadow" <<'EOS'
root:*::
daemon:*::
sudo:*::
users:*::
EOS
chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
echo 'alias ll="ls -l"' > "$r/etc/skel/.bashrc"
echo 'old-host' > "$r/etc/hostname"
echo 0123456789abcdef0123456789abcdef > "$r/etc/machine-id"
cp "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
echo 'PRIVATE HOST KEY' > "$r/etc/ssh/ssh_host_ed25519_key"
echo 'ssh-ed25519 AAAA host' > "$r/etc/ssh/ssh_host_ed25519_key.pub"
echo 'sshd' > "$r/usr/sbin/sshd"
echo 'systemd' > "$r/lib/systemd/systemd"
echo 'TZif Paris' > "$r/usr/share/zoneinfo/Europe/Paris"

# A tarball (a directory source would carry the host's access times).
tar --sort=name --mtime=@1600000000 --numeric-owner --owner=0 --group=0 \
  -C "$r" -cf "$tmp/root.tar" .

printf 'Secret-Clear-Text-42\n' > "$tmp/root.pw"
printf 'alice-Clear-Text-43\n' > "$tmp/alice.pw"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRootKey root@test' > "$tmp/root.pub"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAliceKey alice@test' > "$tmp/alice.pub"
echo 'Welcome from a file' > "$tmp/issue.txt"

cat > "$tmp/sys.conf" <<EOS
[image]
format = raw
seed = sysconfig-test
[rootfs]
source = tar:$tmp/root.tar
[kernel]
image = host
[boot]
loader = none
[system]
hostname = testhost
root-password-file = root.pw
root-ssh-key = root.pub
timezone = Europe/Paris
locale = en_US.UTF-8
[user alice]
groups = sudo users
password-file = alice.pw
ssh-key = alice.pub
comment = Alice Example
[user bob]
shell = /bin/sh
[file /etc/motd]
content = Hello from mkvmimg
mode = 0600
owner = alice
[file /etc/issue]
source = issue.txt
[file /srv]
type = directory
mode = 0750
owner = bob:users
EOS
export SOURCE_DATE_EPOCH=1700000000
$MKVMIMG build "$tmp/sys.conf" -o "$tmp/a.img"
extract_partition "$tmp/a.img" root "$tmp/root.ext4"
e2fsck -fn "$tmp/root.ext4" >/dev/null || fail "e2fsck"

cat_ () { debugfs -R "cat $1" "$tmp/root.ext4" 2>/dev/null; }
stat_ () { debugfs -R "stat $1" "$tmp/root.ext4" 2>/dev/null; }
has () { debugfs -R "stat $1" "$tmp/root.ext4" 2>&1 | grep -q '^Inode:'; }
# "uid gid mode" of a path.
owner () {
  stat_ "$1" | awk '/^Inode:/ { mode = $6 }
    /^User:/ { print $2, $4, mode; exit }'
}

[ "$(cat_ /etc/hostname)" = testhost ] || fail "hostname"
cat_ /etc/hosts | grep -q '^127.0.1.1	testhost$' || fail "hosts"
[ -z "$(cat_ /etc/machine-id)" ] || fail "machine-id not empty"
stat_ /var/lib/dbus/machine-id | grep -q 'Fast link dest: "/etc/machine-id"' ||
  fail "dbus machine-id is not a link"
has /etc/ssh/ssh_host_ed25519_key && fail "host key baked in"
has /etc/ssh/ssh_host_ed25519_key.pub && fail "host public key baked in"
cat_ /etc/systemd/system/mkvmimg-ssh-keygen.service | grep -q 'ssh-keygen -A' ||
  fail "no ssh-keygen unit"
has /etc/systemd/system/ssh.service.wants/mkvmimg-ssh-keygen.service ||
  fail "ssh-keygen unit not enabled"
stat_ /etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service |
  grep -q 'serial-getty@.service' || fail "serial getty"
cat_ /etc/systemd/network/80-mkvmimg.network | grep -q '^DHCP=yes' ||
  fail "network"
has /etc/systemd/system/multi-user.target.wants/systemd-networkd.service ||
  fail "networkd not enabled"
stat_ /etc/systemd/system/systemd-firstboot.service |
  grep -q 'Fast link dest: "/dev/null"' || fail "systemd-firstboot not masked"
[ "$(cat_ /etc/timezone)" = Europe/Paris ] || fail "timezone"
stat_ /etc/localtime | grep -q '/usr/share/zoneinfo/Europe/Paris' ||
  fail "localtime"
[ "$(cat_ /etc/default/locale)" = LANG=en_US.UTF-8 ] || fail "locale"

# Accounts.
cat_ /etc/passwd > "$tmp/passwd"
cat_ /etc/shadow > "$tmp/shadow"
cat_ /etc/group > "$tmp/group"
cat_ /etc/gshadow > "$tmp/gshadow"
grep -qx 'alice:x:1000:1000:Alice Example:/home/alice:/bin/bash' "$tmp/passwd" ||
  { cat "$tmp/passwd"; fail "alice in passwd"; }
grep -qx 'bob:x:1001:1001::/home/bob:/bin/sh' "$tmp/passwd" || fail "bob"
grep -qx 'sudo:x:27:alice' "$tmp/group" || fail "alice not in sudo"
grep -qx 'users:x:100:alice' "$tmp/group" || fail "alice not in users"
grep -qx 'alice:x:1000:' "$tmp/group" || fail "alice's group"
grep -qx 'sudo:\*::alice' "$tmp/gshadow" || fail "gshadow sudo"
grep -q '^bob:!:' "$tmp/shadow" || fail "bob not locked"
[ "$(owner /etc/shadow)" = "0 0 0640" ] || fail "shadow mode: $(owner /etc/shadow)"
roothash=$(awk -F: '$1 == "root" { print $2 }' "$tmp/shadow")
alicehash=$(awk -F: '$1 == "alice" { print $2 }' "$tmp/shadow")
case $roothash in '$y$'*) ;; *) fail "root hash: $roothash" ;; esac
check_pw () {
  perl -e 'exit (crypt ($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 0 : 1)' "$1" "$2"
}
check_pw Secret-Clear-Text-42 "$roothash" || fail "root password does not verify"
check_pw alice-Clear-Text-43 "$alicehash" || fail "alice password does not verify"
check_pw wrong "$roothash" && fail "a wrong password verifies"
grep -c 'Clear-Text' "$tmp/a.img" >/dev/null &&
  fail "a clear text password is in the image"

# Homes and keys.
[ "$(owner /home/alice)" = "1000 1000 0700" ] || fail "home: $(owner /home/alice)"
[ "$(owner /home/alice/.bashrc)" = "1000 1000 0644" ] || fail "skel copy"
[ "$(owner /home/alice/.ssh/authorized_keys)" = "1000 1000 0600" ] ||
  fail "alice keys: $(owner /home/alice/.ssh/authorized_keys)"
cat_ /home/alice/.ssh/authorized_keys | grep -q AliceKey || fail "alice key"
[ "$(owner /root/.ssh/authorized_keys)" = "0 0 0600" ] || fail "root keys"
cat_ /root/.ssh/authorized_keys | grep -q RootKey || fail "root key"
[ "$(owner /home/bob)" = "1001 1001 0700" ] || fail "bob home"

# [file]s.
[ "$(cat_ /etc/motd)" = "Hello from mkvmimg" ] || fail "motd"
[ "$(owner /etc/motd)" = "1000 1000 0600" ] || fail "motd owner: $(owner /etc/motd)"
[ "$(cat_ /etc/issue)" = "Welcome from a file" ] || fail "issue"
[ "$(owner /srv)" = "1001 100 0750" ] || fail "srv: $(owner /srv)"

# Reproducible: the same seed and epoch give the same image.
$MKVMIMG build -q "$tmp/sys.conf" -o "$tmp/b.img"
cmp "$tmp/a.img" "$tmp/b.img" || fail "two builds differ"

# Bad password files: an error, and no output.
rm -f "$tmp/c.img"
expect_fail $MKVMIMG build "$tmp/sys.conf" -o "$tmp/c.img" \
  --set system.root-password-file="$tmp/missing.pw" 2> "$tmp/err"
grep -q 'missing.pw' "$tmp/err" || { cat "$tmp/err"; fail "missing file message"; }
: > "$tmp/empty.pw"
expect_fail $MKVMIMG build "$tmp/sys.conf" -o "$tmp/c.img" \
  --set system.root-password-file="$tmp/empty.pw" 2> "$tmp/err"
grep -q 'is empty' "$tmp/err" || { cat "$tmp/err"; fail "empty file message"; }
expect_fail $MKVMIMG build "$tmp/sys.conf" -o "$tmp/c.img" \
  --set user.bob.password=clear-text 2> "$tmp/err"
grep -q 'not a crypt hash' "$tmp/err" || { cat "$tmp/err"; fail "hash message"; }
expect_fail $MKVMIMG build "$tmp/sys.conf" -o "$tmp/c.img" \
  --set user.alice.groups=nosuchgroup 2> "$tmp/err"
grep -q "no group 'nosuchgroup'" "$tmp/err" || { cat "$tmp/err"; fail "group message"; }
[ ! -e "$tmp/c.img" ] || fail "a failed build left an output"
echo OK
