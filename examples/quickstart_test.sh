#!/bin/sh
# Runs the quickstart example (it checks its own result and exits 1 when
# something is off), and checks that README.md shows exactly its code.
# Usage: quickstart_test.sh QUICKSTART_BINARY QUICKSTART_C README_MD
bin=$1 src=$2 readme=$3
status=0

out=$("$bin")
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: quickstart exited with $rc"
  status=1
fi
case $out in
  *"sentry-trace: 771a43a4192642f0b136d5159a501700-"*) ;;
  *) echo "FAIL: no outgoing sentry-trace with the incoming trace id"
     status=1 ;;
esac

# The README's ```c block whose first line is quickstart.c's first line.
block=${TEST_TMPDIR:-/tmp}/readme_quickstart.$$.c
awk -v first="$(head -n 1 "$src")" '
  /^```c$/ { inblock = 1; n = 0; next }
  inblock && /^```$/ { inblock = 0; if (found) exit; next }
  inblock { if (n++ == 0 && $0 == first) found = 1; if (found) print }
' "$readme" >"$block"
if ! diff -u "$src" "$block"; then
  echo "FAIL: README.md's example differs from examples/quickstart.c"
  status=1
fi
rm -f "$block"
exit $status
