#!/usr/bin/env bash
# Instructions instead of time: counts that do not depend on how busy the
# machine is (valgrind's callgrind counts every instruction executed in
# user space; the kernel's share is not in them).
#   1. //bench:core_bench BM_UnitOfWork: instructions per unit of work
#      (those of BM_UnitOfWork divided by its calls to
#      stp_context_continue), and the largest of stp's functions.
#   2. //bench:h2_bench_server under h2load (REQUESTS, default 20 000, both
#      headers): the server's instructions per request with propagation by
#      stp (--mode stp), by hand with the checks of docs/SPEC.md (--mode
#      checked) and without any (--mode hand), and off (--mode off); what
#      each adds over off. With REF_HEADERS=trace, `sentry-trace` alone.
#      Besides, callgrind's simulated instruction-cache misses per request
#      (a 32 KiB, 8-way L1 of 64-byte lines, as the machine's): what a
#      path of many short functions costs beyond its instructions.
#   3. //bench:grpc_bench, one mode at a time (see bench/grpc_ab.sh):
#      the whole process's instructions per unary call (client, server and
#      gRPC's threads), as the difference between runs of 2300 and 300
#      calls divided by 2000, so that start-up and warm-up cancel out; and
#      the ratios b/c, p/c, b/p, b/m (the same direction as calls/s ratios).
#      Thread interleaving moves these counts by up to a few thousand from
#      run to run: each mode runs GRPC_REPEATS times (default 3), and the
#      median, lowest and highest are printed. Besides, the instructions
#      of stp's own functions (the core and the interceptor layer; not the
#      benchmark's, not gRPC's), which do not move.
#
#   [GRPC_REPEATS=N] [REF_HEADERS=trace] bash bench/instructions.sh [REQUESTS]
#   # needs valgrind
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-20000}
source bench/common.sh
command -v valgrind >/dev/null || bash scripts/setup.sh valgrind >&2
bench_build //bench:core_bench //bench:h2_bench_server //bench:grpc_bench
bench_scratch

bench_header
echo "1. core_bench BM_UnitOfWork"
valgrind --tool=callgrind --callgrind-out-file="$work/core.out" \
  "$bin/bench/core_bench" --benchmark_filter='^BM_UnitOfWork$' \
  --benchmark_min_time=0.1 >/dev/null 2>"$work/core.log"
callgrind_annotate --inclusive=yes --tree=calling "$work/core.out" 2>/dev/null |
  awk '
    /\* .*BM_UnitOfWork\(/ && !total { t = $1; gsub(/,/, "", t); total = t }
    /> .*stp_context_continue \(/ && !calls {
      c = $0; sub(/.*\(/, "", c); sub(/x\).*/, "", c); gsub(/,/, "", c); calls = c }
    END { printf "  %.0f instructions per unit of work (%d units)\n", total / calls, calls }'

input="both headers"
[ "${REF_HEADERS:-both}" != trace ] || input="sentry-trace alone"
echo "2. h2_bench_server under h2load -n $requests -c 8 -m 16, $input"
for mode in stp checked hand off; do
  rm -f "$work/port"
  valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 \
    --D1=32768,8,64 --LL=33554432,16,64 \
    --callgrind-out-file="$work/h2$mode.out" \
    "$bin/bench/h2_bench_server" --port 0 --port-file "$work/port" \
    --mode "$mode" >"$work/h2$mode.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || { cat "$work/h2$mode.log" >&2; exit 1; }
  h2load_ref "$requests" "http://127.0.0.1:$(cat "$work/port")/api/users" |
    grep -q "$requests succeeded" || { echo "h2load failed" >&2; exit 1; }
  kill -INT "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  # The events: Ir Dr Dw I1mr ...
  sed -n 's/.*Collected : //p' "$work/h2$mode.log" |
    awk -v m="$mode" -v r="$requests" '{ print m, int($1 / r), $4 / r }' \
      >>"$work/h2"
done
awk '{ n[$1] = $2; i1[$1] = $3 } END {
  printf "  propagation off:     %6d instructions per request, %5.1f I1 misses\n",
    n["off"], i1["off"]
  split("stp checked hand", modes, " ")
  for (i = 1; i <= 3; i++)
    printf "  --mode %-8s %6d instructions per request, %+6d (%+.1f%%) over off; %5.1f I1 misses, %+5.1f\n",
      modes[i], n[modes[i]], n[modes[i]] - n["off"],
      100 * (n[modes[i]] - n["off"]) / n["off"], i1[modes[i]],
      i1[modes[i]] - i1["off"] }' "$work/h2"

repeats=${GRPC_REPEATS:-3}
echo "3. grpc_bench, instructions per unary call ($repeats runs per mode)"
# Self costs of stp's functions in grpc_bench: those with a C name (the
# benchmark's are C++, or main), in the binary itself.
own() {
  callgrind_annotate --auto=no --threshold=100 "$1" 2>/dev/null |
    awk '/:[A-Za-z_][A-Za-z0-9_.]*('"'"'[0-9]+)? \[.*grpc_bench\]$/ && !/:main / {
      c = $1; gsub(/,/, "", c); s += c } END { print s + 0 }'
}
for r in $(seq "$repeats"); do
  for mode in b p m c; do
    for calls in 300 2300; do
      valgrind --tool=callgrind --callgrind-out-file="$work/grpc.out" \
        "$bin/bench/grpc_bench" "$calls" 1 "$mode" \
        >/dev/null 2>"$work/grpc.log"
      echo "$r $mode $calls $(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' \
        "$work/grpc.log") $(own "$work/grpc.out")" >>"$work/grpc"
    done
  done
done
awk -v runs="$repeats" '{ n[$1 " " $2 " " $3] = $4; o[$1 " " $2 " " $3] = $5 }
  function median(a, k,   i, j, t) { # sorts a[1..k]
    for (i = 2; i <= k; i++)
      for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  END {
    split("b p m c", modes, " ")
    for (i = 1; i <= 4; i++) {
      m = modes[i]
      for (r = 1; r <= runs; r++)
        v[r] = (n[r " " m " 2300"] - n[r " " m " 300"]) / 2000
      per[m] = median(v, runs)
      own_per[m] = (o["1 " m " 2300"] - o["1 " m " 300"]) / 2000
      printf "  %s: %7.0f instructions per call (%.0f to %.0f); stp itself %5.0f\n",
        m, per[m], v[1], v[runs], own_per[m]
    }
    printf "  b/c %.3f  p/c %.3f  b/p %.3f  b/m %.3f\n", per["b"] / per["c"],
      per["p"] / per["c"], per["b"] / per["p"], per["b"] / per["m"]
    printf "  c-b %+.0f  c-p %+.0f  p-b %+.0f  m-b %+.0f\n", per["c"] - per["b"],
      per["c"] - per["p"], per["p"] - per["b"], per["m"] - per["b"]
    printf "  stp itself: c-b %+.0f  c-p %+.0f  p-b %+.0f  m-b %+.0f\n",
      own_per["c"] - own_per["b"], own_per["c"] - own_per["p"],
      own_per["p"] - own_per["b"], own_per["m"] - own_per["b"] }' "$work/grpc"
