#!/usr/bin/env bash
# Install everything the demo and the tests need: Debian packages and the pinned Python environment.
set -euo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
ensure_debian_packages
ensure_venv
echo "==> ready: source $VENV/bin/activate"
