#!/usr/bin/env bash
# The main job, for now: installs what is missing, builds the `stp`
# inspector and shows it continuing a trace from sample headers and
# starting a new one. Prints JSON.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bazel build --jobs=2 --noshow_progress --curses=no --color=no --show_result=0 \
  //tools:stp </dev/null
stp="$(bazel info --color=no bazel-bin </dev/null 2>/dev/null)/tools/stp"

run() {
  local shown="stp" a
  for a in "$@"; do
    case $a in
      *[!A-Za-z0-9_./:@=,-]*) shown+=" '$a'" ;;
      *) shown+=" $a" ;;
    esac
  done
  printf '\n$ %s\n' "$shown"
  "$stp" "$@"
}

run continue \
  -H 'sentry-trace: 771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1' \
  -H 'baggage: sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,sentry-sampled=true'
run new \
  --dsn https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5 \
  --sample-rate 1
