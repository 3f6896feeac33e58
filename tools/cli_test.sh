#!/bin/sh
# End-to-end tests of the `stp` command-line inspector.
#
# Usage: cli_test.sh PATH_TO_STP PATH_TO_VERSION_H
#
# The table for a person is forced with --human, and once by running stp
# under script(1) from util-linux, whose standard output is a terminal.
#
# Each case is one line. In expected text, @T@ and @S@ stand for the trace
# and span ids below.
#   x  NAME RC EXACT ARGS...      stdout equals EXACT, exit status RC
#   t  NAME RC FRAGMENT ARGS...   stdout contains FRAGMENT, exit status RC
#   ti NAME RC FRAGMENT INPUT ARGS...  as t, stdin from printf INPUT
#   te NAME RC FRAGMENT 'VAR=v ...' ARGS...  as t, with environment added
#   has FRAGMENT / lacks FRAGMENT / re ERE / err FRAGMENT / lines N /
#   rand_in LO HI / members_max N
#                                 more checks on the last run's output
#                                 (err: on standard error; rand_in: the
#                                 sample_rand field is in [LO, HI);
#                                 members_max: outgoing baggage has at most
#                                 N members)

STP=${1:?usage: cli_test.sh PATH_TO_STP PATH_TO_VERSION_H}
VERSION_H=${2:?usage: cli_test.sh PATH_TO_STP PATH_TO_VERSION_H}
case $STP in /*) ;; *) STP=$PWD/$STP ;; esac
tmp=${TEST_TMPDIR:-/tmp}/stp_cli.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT
set -f

T=771a43a4192642f0b136d5159a501700
S=b0e6f15b45c36b12
TU=771A43A4192642F0B136D5159A501700
Z32=00000000000000000000000000000000
Z16=0000000000000000
CR=$(printf '\r')
FFFD=$(printf '\357\277\275')
DSN=https://pk@o123.ingest.sentry.io/42

pass=0
fail=0
name=

expand() { printf '%s' "$1" | sed "s/@T@/$T/g; s/@S@/$S/g"; }

ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  printf 'FAIL: %s: %s\n' "$name" "$1"
  printf '  stdout: %s\n' "$(cat "$tmp/out")"
  printf '  stderr: %s\n' "$(cat "$tmp/err")"
}

check_rc() {
  if [ "$rc" = "$1" ]; then ok; else bad "exit status $rc, want $1"; fi
}

run() { "$STP" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?; }

has() {
  f=$(expand "$1")
  [ -z "$f" ] && return
  if grep -qF -e "$f" "$tmp/out"; then ok; else bad "missing: $f"; fi
}
lacks() {
  f=$(expand "$1")
  if grep -qF -e "$f" "$tmp/out"; then bad "unexpected: $f"; else ok; fi
}
re() {
  f=$(expand "$1")
  if grep -qE -e "$f" "$tmp/out"; then ok; else bad "no match: $f"; fi
}
err() {
  if grep -qF -e "$1" "$tmp/err"; then ok; else bad "stderr lacks: $1"; fi
}
lines() {
  n=$(wc -l <"$tmp/out" | tr -d ' ')
  if [ "$n" = "$1" ]; then ok; else bad "$n output lines, want $1"; fi
}
rand_in() {
  r=$(sed -n 's/.*"sample_rand":\([0-9.]*\),.*/\1/p' "$tmp/out")
  if [ -n "$r" ] && awk -v r="$r" -v lo="$1" -v hi="$2" \
    'BEGIN { exit !(r >= lo && r < hi) }'; then
    ok
  else
    bad "sample_rand '$r' not in [$1, $2)"
  fi
}
members_max() {
  b=$(sed -n 's/.*"baggage":"\([^"]*\)".*/\1/p' "$tmp/out")
  n=$(printf '%s' "$b" | tr -cd , | wc -c)
  n=$((n + 1))
  if [ -n "$b" ] && [ "$n" -le "$1" ]; then ok; else bad "$n members"; fi
}

x() {
  name=$1 want_rc=$2 want=$(expand "$3")
  shift 3
  run "$@"
  check_rc "$want_rc"
  if [ "$(cat "$tmp/out")" = "$want" ]; then ok; else bad "want: $want"; fi
}
t() {
  name=$1 want_rc=$2 frag=$3
  shift 3
  run "$@"
  check_rc "$want_rc"
  has "$frag"
}
ti() {
  name=$1 want_rc=$2 frag=$3 input=$4
  shift 4
  printf "$input" | "$STP" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  check_rc "$want_rc"
  has "$frag"
}
te() {
  name=$1 want_rc=$2 frag=$3 vars=$4
  shift 4
  env -u SENTRY_TRACE -u SENTRY_BAGGAGE -u SENTRY_USE_ENVIRONMENT $vars \
    "$STP" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
  check_rc "$want_rc"
  has "$frag"
}

V='{"valid":true,"trace_id":"@T@","span_id":"@S@","sampled":'

