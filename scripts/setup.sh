#!/usr/bin/env bash
# Installs the Debian packages stp needs to build, test and demo.
# Idempotent: when everything is present it does nothing (no apt-get call),
# so a second run is fast. Run as root (or with sudo available).
#   bash scripts/setup.sh [EXTRA_PACKAGE...]   # e.g. valgrind
set -euo pipefail

packages=(
  bazel-bootstrap   # Bazel 4.2.3, the build
  libgrpc-dev       # gRPC core C API, for the gRPC interceptor
  libgrpc++-dev     # grpc++
  libprotobuf-dev   # protobuf, for the grpc++ examples' and tests' services
  protobuf-compiler # protoc, which writes their messages
  protobuf-compiler-grpc # grpc_cpp_plugin, which writes their stubs
  libnghttp2-dev    # nghttp2, for the HTTP/2 helpers
  libcurl4-openssl-dev # libcurl, for the exporter's HTTP transport
  nghttp2-client    # nghttp, h2load: real HTTP/2 peers for tests
  nghttp2-server    # nghttpd
  libgtest-dev      # googletest
  libbenchmark-dev  # google benchmark
  clang             # libFuzzer and sanitizers
  clang-format      # scripts/format.sh
  libclang-rt-14-dev
  python3           # the HTTP/2 end-to-end test scripts (tests/h2)
  cmake             # the CMake build (scripts/consumers.sh)
  pkg-config        # the CMake build finds nghttp2 and gRPC with it
  "$@"              # extra packages a script asks for
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# apt-get ARGS..., waiting while another apt-get or dpkg (an unattended
# upgrade, say) holds the package lock: at most STP_APT_LOCK_WAIT seconds
# (default 600) over the whole setup, then a clear message and failure.
lock_wait=${STP_APT_LOCK_WAIT:-600}
waiting=false
apt_get() {
  local log
  log=$(mktemp)
  while :; do
    if "${sudo[@]}" apt-get "$@" </dev/null >/dev/null 2>"$log"; then
      rm -f "$log"
      return 0
    fi
    if ! grep -qE 'Could not get lock|Unable to (acquire|lock)' "$log"; then
      cat "$log" >&2
      rm -f "$log"
      return 1
    fi
    if [ "$SECONDS" -ge "$lock_wait" ]; then
      echo "setup: gave up after ${lock_wait} s: another apt-get or dpkg" \
        "still holds the package lock:" >&2
      grep -m 1 'Could not get lock' "$log" >&2
      echo "setup: run this again once it has finished" \
        "(STP_APT_LOCK_WAIT sets the wait in seconds)" >&2
      rm -f "$log"
      return 1
    fi
    if ! $waiting; then
      echo "setup: waiting for the package lock, held by another apt-get" \
        "or dpkg (at most ${lock_wait} s)" >&2
      waiting=true
    fi
    sleep 2
  done
}

SECONDS=0
apt_get update -qq
apt_get install -y -qq "${missing[@]}"
echo "setup: done"
