#!/usr/bin/env bash
# bench/build: cold build time of the README's run command (profile release:
# no cross-crate LTO) against the production profile (fat LTO, one codegen
# unit) that the image and the other benchmarks use. Each is built from its own
# fresh clone of HEAD with an empty target directory, one after the other on
# the same machine; crates already downloaded to ~/.cargo are reused by both,
# so the figures are compile time, not download time.
#
#   bench/build/run.sh             # release, then production
#   ORDER="production release" bench/build/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/setup.sh
ensure_commands "cc:gcc" "cmake:cmake" "pkg-config:pkg-config"
cargo fetch --locked -q

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
declare -A SECONDS_FOR
for profile in ${ORDER:-release production}; do
  git clone -q --no-local . "$WORK/$profile"
  echo "==> cold build, profile $profile" >&2
  start=$(date +%s.%N)
  (cd "$WORK/$profile" && CARGO_TARGET_DIR="$WORK/$profile/target" \
    cargo build --profile "$profile" --locked -q --bin statuswatch)
  end=$(date +%s.%N)
  SECONDS_FOR[$profile]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  echo "$profile: ${SECONDS_FOR[$profile]} s" >&2
  rm -rf "$WORK/$profile"
done
echo
echo "| profile | cold build (s) | share of production |"
echo "|---|---:|---:|"
for profile in release production; do
  [ -n "${SECONDS_FOR[$profile]:-}" ] || continue
  echo "| $profile | ${SECONDS_FOR[$profile]} | $(awk -v a="${SECONDS_FOR[$profile]}" -v b="${SECONDS_FOR[production]:-0}" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }') |"
done
