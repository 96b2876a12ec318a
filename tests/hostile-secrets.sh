#!/bin/sh
# Secrets: passwords come from files, and their clear text never shows
# in the -v log, in the command line or environment of mkvmimg or of any
# child (sampled while the build runs), nor in the image's bytes (only
# the crypt hash is there).  mkvmimg's working directory is 0700 and its
# files 0600 (sampled while it runs).  A display password reaches QEMU
# through a secret object file, never its command line.
. "$top_srcdir/tests/functions.sh"
requires qemu-nbd qemu-img debugfs busybox

mkdir "$tmp/wd"
TMPDIR=$tmp/wd
export TMPDIR

r=$tmp/root
mkdir -p "$r/etc" "$r/root" "$r/home" "$r/boot"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' > "$r/etc/shadow"
printf 'root:x:0:\nusers:x:100:\n' > "$r/etc/group"
printf 'root:*::\nusers:*::\n' > "$r/etc/gshadow"
# Enough data for the build to last long enough to be watched.
head -c 48M /dev/urandom > "$r/filler"
tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$tmp/root.tar" .
rm -rf "$r"

rootpw=Root-Clear-Text-$$-q7Xv
alicepw=Alice-Clear-Text-$$-Zk9w
printf '%s\n' "$rootpw" > "$tmp/root.pw"
printf '%s\n' "$alicepw" > "$tmp/alice.pw"
chmod 600 "$tmp/root.pw" "$tmp/alice.pw"
cat > "$tmp/s.conf" <<EOS
[image]
format = raw
[rootfs]
source = tar:$tmp/root.tar
[kernel]
image = host
initrd = busybox
[boot]
loader = none
[system]
root-password-file = root.pw
[user alice]
password-file = alice.pw
EOS

# PID and all its descendants.
tree ()
{
  ps -e -o pid= -o ppid= | awk -v top="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = p
        while (q != "" && q != 0 && q != 1) {
          if (q == top) { print p; break }
          q = parent[q]
        }
      }
    }'
}
leaks ()
{
  grep -aF -e "$rootpw" -e "$alicepw" "$@"
}

