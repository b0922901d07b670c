#!/usr/bin/env bash
# Runs the pinned pnpm without needing a global install: a fresh machine has only Node and npm.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# better-sqlite3 compiles from source here; node-gyp must use the local Node headers.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "12.4.2" ]; then
  exec pnpm "$@"
fi
exec npx -y pnpm@12.4.2 "$@"
