#!/usr/bin/env bash
# The test command: installs what is missing, runs every test with Bazel and
# prints last `N passed, N failed`, counted from the JUnit XML of this run.
#
# Usage: scripts/test.sh [BAZEL_OPTION...] [-- TARGET...]
#   bash scripts/test.sh                    # bazel test //...
#   bash scripts/test.sh --config=asan      # the same under ASan + UBSan
# Exits non-zero when anything failed or did not build.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1

opts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  opts+=("$1")
  shift
done
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(//...)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# --keep_going: a target that does not build still lets the others run (and
# is counted as failed). Quiet output: no progress bar, no colours.
bazel test --jobs=2 --keep_going --noshow_progress --curses=no --color=no \
  --build_event_json_file="$out/bep.json" "${opts[@]}" -- "${targets[@]}" \
  </dev/null
rc=$?

logs=$(bazel info --color=no "${opts[@]}" bazel-testlogs 2>/dev/null </dev/null)
if [ -z "$logs" ] || [ ! -f "$out/bep.json" ]; then
  echo "test.sh: bazel wrote no results (exit $rc)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
bash scripts/count_results.sh "$out/bep.json" "$logs" "$rc"