$MKVMIMG -v build "$tmp/s.conf" -o "$tmp/out.img" > "$tmp/log" 2>&1 &
pid=$!
stop_build () { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
cleanup_fn stop_build
samples=0
: > "$tmp/proc"
: > "$tmp/modes"
: > "$tmp/names"
while kill -0 "$pid" 2>/dev/null; do
  for p in $(tree "$pid"); do
    { tr '\0' '\n' < "/proc/$p/cmdline"
      tr '\0' '\n' < "/proc/$p/environ"; } >> "$tmp/proc" 2>/dev/null || :
    cat "/proc/$p/comm" >> "$tmp/names" 2>/dev/null || :
  done
  find "$tmp/wd" -mindepth 1 -printf '%m %y %p\n' >> "$tmp/modes" 2>/dev/null || :
  samples=$((samples + 1))
done
set +e
wait "$pid"; rc=$?
set -e
[ $rc -eq 0 ] || { tail -n 20 "$tmp/log"; fail "build: exit status $rc"; }
echo "$samples samples of: $(sort -u "$tmp/names" | tr '\n' ' ')"
grep -q "^mkvmimg\$" "$tmp/names" || fail "mkvmimg itself was never sampled"
grep -q ' d .*/mkvmimg\.[^/]*$' "$tmp/modes" ||
  fail "the working directory was never seen (the build was too quick to watch)"

if leaks "$tmp/log"; then fail "a clear text password is in the -v log"; fi
if leaks "$tmp/proc"; then fail "a clear text password is in a command line or environment"; fi
grep -q 'debug: running' "$tmp/log" || fail "the -v log shows no child command lines"
# The working directory 0700, everything in it 0600.
if awk '($2 == "d" && $1 != "700") || ($2 == "f" && $1 != "600")' "$tmp/modes" |
   sort -u | grep .; then
  fail "working files or directories that are not private (above)"
fi
[ -z "$(ls -A "$tmp/wd")" ] || fail "the working directory was left behind"

# The image: hashes, never the clear text, anywhere in its bytes.
if leaks "$tmp/out.img" > /dev/null; then fail "a clear text password is in the image"; fi
extract_partition "$tmp/out.img" root "$tmp/root.ext4"
debugfs -R 'cat /etc/shadow' "$tmp/root.ext4" 2>/dev/null > "$tmp/shadow"
grep -q '^root:\$y\$[^:]*:' "$tmp/shadow" || { cat "$tmp/shadow"; fail "no hash for root"; }
grep -q '^alice:\$y\$[^:]*:' "$tmp/shadow" || { cat "$tmp/shadow"; fail "no hash for alice"; }

# A clear text where a hash belongs is refused without repeating it.
grep -v '^root-password-file' "$tmp/s.conf" > "$tmp/nofile.conf"
set +e
$MKVMIMG build "$tmp/nofile.conf" -o "$tmp/never.img" \
  --set "system.root-password=$rootpw" > "$tmp/log" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || fail "clear text root-password: exit status $rc"
grep -q 'not a crypt hash' "$tmp/log" || { cat "$tmp/log"; fail "clear text root-password: message"; }
if leaks "$tmp/log"; then fail "the refused clear text was repeated"; fi

# Displays.  A wrapper stands in for QEMU: it records its command line,
# environment and the secret file's and directory's modes.
displaypw=Display-$$-x
printf '%s' "$displaypw" > "$tmp/display.pw"
chmod 600 "$tmp/display.pw"
cat > "$tmp/fake-qemu" <<EOS
#!/bin/sh
printf '%s\n' "\$@" > "$tmp/qemu.argv"
env > "$tmp/qemu.env"
secret=\$(printf '%s\n' "\$@" | sed -n 's/^secret,id=display-secret,file=//p')
[ -n "\$secret" ] && stat -c '%a %n' "\$secret" "\$(dirname "\$secret")" > "$tmp/qemu.secret"
[ -n "\$secret" ] && cat "\$secret" > "$tmp/qemu.pw"
exit 0
EOS
chmod +x "$tmp/fake-qemu"
for how in given generated; do
  rm -f "$tmp/qemu."*
  if [ $how = given ]; then
    set -- --password-file "$tmp/display.pw"
  else
    set --
  fi
  for display in vnc spice; do
    timeout 60 $MKVMIMG -v run "$tmp/out.img" --display $display "$@" \
      --qemu-wrapper "$tmp/fake-qemu" < /dev/null > "$tmp/log" 2>&1 ||
      { cat "$tmp/log"; fail "run --display $display ($how): failed"; }
    [ -s "$tmp/qemu.secret" ] || { cat "$tmp/qemu.argv"; fail "$display ($how): no secret object"; }
    pw=$(cat "$tmp/qemu.pw")
    [ -n "$pw" ] || fail "$display ($how): empty password"
    [ $how = generated ] || [ "$pw" = "$displaypw" ] || fail "$display: not the given password"
    if grep -aF -e "$pw" "$tmp/qemu.argv" "$tmp/qemu.env" "$tmp/log"; then
      fail "$display ($how): the display password is on QEMU's command line, in its environment or in the log"
    fi
    grep -q "password-secret=display-secret" "$tmp/qemu.argv" ||
      fail "$display ($how): the display does not use the secret"
    if [ $how = generated ]; then
      read -r mode _ < "$tmp/qemu.secret"
      [ "$mode" = 600 ] || fail "generated display password file mode $mode"
      [ "$(sed -n 2p "$tmp/qemu.secret" | cut -d' ' -f1)" = 700 ] ||
        fail "generated display password directory: $(sed -n 2p "$tmp/qemu.secret")"
    fi
  done
done
echo OK