# --- parse sentry-trace: SPEC section 2 -----------------------------------
x "st sampled"             0 "${V}true}"  parse sentry-trace "$T-$S-1"
x "st not sampled"         0 "${V}false}" parse sentry-trace "$T-$S-0"
x "st deferred"            0 "${V}null}"  parse sentry-trace "$T-$S"
x "st empty flag"          0 "${V}null}"  parse sentry-trace "$T-$S-"
x "st spaces and tabs"     0 "${V}true}"  parse sentry-trace "  $T-$S-1	 "
x "st long junk after comma" 0 "${V}true}" parse sentry-trace "$T-$S-1,$(printf '%2000s' '' | tr ' ' x)"
x "st uppercase normalised" 0 "${V}true}" parse sentry-trace "$TU-$S-1"
x "st folded: first valid" 0 "${V}false}" parse sentry-trace "junk, ,$T-$S-0,$T-$S-1"
x "st folded: first wins"  0 "${V}true}"  parse sentry-trace "$T-$S-1,$T-$S-0"
x "st zero trace id"       1 '{"valid":false,"error":"zero_id","message":"trace id or span id is all zeros"}' parse sentry-trace "$Z32-$S-1"
t "st zero span id"        1 '"error":"zero_id"'      parse sentry-trace "$T-$Z16-1"
t "st short trace id"      1 '"error":"trace_id"'     parse sentry-trace "771a43a4192642f0b136d5159a50170-$S-1"
t "st non-hex span id"     1 '"error":"span_id"'      parse sentry-trace "$T-b0e6f15b45c36b1g-1"
t "st flag 2"              1 '"error":"sampled_flag"' parse sentry-trace "$T-$S-2"
t "st empty"               1 '"error":"empty"'        parse sentry-trace ""
t "st only spaces"         1 '"error":"empty"'        parse sentry-trace "   "
t "st trace id only"       1 '"valid":false'          parse sentry-trace "$T"
t "st span id only"        1 '"valid":false'          parse sentry-trace "-$S"
t "st flag only"           1 '"valid":false'          parse sentry-trace "1"
t "st lone dash"           1 '"valid":false'          parse sentry-trace "-"
t "st no dashes"           1 '"valid":false'          parse sentry-trace "$T${S}1"
t "st trailing bytes"      1 '"valid":false'          parse sentry-trace "$T-$S-1x"
t "st too many parts"      1 '"valid":false'          parse sentry-trace "$T-$S-1-1"
ti "st embedded NUL"       1 '"valid":false'          "$T-$S\\0001" parse sentry-trace --stdin
ti "st CR LF injection"    1 '"valid":false'          "$T-$S-1\\r\\nX-Evil: 1" parse sentry-trace --stdin
lines 1
ti "st stdin valid"        0 '"sampled":true}'        "$T-$S-1" parse sentry-trace --stdin

# --- parse traceparent: SPEC section 3 ------------------------------------
x "tp sampled"             0 "${V}true,\"flags\":\"01\"}" parse traceparent "00-$T-$S-01"
x "tp 00 is deferred"      0 "${V}null,\"flags\":\"00\"}" parse traceparent "00-$T-$S-00"
x "tp bit 0 tested"        0 "${V}true,\"flags\":\"03\"}" parse traceparent "00-$T-$S-03"
x "tp other bits only"     0 "${V}null,\"flags\":\"02\"}" parse traceparent "00-$T-$S-02"
t "tp surrounding spaces"  0 '"valid":true'       parse traceparent " 00-$T-$S-01 "
t "tp later version, longer" 0 '"flags":"01"'     parse traceparent "01-$T-$S-01-what-ever"
t "tp later version, 55"   0 '"valid":true'       parse traceparent "cc-$T-$S-01"
t "tp version ff"          1 '"error":"version"'  parse traceparent "ff-$T-$S-01"
t "tp uppercase"           1 '"error":"uppercase"' parse traceparent "00-$TU-$S-01"
t "tp zero trace id"       1 '"error":"zero_id"'  parse traceparent "00-$Z32-$S-01"
t "tp zero parent id"      1 '"error":"zero_id"'  parse traceparent "00-$T-$Z16-01"
t "tp bad flags"           1 '"error":"flags"'    parse traceparent "00-$T-$S-0g"
t "tp 00 longer than 55"   1 '"valid":false'      parse traceparent "00-$T-$S-01-x"
t "tp later version no dash" 1 '"valid":false'    parse traceparent "01-$T-$S-01x"
t "tp sentry-trace shape"  1 '"valid":false'      parse traceparent "$T-$S-1"
t "tp short"               1 '"valid":false'      parse traceparent "00-$T-$S-1"

