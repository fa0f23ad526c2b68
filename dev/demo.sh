#!/usr/bin/env bash
# The main job: install everything, then play the PR -> merge -> promote story on the bundled example
# with the embedded stack (MLflow server on 127.0.0.1, GitHub API stand-in), through `mlops-ci local`.
#   bash dev/demo.sh [--out DIR]      (default DIR: .work/demo)
set -euo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
ensure_debian_packages
ensure_venv
activate_venv
cd "$ROOT"
exec python -m testing.demo "$@"
