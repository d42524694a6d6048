#!/usr/bin/env bash
# bench/drills: the edge's scale and flood drills (Reliability issue, item 2),
# on PostgreSQL, one fresh database per drill (dropped after). See
# bench/drills/drills.py for what each measures; figures go to bench/README.md.
#
#   bench/drills/run.sh                                # idle, sni, scale at full size
#   SW_BIN=/path/to/statuswatch bench/drills/run.sh    # reuse a production binary
#   DRILLS=idle CONNS=10000 HOLD=20 bench/drills/run.sh
#   DRILLS=sni SNI_NAMES=10000 bench/drills/run.sh
#   DRILLS=scale TENANTS=100000 TOUCH=10000,50000,100000 SAMPLE=1000 bench/drills/run.sh
#
# The edge runs on CPU 0 with one tokio worker; the client, psql and the
# seeding on CPU 1. Prints the results as JSON on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

ensure_commands "taskset:util-linux" "psql:postgresql-client" "python3:python3" "openssl:openssl"
ensure_python_module cryptography
ensure_postgres

if [ -z "${SW_BIN:-}" ]; then
  build_spa >&2
  echo "==> building statuswatch (profile production: fat LTO)" >&2
  cargo build --profile production --locked --bin statuswatch >&2
fi
BIN=${SW_BIN:-${CARGO_TARGET_DIR:-target}/production/statuswatch}
# The SPA the edge serves: beside a given binary (/work/bin/dist), else static/dist.
SITE=${SITE_DIR:-}
if [ -z "$SITE" ]; then
  SITE=static/dist
  [ -n "${SW_BIN:-}" ] && [ -d "$(dirname "$SW_BIN")/dist" ] && SITE="$(dirname "$SW_BIN")/dist"
fi
[ -f "$SITE/index.html" ] || { echo "no SPA at $SITE (build_spa, or set SITE_DIR)" >&2; exit 1; }

# 10,000 held connections need as many descriptors on each side, and more.
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
ulimit -n "$HARD"
[ "$(ulimit -n)" -ge $((${CONNS:-10000} + 1000)) ] || {
  echo "ulimit -n is $(ulimit -n): too low for CONNS=${CONNS:-10000}" >&2
  exit 1
}

WORK=$(mktemp -d)
cp -r "$SITE" "$WORK/site"
trap 'rm -rf "$WORK"' EXIT
WORK="$WORK" SW_BINARY="$BIN" SITE_DIR="$WORK/site" PYTHONPATH=bench/drills:bench/lib \
  python3 bench/drills/drills.py
