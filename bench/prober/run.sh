#!/usr/bin/env bash
# bench/prober: the StatusWatch prober checking N HTTP monitors at 60 s
# intervals against a local nginx, then Debian's prometheus-blackbox-exporter
# driven at the same probe rate, in one run, on loopback only.
#
# StatusWatch runs as `statuswatch serve` on PostgreSQL (its /metrics carries
# the prober's counters); the prober and blackbox-exporter are pinned to CPU 0,
# nginx and the blackbox driver to CPU 1 (PostgreSQL is not pinned). Figures
# are taken over a window after every monitor has been checked once:
# checks/s, p99 lateness of check start (histogram bucket bound), RSS (peak),
# database writes, and probes per CPU-second of the prober process.
#
#   bench/prober/run.sh                          # 10k and 100k monitors, 120 s windows
#   SIZES="10000" WINDOW=60 bench/prober/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

SIZES=${SIZES:-"10000 100000"}
WINDOW=${WINDOW:-120}
PROBER_CPU=0
OTHER_CPU=1

ensure_commands "nginx:nginx" "prometheus-blackbox-exporter:prometheus-blackbox-exporter" \
  "taskset:util-linux" "psql:postgresql-client"
ensure_postgres
build_spa >&2
echo "==> building statuswatch (profile production: fat LTO)" >&2
cargo build --profile production --locked --bin statuswatch >&2
BIN=${CARGO_TARGET_DIR:-target}/production/statuswatch

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
DB=sw_bench_$$
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

TARGET_ADDR=127.0.0.1:19080
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $WORK/nginx/error.log crit;
pid $WORK/nginx/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  server {
    listen $TARGET_ADDR reuseport backlog=4096;
    location / { return 200 "ok\n"; }
  }
}
CONF
taskset -c $OTHER_CPU nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
rss_mb() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# Sum of a metric's series in a scrape (0 when absent; grep finding nothing is no error here).
metric_sum() { { grep -E "^$2(\{| )" "$1" || true; } | awk '{s += $NF} END {printf "%.0f", s}'; }
pg_writes() {
  psql -qAt -h 127.0.0.1 -U postgres -d test -c \
    "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = '$DB'"
}
# The smallest histogram bound holding 99% of the observations between two scrapes.
p99_bound() {
  paste <(grep '^prober_check_start_lateness_seconds_bucket' "$1") \
        <(grep '^prober_check_start_lateness_seconds_bucket' "$2") |
    awk '{ split($1, a, "\""); le = a[2]; d = $4 - $2; n[NR] = d; b[NR] = le }
         END { total = n[NR]; for (i = 1; i <= NR; i++) if (n[i] >= 0.99 * total) { print b[i]; exit } }'
}

ROWS=()
for N in $SIZES; do
  echo "==> $N monitors: StatusWatch" >&2
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$DB"
  STATUSWATCH__DATABASE__URL=$URL "$BIN" --data-dir "$WORK/data" migrate >/dev/null
  # Monitors due over the first minute after start-up, spread evenly, as a steady state would be.
  psql -q -h 127.0.0.1 -U postgres -d "$DB" <<SQL
INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ('bench', 'bench', 'Bench', 0, 0);
INSERT INTO monitors (id, tenant_id, name, kind, target, settings, interval_seconds, timeout_ms,
                      state, paused, next_check_at, created_at, updated_at)
SELECT 'm' || g, 'bench', 'm' || g, 'http', 'http://$TARGET_ADDR/?m=' || g,
       '{"confirmations":2,"url":"http://$TARGET_ADDR/?m=' || g || '","method":"GET","follow_redirects":true,"verify_tls":true}',
       60, 10000, 'up', 0,
       (extract(epoch FROM now()) * 1000)::bigint + 20000 + (random() * 60000)::bigint, 0, 0
