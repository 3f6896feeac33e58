#!/usr/bin/env bash
# The main job: one trace across five processes on 127.0.0.1.
#
#   gRPC client (C) -> grpc++ service (C++) -> gRPC server (C)
#        gRPC metadata             gRPC metadata
#   -> nghttp2 client (C) -> HTTP/2 server (C)
#     SENTRY_TRACE/SENTRY_BAGGAGE     HTTP/2 headers
#
# The grpc++ service calls the gRPC server on from its handler; the gRPC
# server runs the nghttp2 client as a child process for each call, handing
# it the trace through the environment. Every process appends its
# span records to one span log; the demo then prints the trace id, the tree
# of spans and the exact trace headers of every hop, and checks that the
# trace is unbroken (exit 1 when it is not).
#
# Every process also reports its transaction to Sentry's Spotlight sidecar
# (@spotlightjs/spotlight from the npm registry, interop/spotlight), which
# the demo runs on 127.0.0.1 (SENTRY_SPOTLIGHT): it reads the transactions
# back from Spotlight, draws them and checks that each process's arrived
# under the span of its caller (exit 1 when not).
#
#   bash scripts/demo.sh [--json] [--sentry-trace VALUE] [--baggage VALUE]
#                        [--dsn DSN] [--release R] [--environment E]
#                        [--sample-rate X] [--no-spotlight] [--keep]
#
# Without --sentry-trace the trace starts in the gRPC client, as the head of
# the trace, with the DSN, release, environment and sample rate given (or
# the defaults below). Nothing is sent to the DSN: the examples send to
# Spotlight only. --no-spotlight runs without it (no npm registry needed).
# --keep leaves the working directory (span log, each process's output).
# Installs what is missing and builds first; every step has a time limit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

json=0 keep=0 spotlight=1
sentry_trace="" baggage=""
dsn="https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5"
release="shop@1.4.2" environment="demo" sample_rate="1"

usage() {
  sed -n '\|^#   bash scripts/demo.sh|,\|--keep\]$|p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=1 ;;
    --keep) keep=1 ;;
    --no-spotlight) spotlight=0 ;;
    --sentry-trace | --baggage | --dsn | --release | --environment | --sample-rate)
      [ $# -ge 2 ] || usage
      case $1 in
        --sentry-trace) sentry_trace=$2 ;;
        --baggage) baggage=$2 ;;
        --dsn) dsn=$2 ;;
        --release) release=$2 ;;
        --environment) environment=$2 ;;
        --sample-rate) sample_rate=$2 ;;
      esac
      shift
      ;;
    -h | --help) usage ;;
    *) echo "demo: unknown option $1" >&2; usage ;;
  esac
  shift
done

# Progress goes to stderr, so that --json output stays a clean document.
say() { printf '%s\n' "$*" >&2; }

say "== installing what is missing (scripts/setup.sh)"
bash scripts/setup.sh >&2
say "== building the five programs"
bazel build --jobs=2 --noshow_progress --curses=no --color=no --show_result=0 \
  --ui_event_filters=-info \
  //examples/grpc:grpc_client //examples/grpc:grpc_server \
  //examples/grpcpp:grpcpp_server \
  //examples/h2:h2_client //examples/h2:h2_server </dev/null >&2
bin="$(bazel info --color=no bazel-bin </dev/null 2>/dev/null)/examples"
if [ "$spotlight" = 1 ]; then
  say "== installing Spotlight (scripts/npm_ci.sh interop/spotlight)"
  if ! bash scripts/npm_ci.sh interop/spotlight; then
    say "demo: Spotlight could not be installed (the line above says why);"
    say "      bash scripts/demo.sh --no-spotlight runs without it"
    exit 1
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/stp-demo.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then say "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"

# Waits (at most 10 s) for a server's port file; prints the port.
wait_port() {
  local file=$1 pid=$2 i
  for i in $(seq 100); do
    if [ -s "$file" ]; then cat "$file"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  say "demo: ${file%.port} did not start; its output:"
  cat "${file%.port}.log" >&2 || true
  return 1
}

