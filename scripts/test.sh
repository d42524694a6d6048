#!/usr/bin/env bash
# The whole test suite: installs what is missing, starts PostgreSQL, builds
# the SPA (which enforces its JavaScript budget) and the previous release,
# then checks formatting and lints and runs every test: the SPA's unit tests,
# Rust unit, integration and end-to-end tests against SQLite and PostgreSQL,
# and the browser tests in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_commands "cc:gcc" "cmake:cmake" "pkg-config:pkg-config" "pg_isready:postgresql-client" \
  "python3:python3" "pebble-challtestsrv:pebble"
ensure_python_module aiosmtpd
ensure_nextest
ensure_postgres
# Databases left by killed test runs (normal runs drop their own).
psql -q -h 127.0.0.1 -U postgres -d test -At \
  -c "SELECT datname FROM pg_database WHERE datname LIKE 'sw\_test\_%'" |
  while read -r db; do psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
build_spa
build_previous_release

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> SPA unit tests (vitest)"
(cd static && npm test --silent)
echo "==> cargo nextest run"
cargo nextest run --workspace --locked --no-fail-fast
bash scripts/api-fuzz.sh
echo "==> browser end-to-end tests"
bash scripts/browser-test.sh