FROM generate_series(1, $N) AS g;
SQL
  APP_PORT=18100
  STATUSWATCH__DATABASE__URL=$URL \
  STATUSWATCH__DATABASE__MAX_CONNECTIONS=20 \
  STATUSWATCH__LOG__LEVEL=warn \
  STATUSWATCH__PROBER__ALLOW_PRIVATE_TARGETS=true \
  STATUSWATCH__PROBER__MAX_CONCURRENT_CHECKS=5000 \
  STATUSWATCH__APP__LISTEN=127.0.0.1:$APP_PORT \
  STATUSWATCH__EDGE__HTTP_LISTEN=127.0.0.1:18180 \
  STATUSWATCH__EDGE__HTTPS_LISTEN=127.0.0.1:18143 \
  STATUSWATCH__EDGE__ADMIN_LISTEN=127.0.0.1:18119 \
    taskset -c $PROBER_CPU "$BIN" --data-dir "$WORK/data" serve > "$WORK/sw-$N.log" 2>&1 &
  SW=$!
  PIDS+=($SW)
  # 20 s until the first monitors are due, 60 s until each has been checked once.
  sleep 85
  curl -fsS "http://127.0.0.1:$APP_PORT/metrics" > "$WORK/m0"
  t0=$(ticks $SW); w0=$(pg_writes); s0=$(date +%s.%N)
  sleep "$WINDOW"
  curl -fsS "http://127.0.0.1:$APP_PORT/metrics" > "$WORK/m1"
  t1=$(ticks $SW); w1=$(pg_writes); s1=$(date +%s.%N)
  rss=$(rss_mb $SW)
  kill $SW; wait $SW 2>/dev/null || true
  secs=$(echo "$s1 - $s0" | bc -l)
  checks=$(( $(metric_sum "$WORK/m1" prober_checks_total) - $(metric_sum "$WORK/m0" prober_checks_total) ))
  rows=$(( $(metric_sum "$WORK/m1" prober_results_written_total) - $(metric_sum "$WORK/m0" prober_results_written_total) ))
  batches=$(( $(metric_sum "$WORK/m1" prober_write_batches_total) - $(metric_sum "$WORK/m0" prober_write_batches_total) ))
  downs=$({ grep -E '^prober_checks_total\{.*outcome="down"' "$WORK/m1" || true; } | awk '{s += $NF} END {print s + 0}')
  cpu=$(echo "($t1 - $t0) / $hz" | bc -l)
  commits=$(( ${w1%%|*} - ${w0%%|*} )); tuples=$(( ${w1##*|} - ${w0##*|} ))
  sw_rate=$(echo "$checks / $secs" | bc -l)
  sw_per_cpu=$(echo "$checks / $cpu" | bc -l)
  p99=$(p99_bound "$WORK/m0" "$WORK/m1")

  echo "==> $N monitors: blackbox-exporter at the same rate" >&2
  cat > "$WORK/blackbox.yml" <<YML
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
YML
  taskset -c $PROBER_CPU prometheus-blackbox-exporter --config.file="$WORK/blackbox.yml" \
    --web.listen-address=127.0.0.1:19115 --log.level=warn > "$WORK/bb.log" 2>&1 &
  BB=$!
  PIDS+=($BB)
  sleep 2
  rate=$(echo "$N / 60" | bc -l)
  b0=$(ticks $BB)
  drive=$(taskset -c $OTHER_CPU python3 bench/prober/drive.py 127.0.0.1:19115 "http://$TARGET_ADDR/" "$rate" "$WINDOW")
  b1=$(ticks $BB)
  bb_rss=$(rss_mb $BB)
  kill $BB; wait $BB 2>/dev/null || true
  bb_ok=$(echo "$drive" | sed -E 's/.* ok=([0-9]+).*/\1/')
  bb_cpu=$(echo "($b1 - $b0) / $hz" | bc -l)
  bb_per_cpu=$(echo "$bb_ok / $bb_cpu" | bc -l)
  echo "    driver: $drive" >&2

  ROWS+=("$(printf '| %s | %.0f (target %.0f) | ≤ %s s | %s MB | %.0f rows/s in %.1f tx/s (PG: %.0f commits/s, %.0f tuples/s) | %.0f | %s MB | %.0f | %.2f | %s |' \
    "$N" "$sw_rate" "$rate" "$p99" "$rss" "$(echo "$rows / $secs" | bc -l)" "$(echo "$batches / $secs" | bc -l)" \
    "$(echo "$commits / $secs" | bc -l)" "$(echo "$tuples / $secs" | bc -l)" "$sw_per_cpu" "$bb_rss" "$bb_per_cpu" \
    "$(echo "$sw_per_cpu / $bb_per_cpu" | bc -l)" "$downs")")
done

echo
echo "| monitors (60 s) | SW checks/s | SW p99 start lateness | SW RSS peak | SW database writes | SW probes/CPU-s | blackbox RSS | blackbox probes/CPU-s | SW / blackbox | SW failed checks (total) |"
echo "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
for row in "${ROWS[@]}"; do echo "$row"; done
