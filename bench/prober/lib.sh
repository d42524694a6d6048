# Shared by bench/prober and bench/floods (sourced, after scripts/lib/setup.sh):
# which statuswatch to bench and a workspace cleaned up on exit. Both also use
# the paced wrk script beside this file (pace.lua).

# Sets BIN and SITE (the SPA the edge serves): SW_BIN=path reuses a build
# (say which commit in the results), with the SPA in SW_DIST, else in dist/
# next to it, else in static/dist; otherwise builds the SPA and the
# production profile here.
bench_binary() {
  if [ -n "${SW_BIN:-}" ]; then
    BIN=$SW_BIN
    SITE=${SW_DIST:-$(dirname "$BIN")/dist}
    [ -d "$SITE" ] || SITE=static/dist
  else
    build_spa >&2
    echo "==> building statuswatch (profile production: fat LTO)" >&2
    cargo build --profile production --locked --bin statuswatch >&2
    BIN=${CARGO_TARGET_DIR:-target}/production/statuswatch
    SITE=static/dist
  fi
}

# Sets WORK (a temporary directory), PIDS (processes to stop) and DB (a
# PostgreSQL database name, PREFIX_<pid>), and on exit stops PIDS, drops DB
# and removes WORK.
bench_workspace() {
  WORK=$(mktemp -d)
  chmod 755 "$WORK"
  PIDS=()
  DB=$1_$$
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
