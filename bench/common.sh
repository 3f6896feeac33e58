# Sourced by the bench scripts (run from the repository root): the
# reference input, the optimised build, CPU pinning and the run header.

# The reference input of every benchmark (tests/reference_request.h, the
# JavaScript benchmark and the HTTP/2 runs): 51 and 321 bytes.
REF_SENTRY_TRACE="771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1"
REF_BAGGAGE="sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,sentry-sampled=true,sentry-release=backend%401.2.3,sentry-environment=production,sentry-transaction=GET%20%2Fapi%2Fusers,sentry-sample_rand=0.123456,vendor-a=a;prop1=1;prop2,vendor-b=beta%20two;p=x"

# Installs what is missing and builds the targets with -c opt; sets $bin
# to the output directory (bazel-bin of that configuration).
bench_build() {
  bash scripts/setup.sh >&2
  bazel build -c opt --jobs=2 --noshow_progress "$@" </dev/null >&2
  bin="$(bazel info -c opt --color=no bazel-bin </dev/null 2>/dev/null)"
}

# Builds TARGET (a package:name label such as //bench:core_bench) with
# -c opt as of revision REV, and copies the binary to DEST. The build runs
# in a git worktree at one fixed path, $bench_tree, so that every such
# build has the same Bazel output base: a second one is quick, and output
# bases do not pile up. Its Bazel server is stopped after the build.
bench_tree=${TMPDIR:-/tmp}/stp-bench-tree
bench_build_at() {
  local rev=$1 target=$2 dest=$3 path=${2#//}
  bench_tree_remove # one left by a run cut short
  git worktree prune
  git worktree add --detach -q "$bench_tree" "$rev"
  (cd "$bench_tree" && bazel build -c opt --jobs=2 --noshow_progress \
    "$target" </dev/null >&2 &&
    cp "$(bazel info -c opt --color=no bazel-bin </dev/null 2>/dev/null)/${path/://}" \
      "$dest")
  bench_tree_remove
}

# Removes $bench_tree, if there, after stopping its Bazel server.
bench_tree_remove() {
  [ -d "$bench_tree" ] || return 0
  (cd "$bench_tree" && bazel shutdown </dev/null 2>/dev/null) || true
  git worktree remove --force "$bench_tree" 2>/dev/null || rm -rf "$bench_tree"
}

# The names of the functions the objects (*.o) under the given
# directories define, one per line; ".part.0" and such left out.
bench_functions() {
  find -L "$@" -name '*.o' -print0 |
    xargs -0 nm --defined-only 2>/dev/null |
    awk '$2 ~ /^[tT]$/ { sub(/\..*/, "", $3); print $3 }' | sort -u
}

# A scratch directory, $work, removed on exit together with the server
# whose pid is in $server_pid, if one is still running then.
bench_scratch() {
  work=$(mktemp -d)
  server_pid=""
  trap bench_cleanup EXIT
}
bench_cleanup() {
  [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
  rm -rf "$work"
  bench_tree_remove # a bench_build_at cut short
  git worktree prune 2>/dev/null || true
}

# Commands prefixed with "${cpu0[@]}" / "${cpu1[@]}" run on CPU 0 / CPU 1;
# both are empty without taskset or on one core.
cpu0=() cpu1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  cpu0=(taskset -c 0) cpu1=(taskset -c 1)
fi

# The first line of every report: when, and how busy the machine was.
bench_header() {
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Waits at most 10 s for a server started with --port-file FILE to write
# it; on failure prints LOG and exits.
wait_port_file() {
  local file=$1 log=$2
  for _ in $(seq 100); do [ -s "$file" ] && return 0; sleep 0.1; done
  cat "$log" >&2
  echo "bench: the server did not start" >&2
  exit 1
}

# h2load with the reference headers: REQUESTS requests over 8 connections
# of 16 streams each, on CPU 1. With REF_HEADERS=trace, `sentry-trace`
# alone: what propagation costs without the baggage.
h2load_ref() {
  local requests=$1 url=$2 bag=(-H "baggage: $REF_BAGGAGE")
  [ "${REF_HEADERS:-both}" != trace ] || bag=()
  timeout 300 "${cpu1[@]}" h2load -n "$requests" -c 8 -m 16 \
    -H "sentry-trace: $REF_SENTRY_TRACE" "${bag[@]}" "$url"
}
