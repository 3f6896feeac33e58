#!/usr/bin/env bash
# Memory per in-flight request: the servers' resident memory (VmRSS of
# /proc/PID/status) while a client holds N requests open, none finished.
#
# HTTP/2: bench/h2_hold.c opens N/100 connections of 100 streams each,
# every stream a POST whose HEADERS do not end it (the body never comes),
# against the example server (//examples/h2:h2_server, which always runs
# stp) and the benchmark server (//bench:h2_bench_server, --mode off: no
# stp code; --mode stp: the trace continued), each with and without the
# reference trace headers (bench/common.sh). gRPC: bench/grpc_hold.c holds
# calls that sent their initial metadata and nothing more against the
# example server (//examples/grpc:grpc_server), and against
# //bench:grpc_hold_server (--mode off: plain gRPC core; --mode stp: the
# Sentry server interceptor), with and without the same trace metadata.
#
# Every figure comes from a server of its own. The client first opens its
# connections and nothing else (--pause): RSS_0; then its streams or calls,
# and once the server has read them all: RSS_N. Per request:
# (RSS_N - RSS_0) / N, in bytes; it holds what the server keeps per
# request (its own struct, stp's state, nghttp2's or gRPC's stream, the
# request's headers) less any memory it had freed before and takes again.
#
# grpc_server serves each call on a thread of its own, at most 256 at once
# (--max-calls, the cap of examples/grpc/call_pool.c); calls past it wait
# inside gRPC, not yet accepted, with no state of the server's. So its
# runs hold min(N, 256) calls; grpc_hold_server holds any number on one
# thread. Last, //bench:grpc_arena prints the
# bytes stp itself takes from a call's arena: its state per in-flight
# call, whatever the server keeps around it.
#
#   bash bench/streams_rss.sh [N...]   # default 1000 10000
# N: below 100, or a multiple of 100.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 1000 10000
per_conn=100
grpc_cap=256
hold_ms=600000 # a safety net: every client is ended long before
for n in "$@"; do
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || { [ "$n" -ge $per_conn ] && [ $((n % per_conn)) -ne 0 ]; }; then
    echo "streams_rss: N is a number below $per_conn or a multiple of it: $n" >&2
    exit 2
  fi
done

source bench/common.sh
bench_build //examples/h2:h2_server //bench:h2_bench_server //bench:h2_hold \
  //examples/grpc:grpc_server //bench:grpc_hold //bench:grpc_arena \
  //bench:grpc_hold_server
bench_scratch
client_pid=""
# On exit: the client and the server of a run cut short are stopped.
stop_all() {
  exec 3>&-
  local p
  for p in $client_pid $server_pid; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  server_pid=""
  bench_cleanup # removes $work
}
trap stop_all EXIT

trace_headers=(-H "sentry-trace: $REF_SENTRY_TRACE" -H "baggage: $REF_BAGGAGE")

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status"; }

# Starts a server (its command line in "$@", without --port) on a free
# port of 127.0.0.1; sets server_pid and port.
start_server() {
  rm -f "$work/port"
  "$@" --port 0 --port-file "$work/port" >"$work/server.log" 2>&1 &
  server_pid=$!
  wait_port_file "$work/port" "$work/server.log"
  port=$(cat "$work/port")
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || {
    cat "$work/server.log" >&2
    echo "streams_rss: the server did not stop cleanly" >&2
    exit 1
  }
  server_pid=""
}

# Waits at most 120 s for the client to print a line starting with WORD;
# on failure prints its errors and exits.
wait_client() {
  for _ in $(seq 1200); do
    grep -q "^$1" "$work/client.out" && return 0
    kill -0 "$client_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/client.err" >&2
  echo "streams_rss: the client did not get to \"$1\"" >&2
  exit 1
}

# Runs a hold client (its command line in "$@") against the server with
# --pause: reads the server's RSS once the connections are open (rss0)
# and once every request is (rssn), then closes the client's stdin, which
# ends it. Its stdin is a FIFO whose writing end is fd 3 here.
hold() {
  rm -f "$work/fifo"
  mkfifo "$work/fifo"
  exec 3<>"$work/fifo"
  "$@" --pause --hold-ms "$hold_ms" <"$work/fifo" >"$work/client.out" \
    2>"$work/client.err" 3>&- &
  client_pid=$!
  wait_client connected
  rss0=$(rss_kb)
  echo go >&3
  wait_client ready
  rssn=$(rss_kb)
  exec 3>&-
  wait "$client_pid" || {
    cat "$work/client.err" >&2
    echo "streams_rss: the client lost requests while holding them" >&2
    exit 1
  }
  client_pid=""
}

