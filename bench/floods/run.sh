#!/usr/bin/env bash
# bench/floods: login and signup floods against `statuswatch serve`, while
# other tenants make their ordinary API calls (`GET /api/monitors` with an API
# key, bench/floods/tenants.lua at PROBE_RATE/s) and we measure their p50/p99.
#
# Each round runs every scenario for DURATION seconds: first no flood (the
# baseline), then each flood (bench/floods/flood.lua, wrk at FLOOD_RATE/s over
# FLOOD_CONNECTIONS connections; FLOOD_RATE=0 for as fast as they go). Flood
# clients' addresses go in X-Forwarded-For, which the app believes from a
# loopback peer (as from the edge, which appends the peer it saw):
#   login-one-account           wrong passwords for the victim, from one address
#   login-many-accounts         wrong passwords for unknown emails, one address
#   login-many-ips              unknown emails, a new address each request
#   login-one-account-many-ips  the victim's password guessed from everywhere
#   signup                      new organisations from one address
#   signup-many-ips             new organisations, a new address each request
# The server is pinned to CPU 0, wrk (flood and tenants) to CPU 1; the
# database is PostgreSQL (not pinned), or with DATABASE=sqlite the embedded
# SQLite file. The table gives medians of
# ROUNDS rounds; the p99 ratio is each round's flood p99 over its baseline.
# After each flood the server is given time to finish what the flood left
# queued (until it is near idle, at most SETTLE_MAX s): that time is a column.
#
#   bench/floods/run.sh                               # 3 rounds of 7 × 15 s (~7 min)
#   SW_BIN=/work/bin/statuswatch bench/floods/run.sh  # reuse a build (say which commit)
#   SCENARIOS="baseline login-many-ips" ROUNDS=1 FLOOD_RATE=0 bench/floods/run.sh
#   RESULTS=file keeps the raw lines (bench/floods/table.py SECONDS RATE < file).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh
source bench/prober/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
PROBE_RATE=${PROBE_RATE:-100}
FLOOD_RATE=${FLOOD_RATE:-1000}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-128}
TENANTS=${TENANTS:-5}
SETTLE_MAX=${SETTLE_MAX:-60}
DATABASE=${DATABASE:-postgres}
SCENARIOS=${SCENARIOS:-"baseline login-one-account login-many-accounts login-many-ips login-one-account-many-ips signup signup-many-ips"}
SERVER_CPU=0
LOAD_CPU=1

ensure_commands "wrk:wrk" "taskset:util-linux" "psql:postgresql-client" "bc:bc"
ensure_postgres
bench_binary

bench_workspace sw_floods

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DATABASE_URL=""
if [ "$DATABASE" = postgres ]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $DB" >/dev/null
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
fi
APP_PORT=$(free_port)
BASE=http://127.0.0.1:$APP_PORT
env -u RUST_LOG \
  STATUSWATCH__DATABASE__URL="$DATABASE_URL" \
  STATUSWATCH__LOG__LEVEL=warn \
  STATUSWATCH__TENANCY__DOMAIN_SUFFIX=localhost \
  STATUSWATCH__APP__LISTEN=127.0.0.1:$APP_PORT \
  STATUSWATCH__EDGE__HTTP_LISTEN=127.0.0.1:$(free_port) \
  STATUSWATCH__EDGE__HTTPS_LISTEN=127.0.0.1:$(free_port) \
  STATUSWATCH__EDGE__ADMIN_LISTEN=127.0.0.1:$(free_port) \
  STATUSWATCH__EDGE__STATIC_ROOT="$SITE" \
  taskset -c $SERVER_CPU "$BIN" --data-dir "$WORK/data" serve > "$WORK/sw.log" 2>&1 &
SW=$!
PIDS+=($SW)
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE/health/ready/" 2>/dev/null && break
  kill -0 $SW 2>/dev/null || { cat "$WORK/sw.log" >&2; exit 1; }
  sleep 0.3
done
echo "==> signing up $TENANTS tenants and the victim" >&2
KEYS=$(python3 bench/floods/setup.py "$BASE" "$TENANTS")

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# The largest RSS (MB) and thread count seen while the file $2 exists.
watch_memory() {
  local rss=0 threads=0 r t
  while [ -e "$2" ]; do
    r=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$1/status")
    t=$(awk '/^Threads/ {print $2}' "/proc/$1/status")
    ((r > rss)) && rss=$r
    ((t > threads)) && threads=$t
    sleep 0.2
  done
  echo "$rss $threads"
}

