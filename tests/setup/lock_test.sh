#!/usr/bin/env bash
# scripts/setup.sh while another process holds the package lock (as an
# unattended upgrade does): it waits, says so, and gives up after the
# bounded wait with a clear message, instead of failing at once with
# "Unable to acquire the dpkg frontend lock". Needs root (it takes the
# real locks); run by .ci/run. No package is installed and nothing is
# downloaded: apt-get stops at the lock.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
  echo "setup lock: FAILED (needs root to take the package lock)"
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"; kill "$holder" 2>/dev/null' EXIT
python3 - <<'PY' &
import fcntl, time
held = []
for path in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock",
             "/var/lib/apt/lists/lock"):
    f = open(path, "a")
    fcntl.lockf(f, fcntl.LOCK_EX)
    held.append(f)
print("held", flush=True)
time.sleep(60)
PY
holder=$!
sleep 1

start=$SECONDS
STP_APT_LOCK_WAIT=4 timeout 60 bash scripts/setup.sh stp-test-no-such-package \
  >"$out" 2>&1
rc=$?
took=$((SECONDS - start))

ok=true
[ "$rc" -eq 1 ] || { echo "exit status $rc, not 1"; ok=false; }
grep -q 'waiting for the package lock' "$out" || { echo "no waiting message"; ok=false; }
grep -q 'gave up after 4 s' "$out" || { echo "no give-up message"; ok=false; }
grep -q 'Could not get lock' "$out" || { echo "the lock is not named"; ok=false; }
[ "$took" -ge 4 ] && [ "$took" -le 20 ] || { echo "took ${took} s"; ok=false; }
if $ok; then
  echo "setup lock: ok (gave up after ${took} s)"
else
  cat "$out"
  echo "setup lock: FAILED"
  exit 1
fi
