"""Our checks as pre-commit hooks: the manifest is valid and the hooks run from a project repo."""

from __future__ import annotations

import re
from pathlib import Path

from pre_commit.clientlib import load_manifest


ROOT = Path(__file__).resolve().parents[2]


def test_manifest_is_valid_and_names_our_commands():
    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert hooks["mlops-ci-deps"]["entry"] == "mlops-ci deps check"
    assert hooks["mlops-ci-branch-name"]["entry"] == "mlops-ci policy branch-name"
    assert hooks["mlops-ci-config"]["entry"] == "mlops-ci config check"
    assert hooks["mlops-ci-config"]["pass_filenames"] is False  # the command finds the file itself
    files = re.compile(hooks["mlops-ci-config"]["files"])
    assert files.search(".github/mlops-ci.yml") and not files.search("sub/.github/mlops-ci.yml")


