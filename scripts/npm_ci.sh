#!/usr/bin/env bash
# Installs the npm packages of DIR exactly as its package-lock.json pins
# them (`npm ci`), installing Node.js first (Debian: nodejs, npm) when there
# is no `node` or `npm`. @sentry/node 10 needs Node.js 18 or later.
# On failure, says why on stderr in one line starting with "npm_ci:" and
# exits 1. npm's own output goes to stderr.
#   bash scripts/npm_ci.sh DIR
set -uo pipefail
dir=${1:?usage: npm_ci.sh DIR}
cd "$(dirname "$0")/.."

fail() {
  echo "npm_ci: $*" >&2
  exit 1
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  bash scripts/setup.sh nodejs npm >&2 || fail "cannot install Node.js (nodejs, npm)"
fi
command -v node >/dev/null || fail "node is missing (install Node.js 18 or later)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] ||
  fail "Node.js $(node --version) is too old: @sentry/node 10 needs 18 or later"

registry=$(npm config get registry)
# A registry that does not answer fails here in seconds, with its address,
# rather than after npm's own retries.
timeout 60 npm ping --fetch-timeout=15000 --fetch-retries=1 </dev/null \
  >/dev/null 2>&1 ||
  fail "the npm registry ($registry) did not answer 'npm ping': no network, or npm's registry setting is wrong"
echo "npm_ci: npm ci in $dir (registry: $registry)" >&2
(cd "$dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error \
  --fetch-timeout=30000 --fetch-retries=2 </dev/null >&2) ||
  fail "npm ci in $dir failed or took over 300 s (see the npm output above)"