# One row of the table: SERVER HEADERS N, from rss0 and rssn.
row() {
  local per=$(((rssn - rss0) * 1024 / $3))
  printf '%-28s %-6s %6d %9d %9d %9d\n' "$1" "$2" "$3" "$rss0" "$rssn" "$per"
  echo "$1|$2|$3|$per" >>"$work/rows"
}

# An HTTP/2 server (its command line in "$@") holding N streams, with
# (trace) or without (none) the trace headers.
h2_row() {
  local label=$1 headers=$2 n=$3
  shift 3
  local conns=$(((n + per_conn - 1) / per_conn)) streams=$per_conn
  [ "$n" -ge $per_conn ] || streams=$n
  start_server "$@" --conn-streams $per_conn --max-streams "$n" \
    --max-conns $((conns + 16)) --idle-timeout "$hold_ms" \
    --stream-timeout "$hold_ms"
  local h=()
  [ "$headers" = none ] || h=("${trace_headers[@]}")
  hold "$bin/bench/h2_hold" --port "$port" --conns "$conns" \
    --streams "$streams" "${h[@]}"
  stop_server
  row "$label" "$headers" "$n"
}

# A gRPC server (its command line in "$@") holding N calls.
grpc_row() {
  local label=$1 headers=$2 n=$3 h=()
  shift 3
  start_server "$@"
  [ "$headers" = none ] || h=("${trace_headers[@]}")
  hold "$bin/bench/grpc_hold" --target "127.0.0.1:$port" --calls "$n" "${h[@]}"
  stop_server
  row "$label" "$headers" "$n"
}

max_n=0
for n in "$@"; do [ "$n" -le "$max_n" ] || max_n=$n; done
if [ "$(ulimit -n)" != unlimited ] &&
  [ "$(ulimit -n)" -lt $((max_n / per_conn + 64)) ]; then
  echo "streams_rss: $((max_n / per_conn)) connections need more descriptors than ulimit -n ($(ulimit -n))" >&2
  exit 1
fi

bench_header
echo "RSS of each server (kB) with its connections open (RSS_0) and with N requests"
echo "held open (RSS_N); bytes per request: (RSS_N - RSS_0) / N. HTTP/2: $per_conn"
echo "streams per connection; gRPC: one connection. Headers: trace (sentry-trace"
echo "and the ${#REF_BAGGAGE}-byte baggage) or none."
echo
printf '%-28s %-6s %6s %9s %9s %9s\n' server headers N RSS_0 RSS_N bytes/req
for n in "$@"; do
  for headers in none trace; do
    h2_row h2_server "$headers" "$n" "$bin/examples/h2/h2_server"
  done
  for mode in off stp; do
    for headers in none trace; do
      h2_row "h2_bench_server --mode $mode" "$headers" "$n" \
        "$bin/bench/h2_bench_server" --mode "$mode"
    done
  done
done
grpc_ns=$(for n in "$@"; do echo $((n < grpc_cap ? n : grpc_cap)); done | sort -nu)
for n in $grpc_ns; do
  for headers in none trace; do
    grpc_row grpc_server "$headers" "$n" "$bin/examples/grpc/grpc_server" \
      --max-calls $grpc_cap --call-timeout "$hold_ms"
  done
done
for n in "$@"; do
  for mode in off stp; do
    for headers in none trace; do
      grpc_row "grpc_hold_server --mode $mode" "$headers" "$n" \
        "$bin/bench/grpc_hold_server" --mode "$mode"
    done
  done
done

# What the trace costs each request, from the rows above.
echo
python3 - "$work/rows" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    server, headers, n, per = line.rstrip("\n").split("|")
    rows[(server, headers, int(n))] = int(per)
def diff(what, a, b):
    for n in sorted({k[2] for k in rows}):
        if a + (n,) in rows and b + (n,) in rows:
            print(f"{what}, N = {n}: {rows[a + (n,)] - rows[b + (n,)]:+d} bytes per request")
diff("h2_server, trace headers against none", ("h2_server", "trace"), ("h2_server", "none"))
diff("h2_bench_server, trace headers, --mode stp against --mode off",
     ("h2_bench_server --mode stp", "trace"), ("h2_bench_server --mode off", "trace"))
diff("grpc_server, trace metadata against none", ("grpc_server", "trace"), ("grpc_server", "none"))
diff("grpc_hold_server, trace metadata, --mode stp against --mode off",
     ("grpc_hold_server --mode stp", "trace"), ("grpc_hold_server --mode off", "trace"))
diff("grpc_hold_server, no trace metadata, --mode stp against --mode off",
     ("grpc_hold_server --mode stp", "none"), ("grpc_hold_server --mode off", "none"))
PY
echo
"$bin/bench/grpc_arena" "${trace_headers[@]}"
