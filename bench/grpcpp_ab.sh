#!/usr/bin/env bash
# grpc++ overhead: sequential unary calls on 127.0.0.1, in one process and
# one run, each mode with its own server (synchronous API) and channel,
# interleaved in slices of 100 calls (a, b, p, m, c, then b, p, m, c, a,
# ...; tests/grpcpp/grpcpp_bench.cc):
#   a  plain grpc++, no trace metadata
#   b  plain grpc++, `sentry-trace` (a new span id per call) and `baggage`
#      added to the ClientContext by hand, the server not reading them
#   p  plain grpc++, the same propagation as c by hand with stp's core
#      calls (child span and both entries on the client, the trace
#      continued from client_metadata() in the handler)
#   m  as b, with a pass-through interceptor on each side: what grpc++'s
#      interceptor machinery costs by itself
#   c  stp: the Sentry client interceptor (the thread's current context as
#      the parent) + the Sentry server interceptor
# Prints every round, the medians, the ratios c/b (target: at least 0.98),
# c/p, p/b, c/a, b/a and m/b, and the CPU time per call of each mode.
#
#   bash bench/grpcpp_ab.sh [CALLS_PER_ROUND] [ROUNDS]     # default 3000 15
#
# With `instructions` instead, counts that do not depend on how busy the
# machine is: valgrind's callgrind counts the user-space instructions of
# the whole process (client, servers, gRPC's threads) for each mode alone,
# in runs of 2300 and of 300 calls; the difference divided by 2000 is the
# instructions per call, start-up and warm-up cancelled out. Thread
# interleaving moves these by a few thousand from run to run.
#
#   bash bench/grpcpp_ab.sh instructions
set -euo pipefail
cd "$(dirname "$0")/.."

source bench/common.sh
bench_build //tests/grpcpp:grpcpp_bench
bench_header
prog="$bin/tests/grpcpp/grpcpp_bench"

if [ "${1:-}" != instructions ]; then
  timeout 1800 "$prog" "${1:-3000}" "${2:-15}"
  exit
fi

command -v valgrind >/dev/null || bash scripts/setup.sh valgrind >&2
bench_scratch
# count MODE CALLS: the process's instructions for one round of CALLS.
count() {
  timeout 1800 valgrind --tool=callgrind \
    --callgrind-out-file="$work/$1.$2.out" "$prog" "$2" 1 "$1" \
    >/dev/null 2>"$work/$1.$2.log"
  awk '/^summary:/ { print $2 }' "$work/$1.$2.out"
}
declare -A per_call
for m in a b p m c; do
  per_call[$m]=$((($(count "$m" 2300) - $(count "$m" 300)) / 2000))
  echo "$m: ${per_call[$m]} instructions per call"
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.3f", x / y }'; }
echo "instruction ratios (the direction of calls/s ratios): b/c $(ratio \
"${per_call[b]}" "${per_call[c]}") b/m $(ratio "${per_call[b]}" \
"${per_call[m]}") m/c $(ratio "${per_call[m]}" "${per_call[c]}") p/c \
$(ratio "${per_call[p]}" "${per_call[c]}") a/b $(ratio "${per_call[a]}" \
"${per_call[b]}")"
