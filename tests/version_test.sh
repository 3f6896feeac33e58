#!/bin/sh
# STP_VERSION and its parts in version.h agree, and MODULE.bazel's module
# version is the same.
# Usage: version_test.sh VERSION_H MODULE_BAZEL
h=$1 module=$2
part() { sed -n "s/^#define STP_VERSION_$1 \([0-9]*\)$/\1/p" "$h"; }
joined="$(part MAJOR).$(part MINOR).$(part PATCH)"
string=$(sed -n 's/^#define STP_VERSION "\(.*\)"$/\1/p' "$h")
bazel=$(sed -n 's/^ *version = "\(.*\)",$/\1/p' "$module" | head -n 1)
status=0
[ "$string" = "$joined" ] ||
  { echo "FAIL: STP_VERSION \"$string\" but the parts say $joined"; status=1; }
[ "$bazel" = "$joined" ] ||
  { echo "FAIL: MODULE.bazel says \"$bazel\", version.h $joined"; status=1; }
[ $status -eq 0 ] && echo "version $joined everywhere"
exit $status
