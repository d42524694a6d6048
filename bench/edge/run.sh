#!/usr/bin/env bash
# bench/edge: the StatusWatch edge side by side with Caddy 2 and nginx from
# Debian, configured for the same job, in one run, on loopback only.
#
# Servers are pinned to CPU 0 (one worker/thread each); the load generator and
# the shared upstream (a tiny nginx answering small JSON) to CPU 1. Prints a
# markdown table; paste it into bench/README.md with the date and commit.
#
#   bench/edge/run.sh            # 10 s per row, 50 connections
#   DURATION=5 CONNS=20 bench/edge/run.sh
#   REPEAT=7 DURATION=5 ROWS=proxy SERVERS="sw caddy" bench/edge/run.sh   # medians of alternating rounds
#   SERVERS="sw caddy caddy-routes" ...   # adds Caddy routing only, as configured before session 4
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh

DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
SERVER_CPU=0
CLIENT_CPU=1

ensure_commands "caddy:caddy" "nginx:nginx" "wrk:wrk" "h2load:nghttp2-client" "taskset:util-linux" "openssl:openssl"
# With SW_BIN the SPA in static/dist is reused as built.
[ -n "${SW_BIN:-}" ] || build_spa >&2
echo "==> building statuswatch (profile production: fat LTO)" >&2
# SW_BIN=path reuses a binary already built (say which commit in the results).
[ -n "${SW_BIN:-}" ] || cargo build --profile production --locked --bin statuswatch >&2

