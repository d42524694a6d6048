# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is
# missing (Debian packages, npm packages) and starts local services.
# Sourced, not executed.

# Runs apt-get install for the packages whose command is missing.
# Usage: ensure_commands "cmd:package" ...
ensure_commands() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

# Installs a Python module from PyPI when it cannot be imported (test servers such as aiosmtpd).
ensure_python_module() {
  if ! python3 -c "import $1" >/dev/null 2>&1; then
    echo "==> installing python module $1"
    python3 -m pip install --quiet --disable-pip-version-check "$1" ||
      python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$1"
  fi
}

# Makes sure cargo-nextest is available (prebuilt on our machines; built once otherwise).
ensure_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "==> installing cargo-nextest"
    cargo install --locked cargo-nextest
  fi
}

# Starts the local PostgreSQL cluster when 127.0.0.1:5432 does not answer.
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    return
  fi
  ensure_commands "pg_ctlcluster:postgresql"
  echo "==> starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 0.5
  done
  echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
  exit 1
}

# Builds the SPA into static/dist, installing npm packages from the lockfile when needed.
build_spa() {
  ensure_commands "node:nodejs" "npm:npm"
  (
    cd static
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "==> npm ci (static/)"
      npm ci --no-audit --no-fund --loglevel=error
    fi
    echo "==> building the SPA into static/dist"
    npm run --silent build
  )
}

# Builds the previous release (the commit in scripts/previous-release) once,
# for the rolling-deploy test (tests/e2e/upgrade.rs), and exports its path as
# STATUSWATCH_PREVIOUS_BIN. Update scripts/previous-release at each release.
build_previous_release() {
  local root commit target out tree
  root=$(pwd)
  commit=$(tr -d '[:space:]' < scripts/previous-release)
  target="${CARGO_TARGET_DIR:-$root/target}/previous-release"
  out="$target/statuswatch-$commit"
  if [ ! -x "$out" ]; then
    if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
      echo "==> previous release $commit is not in this clone (shallow?); the rolling-deploy test will say so"
      export STATUSWATCH_PREVIOUS_BIN=unavailable
      return
    fi
    echo "==> building the previous release ${commit:0:10} for the rolling-deploy test"
    tree=$(mktemp -d)
    git worktree add --detach -q "$tree" "$commit"
    (cd "$tree" && CARGO_TARGET_DIR="$target" cargo build --locked -q --bin statuswatch)
    cp "$target/debug/statuswatch" "$out"
    git worktree remove --force "$tree"
  fi
  export STATUSWATCH_PREVIOUS_BIN="$out"
}
