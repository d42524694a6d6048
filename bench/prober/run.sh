#!/usr/bin/env bash
# bench/prober: the StatusWatch prober checking N HTTP monitors at 60 s
# intervals against a local nginx, then Debian's prometheus-blackbox-exporter
# driven by wrk at a fixed rate (bench/prober/pace.lua), in one run, on
# loopback only.
#
# StatusWatch runs as `statuswatch serve` on PostgreSQL (its /metrics carries
# the prober's counters); the prober and blackbox-exporter are pinned to CPU 0,
# nginx and wrk to CPU 1 (PostgreSQL is not pinned). StatusWatch's figures are
# taken over a window after every monitor has been checked once: checks/s,
# p99 lateness of check start (histogram bucket bound), RSS (peak), database
# writes, and probes per CPU-second of the prober process.
#
# Blackbox-exporter is measured like with like: first its one-core saturation
# is found by stepping wrk's rate until the exporter no longer holds it; then,
# per size, it is driven at StatusWatch's measured rate when that is below its
# saturation (row "a") and at its saturation otherwise (row "b"); a "b" row
# is added when no size reached it. Each blackbox row is BB_ROUNDS rounds of
# BB_WINDOW seconds; the table gives medians.
#
#   bench/prober/run.sh                          # 10k and 100k monitors (~9 min)
#   SIZES="10000" WINDOW=60 bench/prober/run.sh
#   SW_BIN=/path/to/statuswatch bench/prober/run.sh   # reuse a build (say which commit)
#   STEP_START=800 STEP=100 STEP_SECONDS=8 ...       # the saturation search
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh
source bench/prober/lib.sh

SIZES=${SIZES:-"10000 100000"}
WINDOW=${WINDOW:-60}
BB_WINDOW=${BB_WINDOW:-20}
BB_ROUNDS=${BB_ROUNDS:-3}
STEP_START=${STEP_START:-600}
STEP=${STEP:-200}
STEP_SECONDS=${STEP_SECONDS:-8}
PROBER_CPU=0
OTHER_CPU=1

ensure_commands "nginx:nginx" "prometheus-blackbox-exporter:prometheus-blackbox-exporter" \
  "taskset:util-linux" "psql:postgresql-client" "wrk:wrk" "bc:bc"
ensure_postgres
bench_binary

bench_workspace sw_bench

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
declare -A SW_RATE SW_PER_CPU
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
  STATUSWATCH__EDGE__STATIC_ROOT=$SITE \
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

  SW_RATE[$N]=$sw_rate; SW_PER_CPU[$N]=$sw_per_cpu
  ROWS+=("$(printf '| %s | %.0f (target %.0f) | ≤ %s s | %s MB | %.0f rows/s in %.1f tx/s (PG: %.0f commits/s, %.0f tuples/s) | %.0f | %s |' \
    "$N" "$sw_rate" "$(echo "$N / 60" | bc -l)" "$p99" "$rss" "$(echo "$rows / $secs" | bc -l)" "$(echo "$batches / $secs" | bc -l)" \
    "$(echo "$commits / $secs" | bc -l)" "$(echo "$tuples / $secs" | bc -l)" "$sw_per_cpu" "$downs")")
done

echo "==> blackbox-exporter" >&2
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
PROBE_PATH="/probe?module=http_2xx&target=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "http://$TARGET_ADDR/")"

