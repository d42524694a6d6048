#!/usr/bin/env bash
# bench/build: cold build time of the README's run command (profile quick:
# unoptimised but for the hot crates) against the production profile (fat LTO, one codegen
# unit) that the image and the other benchmarks use. Each is built from its own
# fresh clone of HEAD with an empty target directory, one after the other on
# the same machine; crates already downloaded to ~/.cargo are reused by both,
# so the figures are compile time, not download time.
#
# Wall time depends on what else the machine runs; the CPU time (user + system
# of cargo and every compiler it starts) much less, so both are printed.
#
#   bench/build/run.sh             # quick, then production
#   ORDER="production quick release" bench/build/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh
ensure_commands "cc:gcc" "cmake:cmake" "pkg-config:pkg-config"
cargo fetch --locked -q

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
declare -A SECONDS_FOR CPU_FOR
TIMEFORMAT='%R %U %S'
for profile in ${ORDER:-quick production}; do
  git clone -q --no-local . "$WORK/$profile"
  echo "==> cold build, profile $profile" >&2
  times=$( { time (cd "$WORK/$profile" && CARGO_TARGET_DIR="$WORK/$profile/target" \
    cargo build --profile "$profile" --locked -q --bin statuswatch >&2) ; } 2>&1 >/dev/null | tail -n 1)
  read -r wall user sys <<<"$times"
  SECONDS_FOR[$profile]=$(awk -v a="$wall" 'BEGIN { printf "%.0f", a }')
  CPU_FOR[$profile]=$(awk -v a="$user" -v b="$sys" 'BEGIN { printf "%.0f", a + b }')
  echo "$profile: ${SECONDS_FOR[$profile]} s wall, ${CPU_FOR[$profile]} s CPU" >&2
  rm -rf "$WORK/$profile"
done
echo
share() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
echo "| profile | cold build, wall (s) | share of production | CPU, user + system (s) | share of production |"
echo "|---|---:|---:|---:|---:|"
for profile in quick release production; do
  [ -n "${SECONDS_FOR[$profile]:-}" ] || continue
  echo "| $profile | ${SECONDS_FOR[$profile]} | $(share "${SECONDS_FOR[$profile]}" "${SECONDS_FOR[production]:-0}") | ${CPU_FOR[$profile]} | $(share "${CPU_FOR[$profile]}" "${CPU_FOR[production]:-0}") |"
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
