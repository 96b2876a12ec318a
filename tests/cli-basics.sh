#!/bin/sh
# The command line: --version, help, exit codes 0/1/2, errors on stderr.
. "$top_srcdir/tests/functions.sh"

$MKVMIMG --version | grep -q '^mkvmimg [0-9]' || fail "--version"
$MKVMIMG help | grep -q '^  build ' || fail "help lists commands"
$MKVMIMG --help | grep -q '^Commands:' || fail "--help"

# Usage errors exit 2 and say so on stderr, nothing on stdout.
set +e
$MKVMIMG >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "no command: exit $rc, expected 2"
$MKVMIMG no-such-command >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown command: exit $rc"
grep -q "^mkvmimg: unknown command 'no-such-command'" "$tmp/err" || fail "message"
[ ! -s "$tmp/out" ] || fail "stdout not empty on error"
$MKVMIMG --no-such-option >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc"
set -e

# Every command accepts --help and "help COMMAND", exiting 0.
for cmd in $($MKVMIMG help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
  $MKVMIMG "$cmd" --help >"$tmp/h1" || fail "$cmd --help"
  $MKVMIMG help "$cmd" >"$tmp/h2" || fail "help $cmd"
  cmp -s "$tmp/h1" "$tmp/h2" || fail "help $cmd differs from $cmd --help"
  [ -s "$tmp/h1" ] || fail "$cmd --help printed nothing"
done
echo OK
