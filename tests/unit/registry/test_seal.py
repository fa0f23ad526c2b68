"""mlops_ci.registry.seal: a verdict counts only when the promoting identity's key sealed it; against
a real MLflow server: tests/integration/training/test_promote_server.py (a forged verdict)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mlops_ci.registry import seal
from mlops_ci.registry.tags import MERGED_AT_TAG, SEAL_TAG, VALIDATION_STATUS_TAG

VERDICT = {VALIDATION_STATUS_TAG: "passed", MERGED_AT_TAG: "2026-12-01T10:00:00Z"}


def version(number="3", name="digits", run_id="r1", tags=None):
    return SimpleNamespace(name=name, version=number, run_id=run_id, tags=dict(tags or {}))


def sealed_version(**fields):
    unsealed = version(**fields)
    unsealed.tags = {**VERDICT, **seal.sealed(unsealed, VERDICT)}
    return unsealed


def test_without_a_key_nothing_is_sealed_and_every_verdict_counts(monkeypatch):
    monkeypatch.delenv(seal.KEY_VARIABLE, raising=False)
    assert seal.decision_key() is None
    assert seal.sealed(version(), VERDICT) == {}
    assert seal.trusted(version(tags=VERDICT))


def test_a_sealed_verdict_counts_and_a_forged_or_moved_one_does_not(monkeypatch):
    monkeypatch.setenv(seal.KEY_VARIABLE, "the protected environment's key")
    good = sealed_version()
    assert seal.trusted(good) and len(good.tags[SEAL_TAG]) == 64
    assert not seal.trusted(version(tags=VERDICT))                                  # no seal
    assert not seal.trusted(version(tags={**VERDICT, SEAL_TAG: "0" * 64}))          # a made-up one
    later = {**good.tags, MERGED_AT_TAG: "2999-01-01T00:00:00Z"}
    assert not seal.trusted(version(tags=later))                                    # a sealed tag changed
    for other in ({"number": "4"}, {"name": "other-model"}, {"run_id": "r2"}):      # copied elsewhere
        assert not seal.trusted(version(tags=good.tags, **other)), other
    # Tags outside the seal (the promotion's stamps, a rollback's previous_champion) may change.
    assert seal.trusted(version(tags={**good.tags, "mlops_ci.promoted_at": "now"}))


@pytest.mark.parametrize("key", ["another key", ""])
def test_a_seal_made_with_another_key_or_none_is_not_believed(monkeypatch, key):
    monkeypatch.setenv(seal.KEY_VARIABLE, "the protected environment's key")
    good = sealed_version()
    monkeypatch.setenv(seal.KEY_VARIABLE, key)
    assert seal.trusted(good) == (key == "")   # no key: nothing is checked
