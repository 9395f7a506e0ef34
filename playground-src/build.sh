#!/bin/sh
# Rebuilds internal/playground/dist from the pinned npm packages.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
