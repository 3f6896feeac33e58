#!/usr/bin/env bash
# HTTP/2 overhead: h2load against //bench:h2_bench_server, every request
# carrying `sentry-trace` and `baggage`, with propagation on (A: --mode
# stp, the server continues each request's trace and computes the headers
# a downstream call would carry) and off (B: --mode off, no stp code
# runs), K (--mode checked: the work of A written by hand with the checks
# of docs/SPEC.md and no stp, bench/checked.h) and H (--mode hand: the
# same with no checks at all, the floor any propagation code reaches in
# this server). All answer the same 22-byte body. With REV, a fifth
# server C is the same program as A built from that revision (one that
# has //bench:h2_bench_server), to compare two versions of stp against
# the same B in the same run.
#
# The servers run for the whole comparison, on CPU 0 (only one is sent
# requests at a time; the others sleep), and h2load runs on CPU 1 when the
# machine has two. Each round is two short runs against each server in
# mirrored order (A K H B B H K A, or A C K H B B H K C A), so that a
# drift of the machine's speed during a round weighs on all alike. Prints
# each round's requests/s and ratios, then the median of the per-round
# ratios, their quartiles, and the ratio of the medians (target for A/B
# requests/s: at least 0.97; K/B: the same work by hand; H/B: a floor);
# likewise the servers' CPU time per request, read from
# /proc/PID/schedstat (ns). Last, the budget the 0.97 target leaves (3.1 %
# of B's CPU per request) against what each adds over B in the same
# round, and what A adds against what K and H add (aim: A at most twice
# K, the same propagation by hand; H is a floor).
#
# With REF_HEADERS=trace, every request carries `sentry-trace` alone: the
# share of the costs that is not the baggage's.
#
#   [REF_HEADERS=trace] bash bench/h2_ab.sh [ROUNDS] [REQUESTS] [REV]
#   # default 40 100000
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-40}
requests=${2:-100000}
rev=${3:-}

source bench/common.sh
bench_build //bench:h2_bench_server
bench_scratch
cp "$bin/bench/h2_bench_server" "$work/server_this"
servers=(a k h b)
if [ -n "$rev" ]; then
  bench_build_at "$rev" //bench:h2_bench_server "$work/server_other"
  servers=(a c k h b)
fi

pids=()
stop_servers() {
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
trap 'stop_servers; bench_cleanup' EXIT

start() { # BINARY MODE NAME: starts a server, sets pid_NAME and port_NAME
  "${cpu0[@]}" "$1" --port 0 --port-file "$work/$3.port" --mode "$2" \
    >"$work/$3.log" 2>&1 &
  pids+=($!)
  printf -v "pid_$3" %s $!
  wait_port_file "$work/$3.port" "$work/$3.log"
  printf -v "port_$3" %s "$(cat "$work/$3.port")"
}
start "$work/server_this" stp a
start "$work/server_this" off b
start "$work/server_this" checked k
start "$work/server_this" hand h
[ -z "$rev" ] || start "$work/server_other" stp c

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# One run against server NAME: appends "REQ_PER_S CPU_NS_PER_REQUEST".
one() {
  local pid port out c0 c1 rps
  pid=pid_$1 port=port_$1
  c0=$(cpu_ns "${!pid}")
  out=$(h2load_ref "$requests" "http://127.0.0.1:${!port}/api/users")
  c1=$(cpu_ns "${!pid}")
  grep -q "$requests succeeded" <<<"$out" || { echo "$out" >&2; exit 1; }
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  echo "$rps $(((c1 - c0) / requests))" >>"$work/$1"
}

bench_header
input="both headers"
[ "${REF_HEADERS:-both}" != trace ] || input="sentry-trace alone"
echo "h2load -n $requests -c 8 -m 16 per run, $input on every request"
echo "A: propagation on, B: off, K: by hand with the checks, H: by hand, no checks${rev:+, C: propagation on as of $rev}"
for s in "${servers[@]}"; do one "$s"; : >"$work/$s"; done # warm-up
for i in $(seq "$rounds"); do
  for s in "${servers[@]}"; do one "$s"; done
  for ((k = ${#servers[@]} - 1; k >= 0; k--)); do one "${servers[k]}"; done
  python3 - "$i" "$work" "${servers[@]}" <<'PY'
import sys
i, work, names = sys.argv[1], sys.argv[2], sys.argv[3:]
last = {n: [list(map(float, l.split())) for l in open(f"{work}/{n}")][-2:] for n in names}
rps = {n: sum(r[0] for r in v) / 2 for n, v in last.items()}
line = f"round {int(i):2d}  " + "  ".join(f"{n.upper()} {rps[n]:6.0f} req/s" for n in names)
line += "   " + "  ".join(f"{n.upper()}/B {rps[n] / rps['b']:.3f}" for n in names if n != "b")
print(line)
PY
done
stop_servers
python3 - "$work" "${servers[@]}" <<'PY'
import statistics, sys
work, names = sys.argv[1], sys.argv[2:]
runs = {n: [tuple(map(float, l.split())) for l in open(f"{work}/{n}")] for n in names}
# A round is runs 2k and 2k+1 of each server; its figure their mean.
rounds = {n: [((v[i][0] + v[i + 1][0]) / 2, (v[i][1] + v[i + 1][1]) / 2)
              for i in range(0, len(v), 2)] for n, v in runs.items()}
def summary(values):
    values = sorted(values)
    q = statistics.quantiles(values, n=4) if len(values) >= 2 else values * 3
    return f"{statistics.median(values):.3f} (quartiles {q[0]:.3f} to {q[2]:.3f})"
for n in names:
    med_rps = statistics.median(r[0] for r in runs[n])
    med_cpu = statistics.median(r[1] for r in runs[n])
    print(f"median {n.upper()}: {med_rps:7.0f} req/s {med_cpu:6.0f} ns CPU/req")
for n in names:
    if n == "b":
        continue
    rr = summary(x[0] / y[0] for x, y in zip(rounds[n], rounds["b"]))
    cr = summary(x[1] / y[1] for x, y in zip(rounds[n], rounds["b"]))
    of = statistics.median(r[0] for r in runs[n]) / statistics.median(r[0] for r in runs["b"])
    print(f"{n.upper()}/B requests/s: median of {len(rounds[n])} rounds {rr}; of the medians {of:.3f}")
    print(f"{n.upper()}/B server CPU per request: median of rounds {cr}")
# The server is the busy side: 0.97 of B's requests/s leaves propagation
# 1/0.97 - 1 (3.1 %) of B's CPU per request. What each server adds over B
# in the same round, against that budget.
budget = statistics.median((1 / 0.97 - 1) * y[1] for y in rounds["b"])
added = {n: statistics.median(x[1] - y[1] for x, y in zip(rounds[n], rounds["b"]))
         for n in names if n != "b"}
print(f"budget for 0.97: {budget:.0f} ns of server CPU per request; added over B "
      "(median of rounds): " + ", ".join(f"{n.upper()} {added[n]:+.0f} ns" for n in added))
print("what A adds over B, as a multiple of what K and H add: "
      + ", ".join(f"{added['a'] / added[n]:.2f} times {n.upper()}'s" for n in ("k", "h")
                  if added[n] > 0))
PY
