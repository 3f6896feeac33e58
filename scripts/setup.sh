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
  libnghttp2-dev    # nghttp2, for the HTTP/2 helpers
  nghttp2-client    # nghttp, h2load: real HTTP/2 peers for tests
  nghttp2-server    # nghttpd
  libgtest-dev      # googletest
  libbenchmark-dev  # google benchmark
  clang             # libFuzzer and sanitizers
  clang-format      # scripts/format.sh
  libclang-rt-14-dev
  python3           # the HTTP/2 end-to-end test scripts (tests/h2)
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
"${sudo[@]}" apt-get update -qq </dev/null
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" \
  </dev/null >/dev/null
echo "setup: done"
