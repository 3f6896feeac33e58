#!/usr/bin/env bash
# HTTP/2 overhead: h2load against //examples/h2:h2_server, every request
# carrying `sentry-trace` and `baggage`, with propagation on (A:
# --fixed-answer, the server continues each request's trace and computes
# the headers a downstream call would carry) and off (B: --no-propagation,
# no stp code runs). Both answer the same 22-byte body.
#
# Both servers run for the whole comparison, on CPU 0 (only one is sent
# requests at a time; the other sleeps), and h2load runs on CPU 1 when the
# machine has two. Each round is two short runs against each server in
# the order A B B A, so that a drift of the machine's speed during a round
# weighs on both alike. Prints each round's requests/s and the servers' CPU
# time per request (from /proc/PID/schedstat, in ns), then the median of
# the per-round ratios A/B, its interquartile range, and the ratio of the
# medians (target for requests/s: at least 0.97).
#
#   bash bench/h2_ab.sh [ROUNDS] [REQUESTS]    # default 20 20000 (per run)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
requests=${2:-20000}

source bench/common.sh
bench_build //examples/h2:h2_server
server="$bin/examples/h2/h2_server"
bench_scratch

start() { # MODE NAME: starts a server, sets pid_NAME and port_NAME
  "${cpu0[@]}" "$server" --port 0 --port-file "$work/$2.port" "$1" \
    >"$work/$2.log" 2>&1 &
  printf -v "pid_$2" %s $!
  wait_port_file "$work/$2.port" "$work/$2.log"
  printf -v "port_$2" %s "$(cat "$work/$2.port")"
}
start --fixed-answer a
server_pid=$pid_a # bench_cleanup stops it; b is stopped by the trap below
start --no-propagation b
trap 'kill -KILL "$pid_b" 2>/dev/null || true; bench_cleanup' EXIT

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
echo "h2load -n $requests -c 8 -m 16 per run, both headers on every request;"
echo "rounds of A B B A, A propagation on, B off"
one a && one b # warm both (not counted)
: >"$work/a"
: >"$work/b"
for i in $(seq "$rounds"); do
  one a
  one b
  one b
  one a
  tail -n 2 "$work/a" >"$work/ra"
  tail -n 2 "$work/b" >"$work/rb"
  python3 - "$i" "$work/ra" "$work/rb" <<'PY'
import sys
a = [list(map(float, l.split())) for l in open(sys.argv[2])]
b = [list(map(float, l.split())) for l in open(sys.argv[3])]
ra, rb = sum(x[0] for x in a) / 2, sum(x[0] for x in b) / 2
ca, cb = sum(x[1] for x in a) / 2, sum(x[1] for x in b) / 2
print(f"round {int(sys.argv[1]):2d}  A on: {ra:7.0f} req/s {ca:6.0f} ns CPU/req"
      f"   B off: {rb:7.0f} req/s {cb:6.0f} ns CPU/req   A/B {ra / rb:.3f}")
PY
done
kill -TERM "$pid_a" "$pid_b"
wait "$pid_a" "$pid_b" 2>/dev/null || true
server_pid=""
trap bench_cleanup EXIT
python3 - "$work/a" "$work/b" <<'PY'
import statistics, sys
a = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
b = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
# A round is runs 2k, 2k+1 of each server.
rounds = [((a[i][0] + a[i + 1][0]) / 2, (b[i][0] + b[i + 1][0]) / 2,
           (a[i][1] + a[i + 1][1]) / 2, (b[i][1] + b[i + 1][1]) / 2)
          for i in range(0, len(a), 2)]
ratio = sorted(r[0] / r[1] for r in rounds)
q = statistics.quantiles(ratio, n=4) if len(ratio) >= 2 else [ratio[0]] * 3
ra = statistics.median(x[0] for x in a)
rb = statistics.median(x[0] for x in b)
ca = statistics.median(x[1] for x in a)
cb = statistics.median(x[1] for x in b)
cpu = sorted(r[2] / r[3] for r in rounds)
print(f"median   A on: {ra:7.0f} req/s {ca:6.0f} ns CPU/req   B off: {rb:7.0f} req/s {cb:6.0f} ns CPU/req")
print(f"ratio A/B requests/s: median of rounds {statistics.median(ratio):.3f} "
      f"(quartiles {q[0]:.3f} to {q[2]:.3f}, {len(ratio)} rounds); of the medians {ra / rb:.3f}")
print(f"server CPU per request A/B: median of rounds {statistics.median(cpu):.3f}; of the medians {ca / cb:.3f}")
PY
