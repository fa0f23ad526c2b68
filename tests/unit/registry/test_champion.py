"""mlops_ci.registry.champion: which passed version is the champion (the last merged, then the highest
number); promote, rollback and canary moving it against real MLflow: tests/unit/training/test_promote.py,
tests/unit/monitoring/test_canary.py."""

from __future__ import annotations

from types import SimpleNamespace

from mlops_ci.registry.champion import newest_merge
from mlops_ci.registry.tags import MERGED_AT_TAG


def version(number, merged_at=None):
    return SimpleNamespace(version=number, tags={MERGED_AT_TAG: merged_at} if merged_at else {})


def test_newest_merge_orders_by_merge_time_then_number():
    assert newest_merge([]) is None
    versions = [version("5", "2026-11-26T10:00:00Z"), version("3", "2026-11-26T11:00:00.5+00:00"),
                version("7"), version("6", "garbage")]
    assert newest_merge(versions) == "3"
    assert newest_merge([version("2"), version("4")]) == "4"
    assert newest_merge([version("2", "2026-11-26T10:00:00"), version("4")]) == "2"
