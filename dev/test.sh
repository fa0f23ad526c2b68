#!/usr/bin/env bash
# The test command: install everything (Debian and Python packages, Node lint tools), then run every
# static gate, the test suite with its coverage gate, and the example project's own tests.
#   bash dev/test.sh [PYTEST-ARGS...]
set -uo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
ensure_debian_packages && ensure_venv && ensure_node_tools || exit 1
activate_venv
cd "$ROOT" || exit 1

failed=()
echo "==> static gates"
bash dev/lint.sh || failed+=(lint)

echo "==> tests (coverage gate: 90% of mlops_ci)"
python -m pytest -p no:cacheprovider --cov=mlops_ci --cov-report=term --cov-report=xml \
  --cov-fail-under=90 "$@" || failed+=(pytest)

echo "==> example project tests"
(cd examples/image-classifier && python -m pytest -q -p no:cacheprovider) || failed+=(example)

if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all gates and tests passed"
