#!/usr/bin/env bash
# Builds everything (the SPA and the binary, profile `quick`:
# quick to build cold, see Cargo.toml) and starts
# `statuswatch serve` on the embedded default: SQLite in ./data, local CA.
# Extra arguments go to `serve`, e.g. `scripts/run.sh --data-dir /tmp/sw`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_commands "cc:gcc" "cmake:cmake" "pkg-config:pkg-config"
build_spa
echo "==> building statuswatch (profile quick)"
cargo build --profile quick --locked --bin statuswatch
echo "==> statuswatch serve (app on http://127.0.0.1:8000, readiness at /health/ready/)"
exec "${CARGO_TARGET_DIR:-target}/quick/statuswatch" serve "$@"
