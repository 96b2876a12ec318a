#!/bin/sh
# Every option in --help is in mkvmimg(1), and every option in mkvmimg(1)
# is in some --help.
. "$top_srcdir/tests/functions.sh"

pod=$top_builddir/man/mkvmimg.pod
[ -f "$pod" ] || fail "$pod not built"

options ()
{
  grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

: > "$tmp/help"
$MKVMIMG --help >> "$tmp/help"
for cmd in $($MKVMIMG help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
  $MKVMIMG "$cmd" --help > "$tmp/cmd"
  cat "$tmp/cmd" >> "$tmp/help"
  # Commands with subcommands list them under "Subcommands:".
  for sub in $(sed -n '/^Subcommands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$tmp/cmd"); do
    $MKVMIMG "$cmd" "$sub" --help >> "$tmp/help" || fail "$cmd $sub --help"
  done
done
# popt's own help lines and the usage line name no options of ours.
options < "$tmp/help" | grep -v -e '^--usage$' > "$tmp/help-opts"
# In the POD, options are written B<--name> (or B<--name=...>).
grep -o 'B<--[a-z][a-z0-9-]*' "$pod" | sed 's/^B<//' | sort -u > "$tmp/man-opts"

missing_man=$(comm -23 "$tmp/help-opts" "$tmp/man-opts")
missing_help=$(comm -13 "$tmp/help-opts" "$tmp/man-opts")
[ -z "$missing_man" ] || fail "in --help but not in mkvmimg(1): $missing_man"
[ -z "$missing_help" ] || fail "in mkvmimg(1) but not in any --help: $missing_help"
echo "$(wc -l < "$tmp/help-opts") options checked"
