#!/usr/bin/env bash
# Runs the core's unit-test binaries under valgrind's memcheck: any invalid
# read or write, use of uninitialised memory or leak fails the run. Then the
# gRPC tests, for invalid accesses and uninitialised memory only (the
# Sentry interceptors' call data is not zeroed; gRPC's own caches would
# show up as leaks).
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
bazel build --jobs=2 --noshow_progress --curses=no --color=no $targets \
  $grpc_targets </dev/null || exit 1
bin=$(bazel info bazel-bin 2>/dev/null)

status=0
for t in $targets; do
  path=${t#//}
  exe="$bin/${path/://}"
  log=$(mktemp)
  # The soak test's thread count stays; valgrind serialises threads, so it
  # does fewer rounds here.
  if STP_SOAK_ITERATIONS=500 valgrind --quiet --error-exitcode=99 \
      --leak-check=full --errors-for-leak-kinds=definite,indirect \
      --show-leak-kinds=definite,indirect "$exe" >"$log" 2>&1; then
    echo "valgrind $t: clean"
  else
    echo "valgrind $t: FAILED"
    grep -E '==[0-9]+==|FAILED' "$log" | head -20
    status=1
  fi
  rm -f "$log"
done
for t in $grpc_targets; do
  path=${t#//}
  exe="$bin/${path/://}"
  log=$(mktemp)
  if valgrind --quiet --error-exitcode=99 --leak-check=no "$exe" \
      >"$log" 2>&1; then
    echo "valgrind $t: clean"
  else
    echo "valgrind $t: FAILED"
    grep -E '==[0-9]+==|FAILED' "$log" | head -20
    status=1
  fi
  rm -f "$log"
done
exit $status
