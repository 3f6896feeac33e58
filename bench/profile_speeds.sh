#!/usr/bin/env bash
# Where the unit of work's time goes at each of the machine's two speeds:
# `core_bench --states=SECONDS` (pinned to CPU 1) under perf's CPU clock,
# one sample every 100 us, each sample given to the slice whose unit of
# work phase it fell in (--states_log). As in --states, the fastest and
# the slowest quarter of the slices are those where the hand-written lower
# bound was fastest and slowest. Prints, for each quarter, the ns per unit
# of work of the functions with the most samples, of stp's own functions
# together (those compiled from src/), and of all samples, whose total
# comes close to the measured time.
#
#   bash bench/profile_speeds.sh [SECONDS]   # default 60; needs perf
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
source bench/common.sh
command -v perf >/dev/null || bash scripts/setup.sh linux-perf >&2
bench_build //bench:core_bench
bench_scratch

# The names of every function the core's objects define.
bench_functions "$bin/_objs/stp" >"$work/stp.syms"

bench_header
echo "core_bench --states=$seconds under perf record -e cpu-clock -c 100000"
"${cpu1[@]}" perf record -q -e cpu-clock -c 100000 -k CLOCK_MONOTONIC \
  -o "$work/perf.data" "$bin/bench/core_bench" --states="$seconds" \
  --states_log="$work/slices" | sed -n '/medians by/,$p'
perf script -i "$work/perf.data" -F time,ip,sym 2>/dev/null |
  awk '{ t = $1; sub(/:$/, "", t); $1 = $2 = ""; sub(/^ +/, "")
         print t, ($0 == "" ? "?" : $0) }' >"$work/samples"
python3 - "$work/slices" "$work/samples" "$work/stp.syms" <<'PY'
import bisect, collections, sys

PERIOD_NS = 100000  # perf record -c 100000 on the CPU clock
UNITS = 20000       # units of work per slice (core_bench --states)

slices = [[float(x) for x in line.split()] for line in open(sys.argv[1])]
stp = set(open(sys.argv[3]).read().split())
by_lower = sorted(range(len(slices)), key=lambda i: slices[i][3])
q = len(slices) // 4
speed = {i: "fast" for i in by_lower[:q]}
speed.update({i: "slow" for i in by_lower[len(by_lower) - q:]})
starts = [s[0] for s in slices]
counts = {"fast": collections.Counter(), "slow": collections.Counter()}
for line in open(sys.argv[2]):
    t, sym = line.split(None, 1)
    t, sym = float(t), sym.strip()
    i = bisect.bisect_right(starts, t) - 1
    if i >= 0 and t < slices[i][1] and i in speed:
        counts[speed[i]][sym] += 1

def own(f):  # a function of the core, or a part of one (.part.0, .cold)
    return f.split(".")[0] in stp

def ns(which, n):  # ns per unit of work for n samples
    return n * PERIOD_NS / (q * UNITS)

measured = {w: sorted(slices[i][2] for i in speed if speed[i] == w)[q // 2]
            for w in ("fast", "slow")}
print(f"ns per unit of work, fastest / slowest quarter of {len(slices)} "
      f"slices (ratio)")
def row(name, f, s):
    print(f"  {f:7.1f} {s:7.1f}  ({s / f if f else float('nan'):4.2f})  {name}")
row("measured (median of the quarter)", measured["fast"], measured["slow"])
row("all samples", ns("fast", sum(counts["fast"].values())),
    ns("slow", sum(counts["slow"].values())))
row("stp's own functions",
    ns("fast", sum(n for f, n in counts["fast"].items() if own(f))),
    ns("slow", sum(n for f, n in counts["slow"].items() if own(f))))
top = sorted(set(counts["fast"]) | set(counts["slow"]),
             key=lambda f: -counts["slow"][f])[:16]
for f in top:
    row(("stp: " if own(f) else "     ") + f[:60],
        ns("fast", counts["fast"][f]), ns("slow", counts["slow"][f]))
PY