# One scenario: prints "flood=<flood.lua line or -> | tenants=<tenants.lua line> | cpu=S rss_mb=N threads=N settle_s=N"
# (cpu: the server's CPU seconds per second of the scenario).
scenario() {
  local name=$1 round=$2 flood_env=() flood_pid="" t0 t1 marker="$WORK/running" memory
  case $name in
    baseline) ;;
    login-one-account) flood_env=(FLOOD=login ACCOUNTS=one IPS=one FLOOD_IP=203.0.113.$round) ;;
    login-many-accounts) flood_env=(FLOOD=login ACCOUNTS=many IPS=one FLOOD_IP=203.0.113.$((100 + round))) ;;
    login-many-ips) flood_env=(FLOOD=login ACCOUNTS=many IPS=many) ;;
    login-one-account-many-ips) flood_env=(FLOOD=login ACCOUNTS=one IPS=many) ;;
    signup) flood_env=(FLOOD=signup IPS=one FLOOD_IP=203.0.113.$((200 + round))) ;;
    signup-many-ips) flood_env=(FLOOD=signup IPS=many) ;;
    *) echo "unknown scenario $name" >&2; exit 1 ;;
  esac
  touch "$marker"
  watch_memory $SW "$marker" > "$WORK/memory" &
  local watcher=$!
  t0=$(ticks $SW); s0=$(date +%s.%N)
  if ((${#flood_env[@]})); then
    # A different stretch of addresses in every scenario and round, so one
    # run's per-address windows do not carry into the next.
    env "${flood_env[@]}" FLOOD_IP_OFFSET=$((RANDOM * 4)) PACE_RATE=$FLOOD_RATE \
      taskset -c $LOAD_CPU wrk -t1 -c"$FLOOD_CONNECTIONS" -d$((DURATION + 2))s --timeout 30s \
      -s bench/floods/flood.lua "$BASE" > "$WORK/flood.out" 2>&1 &
    flood_pid=$!
    sleep 1
  fi
  local tenants
  tenants=$(TENANT_KEYS=$KEYS PACE_RATE=$PROBE_RATE taskset -c $LOAD_CPU \
    wrk -t1 -c16 -d"${DURATION}"s --timeout 30s -s bench/floods/tenants.lua "$BASE" | tail -n 1)
  local flood="-"
  if [ -n "$flood_pid" ]; then
    wait "$flood_pid" || true
    flood=$(tail -n 1 "$WORK/flood.out")
  fi
  t1=$(ticks $SW); s1=$(date +%s.%N)
  # Work the flood left queued goes on after it: wait until the server is
  # near idle (under a quarter of a core for a second), at most SETTLE_MAX s.
  local settle=0 a b
  while ((settle < SETTLE_MAX)); do
    a=$(ticks $SW); sleep 1; b=$(ticks $SW)
    (( (b - a) * 4 < hz )) && break
    settle=$((settle + 1))
  done
  rm -f "$marker"
  wait $watcher
  read -r rss threads < "$WORK/memory"
  echo "flood=$flood | tenants=$tenants | cpu=$(echo "($t1 - $t0) / $hz / ($s1 - $s0)" | bc -l) rss_mb=$rss threads=$threads settle_s=$settle"
}

RESULTS=${RESULTS:-$WORK/results}
: > "$RESULTS"
for ((round = 1; round <= ROUNDS; round++)); do
  for name in $SCENARIOS; do
    echo "==> round $round: $name" >&2
    line=$(scenario "$name" "$round")
    echo "    $line" >&2
    printf '%s\t%s\t%s\n' "$round" "$name" "$line" >> "$RESULTS"
  done
done

# What the server logged as errors (a 5xx in the table has its cause here).
errors=$(grep -c 'ERROR' "$WORK/sw.log" || true)
echo "==> server log: $errors error lines" >&2
grep -m 3 'ERROR' "$WORK/sw.log" | cut -c1-400 >&2 || true

echo
echo "Limits: $(grep -E '^(login_per|signup_per|lockout_)' config/default.toml | tr '\n' ' ')"
echo "Database: $DATABASE. Tenants' calls: $PROBE_RATE/s GET /api/monitors over $TENANTS API keys; floods at $FLOOD_RATE/s (0: unpaced) over $FLOOD_CONNECTIONS connections; $ROUNDS rounds of ${DURATION} s; medians."
echo
python3 bench/floods/table.py "$DURATION" "$PROBE_RATE" < "$RESULTS"
