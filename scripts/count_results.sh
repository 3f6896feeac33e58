#!/usr/bin/env bash
# Counts test results of one `bazel test` run from the real outputs.
#
# Usage: count_results.sh BEP_JSON TESTLOGS_DIR [BAZEL_EXIT_CODE]
#
#   BEP_JSON      the file written by `bazel test --build_event_json_file=...`;
#                 it says which test targets this run had and their status
#   TESTLOGS_DIR  `bazel info bazel-testlogs` of that run; each test target's
#                 JUnit XML is TESTLOGS_DIR/<package>/<name>/test.xml
#   BAZEL_EXIT_CODE  optional; a non-zero code other than 3 (= some tests
#                 failed) with no failure found otherwise counts as one
#                 failure, so a build that broke before testing is never "ok"
#
# Each <testcase> counts as one test (googletest writes one per TEST; Bazel
# writes one for an sh_test), failed when it holds <failure> or <error>,
# neither passed nor failed when skipped. A test target whose XML is missing
# or that Bazel did not report as passed, while its XML shows no failure,
# counts as one more failure. Prints the failing targets, then the last
# line: `N passed, N failed`. Exits 1 when anything failed.
set -euo pipefail

bep=${1:?usage: count_results.sh BEP_JSON TESTLOGS_DIR [BAZEL_EXIT_CODE]}
logs=${2:?usage: count_results.sh BEP_JSON TESTLOGS_DIR [BAZEL_EXIT_CODE]}
bazel_rc=${3:-0}

# "passed failed skipped" of one JUnit XML file.
count_xml() {
  awk '
    { s = s $0 "\n" }
    END {
      # Drop CDATA sections (captured output) so text in them is not markup.
      while ((i = index(s, "<![CDATA[")) > 0) {
        j = index(substr(s, i), "]]>")
        if (j == 0) { s = substr(s, 1, i - 1); break }
        s = substr(s, 1, i - 1) substr(s, i + j + 2)
      }
      p = 0; f = 0; k = 0
      while ((i = index(s, "<testcase")) > 0) {
        s = substr(s, i + 9)
        e = index(s, ">")
        if (e == 0) { f++; break }        # truncated file
        tag = substr(s, 1, e)
        if (substr(s, e - 1, 1) == "/") {
          body = ""
          s = substr(s, e + 1)
        } else {
          c = index(s, "</testcase>")
          if (c == 0) { body = s; s = "" } else {
            body = substr(s, e + 1, c - e - 1)
            s = substr(s, c + 11)
          }
        }
        if (index(body, "<failure") || index(body, "<error")) f++
        else if (index(body, "<skipped") || index(tag, "status=\"notrun\"") \
                 || index(tag, "result=\"skipped\"")) k++
        else p++
      }
      print p, f, k
    }' "$1"
}

tests=$(grep '"targetConfigured":{"label":"[^"]*"' "$bep" |
  grep '"targetKind":"[^"]*_test rule"' |
  sed 's/.*"targetConfigured":{"label":"\([^"]*\)".*/\1/' | sort -u || true)

passed=0
failed=0
skipped=0
for label in $tests; do
  status=$(grep -F "\"testSummary\":{\"label\":\"$label\"" "$bep" |
    sed -n 's/.*"overallStatus":"\([A-Z_]*\)".*/\1/p' | head -n 1 || true)
  status=${status:-NO_STATUS}
  rel=${label#@}
  rel=${rel#//}
  rel=${rel/://}
  rel=${rel#/}
  xmls=()
  if [ -f "$logs/$rel/test.xml" ]; then
    xmls=("$logs/$rel/test.xml")
  else
    # Sharded or repeated tests keep one XML per shard/run.
    while IFS= read -r x; do xmls+=("$x"); done < <(
      find "$logs/$rel" -mindepth 2 -maxdepth 3 -name test.xml 2>/dev/null |
      sort)
  fi
  p=0; f=0; k=0
  if [ "$status" = NO_STATUS ] || [ "$status" = FAILED_TO_BUILD ] ||
     [ "${#xmls[@]}" -eq 0 ]; then
    # Not run in this invocation: an XML on disk would be a stale one.
    f=1
    echo "FAILED $label: no result in this run (did not build?)" >&2
  else
    for x in "${xmls[@]}"; do
      read -r xp xf xk < <(count_xml "$x")
      p=$((p + xp)); f=$((f + xf)); k=$((k + xk))
    done
    if [ "$status" != PASSED ] && [ "$status" != FLAKY ] && [ "$f" -eq 0 ]; then
      f=1   # e.g. a leak report or a crash after the XML was written
    fi
    if [ "$f" -gt 0 ]; then
      echo "FAILED $label: $status, $p passed, $f failed" >&2
    fi
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done

if [ "$bazel_rc" -ne 0 ] && [ "$bazel_rc" -ne 3 ] && [ "$failed" -eq 0 ]; then
  echo "FAILED: bazel exited with $bazel_rc (build or analysis error)" >&2
  failed=1
fi
if [ "$skipped" -gt 0 ]; then
  echo "($skipped skipped)" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
