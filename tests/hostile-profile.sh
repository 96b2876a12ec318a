#!/bin/sh
# Every key of the schema (mkvmimg profile keys) fed values of the wrong
# type, out of range, broken quotes and binary bytes; every section
# duplicated.  Each is exit status 1 (mkvmimg(1): failure) with every
# message as "mkvmimg: FILE:LINE: ...", one of them on the bad line, and
# never a crash (a signal, or a sanitizer report in a sanitizer build).
. "$top_srcdir/tests/functions.sh"

$MKVMIMG profile keys > "$tmp/keys"
[ "$(wc -l < "$tmp/keys")" -gt 20 ] || fail "profile keys lists too few keys"
conf=$tmp/bad.conf
checked=0

# Sections that need a name: [partition NAME], [device NAME], ...
named=""
for sec in $(cut -d. -f1 "$tmp/keys" | uniq); do
  printf '[rootfs]\nsource = none\n[%s]\n' "$sec" > "$conf"
  if $MKVMIMG profile check "$conf" 2>&1 >/dev/null | grep -q 'needs a name'; then
    named="$named $sec"
  fi
done
header ()
{
  case " $named " in
    *" $1 "*) echo "[$1 x]" ;;
    *) echo "[$1]" ;;
  esac
}

# run_check WHAT: profile check of $conf; exit status 1, stdout empty,
# every message naming the file and a line, no sanitizer report.
run_check ()
{
  set +e
  $MKVMIMG profile check "$conf" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  set -e
  if [ $rc -ne 1 ] || grep -Eq 'Sanitizer|runtime error' "$tmp/err"; then
    head -c 2000 "$tmp/err"; echo
    head -c 300 "$conf" | od -c | head -n 10
    fail "$1: exit status $rc, expected 1 (no crash, no sanitizer report)"
  fi
  [ ! -s "$tmp/out" ] || fail "$1: output on stdout"
  if grep -av "^mkvmimg: $conf:[0-9][0-9]*: " "$tmp/err" >&2; then
    fail "$1: a message without $conf:LINE:"
  fi
  checked=$((checked + 1))
}

# The plan: one line per bad value, "ROUND<tab>SECTION<tab>KEY<tab>VALUE
# <tab>MESSAGE": in a profile holding the values of one round, each line
# with a bad value must get a message on that line matching MESSAGE.
# A round is split in profiles of 18 keys (the parser reports 19 errors,
# then gives up); "@NUL@" stands for a value with a NUL byte.
plan=$tmp/plan
: > "$plan"
add () { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$sec" "$key" "$2" "$3" >> "$plan"; }
long=$(head -c 5000 /dev/zero | tr '\0' x)
while read -r name type default; do
  sec=${name%%.*} key=${name#*.}
  # Whatever the type: broken quotes, an unknown escape, control bytes,
  # bad UTF-8, a NUL byte, an over-long line; the key twice.
  add quote '"unterminated' "$key: unterminated quote"
  add after '"quoted" trailing' "$key: text after the closing quote"
  add escape '"a\qb"' "$key: unknown escape"
  add control "$(printf 'a\001\033b')" 'invalid byte 0x01'
  add utf8 "$(printf 'caf\303(')" 'invalid byte 0xc3'
  add nul @NUL@ 'NUL byte'
  add long "$long" 'line longer than'
  add dup '""' "duplicate key '$key'"
  # The wrong type, or out of range.
  i=0
  typed () { i=$((i + 1)); add "type$i" "$1" "$2"; }
  case $type in
    enum:*)
      typed no-such-choice "$key: 'no-such-choice' is not one of"
      typed "" "$key: '' is not one of" ;;
    bool)
      typed maybe "$key: 'maybe' is not a boolean"
      typed 2 "$key: '2' is not a boolean" ;;
    int:*)
      lo=${type#int:} hi=${type#*..}
      lo=${lo%%..*}
      for v in abc "" 1.5 0x10 99999999999999999999999 \
               -99999999999999999999999 $((lo - 1)) $((hi + 1)); do
        typed "$v" "$key: "
      done ;;
    size:*)
      for v in 4Q -1G 1.5.5G "" 99999999999999999999999G \
               18446744073709551616 17179869184G 0; do
        typed "$v" "$key: "
      done
      min=${type#size:}
      typed "1K" "$key: 1K is less than the minimum, ${min%..}" ;;
    size-or-percent)
      for v in 2000% -1% x% 4Q "" 99999999999999999999999G; do
        typed "$v" "$key: "
      done ;;
    string:..*)
      max=${type#string:..}
      typed "$(head -c $((max + 1)) /dev/zero | tr '\0' a)" "$key: " ;;
    string:*..)
      typed "" "$key: " ;;
    string:*..*)
      max=${type#*..}
      typed "" "$key: "
      typed "$(head -c $((max + 1)) /dev/zero | tr '\0' a)" "$key: " ;;
    list:key=value)
      typed "a=1, b" "$key: 'b' is not key=value"
      typed "=1" "$key: " ;;
    path|string|list) ;;
    *) fail "$name: type $type unknown to this test (add its wrong values)" ;;
  esac
done < "$tmp/keys"

