#!/usr/bin/env bash
# gRPC overhead: sequential unary calls on 127.0.0.1, in one process and
# one run, each mode with its own server and connection, interleaved in
# slices of 100 calls (a, b, p, m, c, then b, p, m, c, a, ...;
# bench/grpc_bench.cc):
#   a  plain gRPC core, no trace metadata
#   b  plain gRPC core, `sentry-trace` (a new span id per call) and
#      `baggage` added by hand, the server not reading them
#   p  plain gRPC core, the same propagation as c by hand with stp's core
#      calls (child span and both entries on the client, the trace continued
#      from the request metadata on the server)
#   m  as b, through an stp channel and server with no interceptor
#   c  stp: Sentry client interceptor + Sentry server interceptor
# Prints every round, the medians, the ratios c/b (target: at least 0.98),
# c/p (the interceptors against the same work by hand), p/b, c/a, b/a and
# m/b, and the CPU time per call of each mode.
#
#   bash bench/grpc_ab.sh [CALLS_PER_ROUND] [ROUNDS]     # default 3000 15
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-3000}
rounds=${2:-15}

source bench/common.sh
bench_build //bench:grpc_bench
bench_header
timeout 1800 "$bin/bench/grpc_bench" "$calls" "$rounds"
