#!/usr/bin/env bash
# Interop tests against Sentry's own JavaScript SDK.
#
#   bash interop/run.sh [NAME_FILTER]
#
# Installs what is missing (the Debian packages, then Node.js when there is
# no `node`), installs @sentry/node and @grpc/grpc-js from the npm registry
# exactly as package-lock.json pins them (npm ci), builds the examples and
# runs interop/test.js: C gRPC and HTTP/2 clients and servers, and the
# grpc++ service, against JavaScript ones that continue and start traces
# with @sentry/node, all on 127.0.0.1. Prints one `NAME: ok|FAILED` line per test and, last,
# `N passed, N failed`. Without Node.js or the registry the run fails with
# a message saying which; it never passes without running the tests.
set -uo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "interop: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

bash scripts/setup.sh >&2 || fail "scripts/setup.sh failed"
bash scripts/npm_ci.sh interop ||
  fail "the npm packages could not be installed (the line above says why)"

echo "interop: building the examples" >&2
timeout 1200 bazel build --jobs=2 --noshow_progress --curses=no --color=no \
  //examples/grpc:grpc_client //examples/grpc:grpc_server \
  //examples/grpcpp:grpcpp_server \
  //examples/h2:h2_client //examples/h2:h2_server </dev/null >&2 ||
  fail "the examples did not build"
bin="$(bazel info --color=no bazel-bin </dev/null 2>/dev/null)/examples"

# test.js prints the per-test lines and the closing count itself; the
# outer limit covers a hung Node process (each test has its own, 30 s).
cd interop
timeout -k 5 300 node test.js "$bin" "${1:-}" </dev/null
rc=$?
if [ "$rc" -ge 124 ]; then
  echo "interop: test.js was stopped after 300 s" >&2
  echo "0 passed, 1 failed"
fi
exit "$rc"
