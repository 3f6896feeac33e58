#!/usr/bin/env bash
# The exporter's overhead: sequential unary gRPC calls on 127.0.0.1 with
# the Sentry interceptors on both sides, in one process and one run, three
# modes interleaved in slices of 100 calls (bench/exporter_bench.cc):
#   off   no exporter (records go nowhere)
#   on    an exporter sending every transaction to a local endpoint (200)
#   dead  an exporter whose DSN is a closed port: nothing ever sent
# Prints every round, the medians of calls/s, CPU per call and latency,
# the ratios on/off and dead/off, the exporters' counters and the CPU per
# transaction sent.
#
#   bash bench/exporter_ab.sh [CALLS_PER_ROUND] [ROUNDS]     # default 3000 9
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-3000}
rounds=${2:-9}

source bench/common.sh
bench_build //bench:exporter_bench
bench_header
timeout 1800 "$bin/bench/exporter_bench" "$calls" "$rounds"
