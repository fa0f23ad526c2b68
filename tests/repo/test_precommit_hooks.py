"""Our checks as pre-commit hooks: the manifest is valid and the hooks run from a project repo."""

from __future__ import annotations

from pathlib import Path

from pre_commit.clientlib import load_manifest


ROOT = Path(__file__).resolve().parents[2]


def test_manifest_is_valid_and_names_our_commands():
    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert hooks["mlops-ci-deps"]["entry"] == "mlops-ci deps check"
    assert hooks["mlops-ci-branch-name"]["entry"] == "mlops-ci policy branch-name"


