#!/usr/bin/env bash
# stp without Bazel, as a user of CMake or pkg-config meets it: configures,
# builds and tests stp with CMake (CTest), installs it into a temporary
# prefix, checks what the shared libraries export, then builds and runs
# the programs of examples/consumer against the install:
#   - with find_package(stp): shared, static, and the layers;
#   - with pkg-config and plain cc: shared, static, and the layers.
# Prints one line per check ("NAME: ok" or "NAME: FAILED") and last
# `N passed, N failed`; exits non-zero when anything failed.
#   bash scripts/consumers.sh [BUILD_DIR]   # default: a temporary directory
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh >&2 || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build=${1:-$work/build}
prefix=$work/prefix
passed=0
failed=0

# check NAME COMMAND...: runs the command, its output in $work/NAME.log.
check() {
  local name=$1
  shift
  if "$@" >"$work/$name.log" 2>&1; then
    echo "$name: ok"
    passed=$((passed + 1))
  else
    echo "$name: FAILED"
    tail -n 20 "$work/$name.log"
    failed=$((failed + 1))
  fi
}

jobs=(-j2)
check cmake-configure cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
check cmake-build cmake --build "$build" "${jobs[@]}"
check ctest ctest --test-dir "$build" "${jobs[@]}" --output-on-failure --timeout 300
check cmake-install cmake --install "$build" --prefix "$prefix"

# Only the public names leave the shared libraries.
exports_only() { # LIBRARY ERE
  local bad
  bad=$(nm -D --defined-only "$1" | awk '{print $3}' | grep -Ev "$2")
  [ -n "$(nm -D --defined-only "$1")" ] && [ -z "$bad" ] ||
    { echo "exported besides $2:"; echo "$bad"; return 1; }
}
lib=$(find "$prefix" -name 'libstp.so' -print -quit)
libdir=$(dirname "${lib:-$prefix/lib/x}")
check exports-stp exports_only "$libdir/libstp.so" '^stp_[a-zA-Z0-9]'
check exports-stp-nghttp2 exports_only "$libdir/libstp-nghttp2.so" '^stp_nghttp2_'
check exports-stp-grpc exports_only "$libdir/libstp-grpc.so" '^stp_grpc_'
check exports-stp-exporter exports_only "$libdir/libstp-exporter.so" \
  '^stp_exporter_'
# C++ names, demangled: the stp::grpcpp namespace, nothing of its internal
# one.
exports_cpp() { # LIBRARY
  local bad
  bad=$(nm -D --defined-only -C "$1" | cut -d' ' -f3- |
    grep -Ev '^stp::grpcpp::' ; nm -D --defined-only -C "$1" |
    grep 'stp::grpcpp::internal')
  [ -z "$bad" ] || { echo "exported besides stp::grpcpp:"; echo "$bad"; return 1; }
}
check exports-stp-grpcpp exports_cpp "$libdir/libstp-grpcpp.so"
soname() { objdump -p "$1" | awk '/SONAME/ {print $2}'; }
check soname-versioned test "$(soname "$libdir/libstp.so")" = \
  "libstp.so.$(sed -n 's/^#define STP_VERSION_MAJOR //p' include/stp/version.h).$(sed -n 's/^#define STP_VERSION_MINOR //p' include/stp/version.h)"

# find_package(stp)
consumer=$root/examples/consumer
check find-package-build sh -c "cmake -S '$consumer' -B '$work/consumer' \
  -DCMAKE_PREFIX_PATH='$prefix' && cmake --build '$work/consumer'"
check find-package-run ctest --test-dir "$work/consumer" --output-on-failure

# pkg-config and plain cc
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags=(-std=c11 -Wall -Wextra -Werror)
# shellcheck disable=SC2046 # pkg-config's words are meant to split
check pkg-config-shared sh -c "cc ${cflags[*]} '$consumer/main.c' -o '$work/shared' \
  \$(pkg-config --cflags --libs stp) && LD_LIBRARY_PATH='$libdir' '$work/shared'"
check pkg-config-static sh -c "cc ${cflags[*]} -static '$consumer/main.c' \
  -o '$work/static' \$(pkg-config --static --cflags --libs stp) && '$work/static'"
check pkg-config-layers sh -c "cc ${cflags[*]} '$consumer/layers.c' \
  -o '$work/layers' \$(pkg-config --cflags --libs stp-nghttp2 stp-grpc) &&
  LD_LIBRARY_PATH='$libdir' '$work/layers'"
check pkg-config-grpcpp sh -c "c++ -std=c++17 -Wall -Wextra -Werror \
  '$consumer/grpcpp_main.cc' -o '$work/grpcpp' \
  \$(pkg-config --cflags --libs stp-grpcpp) &&
  LD_LIBRARY_PATH='$libdir' '$work/grpcpp'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
