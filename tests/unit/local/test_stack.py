"""mlops_ci.local.stack: what `mlops-ci local` gives a run besides its GitHub and MLflow."""

from __future__ import annotations

import stat

from mlops_ci.local.stack import DECISION_KEY_FILE, decision_key


def test_the_local_decision_key_is_made_once_and_kept_private(tmp_path):
    folder = tmp_path / ".mlops-ci"
    key = decision_key(folder)
    assert len(key) >= 40 and decision_key(folder) == key   # the same key on every run
    assert stat.S_IMODE((folder / DECISION_KEY_FILE).stat().st_mode) == 0o600
    assert decision_key(tmp_path / "another-project") != key