# --- parse baggage: SPEC section 4 ----------------------------------------
x "bg sentry and third party" 0 '{"sentry":{"trace_id":"@T@","release":"1.0+2","environment":"prod eu"},"third_party":[{"key":"other","value":"a b","properties":"p=1;q"}],"skipped":0}' parse baggage "sentry-trace_id=$T,sentry-release=1.0%2B2,other = a%20b ;p=1;q,sentry-environment=prod%20eu"
x "bg plus stays plus"     0 '{"sentry":{},"third_party":[{"key":"k","value":"a+b","properties":""}],"skipped":0}' parse baggage "k=a+b"
t "bg value may hold ="    0 '"value":"a=b=c"'      parse baggage "k=a=b=c"
t "bg invalid escape kept" 0 '"value":"%G1%"'       parse baggage "k=%G1%"
t "bg bad UTF-8 is U+FFFD" 0 "\"value\":\"x${FFFD}y\"" parse baggage "k=x%FFy"
t "bg UTF-8 decoded"       0 "\"value\":\"$FFFD\""  parse baggage "k=%EF%BF%BD"
t "bg decoded JSON escapes" 0 '"value":"q\"b\\n\u000a\u0000"' parse baggage "k=q%22b%5Cn%0A%00"
t "bg properties raw"      0 '"properties":"a%20b=1;c"' parse baggage "k=v;a%20b=1;c"
t "bg keys case-sensitive" 0 '"key":"Sentry-release"' parse baggage "Sentry-release=1"
t "bg first of repeated"   0 '"sentry":{"release":"a"}' parse baggage "sentry-release=a" "sentry-release=b"
t "bg headers combined"    0 '"sentry":{"trace_id":"@T@"},"third_party":[{"key":"a","value":"1","properties":""},{"key":"b","value":"2","properties":""}],"skipped":0}' parse baggage "a=1" "sentry-trace_id=$T" "b=2"
x "bg malformed skipped"   0 '{"sentry":{},"third_party":[{"key":"good","value":"1","properties":""}],"skipped":2}' parse baggage "bad key=1,good=1,=x"
x "bg all malformed"       1 '{"sentry":{},"third_party":[],"skipped":2,"error":"baggage_member","message":"malformed baggage member"}' parse baggage "no equals" "a b=c"
x "bg empty is no error"   0 '{"sentry":{},"third_party":[],"skipped":0}' parse baggage ""
ti "bg CR LF NUL bytes"    0 '"key":"c","value":"\u000d\u000a\u0000"' 'a=1\r\n,b=2\000,c=%%0D%%0A%%00' parse baggage --stdin
lines 1
lacks "$CR"
ti "bg stdin"              0 '"sentry":{"sample_rand":"0.5"}' 'sentry-sample_rand=0.5' parse baggage --stdin

# --- continue: SPEC sections 1, 5 and 6 -----------------------------------
IN="sentry-trace_id=$T,sentry-public_key=pk,sentry-sample_rate=0.5,sentry-sample_rand=0.250000,sentry-sampled=true,sentry-custom=x%2Cy"
t "co continued"           0 '"continued":true,"status":null,"trace_id":"@T@"' continue -H "sentry-trace: $T-$S-1" -H "baggage: $IN"
has '"parent_span_id":"@S@","sampled":true,"sample_rand":0.250000,"frozen":true'
lacks '"span_id":"@S@"'
has '"dsc":{"trace_id":"@T@","public_key":"pk","sample_rate":"0.5","sample_rand":"0.250000","sampled":"true","custom":"x,y"}'
re '"sentry-trace":"@T@-[0-9a-f]{16}-1"'
has "\"baggage\":\"$IN\""
t "co name case-insensitive" 0 '"parent_span_id":"@S@","sampled":false' continue -H "Sentry-Trace: $T-$S-0"
t "co no space after colon" 0 '"parent_span_id":"@S@","sampled":null' continue -H "sentry-trace:$T-$S"
re '"sentry-trace":"@T@-[0-9a-f]{16}"'
t "co old SDK: backfilled sample_rand" 0 '"continued":true' continue -H "sentry-trace: $T-$S-1"
re '"dsc":\{"sample_rand":"0\.[0-9]{6}"\},"third_party":\[\]'
t "co rand below rate if sampled" 0 '"sampled":true' continue -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-sample_rate=0.1"
rand_in 0 0.1
t "co rand above rate if not" 0 '"sampled":false' continue -H "sentry-trace: $T-$S-0" -H "baggage: sentry-trace_id=$T,sentry-sample_rate=0.9"
rand_in 0.9 1
t "co rand printed to the last digit" 0 '"sample_rand":0.9999999,' continue -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-sample_rand=0.9999999"
t "co bad incoming rand redrawn" 0 '"continued":true' continue -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-sample_rand=1.5,sentry-sample_rate=0.1"
rand_in 0 0.1
lacks 'sample_rand=1.5'
t "co header names any case" 0 '"dsc":{"release":"x",' continue -H "BAGGAGE: sentry-release=x" -H "SENTRY-TRACE: $T-$S-1"
t "co first valid sentry-trace" 0 '"continued":true,"status":null,"trace_id":"@T@"' continue -H "sentry-trace: bogus" -H "sentry-trace: $T-$S-1"
t "co baggage headers combined" 0 '"dsc":{"trace_id":"@T@","release":"r",' continue -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T" -H "baggage: sentry-release=r"
t "co third party listed"  0 '"third_party":[{"key":"vendor","value":"v 1","properties":"p"}]' continue -H "sentry-trace: $T-$S-1" -H "baggage: vendor=v%201;p,sentry-trace_id=$T"
lacks 'vendor=v'
t "co third party forwarded" 0 '"baggage":"vendor=v%201;p,sentry-trace_id=@T@' continue --propagate-third-party -H "sentry-trace: $T-$S-1" -H "baggage: vendor=v%201;p,sentry-trace_id=$T"
t "co no headers: new head" 0 '"continued":false,"status":"absent"' continue
has '"parent_span_id":null'
t "co other headers only"  0 '"status":"absent"'  continue -H "content-type: text/plain"
t "co invalid sentry-trace" 0 '"continued":false,"status":"zero_id"' continue -H "sentry-trace: $Z32-$S-1"
lacks '"trace_id":"00000000'
t "co invalid drops baggage" 0 '"third_party":[]' continue -H "sentry-trace: x" -H "baggage: vendor=1,sentry-release=in"
lacks 'sentry-release=in'
t "co traceparent accepted" 0 '"continued":true,"status":null,"trace_id":"@T@"' continue -H "traceparent: 00-$T-$S-01"
has '"parent_span_id":"@S@","sampled":true'
t "co traceparent 00 deferred" 0 '"parent_span_id":"@S@","sampled":null' continue -H "traceparent: 00-$T-$S-00"
t "co traceparent refused"  0 '"continued":false,"status":"absent"' continue --no-accept-traceparent -H "traceparent: 00-$T-$S-01"
t "co sentry-trace first"   0 '"trace_id":"@T@","span_id"' continue -H "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" -H "sentry-trace: $T-$S-0"
has '"sampled":false'
t "co traceparent emitted"  0 '"traceparent":"00-@T@-' continue --propagate-traceparent -H "sentry-trace: $T-$S-1"
re '"traceparent":"00-@T@-[0-9a-f]{16}-01"'
t "co traceparent off by default" 0 '"continued":true' continue -H "sentry-trace: $T-$S-1"
lacks '"traceparent"'

