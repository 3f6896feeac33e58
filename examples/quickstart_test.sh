#!/bin/sh
# Runs the quickstart example (it checks its own result and exits 1 when
# something is off), and checks that the README's C example is taken from
# it: every line of the README's ```c block appears in quickstart.c, in the
# same order (blank lines and indentation aside), so the README shows code
# that compiles and runs.
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

# The README's first ```c block, then the source, each line trimmed; the
# block's lines must be found in the source one after the other.
missing=$(awk '
  function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
  FNR == NR {
    if (/^```c$/ && !done) { inblock = 1; next }
    if (inblock && /^```$/) { inblock = 0; done = 1; next }
    if (inblock && trim($0) != "") want[n++] = trim($0)
    next
  }
  i < n && trim($0) == want[i] { i++ }
  END {
    if (n == 0) print "(no ```c block)"
    else if (i < n) print want[i]
  }
' "$readme" "$src")
if [ -n "$missing" ]; then
  echo "FAIL: README.md's example is not quickstart.c's code; first line not"
  echo "found in order: $missing"
  status=1
fi
exit $status
