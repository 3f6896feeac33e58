#!/usr/bin/env bash
# Spotlight tests: Sentry's own development sidecar as the real receiver of
# the envelopes stp's exporter sends.
#
#   bash interop/spotlight/run.sh
#
# Installs @spotlightjs/spotlight (this directory's package-lock.json) and
# @sentry/node with @grpc/grpc-js (interop/package-lock.json) through
# scripts/npm_ci.sh, builds the C examples, starts `spotlight server` on a
# free port of 127.0.0.1 and runs test.js: a @sentry/node service starts a
# trace and calls the C gRPC server, which runs the C HTTP/2 client, which
# calls the C HTTP/2 server; every process sends its transaction to the
# same Spotlight (SENTRY_SPOTLIGHT), and the tests read them back from it.
# Prints one `NAME: ok|FAILED` line per test and, last, `N passed, N
# failed`. Without Node.js or the registry it fails with a one-line reason.
set -uo pipefail
cd "$(dirname "$0")/../.."

fail() {
  echo "spotlight: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

bash scripts/setup.sh >&2 || fail "scripts/setup.sh failed"
bash scripts/npm_ci.sh interop/spotlight ||
  fail "@spotlightjs/spotlight could not be installed (the line above says why)"
bash scripts/npm_ci.sh interop ||
  fail "@sentry/node could not be installed (the line above says why)"

echo "spotlight: building the C examples" >&2
timeout 1200 bazel build --jobs=2 --noshow_progress --curses=no --color=no \
  //examples/grpc:grpc_client //examples/grpc:grpc_server \
  //examples/h2:h2_client //examples/h2:h2_server </dev/null >&2 ||
  fail "the C examples did not build"
bin="$(bazel info --color=no bazel-bin </dev/null 2>/dev/null)/examples"

cd interop/spotlight
timeout -k 5 240 node test.js "$bin" </dev/null
rc=$?
if [ "$rc" -ge 124 ]; then
  echo "spotlight: test.js was stopped after 240 s" >&2
  echo "0 passed, 1 failed"
fi
exit "$rc"