# Strict continuation (section 5 step 3).
t "co org mismatch"        0 '"continued":false,"status":"org_mismatch"' continue --org-id 123 -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-org_id=456"
lacks '"trace_id":"@T@"'
has '"org_id":"123"'
t "co strict org mismatch" 0 '"continued":false,"status":"org_mismatch"' continue --strict --dsn "$DSN" -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-org_id=456"
t "co strict org match"    0 '"continued":true,"status":null' continue --strict --dsn "$DSN" -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-org_id=123"
t "co strict, incoming lacks org" 0 '"status":"org_mismatch"' continue --strict --org-id 123 -H "sentry-trace: $T-$S-1"
t "co strict, none configured" 0 '"status":"org_mismatch"' continue --strict -H "sentry-trace: $T-$S-1" -H "baggage: sentry-org_id=456"
t "co lax, incoming lacks org" 0 '"continued":true' continue --org-id 123 -H "sentry-trace: $T-$S-1"

# Outgoing baggage merged into an existing value (section 6).
t "co existing merged"     0 '"baggage":"other=1,sentry-trace_id=@T@,sentry-release=new,' continue --existing 'baggage: other=1,sentry-trace_id=deadbeef,sentry-release=old' -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-release=new"
lacks 'deadbeef'
lacks 'sentry-release=old'
t "co output limit: 64 members" 0 '"continued":true' continue --existing "$(i=1; while [ $i -le 70 ]; do printf 'k%d=v,' $i; i=$((i + 1)); done)z=1" -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-a=1"
members_max 64
has 'k1=v,'
has ',sentry-trace_id=@T@,sentry-a=1,sentry-sample_rand='
lacks 'z=1'
t "co existing bare value" 0 '"baggage":"a=1;p,b=2,sentry-trace_id=@T@,' continue --existing 'a=1;p' --existing 'b=2' -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T"

# HTML meta tags (section 8).
t "co meta escaped"        0 '"meta":"<meta name=\"sentry-trace\" content=\"@T@-' continue --meta -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-x=a<b>&'c"
has '<meta name=\"baggage\" content=\"sentry-trace_id=@T@,sentry-x=a&lt;b&gt;&amp;&#'
lacks '=a<b>&'"'"'c\">'

# Environment variables (section 7).
te "env continued"         0 '"continued":true,"status":null,"trace_id":"@T@"' "SENTRY_TRACE=$T-$S-1 SENTRY_BAGGAGE=sentry-trace_id=$T,sentry-release=r" continue --env
has '"release":"r"'
te "env absent"            0 '"continued":false,"status":"absent"' "" continue --env
te "env disabled"          0 '"continued":false,"status":"disabled"' "SENTRY_TRACE=$T-$S-1 SENTRY_USE_ENVIRONMENT=Off" continue --env
te "env disabled by 0"     0 '"status":"disabled"' "SENTRY_TRACE=$T-$S-1 SENTRY_USE_ENVIRONMENT=0" continue --env
te "env disabled by FALSE" 0 '"status":"disabled"' "SENTRY_TRACE=$T-$S-1 SENTRY_USE_ENVIRONMENT=FALSE" continue --env
te "env enabled by true"   0 '"continued":true' "SENTRY_TRACE=$T-$S-1 SENTRY_USE_ENVIRONMENT=true" continue --env
te "env invalid trace"     0 '"status":"span_id"' "SENTRY_TRACE=$T-xyz-1" continue --env
t "co transaction ignored" 0 '"continued":true' continue --transaction late -H "sentry-trace: $T-$S-1"; err 'frozen'
lacks 'late'

# Hostile input (section 9).
t "co CR LF in sentry-trace" 0 '"continued":false,"status":"control_char"' continue -H "sentry-trace: $(printf '%s\r\nSet-Cookie: x' "$T-$S-1")"
lacks "$CR"
lacks 'Set-Cookie'
t "co encoded CR LF kept encoded" 0 '"release":"a\u000d\u000ab"' continue -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-release=a%0D%0Ab"
has 'sentry-release=a%0D%0Ab'
lines 1
t "co raw bytes in baggage" 0 '"continued":true' continue -H "sentry-trace: $T-$S-1" -H "baggage: $(printf 'a=\001\377,b=\033[0m,sentry-r=\tz')"
lacks "$(printf '\033')"
ti "bg 100 KB of junk"     0 '"skipped":' "$(printf '%0102400d' 0 | tr 0 ',')x=1" parse baggage --stdin

