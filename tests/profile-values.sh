#!/bin/sh
# Values: quotes and escapes, comments, lists, sizes, bools, names with
# spaces and UTF-8, CRLF line ends; checked through the JSON output,
# decoded by perl's JSON::PP.
. "$top_srcdir/tests/functions.sh"

printf '%s\r\n' '[rootfs]' 'source = none' > "$tmp/crlf.conf"
cat >> "$tmp/crlf.conf" <<'P'
   # an indented comment
[image]
seed = "  a # b \"c\" \\ d  "   # a comment after a quoted value
size = 4GiB
margin = 10%
output = out#1.qcow2
[kernel]
cmdline = console=ttyS0 quiet   # a comment after an unquoted value
release =
[partition données système]
size = 512M
bootable = on
  [partition root]
bootable = False
[device edu0]
type = edu
props = dma_mask=0xffffffff,  a=1 b=2,,c=x=y
[device other]
type = edu
props =
addr = ""
P

$MKVMIMG profile check --json "$tmp/crlf.conf" > "$tmp/json"
perl -MJSON::PP -e '
  local $/; my $j = JSON::PP->new->utf8->decode(<STDIN>);
  my @e;
  sub is { my ($got, $want, $what) = @_;
    push @e, "$what: got " . (defined $got ? "<$got>" : "null") . ", expected <$want>"
      unless defined $got && $got eq $want; }
  is ($j->{image}{seed}, "  a # b \"c\" \\ d  ", "quoted seed");
  is ($j->{image}{size}, 4 * 1024**3, "size 4GiB");
  is ($j->{image}{margin}, "10%", "margin");
  is ($j->{image}{output}, "out#1.qcow2", "# inside a word");
  is ($j->{kernel}{cmdline}, "console=ttyS0 quiet", "comment after value");
  is ($j->{kernel}{release}, "", "empty value");
  is ($j->{device}[1]{addr}, "", "empty quoted value");
  is ($j->{partition}[0]{name}, "donn\x{e9}es syst\x{e8}me", "UTF-8 name with a space");
  is ($j->{partition}[0]{size}, 512 * 1024**2, "512M");
  is ($j->{partition}[0]{bootable} ? "true" : "false", "true", "on");
  is ($j->{partition}[1]{name}, "root", "indented header");
  is ($j->{partition}[1]{bootable} ? "true" : "false", "false", "False");
  is (scalar @{$j->{partition}}, 2, "partitions");
  is (join ("|", @{$j->{device}[0]{props}}),
      "dma_mask=0xffffffff|a=1|b=2|c=x=y", "list");
  is (scalar @{$j->{device}[1]{props}}, 0, "empty list");
  is ($j->{machine}{memory}, 1024**3, "default size");
  is ($j->{machine}{cpus}, 2, "default int");
  is ($j->{boot}{timeout}, 1, "default timeout");
  is (defined $j->{image}{output} ? 1 : 0, 1, "set path");
  is (defined $j->{partition}[0]{mount} ? "set" : "null", "null", "unset mount");
  is ($j->{partition}[1]{mount}, "/", "root mount");
  print STDERR "$_\n" for @e;
  exit (@e ? 1 : 0);
' < "$tmp/json" || fail "values"

# The text output quotes what needs quoting.
$MKVMIMG profile check "$tmp/crlf.conf" > "$tmp/out"
grep -qxF 'seed = "  a # b \"c\" \\ d  "' "$tmp/out" || fail "quoted output"
grep -qxF 'output = "out#1.qcow2"' "$tmp/out" || fail "# quoted in output"
grep -qxF 'addr = ""' "$tmp/out" || fail "empty value quoted in output"
grep -qxF 'cmdline = console=ttyS0 quiet' "$tmp/out" || fail "plain value"
grep -qxF '[partition données système]' "$tmp/out" || fail "name printed"
grep -qxF '# seed = (unset)' "$tmp/out" && fail "seed is set"
grep -qxF '# modules = (unset)' "$tmp/out" || fail "unset key as a comment"

# Every bool spelling.
for b in yes true on 1 YES On; do
  $MKVMIMG profile check --json --set rootfs.source=none \
    --set partition.root.bootable=$b | grep -q '"bootable": true' ||
    fail "bool $b"
done
for b in no false off 0 No; do
  $MKVMIMG profile check --json --set rootfs.source=none \
    --set partition.root.bootable=$b | grep -q '"bootable": false' ||
    fail "bool $b"
done
# Size spellings.
for s in 1073741824 1048576k 1024M 1G 1GB 1GiB 1g; do
  $MKVMIMG profile check --json --set machine.memory=$s |
    grep -q '"memory": 1073741824,' || fail "size $s"
done
for s in 1X 1.5G -1G G "" " 1G" 1GiBs; do
  expect_fail $MKVMIMG profile check --set "machine.memory=$s" 2>/dev/null
done
echo OK
