#!/usr/bin/env bash
# bench/acme: time to first byte for new names and memory per certificate,
# StatusWatch's edge beside Caddy 2's on-demand TLS, against Debian's pebble,
# in one run, on loopback only. See bench/acme/bench.py for what is measured.
#
#   bench/acme/run.sh                          # 20 sequential, 50 at once, 1k/10k certs
#   MEMORY_STEPS=500,2000 SERVERS=statuswatch bench/acme/run.sh
#   NO_BUILD=1 bench/acme/run.sh                # reuse the production binary already built
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

ensure_commands "caddy:caddy" "pebble:pebble" "taskset:util-linux" "openssl:openssl" "python3:python3"
if [[ -z "${NO_BUILD:-}" ]]; then
  build_spa >&2
  echo "==> building statuswatch (profile production: fat LTO)" >&2
  cargo build --profile production --locked --bin statuswatch >&2
fi

WORK=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r static/dist "$WORK/site"

# Pebble's own HTTPS listener: a CA and a localhost certificate it signed.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=bench pebble CA" -keyout "$WORK/pebble-ca.key" -out "$WORK/pebble-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
  -keyout "$WORK/pebble-key.pem" -out "$WORK/pebble.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/pebble.csr" -CA "$WORK/pebble-ca.pem" -CAkey "$WORK/pebble-ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/san.ext" -out "$WORK/pebble-cert.pem" 2>/dev/null

WORK="$WORK" SW_BINARY="${CARGO_TARGET_DIR:-target}/production/statuswatch" PYTHONPATH=bench/lib \
  python3 bench/acme/bench.py
