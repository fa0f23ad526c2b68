"""The test tiers are directories, checked here; the fixtures are in testing/fixtures.py.

- tests/unit, tests/support, tests/repo: the fast tier (`dev/test.sh --fast`): no act, no server process,
  no training. A test there that uses a server fixture or carries a tier marker fails.
- tests/integration: real MLflow / MariaDB / S3 / Prometheus servers, Docker, training the example.
- tests/e2e: workflows run through act.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# testing.report: its trained example project is built once per worker for the unit and integration
# report tests alike.
pytest_plugins = ["testing.fixtures", "testing.report"]

# Whole projects the end-to-end tests copy into a scaffolded repository: their tests run there, not here.
collect_ignore = ["projects"]

TESTS = Path(__file__).resolve().parent
FAST_TIERS = ("unit", "support", "repo")
# Fixtures that start a real server process; tests using them belong to tests/integration or tests/e2e.
SERVICE_FIXTURES = frozenset({"mlflow_server", "mlflow_server_mariadb", "mariadb_server", "s3_server"})
TIER_MARKERS = ("e2e", "services", "slow")
WRONG_TIER = pytest.StashKey[str]()


# Longest first, so that pytest-xdist's workers finish together: the demo, then modules with act runs,
# servers or slow tests. Whole modules move (by their longest kind of test), so that a module fixture
# is made once per worker.
LONGEST_FIRST = TIER_MARKERS


def _run_order(item: pytest.Item) -> int:
    if item.path.name == "test_demo.py":
        return 0
    return next((rank for rank, marker in enumerate(LONGEST_FIRST, 1) if item.get_closest_marker(marker)),
                len(LONGEST_FIRST) + 1)


def _wrong_tier(item: pytest.Item) -> str | None:
    """Why a fast-tier test (by its directory) belongs to another tier, if it does."""
    parts = item.path.relative_to(TESTS).parts if item.path.is_relative_to(TESTS) else ()
    if not parts or parts[0] not in FAST_TIERS:
        return None
    servers = sorted(SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    markers = [marker for marker in TIER_MARKERS if item.get_closest_marker(marker)]
    if not servers and not markers:
        return None
    uses = ", ".join([*(f"fixture {name}" for name in servers), *(f"marker {name}" for name in markers)])
    return (f"tests/{parts[0]} is the fast tier, but this test uses {uses}: "
            "move it to tests/integration/<domain>/ (servers, Docker, training) or tests/e2e/ (act)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a real server (directly or through another fixture) `services`; flag
    fast-tier tests that need a server or carry a tier marker; order the tests longest first."""
    for item in items:
        if (problem := _wrong_tier(item)) is not None:
            item.stash[WRONG_TIER] = problem
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
    module_order: dict[Path, int] = {}
    for item in items:
        module_order[item.path] = min(module_order.get(item.path, len(LONGEST_FIRST) + 1), _run_order(item))
    items.sort(key=lambda item: module_order[item.path])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test whose directory says fast tier but which needs a slower one (before it starts any)."""
    if WRONG_TIER in item.stash:
        pytest.fail(item.stash[WRONG_TIER], pytrace=False)
