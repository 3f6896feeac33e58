#!/usr/bin/env bash
# Runs the core's unit-test binaries under valgrind's memcheck: any invalid
# read or write, use of uninitialised memory or leak fails the run.
#   bash scripts/valgrind.sh
# Prints one line per binary and exits non-zero when any of them failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh valgrind >/dev/null || exit 1

# The core's tests. (The gRPC and nghttp2 tests run under ASan instead:
# valgrind would mostly report on the system libraries' own caches.)
targets=$(bazel query --noshow_progress \
  'kind(cc_test, //tests:all + //tests/hostile/...)' 2>/dev/null)
bazel build --jobs=2 --noshow_progress --curses=no --color=no $targets \
  </dev/null || exit 1
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
exit $status