# --- new: a head ----------------------------------------------------------
t "new sampled head"       0 '"continued":false,"status":null' new --dsn "$DSN" --sample-rate 1
has '"parent_span_id":null,"sampled":true'
has '"frozen":false'
re '"sample_rand":0\.[0-9]{6},'
re '"dsc":\{"trace_id":"[0-9a-f]{32}","public_key":"pk","org_id":"123","sample_rate":"1","sample_rand":"0\.[0-9]{6}","sampled":"true"\}'
re '"sentry-trace":"[0-9a-f]{32}-[0-9a-f]{16}-1"'
t "new rate 0"             0 '"sampled":false' new --sample-rate 0
t "new subnormal rate"     0 '"sample_rate":"1e-310"' new --sample-rate 1e-310
t "new rate underflowing to 0" 0 '"sampled":false' new --sample-rate 1e-400
has '"sampled":"false"'
t "new without rate"       0 '"sampled":null' new --dsn "$DSN"
lacks '"sampled":"'
re '"sentry-trace":"[0-9a-f]{32}-[0-9a-f]{16}",'
t "new release, env, transaction" 0 '"release":"1.0","environment":"prod","transaction":"GET /a b"' new --release 1.0 --environment=prod --transaction 'GET /a b'
has 'sentry-transaction=GET%20/a%20b'
t "new values encoded"     0 '"release":"a b,c%;\"\\é"' new --release 'a b,c%;"\é'
has 'sentry-release=a%20b%2Cc%25%3B%22%5C%C3%A9'
t "new org id option"      0 '"org_id":"77"' new --dsn "$DSN" --org-id 77
t "new traceparent"        0 '"traceparent":"00-' new --sample-rate 1 --propagate-traceparent
re '"trace_id":"([0-9a-f]{32})".*"traceparent":"00-\1-[0-9a-f]{16}-01"'
t "new meta"               0 '"meta":"<meta name=\"sentry-trace\"' new --meta
t "new target matches"     0 '"propagate":true' new --target 'example\.com' --target '^https://api\.' --url https://api.example.com/x
t "new target misses"      0 '"propagate":false' new --target 'example\.com' --url https://other.org/
t "new no target, any url" 0 '"propagate":true' new --url https://other.org/

# Head invariant: sampled == (sample_rand < sample_rate).
i=0
while [ $i -lt 20 ]; do
  name="new invariant run $i"
  run new --sample-rate 0.5
  r=$(sed -n 's/.*"sample_rand":\([0-9.]*\),.*/\1/p' "$tmp/out")
  s=$(sed -n 's/.*"parent_span_id":null,"sampled":\([a-z]*\),.*/\1/p' "$tmp/out")
  want=$(awk -v r="$r" 'BEGIN { print (r < 0.5) ? "true" : "false" }')
  if [ -n "$r" ] && [ "$s" = "$want" ]; then ok; else bad "sample_rand $r, sampled '$s'"; fi
  i=$((i + 1))
done

# --- usage errors: exit 2, message on stderr ------------------------------
t "usage: no command"      2 '' ;                 err 'missing command'
t "usage: unknown command" 2 '' frobnicate;       err 'unknown command'
t "usage: unknown type"    2 '' parse trace "$T-$S-1"; err 'unknown header type'
t "usage: missing value"   2 '' parse sentry-trace
t "usage: two values"      2 '' parse sentry-trace "$T-$S-1" "$T-$S-0"
t "usage: -H without colon" 2 '' continue -H "sentry-trace $T-$S-1"; err 'NAME: VALUE'
t "usage: -H empty name"   2 '' continue -H ": x"
t "usage: -H missing arg"  2 '' continue -H
t "usage: -H with --env"   2 '' continue --env -H "sentry-trace: $T-$S-1"
t "usage: unknown option"  2 '' new --frob;       err 'unknown argument'
t "usage: -H on new"       2 '' new -H "sentry-trace: $T-$S-1"
t "usage: option lacks value" 2 '' new --dsn
t "usage: bad DSN"         2 '' new --dsn 'not a dsn'; err 'dsn'
t "usage: rate above 1"    2 '' new --sample-rate 1.5; err 'sample_rate'
t "usage: rate overflowing" 2 '' new --sample-rate 1e400; err 'sample_rate'
t "usage: rate below 0"    2 '' new --sample-rate -0.1; err 'sample_rate'
t "usage: rate not a number" 2 '' new --sample-rate abc; err 'sample_rate'
t "usage: rate NaN"        2 '' new --sample-rate nan; err 'sample_rate'
t "usage: bad org id"      2 '' continue --org-id x12; err 'org_id'
t "usage: bad pattern"     2 '' new --target '('; err 'pattern'
t "usage: control in release" 2 '' new --release "$(printf 'a\nb')"; err 'option_value'
x "usage: stdout empty"    2 '' new --sample-rate 2
t "help"                   0 'stp - inspect Sentry trace propagation headers' --help
t "help of a command"      0 'EXIT STATUS' continue --help

