#!/usr/bin/env bash
# The test command: install everything (Debian and Python packages, Node lint tools), then run every
# static gate, the test suite with its coverage gate, and the example project's own tests.
#   bash dev/test.sh [PYTEST-ARGS...]           full tier (what CI runs): pytest tests (testpaths)
#   bash dev/test.sh --fast [PYTEST-ARGS...]    fast tier: static gates and the tests that run neither
#                                               act nor a server nor train the example
#                                               (pytest tests/unit tests/support tests/repo)
# The tier is the directory: tests/integration (servers, Docker, training) and tests/e2e (act) run in the
# full tier only; tests/conftest.py fails a fast-tier test that needs either.
# MLOPS_CI_TEST_WORKERS=N sets pytest-xdist's worker count (default: one per core, at most 4);
# tests/conftest.py orders the tests longest first and idle workers take over queued tests
# (--dist worksteal), so that the workers finish together.
set -uo pipefail
# shellcheck source=dev/lib.sh
source "$(dirname "$0")/lib.sh"
tier=full
if [ "${1:-}" = "--fast" ]; then
  tier=fast
  shift
fi
ensure_debian_packages && ensure_venv && ensure_node_tools || exit 1
activate_venv
cd "$ROOT" || exit 1
echo "==> set-up done after ${SECONDS}s"

cores=$(nproc 2>/dev/null || echo 2)
workers=${MLOPS_CI_TEST_WORKERS:-$((cores < 4 ? cores : 4))}
failed=()
echo "==> static gates"
bash dev/lint.sh || failed+=(lint)

if [ "$tier" = fast ]; then
  echo "==> fast tier: tests without act or servers"
  python -m pytest -p no:cacheprovider -n "$workers" --dist worksteal "$@" tests/unit tests/support tests/repo ||
    failed+=(pytest)
else
  echo "==> full tier: every test (coverage gate: 90% of mlops_ci)"
  python -m pytest -p no:cacheprovider -n "$workers" --dist worksteal --cov=mlops_ci --cov-report=term \
    --cov-report=xml --cov-fail-under=90 "$@" || failed+=(pytest)
fi

echo "==> tests done after ${SECONDS}s; example project tests"
(cd examples/image-classifier && python -m pytest -q -p no:cacheprovider) || failed+=(example)

if ((${#failed[@]})); then
  echo "FAILED ($tier tier, ${SECONDS}s): ${failed[*]}"
  exit 1
fi
echo "all gates and tests passed ($tier tier, ${SECONDS}s)"
