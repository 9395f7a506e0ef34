#!/usr/bin/env bash
# End-to-end tests of the web example against the Go server in headless Chromium.
# Needs only Go, Node.js 20.19+ with npm, and Chromium at /usr/bin/chromium
# (Debian: apt-get install -y chromium; or set CHROMIUM_PATH). No browser download.
# The test itself builds the server (go build) and the app (vite build), starts
# both on free ports, and stops them at the end. Screenshots: e2e/output/.
set -euo pipefail
cd "$(dirname "$0")/.."   # web-example/

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not on PATH" >&2; exit 1; }
done
[ -x "$chromium" ] || { echo "run.sh: no Chromium at $chromium (apt-get install -y chromium)" >&2; exit 1; }

phase() { printf '[run.sh] %-28s %4ds\n' "$1" "$2"; }
t0=$SECONDS

t=$SECONDS
npm ci --no-audit --no-fund --loglevel=error
phase "npm ci" $((SECONDS - t))

t=$SECONDS
npm run --silent typecheck
phase "typecheck (tsc)" $((SECONDS - t))

t=$SECONDS
status=0
node --test e2e/ || status=$?
phase "node --test e2e/" $((SECONDS - t))
phase "total" $((SECONDS - t0))
exit "$status"