# One paced wrk run against the exporter: "RATE SECONDS" in; wrk's summary
# line with the exporter's CPU seconds appended (cpu=S) out.
drive() {
  local b0 b1 line
  b0=$(ticks $BB)
  line=$(PACE_RATE=$1 PACE_PATH=$PROBE_PATH PACE_OK='probe_success 1' \
    taskset -c $OTHER_CPU wrk -t1 -c128 -d"$2"s --timeout 15s -s bench/prober/pace.lua http://127.0.0.1:19115 | tail -n 1)
  b1=$(ticks $BB)
  echo "$line cpu=$(echo "($b1 - $b0) / $hz" | bc -l)"
}
field() { echo "$1" | sed -E "s/(^|.* )$2=([0-9.]+).*/\\2/"; }
# Held: at least 98% of the offered rate answered, all of them good, and at
# most 1% of the requests sent more than 10 ms after their slot.
held() {
  awk -v r="$(field "$1" rate)" -v want="$2" -v ok="$(field "$1" ok)" -v sent="$(field "$1" sent)" \
      -v late="$(field "$1" late_10ms)" 'BEGIN { exit !(r >= 0.98 * want && ok == sent && late <= 0.01 * sent) }'
}

echo "==> stepping blackbox-exporter's rate from $STEP_START/s by $STEP/s, ${STEP_SECONDS} s a step" >&2
SAT=0
for ((rate = STEP_START; rate <= 20000; rate += STEP)); do
  line=$(drive "$rate" "$STEP_SECONDS")
  echo "    $rate/s: $line" >&2
  if ! held "$line" "$rate"; then
    # Once more before giving up: another process may have had the core.
    line=$(drive "$rate" "$STEP_SECONDS")
    echo "    $rate/s again: $line" >&2
    held "$line" "$rate" || break
  fi
  SAT=$rate
done
if ((SAT == 0)); then
  echo "blackbox-exporter did not hold even $STEP_START/s; lower STEP_START" >&2
  exit 1
fi
echo "    saturation: $SAT/s (the last rate held)" >&2

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# BB_ROUNDS paced runs at RATE; prints "achieved cpu_per_s per_cpu late_10ms failed" medians.
bb_row() {
  local achieved=() util=() per=() late=() failed=() line
  for ((round = 1; round <= BB_ROUNDS; round++)); do
    line=$(drive "$1" "$BB_WINDOW")
    echo "    $1/s round $round: $line" >&2
    achieved+=("$(field "$line" rate)")
    util+=("$(echo "$(field "$line" cpu) / $BB_WINDOW" | bc -l)")
    per+=("$(echo "$(field "$line" ok) / $(field "$line" cpu)" | bc -l)")
    late+=("$(field "$line" late_10ms)")
    failed+=("$(field "$line" failed)")
  done
  printf '%s %s %s %s %s\n' \
    "$(printf '%s\n' "${achieved[@]}" | median)" "$(printf '%s\n' "${util[@]}" | median)" \
    "$(printf '%s\n' "${per[@]}" | median)" "$(printf '%s\n' "${late[@]}" | median)" \
    "$(printf '%s\n' "${failed[@]}" | median)"
}

BB_ROWS=()
saturated_row=0
for N in $SIZES; do
  want=${SW_RATE[$N]}
  if awk -v w="$want" -v s="$SAT" 'BEGIN { exit !(w <= s) }'; then
    label="(a) StatusWatch's rate, held"; rate=$(printf '%.0f' "$want")
  else
    label="(b) its saturation; StatusWatch's $(printf '%.0f' "$want")/s is beyond it"; rate=$SAT; saturated_row=1
  fi
  echo "==> blackbox-exporter for the $N-monitor row at $rate/s" >&2
  read -r achieved util per late failed < <(bb_row "$rate")
  BB_ROWS+=("$(printf '| %s | %s | %s | %.0f | %.2f | %.0f | %.0f | %.2f | %s / %s |' \
    "$N" "$label" "$rate" "$achieved" "$util" "$per" "${SW_PER_CPU[$N]}" \
    "$(echo "${SW_PER_CPU[$N]} / $per" | bc -l)" "$late" "$failed")")
done
if ((saturated_row == 0)); then
  last=${SIZES##* }
  echo "==> blackbox-exporter at its saturation, $SAT/s, against the $last-monitor row" >&2
  read -r achieved util per late failed < <(bb_row "$SAT")
  BB_ROWS+=("$(printf '| %s | %s | %s | %.0f | %.2f | %.0f | %.0f | %.2f | %s / %s |' \
    "$last" "(b) its saturation" "$SAT" "$achieved" "$util" "$per" "${SW_PER_CPU[$last]}" \
    "$(echo "${SW_PER_CPU[$last]} / $per" | bc -l)" "$late" "$failed")")
fi
bb_rss=$(rss_mb $BB)

echo
echo "| monitors (60 s) | SW checks/s | SW p99 start lateness | SW RSS peak | SW database writes | SW probes/CPU-s | SW failed checks (total) |"
echo "|---:|---:|---:|---:|---|---:|---:|"
for row in "${ROWS[@]}"; do echo "$row"; done
echo
echo "blackbox-exporter: saturation $SAT/s (stepped from $STEP_START by $STEP, ${STEP_SECONDS} s a step), RSS peak $bb_rss MB; medians of $BB_ROUNDS rounds of $BB_WINDOW s"
echo
echo "| against SW row | blackbox driven at | offered/s | achieved/s | CPU s per s | probes/CPU-s | SW probes/CPU-s | SW / blackbox | late >10 ms / failed (median round) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
for row in "${BB_ROWS[@]}"; do echo "$row"; done
