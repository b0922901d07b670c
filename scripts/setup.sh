#!/usr/bin/env bash
# Installs every dependency from the lockfile and builds all packages (turbo caches the build).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CI:-}" ]; then frozen=--frozen-lockfile; else frozen=--prefer-frozen-lockfile; fi
bash scripts/pnpm.sh install $frozen --reporter=append-only >&2
bash scripts/pnpm.sh exec turbo run build --output-logs=errors-only >&2
