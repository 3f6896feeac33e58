#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each one.
#   fuzz/run.sh [SECONDS] [TARGET...]
# SECONDS per target (default 30; 0 replays the corpus only). New inputs go
# to a scratch corpus under $FUZZ_WORK (default /tmp/stp-fuzz), never into
# the repository; a crash leaves its input there and fails the run. Keep a
# fixed crash as fuzz/corpus/TARGET/regress-NAME.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(sentry_trace traceparent baggage continue roundtrip nghttp2_inject)
work=${FUZZ_WORK:-/tmp/stp-fuzz}
mkdir -p "$work/bin"

flags=(-std=c11 -g -O1 -Wall -Wextra -Werror
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -I"$root/include" -I"$root" -pthread)
status=0
for t in "${targets[@]}"; do
  bin="$work/bin/fuzz_$t"
  extra=()
  case $t in
  baggage) # also compares the scanner's two paths
    extra=("$root/tests/scan_agree.c" -I"$root") ;;
  nghttp2_inject) # the nghttp2 client helper (nghttp2's header only)
    extra=("$root/interceptors/nghttp2/client.c"
           -I"$root/interceptors/nghttp2/include") ;;
  esac
  clang "${flags[@]}" "$root"/src/*.c "${extra[@]}" "$here/fuzz_$t.c" -o "$bin"
  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  cp -n "$here/corpus/$t"/* "$corpus/" 2>/dev/null || true
  log="$work/$t.log"
  if [ "$secs" = 0 ]; then
    args=(-runs=0)
  else
    args=(-max_total_time="$secs")
  fi
  # Seeds first, as regression tests; then explore.
  if "$bin" -dict="$here/stp.dict" -artifact_prefix="$work/$t-" \
      -print_final_stats=1 "${args[@]}" "$corpus" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ok, ${execs:-?} runs, ${cov:-cov: ?}, ${ft:-ft: ?}"
  else
    echo "fuzz $t: FAILED (log $log)"
    grep -E 'check failed|ERROR|SUMMARY' "$log" | head -5
    status=1
  fi
done
exit $status
