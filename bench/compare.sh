#!/usr/bin/env bash
# stp against Sentry's JavaScript SDK on the same unit of work and input,
# same machine, same run.
#
#   bash bench/compare.sh [ROUNDS]      # default 5
#
# Builds //bench:core_bench (-c opt), installs @sentry/node as
# bench/node/package-lock.json pins it (npm ci), then runs ROUNDS rounds,
# each one C run followed by one JavaScript run, both pinned to the same
# CPU when taskset is there. Prints the median ns/op of each and the ratio.
#   C:  BM_UnitOfWork  continue from a carrier with both headers, child span,
#                      inject both headers (caller-provided storage)
#   JS: Sentry.continueTrace + Sentry.getTraceData (and, second, the same
#       with a child span started around getTraceData)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}

source bench/common.sh
bench_build //bench:core_bench
c_bench="$bin/bench/core_bench"
bash scripts/npm_ci.sh bench/node
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$rounds"); do
  echo "round $i/$rounds" >&2
  "${cpu1[@]}" "$c_bench" --benchmark_filter='^BM_UnitOfWork$' \
    --benchmark_min_time=1 --benchmark_format=json >"$out/c.$i.json"
  (cd bench/node && "${cpu1[@]}" node bench.js --rounds 1 --json) >"$out/js.$i.json"
done

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys, os, subprocess
out, rounds = sys.argv[1], int(sys.argv[2])
c, js, js_span = [], [], []
for i in range(1, rounds + 1):
    b = json.load(open(os.path.join(out, f"c.{i}.json")))["benchmarks"][0]
    assert b["time_unit"] == "ns"
    c.append(b["real_time"])
    r = json.load(open(os.path.join(out, f"js.{i}.json")))
    js.append(r["results"]["continue+getTraceData"]["median_ns"])
    js_span.append(r["results"]["continue+span+getTraceData"]["median_ns"])
    node, sdk = r["node"], r["sdk"]
mc, mj, ms = statistics.median(c), statistics.median(js), statistics.median(js_span)
load = open("/proc/loadavg").read().split()[0]
print(f"{rounds} interleaved rounds, node {node}, @sentry/node {sdk}, load average {load}")
print(f"{'stp (C) continue + child span + inject':44} {mc:10.0f} ns/op")
print(f"{'@sentry/node continueTrace + getTraceData':44} {mj:10.0f} ns/op   {mj / mc:7.0f}x stp")
print(f"{'@sentry/node the same + a child span':44} {ms:10.0f} ns/op   {ms / mc:7.0f}x stp")
PY
