#!/usr/bin/env bash
# The core benchmarks of this tree against those of another revision, same
# machine, same run: both //bench:core_bench binaries (-c opt) run in turn,
# ROUNDS times, pinned to one CPU. Prints, per benchmark, the minimum and
# the median ns/op of each and the ratio this / other (below 1: faster).
# The minimum is the figure least disturbed by other work on the machine.
#
#   bash bench/core_ab.sh REV [ROUNDS] [FILTER]
#   e.g. bash bench/core_ab.sh edff585 15
#
# With STATES=SECONDS, each round runs `core_bench --states=SECONDS` on
# each binary instead, and the report gives, per binary, the lowest and
# the median over the rounds of the unit of work, the lower bound and the
# baggage in the fastest and in the slowest quarter of the slices (the
# machine's two speeds), with the ratios this / other:
#   STATES=15 bash bench/core_ab.sh 8cec93f 5
#
# REV is checked out in a temporary git worktree; its build uses the same
# Bazel output base, so a second run is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bash bench/core_ab.sh REV [ROUNDS] [FILTER]}
rounds=${2:-15}
filter=${3:-'^BM_(ParseSentryTrace|FormatSentryTraceNewSpan|ParseBaggageIntoContext|OutgoingBaggage|UnitOfWork)$'}

source bench/common.sh
bench_build //bench:core_bench
bench_scratch
cp "$bin/bench/core_bench" "$work/this"
bench_build_at "$rev" //bench:core_bench "$work/other"

bench_header
echo "this tree ($(git rev-parse --short HEAD)) against $rev, $rounds rounds"

# Runs the two binaries in turn, $rounds times, with the arguments given
# after the awk program, and keeps what that program prints of their
# output (b: which binary, this or other).
in_turn() {
  local program=$1
  shift
  for _ in $(seq "$rounds"); do
    for b in this other; do
      "${cpu1[@]}" "$work/$b" "$@" | awk -v b="$b" "$program"
    done
  done
}

if [ -n "${STATES:-}" ]; then
  in_turn '/(fastest|slowest) quarter/ { print b, $1, $5, $6, $7 }' \
    --states="$STATES" >"$work/states"
  python3 - "$work/states" <<'PY'
import collections, statistics, sys
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, speed, *ns = line.split()
    t[(who, speed)].append([float(x) for x in ns])
# A round that ran at one speed only has its two quarters at that speed:
# the lowest fastest quarter and the median slowest quarter over the
# rounds are the figures to read.
print("over the rounds, ns/op, this / other (ratio): lowest, then median")
for speed in ("fastest", "slowest"):
    for k, what in enumerate(("unit of work", "lower bound", "baggage")):
        a = [r[k] for r in t[("this", speed)]]
        b = [r[k] for r in t[("other", speed)]]
        lo = f"{min(a):.1f} / {min(b):.1f} ({min(a) / min(b):.2f})"
        md = statistics.median(a), statistics.median(b)
        print(f"  {speed} quarter, {what:13} {lo:24} "
              f"{md[0]:.1f} / {md[1]:.1f} ({md[0] / md[1]:.2f})")
PY
else
  in_turn '/^BM_/ { print b, $1, $2 }' --benchmark_filter="$filter" \
    --benchmark_min_time=0.05 2>/dev/null >"$work/times"
  python3 - "$work/times" <<'PY'
import collections, statistics, sys
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    who, name, ns = line.split()
    t[(name, who)].append(float(ns))
names = sorted({n for n, _ in t}, key=lambda n: min(t[(n, "this")]))
print(f"{'benchmark':28} {'this min':>9} {'other min':>9} {'ratio':>6}   "
      f"{'this med':>8} {'other med':>9} {'ratio':>6}")
for n in names:
    a, b = t[(n, "this")], t[(n, "other")]
    print(f"{n:28} {min(a):9.1f} {min(b):9.1f} {min(a) / min(b):6.2f}   "
          f"{statistics.median(a):8.1f} {statistics.median(b):9.1f} "
          f"{statistics.median(a) / statistics.median(b):6.2f}")
PY
fi
