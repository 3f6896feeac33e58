#!/usr/bin/env bash
# HTTP/2 overhead: h2load against //examples/h2:h2_server, every request
# carrying `sentry-trace` and `baggage`, with propagation on (A:
# --fixed-answer, the server continues each request's trace and computes
# the headers a downstream call would carry) and off (B: --no-propagation,
# no stp code runs). Both answer the same 22-byte body. Runs A, B, A, B,
# ... one server at a time, the server on CPU 0 and h2load on CPU 1 when
# the machine has two. Prints each run's requests/s and the server's CPU
# time per request, then the medians and the ratios A/B (target for
# requests/s: at least 0.97).
#
#   bash bench/h2_ab.sh [PAIRS] [REQUESTS]     # default 10 50000
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-10}
requests=${2:-50000}

source bench/common.sh
bench_build //examples/h2:h2_server
server="$bin/examples/h2/h2_server"
bench_scratch
ticks=$(getconf CLK_TCK)

# One run: prints "REQ_PER_S CPU_US_PER_REQUEST".
one() {
  rm -f "$work/port"
  "${cpu0[@]}" "$server" --port 0 --port-file "$work/port" "$1" \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  wait_port_file "$work/port" "$work/server.log"
  local stat0 stat1 out
  stat0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  out=$(h2load_ref "$requests" "http://127.0.0.1:$(cat "$work/port")/api/users")
  stat1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  grep -q "$requests succeeded" <<<"$out" || { echo "$out" >&2; exit 1; }
  local rps
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  awk -v r="$rps" -v t=$((stat1 - stat0)) -v hz="$ticks" -v n="$requests" \
    'BEGIN { printf "%s %.2f\n", r, t / hz * 1e6 / n }'
}

bench_header
echo "h2load -n $requests -c 8 -m 16, both headers on every request"
: >"$work/a"
: >"$work/b"
for i in $(seq "$pairs"); do
  a=$(one --fixed-answer)
  b=$(one --no-propagation)
  echo "$a" >>"$work/a"
  echo "$b" >>"$work/b"
  printf 'pair %2d  A propagation on: %9.0f req/s %6s us CPU/req   B off: %9.0f req/s %6s us CPU/req\n' \
    "$i" ${a% *} ${a#* } ${b% *} ${b#* }
done
python3 - "$work/a" "$work/b" <<'PY'
import statistics, sys
a = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
b = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
ra, rb = statistics.median(x[0] for x in a), statistics.median(x[0] for x in b)
ca, cb = statistics.median(x[1] for x in a), statistics.median(x[1] for x in b)
print(f"median   A on: {ra:9.0f} req/s {ca:6.2f} us CPU/req   B off: {rb:9.0f} req/s {cb:6.2f} us CPU/req")
pair = sorted(x[0] / y[0] for x, y in zip(a, b))
print(f"ratio A/B requests/s {ra / rb:.3f} (of the medians; per pair from {pair[0]:.3f} to {pair[-1]:.3f}, median {statistics.median(pair):.3f})")
diff = statistics.median(x[1] - y[1] for x, y in zip(a, b))
print(f"server CPU per request: {ca - cb:+.2f} us between the medians; median of the per-pair differences {diff:+.2f} us ({100 * diff / cb:+.1f}%)")
PY
