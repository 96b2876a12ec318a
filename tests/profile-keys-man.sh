#!/bin/sh
# Every key of "mkvmimg profile keys" is documented in mkvmimg-profile(5)
# as "=item B<key>" under "=head2 [section]", with its type, its default
# and an example; and every key documented there exists.
. "$top_srcdir/tests/functions.sh"

pod=$top_builddir/man/mkvmimg-profile.pod
[ -f "$pod" ] || fail "$pod not built"
podchecker "$pod" 2>"$tmp/podchecker" ||
  { cat "$tmp/podchecker"; fail "podchecker $pod"; }

$MKVMIMG profile keys > "$tmp/keys"
[ "$(wc -l < "$tmp/keys")" -ge 30 ] || fail "too few keys"

# The documented keys, and the text of each (one line, tab-separated).
awk '
  /^=head/ {
    sec = ""; key = ""
    if (match($0, /^=head2 \[[a-z]+/)) sec = substr($0, 9, RLENGTH - 8)
    next
  }
  /^=item B<[a-z0-9_-]+>/ {
    key = ""
    if (sec == "") next
    match($0, /B<[a-z0-9_-]+>/)
    key = sec "." substr($0, RSTART + 2, RLENGTH - 3)
    if (key in body) print "duplicate " key > "/dev/stderr"
    body[key] = ""
    next
  }
  /^=(back|over|item)/ { key = ""; next }
  key != "" { body[key] = body[key] " " $0 }
  END { for (k in body) print k "\t" body[k] }
' "$pod" | sort > "$tmp/man"

cut -f1 "$tmp/man" > "$tmp/man-keys"
cut -d' ' -f1 "$tmp/keys" | sort > "$tmp/tool-keys"
missing_man=$(comm -23 "$tmp/tool-keys" "$tmp/man-keys")
missing_tool=$(comm -13 "$tmp/tool-keys" "$tmp/man-keys")
[ -z "$missing_man" ] || fail "keys not in mkvmimg-profile(5): $missing_man"
[ -z "$missing_tool" ] || fail "keys in mkvmimg-profile(5) but not in the tool: $missing_tool"

# Each item: "Type: TYPE", "Default: ..." naming the default, "Example:
# C<key = ...>".
n=0
while read -r key type default; do
  text=$(grep "^$key	" "$tmp/man" | cut -f2-)
  tname=${type%%:*}
  k=${key#*.}
  echo "$text" | grep -Eq "Type: $tname[ .]" ||
    fail "$key: no 'Type: $tname' in mkvmimg-profile(5)"
  echo "$text" | grep -q "Default: " || fail "$key: no 'Default:'"
  case $default in
    "(unset)") echo "$text" | grep -q "Default: unset" ||
                 fail "$key: default should say unset" ;;
    "(required)") echo "$text" | grep -q "required" ||
                    fail "$key: should say it is required" ;;
    "(computed)") echo "$text" | grep -q "Default: computed" ||
                    fail "$key: default should say computed" ;;
    *) d=$(echo "$default" | sed 's/^"\(.*\)"$/\1/')
       echo "$text" | grep -qF "Default: C<$d>" ||
         fail "$key: default C<$d> not in mkvmimg-profile(5)" ;;
  esac
  echo "$text" | grep -qF "Example: C<$k = " || fail "$key: no example"
  # enum: every allowed value is named B<value> in the item's header.
  if [ "$tname" = enum ]; then

    for v in $(echo "${type#enum:}" | tr '|' ' '); do
      grep -q "^=item B<$k> .*B<$v>" "$pod" ||
        fail "$key: value $v not in its =item line"
    done
  fi
  n=$((n + 1))
done < "$tmp/keys"

# Every section of the schema has its =head2.
for s in $(cut -d. -f1 "$tmp/keys" | uniq); do
  grep -q "^=head2 \[$s[] ]" "$pod" || fail "no =head2 [$s]"
done
echo "$n keys checked"
