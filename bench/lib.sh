# Shared by the benchmarks (run by hand, never by make check).
#   measure NAME CMD...   run CMD, append "NAME seconds maxrss_kib" to $results
#   median NAME FIELD     median of a measured field (2 = seconds, 3 = KiB)
#   result NAME MEASURED BASELINE RATIO TARGET VERDICT
#                         the machine-readable line bench/run-all collects
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

# "PASS"/"FAIL" for a figure against a target: verdict VALUE OP TARGET
# (OP is <, <=, >= or >; an empty VALUE, a figure not measured, fails).
verdict ()
{
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    if (v == "") { print "FAIL"; exit }
    if (op == "<") ok = v + 0 < t + 0
    else if (op == "<=") ok = v + 0 <= t + 0
    else if (op == ">") ok = v + 0 > t + 0
    else ok = v + 0 >= t + 0
    print ok ? "PASS" : "FAIL" }'
}

# One line per figure for bench/run-all, beside the human output:
#   RESULT NAME MEASURED BASELINE RATIO TARGET VERDICT
# Fields hold no spaces; "-" where one does not apply.  Units go with
# the value (12.3s, 45.6MiB, 1.02x).
result ()
{
  printf 'RESULT %s %s %s %s %s %s\n' "$1" "${2:--}" "${3:--}" "${4:--}" \
    "${5:--}" "${6:--}"
}

MKVMIMG=${MKVMIMG:-$(cd "$(dirname "$0")/.." && pwd)/mkvmimg}
[ -x "$MKVMIMG" ] || { echo "bench: build mkvmimg first (or set MKVMIMG)" >&2; exit 1; }
