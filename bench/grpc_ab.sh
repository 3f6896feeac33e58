#!/usr/bin/env bash
# gRPC overhead: sequential unary calls on 127.0.0.1, in one process and
# one run, interleaved a, b, c, a, b, c, ... (tests/grpc/grpc_bench.cc):
#   a  plain gRPC core, no trace metadata
#   b  plain gRPC core, `sentry-trace` (a new span id per call) and
#      `baggage` added by hand
#   m  as b, through an stp channel and server with no interceptor
#   c  stp: Sentry client interceptor + Sentry server interceptor
# Prints every round, the medians, the ratios c/b (target: at least 0.98),
# c/a, m/b and c/m, and the CPU time per call of each mode.
#
#   bash bench/grpc_ab.sh [CALLS_PER_ROUND] [ROUNDS]     # default 3000 15
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-3000}
rounds=${2:-15}

bash scripts/setup.sh >&2
bazel build -c opt --jobs=2 --noshow_progress //tests/grpc:grpc_bench </dev/null >&2
bench="$(bazel info -c opt --color=no bazel-bin </dev/null 2>/dev/null)/tests/grpc/grpc_bench"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
timeout 1800 "$bench" "$calls" "$rounds"
