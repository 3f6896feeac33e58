#!/usr/bin/env bash
# Runs the core's unit-test binaries under valgrind's memcheck: any invalid
# read or write, use of uninitialised memory or leak fails the run. Then the
# gRPC tests, for invalid accesses and uninitialised memory only (the
# Sentry interceptors' call data is not zeroed; gRPC's own caches would
# show up as leaks). Then the grpc++ tests, leaks included: cancelled,
# timed-out and abandoned calls must leave nothing behind.
#   bash scripts/valgrind.sh
# Prints one line per binary and exits non-zero when any of them failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh valgrind >/dev/null || exit 1

# The core's tests; the gRPC tests (the nghttp2 tests run under ASan only).
targets=$(bazel query --noshow_progress \
  'kind(cc_test, //tests:all + //tests/hostile/...)' 2>/dev/null)
grpc_targets=$(bazel query --noshow_progress 'kind(cc_test, //tests/grpc:all)' \
  2>/dev/null)
grpcpp_targets=$(bazel query --noshow_progress \
  'kind(cc_test, //tests/grpcpp:all)' 2>/dev/null)
bazel build --jobs=2 --noshow_progress --curses=no --color=no $targets \
  $grpc_targets $grpcpp_targets </dev/null || exit 1
bin=$(bazel info bazel-bin 2>/dev/null)

status=0
# memcheck TARGET [VALGRIND OPTION...]: one line, clean or FAILED with the
# report's first lines; a failure sets status.
memcheck() {
  local t=$1 log
  shift
  local path=${t#//}
  log=$(mktemp)
  if valgrind --quiet --error-exitcode=99 "$@" "$bin/${path/://}" \
      >"$log" 2>&1; then
    echo "valgrind $t: clean"
  else
    echo "valgrind $t: FAILED"
    # valgrind's report, and each failed assertion with its values.
    grep -E -A6 '==[0-9]+==|: Failure$' "$log" | head -40
    grep -E '^\[  FAILED  \]' "$log" | head -10
    status=1
  fi
  rm -f "$log"
}

# The soak test's thread count stays; valgrind serialises threads, so it
# does fewer rounds here.
export STP_SOAK_ITERATIONS=500
for t in $targets; do
  memcheck "$t" --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect
done
for t in $grpc_targets; do
  memcheck "$t" --leak-check=no
done
for t in $grpcpp_targets; do
  memcheck "$t" --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect
done
exit $status
