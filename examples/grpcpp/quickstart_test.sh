#!/bin/sh
# Runs the grpc++ quickstart (it exits 1 unless the server found the
# client's trace), checks its records, and checks that docs/grpcpp.md
# shows exactly its code.
# Usage: quickstart_test.sh QUICKSTART_BINARY QUICKSTART_CC GRPCPP_MD
bin=$1 src=$2 doc=$3
status=0

out=$(timeout 30 "$bin")
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: quickstart exited with $rc"
  status=1
fi
for want in "grpc.server /shop.Orders/Checkout span" \
  "grpc.client /shop.Orders/Checkout span" \
  "the server's trace: 771a43a4192642f0b136d5159a501700"; do
  case $out in
    *"$want"*) ;;
    *) echo "FAIL: no line with '$want'"
       status=1 ;;
  esac
done

# The document's ```cpp block whose first line is quickstart.cc's first.
block=${TEST_TMPDIR:-/tmp}/grpcpp_quickstart.$$.cc
awk -v first="$(head -n 1 "$src")" '
  /^```cpp$/ { inblock = 1; n = 0; next }
  inblock && /^```$/ { inblock = 0; if (found) exit; next }
  inblock { if (n++ == 0 && $0 == first) found = 1; if (found) print }
' "$doc" >"$block"
if ! diff -u "$src" "$block"; then
  echo "FAIL: docs/grpcpp.md's example differs from examples/grpcpp/quickstart.cc"
  status=1
fi
rm -f "$block"
exit $status