WORK=$(mktemp -d)
# nginx's workers run unprivileged: they must be able to read the site.
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The same files for everyone: the SPA build plus a 150 KB hashed asset.
cp -r static/dist "$WORK/site"
mkdir -p "$WORK/site/assets"
# Real JavaScript (the SPA's own chunks, repeated), so compression costs what it
# costs on a real asset; base64 noise would compress far worse than any bundle.
while [ "$(cat "$WORK/site/assets/bench-150k.js" 2>/dev/null | wc -c)" -lt 153600 ]; do
  cat static/dist/assets/*.js >> "$WORK/site/assets/bench-150k.js"
done
truncate -s 153600 "$WORK/site/assets/bench-150k.js"

# One certificate for localhost for Caddy and nginx (StatusWatch issues its own).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

UP=127.0.0.1:18080
SW_HTTPS=18443 CADDY_HTTPS=28443 NGINX_HTTPS=38443

# Upstream: small JSON, keep-alive, on the client CPU.
mkdir -p "$WORK/upstream"
cat > "$WORK/upstream/nginx.conf" <<CONF
worker_processes 1;
error_log $WORK/upstream/error.log crit;
pid $WORK/upstream/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen $UP reuseport;
    location / { default_type application/json; return 200 '{"ok":true,"service":"bench"}'; }
  }
}
CONF
taskset -c $CLIENT_CPU nginx -c "$WORK/upstream/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

# StatusWatch: the edge proxies /api/* to the upstream, serves the SPA.
STATUSWATCH_ENV=development TOKIO_WORKER_THREADS=1 RUST_LOG=warn \
STATUSWATCH__APP__LISTEN=127.0.0.1:18000 \
STATUSWATCH__EDGE__HTTPS_LISTEN=127.0.0.1:$SW_HTTPS \
STATUSWATCH__EDGE__HTTP_LISTEN=127.0.0.1:18081 \
STATUSWATCH__EDGE__ADMIN_LISTEN=127.0.0.1:18019 \
STATUSWATCH__EDGE__APP_UPSTREAMS=$UP \
STATUSWATCH__EDGE__STATIC_ROOT="$WORK/site" \
  taskset -c $SERVER_CPU "${SW_BIN:-${CARGO_TARGET_DIR:-target}/production/statuswatch}" serve --data-dir "$WORK/sw" > "$WORK/sw.log" 2>&1 &
PIDS+=($!)
SW_PID=$!

# The peers do the same job as the edge on every answer: the security headers
# it adds (HSTS is off in development, so none of them sends it), a request id
# to the upstream and the client, X-Forwarded-*, on-the-fly compression for
# clients that ask (the replaced production Caddyfile had `encode gzip`), and
# the SPA's cache policy, CSP and X-Frame-Options on pages.
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

# Caddy's global options: no admin API, no redirects, no access log.
CADDY_GLOBAL='{
  admin off
  auto_https disable_redirects
  log {
    output discard
  }
}'

# Caddy 2: same routes, one OS thread for Go. Its reverse_proxy sets
# X-Forwarded-For/-Proto/-Host by default.
cat > "$WORK/Caddyfile" <<CONF
$CADDY_GLOBAL
https://localhost:$CADDY_HTTPS {
  tls $WORK/cert.pem $WORK/key.pem
  encode zstd gzip
  header {
    X-Content-Type-Options nosniff
    Referrer-Policy strict-origin-when-cross-origin
    X-Request-Id {http.request.uuid}
  }
  handle /api/* {
    reverse_proxy $UP {
      header_up X-Request-Id {http.request.uuid}
    }
  }
  handle /assets/* {
    header Cache-Control "public, max-age=31536000, immutable"
    root * $WORK/site
    file_server
  }
  handle {
    header {
      Cache-Control no-cache
      Content-Security-Policy "$CSP"
      X-Frame-Options DENY
    }
    root * $WORK/site
    try_files {path} /index.html
    file_server
  }
}
CONF
GOMAXPROCS=1 taskset -c $SERVER_CPU caddy run --config "$WORK/Caddyfile" --adapter caddyfile > "$WORK/caddy.log" 2>&1 &
PIDS+=($!)
CADDY_PID=$!

# Optional: the routing-only Caddy configuration of sessions 1-3 (no headers,
# no compression), to show what the same-job configuration costs Caddy.
CADDY_ROUTES_HTTPS=28444
if [[ " ${SERVERS:-} " == *" caddy-routes "* ]]; then
  cat > "$WORK/Caddyfile.routes" <<CONF
$CADDY_GLOBAL
https://localhost:$CADDY_ROUTES_HTTPS {
  tls $WORK/cert.pem $WORK/key.pem
  handle /api/* {
    reverse_proxy $UP
  }
  handle {
    root * $WORK/site
    try_files {path} /index.html
    file_server
  }
}
CONF
  GOMAXPROCS=1 taskset -c $SERVER_CPU caddy run --config "$WORK/Caddyfile.routes" --adapter caddyfile > "$WORK/caddy-routes.log" 2>&1 &
  PIDS+=($!)
fi

# nginx: one worker, keep-alive to the upstream. add_header in a location
# replaces the server's, so every location includes the common set.
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/common.conf" <<CONF
add_header X-Content-Type-Options nosniff always;
add_header Referrer-Policy strict-origin-when-cross-origin always;
add_header X-Request-Id \$request_id always;
CONF
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $WORK/nginx/error.log crit;
pid $WORK/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  gzip on;
  gzip_min_length 20;
  gzip_types application/json application/javascript text/css image/svg+xml;
  upstream app { server $UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_HTTPS ssl http2;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_requests 1000000;
    location /api/ {
      include $WORK/nginx/common.conf;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header X-Request-Id \$request_id;
    }
    location /assets/ {
      include $WORK/nginx/common.conf;
      add_header Cache-Control "public, max-age=31536000, immutable" always;
      root $WORK/site;
    }
    location / {
      include $WORK/nginx/common.conf;
      add_header Cache-Control no-cache always;
      add_header Content-Security-Policy "$CSP" always;
      add_header X-Frame-Options DENY always;
      root $WORK/site;
      try_files \$uri /index.html;
    }
  }
}
CONF
taskset -c $SERVER_CPU nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
NGINX_PID=$!

wait_https() {
  for _ in $(seq 1 100); do
    curl -ks -o /dev/null "https://localhost:$1/" && return 0
    sleep 0.2
  done
  echo "server on :$1 did not start" >&2
  cat "$WORK"/*.log >&2 || true
  exit 1
}
wait_https $SW_HTTPS
wait_https $CADDY_HTTPS
wait_https $NGINX_HTTPS
[[ " ${SERVERS:-} " == *" caddy-routes "* ]] && wait_https $CADDY_ROUTES_HTTPS
# Everyone proxies correctly before anything is measured.
for port in $SW_HTTPS $CADDY_HTTPS $NGINX_HTTPS; do
  body=$(curl -ks "https://localhost:$port/api/bench")
  [ "$body" = '{"ok":true,"service":"bench"}' ] || { echo "port $port proxied: $body" >&2; exit 1; }
  # ... and does the same job on the answer.
  head=$(curl -ks -D - -o /dev/null "https://localhost:$port/api/bench" | tr 'A-Z' 'a-z')
  for header in x-request-id x-content-type-options referrer-policy; do
    grep -q "^$header:" <<<"$head" || { echo "port $port sends no $header" >&2; exit 1; }
  done
  page=$(curl -ks -D - -o /dev/null "https://localhost:$port/some/page" | tr 'A-Z' 'a-z')
  for header in content-security-policy x-frame-options cache-control; do
    grep -q "^$header:" <<<"$page" || { echo "port $port sends no $header on pages" >&2; exit 1; }
  done
  curl -ks -H 'accept-encoding: gzip' -D - -o /dev/null "https://localhost:$port/" | grep -qi '^content-encoding: gzip' ||
    { echo "port $port does not compress" >&2; exit 1; }
done

wrk_rps() { # port path [extra wrk args]
  local port=$1 path=$2; shift 2
  taskset -c $CLIENT_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" "$@" "https://localhost:$port$path" 2>/dev/null |
    awk '/Requests\/sec/ { printf "%.0f", $2 }'
}
h2_rps() { # port path
  taskset -c $CLIENT_CPU h2load -t1 -c"$CONNS" -m10 -D"$DURATION" "https://localhost:$1$2" 2>/dev/null |
    awk '/^finished in/ { gsub(",", "", $4); printf "%.0f", $4 }'
}
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

SERVERS=${SERVERS:-sw caddy nginx}
ROWS=${ROWS:-proxy index index-gz asset asset-gz handshake h2}
# REPEAT rounds, servers alternating within each round, so slow drifts of the
# shared VM hit every server alike; each cell is the median of its rounds.
REPEAT=${REPEAT:-1}
declare -A R ALL
for round in $(seq 1 "$REPEAT"); do
  for server in $SERVERS; do
    case $server in
      sw) port=$SW_HTTPS ;; caddy) port=$CADDY_HTTPS ;; nginx) port=$NGINX_HTTPS ;;
      caddy-routes) port=$CADDY_ROUTES_HTTPS ;;
    esac
    echo "==> $server (round $round of $REPEAT)" >&2
    for row in $ROWS; do
      case $row in
        proxy) value=$(wrk_rps $port /api/bench) ;;
        index) value=$(wrk_rps $port /) ;;
        asset) value=$(wrk_rps $port /assets/bench-150k.js) ;;
        asset-gz) value=$(wrk_rps $port /assets/bench-150k.js -H "Accept-Encoding: gzip") ;;
        index-gz) value=$(wrk_rps $port / -H "Accept-Encoding: gzip") ;;
        handshake) value=$(wrk_rps $port /api/bench -H "Connection: close") ;;
        h2) value=$(h2_rps $port /api/bench) ;;
      esac
      ALL[$server,$row]="${ALL[$server,$row]:-} $value"
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for key in "${!ALL[@]}"; do
  R[$key]=$(echo "${ALL[$key]}" | median)
  [ "$REPEAT" -gt 1 ] && echo "rounds $key:${ALL[$key]}" >&2
done
if [ -n "${PROFILE:-}" ]; then
  # Where the edge spends its time on the proxied row.
  perf record -F 999 -g -p "$SW_PID" -o "$WORK/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  wrk_rps $SW_HTTPS /api/bench >/dev/null
  wait $! || true
  perf report -i "$WORK/perf.data" --children --sort symbol -g none --stdio 2>/dev/null | grep -v "^#" | grep "%" | head -150 > "$PROFILE" || true
fi
R[sw,rss]=$(rss_mb $SW_PID); R[caddy,rss]=$(rss_mb $CADDY_PID); R[nginx,rss]=$(rss_mb $NGINX_PID)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "| row ($CONNS connections, ${DURATION}s, 1 server core) | StatusWatch | Caddy $(caddy version | cut -d' ' -f1) | nginx $(nginx -v 2>&1 | cut -d/ -f2) | SW / Caddy | SW / nginx |"
echo "|---|---:|---:|---:|---:|---:|"
for row in proxy:"HTTPS keep-alive, proxied small JSON (req/s)" index:"static index.html (req/s)" index-gz:"static index.html, Accept-Encoding: gzip (req/s)" asset:"static 150 KB asset (req/s)" asset-gz:"static 150 KB asset, Accept-Encoding: gzip (req/s)" handshake:"new TLS handshake per request (req/s)" h2:"HTTP/2 proxied small JSON, 10 streams (req/s)"; do
  key=${row%%:*}; label=${row#*:}
  [ -n "${R[sw,$key]:-}" ] || continue
  echo "| $label | ${R[sw,$key]} | ${R[caddy,$key]:-} | ${R[nginx,$key]:-} | $(ratio "${R[sw,$key]}" "${R[caddy,$key]:-0}") | $(ratio "${R[sw,$key]}" "${R[nginx,$key]:-0}") |"
done
echo "| RSS after the run (MB) | ${R[sw,rss]} | ${R[caddy,rss]} | ${R[nginx,rss]} | | |"
if [[ " $SERVERS " == *" caddy-routes "* ]]; then
  echo
  echo "Caddy routing only (no headers, no compression):"
  for key in proxy index index-gz asset asset-gz handshake h2; do
    [ -n "${R[caddy-routes,$key]:-}" ] || continue
    echo "- $key: ${R[caddy-routes,$key]} req/s; SW / it: $(ratio "${R[sw,$key]:-0}" "${R[caddy-routes,$key]}")"
  done
fi
