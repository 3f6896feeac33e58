#!/usr/bin/env bash
# Where the time goes: perf profiles of the two overhead benchmarks, as
# the share of CPU samples spent in stp's own code (the core and the
# interceptors: every function compiled from src/ and interceptors/).
#   1. //bench:h2_bench_server --mode stp on CPU 0 under h2load on CPU 1
#      (REQUESTS, default 400 000, both headers): stp's share of the server's CPU,
#      and its functions. Then the same with propagation off (B, --mode
#      off) and written by hand (H, --mode hand, no checks): each server's
#      CPU per request by where it was spent (the server binary, nghttp2,
#      libc, the kernel), from samples at 10 kHz (one per 100 us of CPU).
#   2. //bench:grpc_bench, mode c only (both interceptors): stp's
#      share of the whole process's CPU.
#   3. //bench:core_bench BM_UnitOfWork: the functions of the unit of work.
#
#   bash bench/profile.sh [REQUESTS]   # needs perf (Debian: linux-perf)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
command -v perf >/dev/null || bash scripts/setup.sh linux-perf >&2
bench_build //bench:h2_bench_server //bench:grpc_bench //bench:core_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The names of every function stp's own objects define.
bench_functions "$bin/_objs" "$bin/interceptors" >"$work/stp.syms"

# share FILE DSO: stp's share of the samples, then its top functions.
share() {
  perf report -i "$1" --no-children --stdio --sort dso,symbol 2>/dev/null |
    awk -v dso="$2" -v syms="$work/stp.syms" '
      BEGIN { while ((getline s < syms) > 0) stp[s] = 1 }
      /^ +[0-9.]+%/ {
        pct = $1; sub(/%/, "", pct); name = $4; sub(/\..*/, "", name)
        if ($2 == dso && (name in stp)) { total += pct; top[name] += pct }
      }
      END {
        printf "  stp functions: %.2f%% of the samples; the largest:\n", total
        for (f in top) printf "%.2f %s\n", top[f], f | "sort -rn | head -8"
      }' | awk 'NF == 2 { printf "    %6.2f%%  %s\n", $1, $2; next } { print }'
}

bench_header

# h2_profile NAME MODE: the server under perf at 10 kHz on CPU 0, h2load
# on CPU 1; the samples in $work/NAME.data.
h2_requests=${1:-400000}
h2_profile() {
  local name=$1 mode=$2
  rm -f "$work/port"
  "${cpu0[@]}" perf record -q -F 10000 -o "$work/$name.data" \
    "$bin/bench/h2_bench_server" --port 0 --port-file "$work/port" \
    --mode "$mode" >"$work/server.log" 2>&1 &
  local pid=$!
  wait_port_file "$work/port" "$work/server.log"
  h2load_ref "$h2_requests" "http://127.0.0.1:$(cat "$work/port")/api/users" |
    grep -E '^finished|^requests:' | sed "s/^/  $name: /"
  kill -INT "$pid"
  wait "$pid" || true
}

# cpu_split NAME: the server's CPU per request in ns, in all and by
# where it was spent.
cpu_split() {
  perf report -i "$work/$1.data" --no-children --stdio --sort dso \
    -F sample,dso 2>/dev/null |
    awk -v name="$1" -v n="$h2_requests" '
      /^ *[0-9]+ / {
        ns = $1 * 100000 / n; all += ns
        if ($2 == "h2_bench_server") where = "server binary"
        else if ($2 ~ /^libnghttp2/) where = "nghttp2"
        else if ($2 ~ /^libc\./) where = "libc"
        else if ($2 ~ /kernel/) where = "kernel"
        else where = "other"
        part[where] += ns
      }
      END {
        printf "  %s: %5.0f ns of CPU per request: server binary %.0f, nghttp2 %.0f, libc %.0f, kernel %.0f, other %.0f\n",
          name, all, part["server binary"], part["nghttp2"], part["libc"],
          part["kernel"], part["other"]
      }'
}

echo "1. h2_bench_server under h2load -n $h2_requests -c 8 -m 16"
echo "   A: propagation on; H: written by hand, no checks; B: off"
h2_profile A stp
h2_profile H hand
h2_profile B off
share "$work/A.data" h2_bench_server
for name in A H B; do cpu_split "$name"; done

echo "2. grpc_bench 3000 3 c (both interceptors; the whole process)"
perf record -q -o "$work/grpc.data" "$bin/bench/grpc_bench" 3000 3 c |
  grep '^median' | sed 's/^/  /'
share "$work/grpc.data" grpc_bench

echo "3. core_bench BM_UnitOfWork"
perf record -q -o "$work/core.data" "$bin/bench/core_bench" \
  --benchmark_filter='^BM_UnitOfWork$' --benchmark_min_time=2 2>/dev/null |
  grep '^BM_' | sed 's/^/  /'
share "$work/core.data" core_bench
