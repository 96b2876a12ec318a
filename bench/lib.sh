# Shared by the benchmarks (run by hand, never by make check).
#   measure NAME CMD...   run CMD, append "NAME seconds maxrss_kib" to $results
#   median NAME FIELD     median of a measured field (2 = seconds, 3 = KiB)
set -e
set -u

: "${RUNS:=5}"
results=$(mktemp)
trap 'rm -f "$results"' EXIT

measure ()
{
  name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$results.one" "$@" >/dev/null 2>"$results.err" || {
    cat "$results.err" >&2
    echo "bench: $name failed" >&2
    exit 1
  }
  echo "$name $(cat "$results.one")" >> "$results"
}

median ()
{
  awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$results" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio ()
{
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# "PASS"/"FAIL" for a ratio against a target: verdict VALUE OP TARGET
verdict ()
{
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "ok" : "MISSED" }'
}

MKVMIMG=${MKVMIMG:-$(cd "$(dirname "$0")/.." && pwd)/mkvmimg}
[ -x "$MKVMIMG" ] || { echo "bench: build mkvmimg first (or set MKVMIMG)" >&2; exit 1; }