# --- issue 29: an option's value is not another option --------------------
t "usage: --stdin with a value" 2 '' parse baggage --stdin x; err 'give no VALUE'
t "usage: value then --stdin" 2 '' parse sentry-trace "$T-$S-1" --stdin; err 'give no VALUE'
t "usage: unknown parse option" 2 '' parse baggage --frob; err "unknown option '--frob'"
x "parse: value after --"  1 '{"valid":false,"error":"malformed","message":"malformed value: missing or extra parts"}' parse sentry-trace -- --x
t "usage: --dsn takes no option" 2 '' new --dsn --strict; err "--dsn needs a value, not the option '--strict'"
t "usage: --release takes no option" 2 '' new --release --json; err '--release needs a value'
t "usage: --existing takes no option" 2 '' continue --existing --meta; err '--existing needs a value'
t "usage: --target takes no option" 2 '' new --target --url x; err '--target needs a value'
t "usage: -H takes no option" 2 '' continue -H --env; err '-H needs a value'
t "usage: --sample-rate takes no option" 2 '' new --sample-rate --strict; err '--sample-rate needs a value'
t "option=--value is a value" 0 'sentry-release=--x' new --human --release=--x

# --- version and manual pages ---------------------------------------------
want_version=$(sed -n 's/^#define STP_VERSION "\(.*\)"$/stp \1/p' "$VERSION_H")
x "version"                0 "$want_version" --version
x "version word"           0 "$want_version" version
x "version after a command" 0 "$want_version" continue --version
x "version of parse"       0 "$want_version" parse --version
for cmd in parse continue new; do
  t "man page of $cmd"     0 "stp $cmd - " $cmd --help
  has 'SYNOPSIS'
  has 'DESCRIPTION'
  has 'OUTPUT OPTIONS'
  has 'EXIT STATUS'
  has 'EXAMPLES'
  t "help $cmd"            0 "stp $cmd - " help $cmd
done

# --- output forms: --json, --pretty, --human -------------------------------
x "--json"                 0 "${V}true}" parse sentry-trace "$T-$S-1" --json
x "--json before the command" 0 "${V}true}" --json parse sentry-trace "$T-$S-1"
x "--pretty"               0 "{
  \"valid\": true,
  \"trace_id\": \"$T\",
  \"span_id\": \"$S\",
  \"sampled\": true
}" parse sentry-trace --pretty "$T-$S-1"
x "--pretty, empty containers" 0 '{
  "sentry": {},
  "third_party": [],
  "skipped": 0
}' parse baggage --pretty ""
t "--pretty continue"      0 '  "continued": true,' continue --pretty -H "sentry-trace: $T-$S-1" -H "baggage: vendor=1"
has '  "third_party": ['
has '      "key": "vendor",'
has '  "dsc": {'
t "--human then --json: the last wins" 0 "${V}true}" parse sentry-trace --human --json "$T-$S-1"
t "--json then --human: the last wins" 0 'sentry-trace  valid' parse sentry-trace --json --human "$T-$S-1"
lacks '{'

# A terminal: the table with no option at all (script runs stp on a pty).
name="terminal gets the table"
script -qec "'$STP' parse sentry-trace $T-$S-1" /dev/null >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
check_rc 0
has 'sentry-trace  valid'
has "  trace id  $T"
lacks '"valid"'
name="terminal gets JSON with --json"
script -qec "'$STP' parse sentry-trace --json $T-$S-1" /dev/null >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
check_rc 0
has "${V}true}"

# --- the table: parse ------------------------------------------------------
t "human st valid"         0 'sentry-trace  valid' parse sentry-trace --human "$T-$S-1"
has "  trace id  $T"
has "  span id   $S"
has '  sampled   yes (flag 1)'
t "human st not sampled"   0 '  sampled   no (flag 0)' parse sentry-trace --human "$T-$S-0"
t "human st deferred"      0 '  sampled   deferred (no flag: the receiver decides)' parse sentry-trace --human "$T-$S"
t "human st invalid"       1 'sentry-trace  invalid' parse sentry-trace --human "$T-$S-2"
has '  error     sampled_flag'
has '  why       sampled flag is not 0 or 1'
t "human tp valid"         0 'traceparent  valid' parse traceparent --human "00-$T-$S-01"
has "  parent id $S"
has '  sampled   yes (bit 0 of the flags is set)'
has '  flags     01'
t "human tp deferred"      0 '  sampled   deferred (bit 0 of the flags is not set' parse traceparent --human "00-$T-$S-00"

