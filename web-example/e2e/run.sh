#!/usr/bin/env bash
# End-to-end tests of the web example against the Go server in headless Chromium.
# Needs only Go, Node.js 20.19+ with npm, and Chromium at /usr/bin/chromium
# (Debian: apt-get install -y chromium; or set CHROMIUM_PATH). No browser download.
# Mail goes to Mailpit, built from its Go module once per machine (into
# ~/.cache/sessiongql-e2e/, or set MAILPIT_BIN to a binary of your own).
# The test itself builds the server (go build) and the app (vite build), starts
# them and Mailpit on free ports, and stops them at the end. Screenshots: e2e/output/.
set -euo pipefail
cd "$(dirname "$0")/.."   # web-example/

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not on PATH" >&2; exit 1; }
done
[ -x "$chromium" ] || { echo "run.sh: no Chromium at $chromium (apt-get install -y chromium)" >&2; exit 1; }

phase() { printf '[run.sh] %-28s %4ds\n' "$1" "$2"; }
t0=$SECONDS

# Mailpit: the version and the default place are also in e2e/harness.mjs.
mailpit_version=v1.33.1
t=$SECONDS
if [ -n "${MAILPIT_BIN:-}" ]; then
  [ -x "$MAILPIT_BIN" ] || { echo "run.sh: MAILPIT_BIN=$MAILPIT_BIN is not an executable" >&2; exit 1; }
  phase "mailpit (MAILPIT_BIN)" $((SECONDS - t))
else
  export MAILPIT_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/sessiongql-e2e/mailpit-$mailpit_version/mailpit"
  if [ -x "$MAILPIT_BIN" ]; then
    phase "mailpit (installed)" $((SECONDS - t))
  else
    GOBIN="$(dirname "$MAILPIT_BIN")" go install "github.com/axllent/mailpit@$mailpit_version"
    phase "mailpit (go install)" $((SECONDS - t))
  fi
fi

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
