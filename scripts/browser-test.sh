#!/usr/bin/env bash
# Browser end-to-end test of the web app: Debian's Chromium driven by
# playwright-core against a real `statuswatch serve` (static/e2e/app.e2e.mjs).
# Installs what is missing (chromium, aiosmtpd, npm packages from the
# lockfile), builds the SPA and the binary, then runs the test with node:test.
# Screenshots of every main page (1280 and 360 px) land in
# test-artifacts/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

ensure_commands "python3:python3" "node:nodejs" "npm:npm"
[ -x /usr/bin/chromium ] || ensure_commands "chromium:chromium"
ensure_python_module aiosmtpd
build_spa
echo "==> cargo build --bin statuswatch"
cargo build --locked --bin statuswatch
echo "==> browser test (node:test, playwright-core, /usr/bin/chromium)"
cd static
node --test --test-concurrency=1 --test-reporter=spec e2e/app.e2e.mjs e2e/status-pages.e2e.mjs
