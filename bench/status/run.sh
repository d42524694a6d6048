#!/usr/bin/env bash
# bench/status: a cached public status page of 50 components over HTTPS
# keep-alive, side by side in one run with the edge's own static index.html
# and with Caddy serving the same page as a static file; then the same with
# the app stopped (the edge answers from its cache, stale-if-error).
#
# StatusWatch runs as separate `app` and `edge` roles on PostgreSQL (so the
# app can be stopped under the edge). The edge and Caddy are pinned to CPU 0
# (one worker/thread each); the load generator (h2load --h1, the same tool for
# every row) and the app to CPU 1. Prints a markdown table for bench/README.md.
#
#   bench/status/run.sh                      # 10 s per row, 50 connections
#   REPEAT=3 DURATION=5 bench/status/run.sh  # medians of alternating rounds
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
REPEAT=${REPEAT:-1}
SERVER_CPU=0
CLIENT_CPU=1
PROFILE_DIR=production

ensure_commands "caddy:caddy" "h2load:nghttp2-client" "taskset:util-linux" "openssl:openssl" \
  "psql:postgresql-client" "python3:python3" "curl:curl"
ensure_postgres
# With SW_BIN the SPA in static/dist is reused as built.
[ -n "${SW_BIN:-}" ] || build_spa >&2
echo "==> building statuswatch (profile $PROFILE_DIR)" >&2
# SW_BIN=path reuses a binary already built (say which commit in the results).
[ -n "${SW_BIN:-}" ] || cargo build --profile production --locked --bin statuswatch >&2
BIN=${SW_BIN:-${CARGO_TARGET_DIR:-target}/$PROFILE_DIR/statuswatch}

WORK=$(mktemp -d)
DB=sw_bench_status_$$
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $DB"

cp -r static/dist "$WORK/site"
APP=127.0.0.1:18000
SW_HTTPS=18443 CADDY_HTTPS=28443
HOST=bench.localhost
export STATUSWATCH_ENV=development RUST_LOG=warn
export STATUSWATCH__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
export STATUSWATCH__SECRET_KEY="bench-status-secret-key-0123456789abcdef"
export STATUSWATCH__APP__LISTEN=$APP
export STATUSWATCH__EDGE__HTTPS_LISTEN=127.0.0.1:$SW_HTTPS
export STATUSWATCH__EDGE__HTTP_LISTEN=127.0.0.1:18081
export STATUSWATCH__EDGE__ADMIN_LISTEN=127.0.0.1:18019
export STATUSWATCH__EDGE__APP_UPSTREAMS=$APP
export STATUSWATCH__EDGE__STATIC_ROOT="$WORK/site"
export STATUSWATCH__AUTH__SIGNUP_PER_IP_PER_HOUR=100

"$BIN" migrate --data-dir "$WORK/sw" > "$WORK/migrate.log" 2>&1
taskset -c $CLIENT_CPU "$BIN" app --data-dir "$WORK/sw" > "$WORK/app.log" 2>&1 &
PIDS+=($!)
APP_PID=$!
TOKIO_WORKER_THREADS=1 taskset -c $SERVER_CPU "$BIN" edge --data-dir "$WORK/sw" > "$WORK/edge.log" 2>&1 &
PIDS+=($!)
EDGE_PID=$!
for _ in $(seq 1 100); do
  curl -fs -o /dev/null "http://$APP/health/ready/" && break
  sleep 0.2