if [ "$spotlight" = 1 ]; then
  say "== starting Spotlight"
  "$root/interop/spotlight/node_modules/.bin/spotlight" server -p 0 \
    >spotlight.log 2>&1 &
  pids+=($!)
  spot_port=""
  for _ in $(seq 100); do
    spot_port=$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' spotlight.log)
    [ -n "$spot_port" ] || ! kill -0 "${pids[-1]}" 2>/dev/null || { sleep 0.1; continue; }
    break
  done
  if [ -z "$spot_port" ]; then
    say "demo: Spotlight did not start; its output:"
    cat spotlight.log >&2
    exit 1
  fi
  # Every example process sends its transactions there.
  export SENTRY_SPOTLIGHT="http://127.0.0.1:$spot_port/stream"
fi

# Servers: ports picked by the kernel, 127.0.0.1 only.
say "== starting the HTTP/2 server, the gRPC server and the grpc++ service on 127.0.0.1"
"$bin/h2/h2_server" --port 0 --port-file h2_server.port --spans spans.jsonl \
  --release "$release" --environment "$environment" \
  >h2_server.log 2>&1 &
pids+=($!)
h2_port=$(wait_port h2_server.port "${pids[-1]}")

# The gRPC server finds h2_client on its PATH, so its span reads cleanly.
PATH="$bin/h2:$PATH" "$bin/grpc/grpc_server" --port 0 \
  --port-file grpc_server.port --spans spans.jsonl \
  --release "$release" --environment "$environment" \
  --exec "h2_client --env --spans spans.jsonl http://127.0.0.1:$h2_port/inventory/42" \
  >grpc_server.log 2>&1 &
pids+=($!)
grpc_port=$(wait_port grpc_server.port "${pids[-1]}")

# The grpc++ service in front of it: each call goes on to the gRPC server.
"$bin/grpcpp/grpcpp_server" --port 0 --port-file grpcpp_server.port \
  --spans spans.jsonl --release "$release" --environment "$environment" \
  --downstream "127.0.0.1:$grpc_port" >grpcpp_server.log 2>&1 &
pids+=($!)
grpcpp_port=$(wait_port grpcpp_server.port "${pids[-1]}")

# The client: the head of the trace, or the continuation of the one given.
client=("$bin/grpc/grpc_client" --spans spans.jsonl --method /shop.Orders/Checkout
  --release "$release" --environment "$environment")
incoming_parent=""
if [ -n "$sentry_trace" ]; then
  client+=(-H "sentry-trace: $sentry_trace")
  [ -z "$baggage" ] || client+=(-H "baggage: $baggage")
  # The span the trace is continued from: the second field of sentry-trace.
  incoming_parent=$(printf '%s' "$sentry_trace" | tr -d ' \t' | cut -d- -f2)
else
  client+=(--dsn "$dsn" --sample-rate "$sample_rate")
fi
say "== calling: grpc_client -> grpcpp_server -> grpc_server -> h2_client -> h2_server"
if ! timeout 30 "${client[@]}" "127.0.0.1:$grpcpp_port" >grpc_client.log 2>&1; then
  say "demo: the gRPC call failed; the client's output:"
  cat grpc_client.log >&2
  exit 1
fi

# Stop the servers (SIGTERM: they finish and exit 0) so every record is in
# (and every transaction sent); Spotlight keeps running.
servers=("${pids[@]:$spotlight}")
for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${servers[@]}"; do
  timeout 10 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
done
pids=("${pids[@]:0:$spotlight}")

args=(spans.jsonl)
[ "$json" = 0 ] || args+=(--json)
[ -z "$incoming_parent" ] || args+=(--incoming-parent "$incoming_parent")
[ "$json" = 1 ] || echo
rc=0
python3 "$root/scripts/demo_report.py" "${args[@]}" || rc=$?

if [ "$spotlight" = 1 ]; then
  trace_id=$(sed -n 's/^context trace_id=\([0-9a-f]*\).*/\1/p' grpc_client.log)
  args=("$spot_port" "$trace_id" --processes 5)
  [ -z "$incoming_parent" ] || args+=(--incoming-parent "$incoming_parent")
  # With --json the document stays alone on stdout.
  [ "$json" = 0 ] || args+=(--out /dev/stderr)
  [ "$json" = 1 ] || echo
  python3 "$root/scripts/demo_spotlight.py" "${args[@]}" || rc=1
fi
exit "$rc"
