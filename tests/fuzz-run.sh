# Shared by tests/fuzz-*.sh (set $target first, then source this).
#
# 1. Replay every input in tests/fuzz/$target/regress (the crashes the
#    fuzzers found, fixed since): each must run clean.
# 2. Fuzz for $FUZZ_SECONDS (60) from the seed corpus tests/fuzz/$target/
#    seeds; new inputs, crashes and the target's files stay in $tmp.
# A crash fails the test with the input dumped into the log.

. "$srcdir/functions.sh"

bin=$top_builddir/fuzz/fuzz-$target
seeds=$srcdir/fuzz/$target/seeds
regress=$srcdir/fuzz/$target/regress
seconds=${FUZZ_SECONDS:-60}

if [ ! -x "$bin" ]; then
  echo "SKIP: $bin was not built: configure found no clang that links" \
    "libFuzzer targets (setup.sh installs clang-14 and libclang-rt-14-dev)" >&2
  exit 77
fi
[ -d "$seeds" ] || fail "no seed corpus $seeds"

# The target's own files go to TMPDIR; libFuzzer's into $tmp.
TMPDIR=$tmp
export TMPDIR
# Crashes abort at once (UBSan too); leaks count as crashes.
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

# Per input: ${FUZZ_TIMEOUT:-10} s; memory 2 GiB.
limits="-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=${FUZZ_TIMEOUT:-10}"

dump_input ()
{
  echo "--- input $1 ($(wc -c < "$1") bytes), od -c:"
  od -c "$1" | head -n 40
}

n=0
if [ -d "$regress" ]; then
  for f in "$regress"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if ! (cd "$tmp" && timeout 120 "$bin" $limits "$f") \
         > "$tmp/replay.log" 2>&1; then
      cat "$tmp/replay.log"
      dump_input "$f"
      fail "fuzz-$target: regression input $f crashes again"
    fi
  done
fi
echo "fuzz-$target: $n regression inputs replayed clean"

mkdir "$tmp/corpus"
set +e
(cd "$tmp" && timeout $((seconds + 120)) nice "$bin" $limits \
   -max_total_time="$seconds" -print_final_stats=1 -close_fd_mask=3 \
   -artifact_prefix="$tmp/" "$tmp/corpus" "$seeds") > "$tmp/fuzz.log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^Done' "$tmp/fuzz.log" || true
if [ $rc -ne 0 ]; then
  tail -n 60 "$tmp/fuzz.log"
  for f in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
    [ -f "$f" ] && dump_input "$f"
  done
  fail "fuzz-$target: libFuzzer exited $rc (a crash, leak, timeout or" \
    "out-of-memory: the input is above; add it to $regress once fixed)"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
[ -n "$runs" ] && [ "$runs" -gt 0 ] ||
  fail "fuzz-$target: libFuzzer ran no input"
echo "fuzz-$target: $runs inputs in ${seconds}s, no crash"