done
curl -fs -o /dev/null "http://$APP/health/ready/" || { cat "$WORK"/*.log >&2; exit 1; }

# A tenant with one status page of 50 components in five groups: 40 set by
# hand in every state, 10 bound to heartbeat monitors.
python3 - "$APP" "$HOST" <<'PY'
import json, sys, urllib.request
app, host = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(f"http://{app}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")
slug = host.split(".")[0]
s = call("POST", "/api/auth/signup", {"organization": "Bench Inc", "slug": slug,
    "email": f"owner@{slug}.example", "password": "tangerine-umbrella-42"})
t = s["access_token"]
page = call("POST", "/api/status-pages", {"title": "Bench Inc status",
    "description": "Everything Bench Inc runs, checked every 30 seconds."}, t)
states = ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]
monitors = [call("POST", "/api/monitors", {"name": f"heartbeat {i}", "kind": "heartbeat",
    "interval_seconds": 60}, t)["id"] for i in range(10)]
n = 0
for g in range(5):
    group = call("POST", f"/api/status-pages/{page['id']}/groups", {"name": f"Region {g + 1}"}, t)
    for c in range(10):
        body = {"name": f"Service {g + 1}.{c + 1}", "group_id": group["id"],
                "description": "An API that customers rely on"}
        if c < 2:
            body["monitor_ids"] = [monitors[n % 10]]; n += 1
        else:
            body["manual_status"] = states[c % 5] if c % 4 == 0 else "operational"
        call("POST", f"/api/status-pages/{page['id']}/components", body, t)
PY

CA="$WORK/ca.pem"
"$BIN" certs export-ca --data-dir "$WORK/sw" > "$CA"
edge_get() { curl -fsS --cacert "$CA" --resolve "$HOST:$SW_HTTPS:127.0.0.1" "$@"; }
for _ in $(seq 1 50); do edge_get -o /dev/null "https://$HOST:$SW_HTTPS/status/" 2>/dev/null && break; sleep 0.2; done
edge_get -o "$WORK/page.html" "https://$HOST:$SW_HTTPS/status/"
components=$(grep -o 'Service [0-9]*\.[0-9]*' "$WORK/page.html" | sort -u | wc -l)
page_bytes=$(wc -c < "$WORK/page.html")
page_gzip=$(gzip -9c "$WORK/page.html" | wc -c)
edge_get -D "$WORK/page.head" -o /dev/null "https://$HOST:$SW_HTTPS/status/"
grep -qi '^cache-status: .*hit' "$WORK/page.head" || { echo "the status page is not served from the edge cache:" >&2; cat "$WORK/page.head" >&2; exit 1; }

# The edge serves the same bytes as a static file too: the cache's own cost
# shows against that row, the page's size against index.html.
cp "$WORK/page.html" "$WORK/site/page-copy.html"
curl -fsS -X POST "http://127.0.0.1:18019/reload" > /dev/null
for _ in $(seq 1 50); do edge_get -o /dev/null "https://$HOST:$SW_HTTPS/page-copy.html" 2>/dev/null && break; sleep 0.2; done

# Caddy serves the same page as a static file, with its usual compression.
mkdir -p "$WORK/caddy-site/status"
cp "$WORK/page.html" "$WORK/caddy-site/status/index.html"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat > "$WORK/Caddyfile" <<CONF
{
  admin off
  auto_https disable_redirects
  log {
    output discard
  }
}
https://$HOST:$CADDY_HTTPS {
  tls $WORK/cert.pem $WORK/key.pem
  encode zstd gzip
  header Cache-Control "public, max-age=0, s-maxage=10"
  root * $WORK/caddy-site
  file_server
}
CONF
GOMAXPROCS=1 taskset -c $SERVER_CPU caddy run --config "$WORK/Caddyfile" --adapter caddyfile > "$WORK/caddy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -ks -o /dev/null --resolve "$HOST:$CADDY_HTTPS:127.0.0.1" "https://$HOST:$CADDY_HTTPS/status/" && break
  sleep 0.2
done

# rate and share of 200s: port path [accept-encoding]
h1_load() {
  local port=$1 path=$2 enc=${3:-identity} out
  out=$(taskset -c $CLIENT_CPU h2load --h1 -t1 -c"$CONNS" -D"$DURATION" --connect-to=127.0.0.1:"$port" \
    -H "accept-encoding: $enc" "https://$HOST:$port$path" 2>/dev/null)
  awk '/^finished in/ { gsub(",", "", $4); rps = $4 }
       /^status codes:/ { gsub(",", "", $3); ok = $3 }
       /^requests:/ { total = $2 }
       END { printf "%.0f %.1f\n", rps, (total > 0 ? 100 * ok / total : 0) }' <<<"$out"
}

declare -A ALL OK
run_rows() { # phase
  for round in $(seq 1 "$REPEAT"); do
    echo "==> $1, round $round of $REPEAT" >&2
    for row in "sw-index:$SW_HTTPS:/" "sw-copy:$SW_HTTPS:/page-copy.html" "sw-status:$SW_HTTPS:/status/" "caddy-status:$CADDY_HTTPS:/status/"; do
      IFS=: read -r name port path <<<"$row"
      for enc in identity gzip; do
        read -r rps ok < <(h1_load "$port" "$path" "$enc")
        ALL[$1,$name,$enc]="${ALL[$1,$name,$enc]:-} $rps"
        OK[$1,$name,$enc]="${OK[$1,$name,$enc]:-} $ok"
      done
    done
  done
}
run_rows up
# The app goes away: every node down, the database untouched.
kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true
sleep 2
edge_get -D "$WORK/stale.head" -o /dev/null "https://$HOST:$SW_HTTPS/status/"
run_rows down

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { tr ' ' '\n' | grep -v '^$' | sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "Page: $components components, $page_bytes bytes, $page_gzip gzipped (gzip -9). Stale answer with the app stopped: $(grep -i '^cache-status' "$WORK/stale.head" | tr -d '\r')"
echo
echo "| app | encoding | edge index.html (req/s) | edge, same page as a static file (req/s) | edge /status/ from its cache (req/s) | Caddy, same page as a static file (req/s) | status / index | status / same page static | status / Caddy | 200s (edge status) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for phase in up down; do
  for enc in identity gzip; do
    [ "$REPEAT" -gt 1 ] && for n in sw-index sw-copy sw-status caddy-status; do echo "rounds $phase $n $enc:${ALL[$phase,$n,$enc]}" >&2; done
    i=$(echo "${ALL[$phase,sw-index,$enc]}" | median)
    f=$(echo "${ALL[$phase,sw-copy,$enc]}" | median)
    s=$(echo "${ALL[$phase,sw-status,$enc]}" | median)
    c=$(echo "${ALL[$phase,caddy-status,$enc]}" | median)
    ok=$(echo "${OK[$phase,sw-status,$enc]}" | minimum)
    label=running; [ "$phase" = down ] && label=stopped
    echo "| $label | $enc | $i | $f | $s | $c | $(ratio "$s" "$i") | $(ratio "$s" "$f") | $(ratio "$s" "$c") | $ok% |"
  done
done
echo
echo "RSS of the edge after the run: $(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$EDGE_PID/status") MB"
