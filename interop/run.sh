#!/usr/bin/env bash
# Interop tests against Sentry's own SDKs and a real browser.
#
#   bash interop/run.sh [NAME_FILTER]
#
# Installs what is missing: the Debian packages (scripts/setup.sh, with the
# extra ones below: Chromium, Go with sentry-go, Ruby with sentry-ruby),
# Node.js when there is no `node`, and the npm packages exactly as the lock
# files pin them (scripts/npm_ci.sh): @sentry/node 10.78 with @grpc/grpc-js
# (interop/), @sentry/node 11 (interop/node11), @sentry/browser 11 with
# playwright-core (interop/browser). Builds the C examples and the Go
# driver, then runs, all on 127.0.0.1:
#   test.js          C gRPC and HTTP/2 peers and the grpc++ service
#                    against @sentry/node, once per version (10.78, then
#                    11), and the rules where the versions differ
#                    (sdk_rules.js);
#   peers.js         the C HTTP/1.1 server and client against sentry-go and
#                    sentry-ruby, both directions, and the header forms;
#   browser/test.js  @sentry/browser in headless Chromium reading stp's
#                    meta tags.
# Each prints one `[SDK VERSION] NAME: ok|FAILED` line per check; the
# closing line, `N passed, N failed`, is their sum. A part that cannot run
# (no package, no registry) is one failure with a one-line reason; the run
# never passes without running the tests.
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}

fail() {
  echo "interop: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

extra=(
  chromium                              # the browser test's browser
  golang-go                             # builds interop/go/driver.go
  golang-github-getsentry-sentry-go-dev # sentry-go 0.11
  ruby ruby-sentry-ruby                 # sentry-ruby 5.3
  ruby-rack ruby-webrick                # its Rack middleware's server
)
bash scripts/setup.sh "${extra[@]}" >&2 ||
  fail "scripts/setup.sh could not install ${extra[*]} (see above)"
for dir in interop interop/node11 interop/browser; do
  bash scripts/npm_ci.sh "$dir" ||
    fail "the npm packages of $dir could not be installed (the line above says why)"
done

echo "interop: building the examples" >&2
timeout 1200 bazel build --jobs=2 --noshow_progress --curses=no --color=no \
  //examples/grpc:grpc_client //examples/grpc:grpc_server \
  //examples/grpcpp:grpcpp_server \
  //examples/h2:h2_client //examples/h2:h2_server \
  //examples/http1:http1_client //examples/http1:http1_server </dev/null >&2 ||
  fail "the examples did not build"
bin="$(bazel info --color=no bazel-bin </dev/null 2>/dev/null)/examples"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "interop: building the Go driver (sentry-go from Debian)" >&2
(cd interop/go && GO111MODULE=off GOPATH=/usr/share/gocode \
  timeout 600 go build -o "$tmp/go-driver" driver.go) >&2 ||
  fail "interop/go/driver.go did not build"

passed=0
failed=0
# Runs one part (each has its own limits per test; this one covers a hung
# process) and adds its closing count; a part that ends without one counts
# as one failure.
part() {
  local name=$1 limit=$2
  shift 2
  timeout -k 5 "$limit" "$@" </dev/null | tee "$tmp/part.log"
  local last
  last=$(tail -n 1 "$tmp/part.log")
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "[$name] ended without its count (stopped after $limit s, or crashed)"
    failed=$((failed + 1))
  fi
}

cd interop
part "@sentry/node 10.78" 300 env STP_SDK_DIR=. node test.js "$bin" "$filter"
part "@sentry/node 11" 300 env STP_SDK_DIR=node11 node test.js "$bin" "$filter"
part "sentry-go, sentry-ruby" 300 node peers.js "$bin" "$tmp/go-driver" \
  ruby/driver.rb "$filter"
part "@sentry/browser" 300 node browser/test.js "$bin" "$filter"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