# A header line pasted where its value belongs.
x "st header name pasted"  1 "{\"valid\":false,\"error\":\"trace_id\",\"message\":\"the value starts with the header name 'sentry-trace:'; give only what follows it\"}" parse sentry-trace "sentry-trace: $T-$S-1"
t "st header name, any case" 1 "header name 'Sentry-Trace:'" parse sentry-trace "Sentry-Trace:$T-$S-1"
t "st other header's name" 1 "header name 'traceparent:'" parse sentry-trace "traceparent: 00-$T-$S-01"
t "tp header name pasted"  1 "header name 'traceparent:'" parse traceparent "traceparent: 00-$T-$S-01"
has '"error":"version"'
t "human header name"      1 "  why       the value starts with the header name 'sentry-trace:'; give only what follows it" parse sentry-trace --human "sentry-trace: $T-$S-1"
x "bg header name pasted"  1 "{\"sentry\":{},\"third_party\":[],\"skipped\":1,\"error\":\"baggage_member\",\"message\":\"the value starts with the header name 'baggage:'; give only what follows it\"}" parse baggage "baggage: sentry-release=1"
t "human bg header name"   0 "  skipped  baggage: a=1         the value starts with the header name 'baggage:'" parse baggage --human "baggage: a=1,b=2"
t "st value with a colon is no header" 1 '  why       trace id is not 32 hex digits' parse sentry-trace --human "a:$T-$S-1"

# Every member's fate and reason.
t "human bg counts"        0 'baggage  8 members: 4 kept, 3 skipped, 1 dropped' parse baggage --human "sentry-release=1,other = a%20b ;p=1;q,bad key=1,noeq,=v,sentry-release=2,sentry-env=e;x=1,k=v"
re '^  STATUS +KEY +VALUE +WHY$'
re '^  kept +sentry-release +1 +in the DSC$'
re "^  kept +other +a b +third-party; properties 'p=1;q'$"
re '^  skipped +bad key=1 +the key has a space \(a key is a token'
re "^  skipped +noeq +no '=' between a key and a value$"
re '^  skipped +=v +the key is empty$'
re '^  dropped +sentry-release +2 +repeats sentry-release; the first one wins$'
re '^  kept +sentry-env +e +in the DSC; its properties are not kept$'
re '^  kept +k +v +third-party$'
t "human bg value byte"    0 "the value has a space (percent-encode it, as %20)" parse baggage --human "x=a b,ok=1"
t "human bg value quote"   0 "the value has '\"' (percent-encode it, as %22)" parse baggage --human 'x="q",ok=1'
t "human bg key byte"      0 "the key has '@' (a key is a token" parse baggage --human "a@b=1,ok=1"
t "human bg property"      0 "the property 'a\x01b' is not valid" parse baggage --human "$(printf 'k=v;a\001b,ok=1')"
t "human bg no members"    0 'baggage  no members' parse baggage --human ""
t "human bg all malformed" 1 '  error  baggage_member: malformed baggage member' parse baggage --human "no equals"
t "human escapes bytes"    0 'esc=\x1b[31m' parse baggage --human "$(printf 'esc=\033[31m,c1=\302\233x,ok=%%1B')"
lacks "$(printf '\033')"
lacks "$(printf '\302\233')"
has 'c1=\xc2\x9bx'
re '^  kept +ok +\\x1b +third-party$'
t "human long value cut"   0 "$(printf '%37s' '' | tr ' ' a)..." parse baggage --human "k=$(printf '%50s' '' | tr ' ' a)"