# write_profile ROUND: $conf from the plan lines in $tmp/chunk, and
# $tmp/expect ("LINE<tab>MESSAGE").
write_profile ()
{
  awk -F '\t' -v named=" $named " -v round="$1" -v conf="$conf" \
      -v expect="$tmp/expect" '
    { sec[NR] = $2; key[NR] = $3; val[NR] = $4; msg[NR] = $5
      if ($2 == "rootfs" && $3 == "source") hassrc = 1 }
    function out(s) { print s > conf; line++ }
    function put(i) {
      v = val[i] == "@NUL@" ? "ab\002cd" : val[i]
      if (round == "dup") out(key[i] " = " v)
      out(key[i] " = " v)
      print line "\t" msg[i] > expect
    }
    END {
      # [rootfs] (required) first, with the round'"'"'s rootfs keys.
      out("[rootfs]")
      if (!hassrc) out("source = none")
      for (i = 1; i <= NR; i++)
        if (sec[i] == "rootfs") put(i)
      cur = "rootfs"
      for (i = 1; i <= NR; i++) {
        if (sec[i] == "rootfs") continue
        if (sec[i] != cur) {
          out(index(named, " " sec[i] " ") ? "[" sec[i] " x]" : "[" sec[i] "]")
          cur = sec[i]
        }
        put(i)
      }
    }' "$tmp/chunk"
  if [ "$1" = nul ]; then
    tr '\002' '\000' < "$conf" > "$conf.tmp" && mv "$conf.tmp" "$conf"
  fi
}

for round in $(cut -f1 "$plan" | awk '!seen[$0]++'); do
  awk -F '\t' -v r="$round" '$1 == r' "$plan" > "$tmp/round"
  n=$(wc -l < "$tmp/round")
  for first in $(seq 1 18 "$n"); do
    sed -n "$first,$((first + 17))p" "$tmp/round" > "$tmp/chunk"
    write_profile "$round"
    run_check "$round: $(cut -f2,3 "$tmp/chunk" | tr '\t\n' '. ')"
    # Every expected line has a message containing its text.
    awk -v prefix="mkvmimg: $conf:" '
      NR == FNR {
        if (index($0, prefix) == 1) {
          rest = substr($0, length(prefix) + 1)
          n = substr(rest, 1, index(rest, ":") - 1)
          msgs[n] = msgs[n] "\n" rest
        }
        next
      }
      {
        tab = index($0, "\t")
        n = substr($0, 1, tab - 1); want = substr($0, tab + 1)
        if (index(msgs[n], want) == 0) {
          print "line " n ": no message with \"" want "\""; bad = 1
        }
      }
      END { exit bad }' "$tmp/err" "$tmp/expect" > "$tmp/missing" || {
      cat "$tmp/err"; cat "$tmp/missing"; fail "$round: messages missing"; }
  done
done

# Every section twice (named ones under the same name).
for sec in $(cut -d. -f1 "$tmp/keys" | uniq); do
  h=$(header "$sec")
  if [ "$sec" = rootfs ]; then
    printf '[rootfs]\nsource = none\n[rootfs]\nsource = none\n' > "$conf"
  else
    printf '[rootfs]\nsource = none\n%s\n%s\n' "$h" "$h" > "$conf"
  fi
  run_check "$h twice"
  grep -aq "^mkvmimg: $conf:[34]: duplicate section $(echo "$h" | sed 's/\[/\\[/')" "$tmp/err" ||
    { cat "$tmp/err"; fail "$h twice: no duplicate section message"; }
done

# Garbage: random bytes with newlines, a profile cut in the middle of a
# quote or a header, and very long lines of every kind.
for seed in 1 2 3 4; do
  head -c $((seed * 6000)) /dev/urandom | tr '\012\015' '\012\012' > "$conf"
  run_check "random bytes $seed"
done
printf '[rootfs]\nsource = none\n[kernel]\ncmdline = "console=ttyS0' > "$conf"
run_check "cut in a quote"
printf '[rootfs]\nsource = none\n[kern' > "$conf"
run_check "cut in a header"
{ printf '[rootfs]\nsource = none\n['; head -c 100000 /dev/zero | tr '\0' a; printf ']\n'; } > "$conf"
run_check "a 100000-byte section header"
{ printf '[rootfs]\nsource = none\n# '; head -c 1000000 /dev/zero | tr '\0' '#'; printf '\n'; } > "$conf"
run_check "a 1 MB comment"
{ printf '[rootfs]\nsource = none\n'; head -c 200000 /dev/zero | tr '\0' '\n'; printf '[image]\nsize = 4Q\n'; } > "$conf"
run_check "200000 empty lines"
grep -q "^mkvmimg: $conf:200004: \[image\] size" "$tmp/err" || { cat "$tmp/err"; fail "line number after 200000 lines"; }

# build reads profiles the same way.
printf '[rootfs]\nsource = none\n[image]\nsize = "4G\n' > "$conf"
set +e
$MKVMIMG build "$conf" -o "$tmp/never.qcow2" 2> "$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "build with a bad profile: exit status $rc"
grep -q "^mkvmimg: $conf:4: size: unterminated quote" "$tmp/err" || { cat "$tmp/err"; fail "build: message"; }
[ ! -e "$tmp/never.qcow2" ] || fail "build with a bad profile left an output"

echo "$checked profiles checked"