# --- the table: continue and new -------------------------------------------
IN2="sentry-trace_id=$T,sentry-sample_rand=0.250000,sentry-sampled=true,vendor=v%201;p"
t "human co continued"     0 "  trace        $T  continued" continue --human -H "sentry-trace: $T-$S-1" -H "baggage: $IN2"
has "  parent       $S  (the caller's span)"
has '  sampled      yes: the incoming sentry-trace says so (flag 1)'
has '  sample_rand  0.250000  (from the incoming baggage)'
has 'incoming baggage  4 members: 4 kept, 0 skipped, 0 dropped'
re '^  kept +sentry-trace_id +[0-9a-f]{32} +in the DSC$'
re '^  kept +vendor +v 1 +third-party; not forwarded \(--propagate-third-party is off\)$'
re "^  sentry-trace +$T-[0-9a-f]{16}-1$"
re "^  baggage +sentry-trace_id=$T,"
has '  counts       skipped 0, dropped 0'
t "human co forwarded"     0 'third-party; forwarded' continue --human --propagate-third-party -H "sentry-trace: $T-$S-1" -H "baggage: $IN2"
t "human co outgoing full" 0 'third-party; not forwarded: the outgoing baggage was full' continue --human --propagate-third-party --existing "$(i=1; while [ $i -le 70 ]; do printf 'k%d=v,' $i; i=$((i + 1)); done)z=1" -H "sentry-trace: $T-$S-1" -H "baggage: vendor=1,sentry-trace_id=$T"
t "human co sampled from DSC" 0 'yes: the incoming sentry-trace leaves it open, and the incoming baggage has sentry-sampled=true' continue --human -H "sentry-trace: $T-$S" -H "baggage: $IN2"
t "human co traceparent flag" 0 'yes: the incoming traceparent'"'"'s sampled flag is set (flags 01)' continue --human -H "traceparent: 00-$T-$S-01"
t "human co rate decides"  0 'yes: no decision came in; sample_rand 0.250000 < the sample rate 0.5' continue --human --sample-rate 0.5 -H "sentry-trace: $T-$S" -H "baggage: sentry-sample_rand=0.25"
t "human co rate refuses"  0 'no: no decision came in; sample_rand 0.750000 >= the sample rate 0.5' continue --human --sample-rate 0.5 -H "sentry-trace: $T-$S" -H "baggage: sentry-sample_rand=0.75"
t "human co stays deferred" 0 'deferred: no decision came in, and there is no --sample-rate to make one' continue --human -H "sentry-trace: $T-$S"
has '(drawn here: none came in; it agrees with the decision)'
t "human co bad rand"      0 "(drawn here: the incoming '1.5' is not a number in [0, 1))" continue --human -H "sentry-trace: $T-$S-1" -H "baggage: sentry-sample_rand=1.5"
re '^  dropped +sentry-sample_rand +1\.5 +not a number in \[0, 1\): a new sample_rand was drawn$'
t "human co no room"       0 'no room: a context keeps 64 members and 8192 bytes, Sentry members first' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: $(i=1; while [ $i -le 70 ]; do printf 't%d=v,' $i; i=$((i + 1)); done)sentry-a=1"
re '^  dropped +t70 +v +no room'
re '^  kept +sentry-a +1 +in the DSC$'
t "human co member bound"  0 'past the first 512 members the library examines' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: $(i=1; while [ $i -le 520 ]; do printf 'm%d=1,' $i; i=$((i + 1)); done)sentry-late=1"
re '^  dropped +sentry-late +1 +past the first 512 members'
re '^  dropped +m65 +1 +no room'
lacks 'sentry-late=1'
t "human co byte bound"    0 'past the first 32768 bytes of baggage the library examines' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: pad=$(printf '%40000s' '' | tr ' ' x),sentry-late=1"
re '^  dropped +sentry-late +1 +past the first 32768 bytes'
t "human co repeat"        0 'repeats sentry-release; the first one wins' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: sentry-release=a" -H "baggage: sentry-release=b"
t "human co skipped reason" 0 'the key has a space' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: a b=1"
t "human co not continued" 0 "  trace        " continue --human -H "sentry-trace: $Z32-$S-1" -H "baggage: vendor=1"
has 'new: the incoming trace was not continued'
has '  why          zero_id: the incoming sentry-trace is invalid: trace id or span id is all zeros'
re '^  dropped +vendor +1 +the trace was not continued, and its baggage goes with it$'
has '  parent       none'
t "human co header name"   0 "  why          trace_id: the incoming sentry-trace is invalid: the value starts with the header name 'sentry-trace:'; give only what follows it" continue --human -H "sentry-trace: sentry-trace: $T-$S-1"
t "human co absent"        0 '  why          absent: no sentry-trace or traceparent header came in' continue --human
t "human co traceparent ignored" 0 'absent: no sentry-trace came in, and --no-accept-traceparent ignores the traceparent that did' continue --human --no-accept-traceparent -H "traceparent: 00-$T-$S-01"
t "human org ids"          0 "org_mismatch: the incoming org id is '456', ours is '123' (--org-id or the DSN)" continue --human --org-id 123 -H "sentry-trace: $T-$S-1" -H "baggage: sentry-trace_id=$T,sentry-org_id=456"
t "human org ids from DSN" 0 "the incoming org id is '456', ours is '123'" continue --human --strict --dsn "$DSN" -H "sentry-trace: $T-$S-1" -H "baggage: sentry-org_id=456"
t "human strict, no incoming org" 0 "org_mismatch: the incoming baggage has no org id, ours is '123', and --strict refuses" continue --human --strict --org-id 123 -H "sentry-trace: $T-$S-1"
t "human strict, none of ours" 0 "org_mismatch: the incoming org id is '456', we have none (--org-id or --dsn), and --strict refuses that" continue --human --strict -H "sentry-trace: $T-$S-1" -H "baggage: sentry-org_id=456"
te "human env absent"      0 '  why          absent: SENTRY_TRACE is not set' "" continue --env --human
te "human env disabled"    0 '  why          disabled: SENTRY_USE_ENVIRONMENT=off turns the environment off' "SENTRY_TRACE=$T-$S-1 SENTRY_USE_ENVIRONMENT=off" continue --env --human
te "human env continued"   0 '  sample_rand  0.500000  (from the incoming baggage)' "SENTRY_TRACE=$T-$S-1 SENTRY_BAGGAGE=sentry-sample_rand=0.5,x=1" continue --env --human
re '^  kept +x +1 +third-party'
t "human new sampled"      0 'new: this service is its head' new --human --sample-rate 1
re '^  sampled +yes: sample_rand 0\.[0-9]{6} < the sample rate 1$'
re '^  sample_rand +0\.[0-9]{6}  \(drawn here\)$'
lacks 'incoming baggage'
t "human new not sampled"  0 'no: sample_rand' new --human --sample-rate 0
has '>= the sample rate 0'
t "human new deferred"     0 'deferred: there is no --sample-rate, so the decision is left to the services after this one' new --human
t "human new outgoing"     0 '  traceparent  00-' new --human --propagate-traceparent --meta --target 'example\.com' --url https://api.example.com/
has '  meta         <meta name="sentry-trace"'
has '  propagate    yes: https://api.example.com/ matches a --target'
t "human new target miss"  0 '  propagate    no: https://other.org/ matches no --target' new --human --target 'example\.com' --url https://other.org/
t "human new any url"      0 '(no --target: every URL)' new --human --url https://other.org/
t "human escapes incoming" 0 'a=\x1b[1m' continue --human -H "sentry-trace: $T-$S-1" -H "baggage: $(printf 'a=\033[1m,b=1')"
lacks "$(printf '\033')"

echo "cli_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
