"""The README's first command: the demo plays the whole story and stops everything it started."""

from __future__ import annotations

import json

import pytest

from mlops_ci.cli import main
from mlops_ci.sandbox.services import group_members

pytestmark = pytest.mark.e2e


def test_demo_plays_the_story(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    summary = (out / "summary.md").read_text()
    printed = capsys.readouterr().out
    assert summary in printed
    assert summary.count("as expected") == 4 and "UNEXPECTED" not in summary
    assert "`policy/branch-policy/branch-policy` | failure" in summary  # the refused PR
    state = json.loads((out / "github-state.json").read_text())
    pulls = next(iter(state["repos"].values()))["pulls"]
    assert [pull["merged_at"] is not None for pull in pulls.values()] == [True, False, True]
    assert (out / "mlflow").is_dir()
    # Built once, promoted as reviewed: the release PR reused the version PR 1 trained (no train job),
    # and the push to main made it the champion. One version for one model.
    release = summary[summary.index("| Release PR"):summary.index("| Merge pushed")]
    assert "`train/train/train` | success" not in release and "`train/train/report` | success" in release
    assert "**`models:/digits-classifier@champion`** is version 1 (trained for PR #1, reviewed in #1, #3)" in summary
    assert "| digits-classifier | 2 |" not in summary
    # The reviewer's comments tell the truth about data: the demo's PRs change params and code, never
    # the dataset, so nothing reads as deleted even though the report job has no DVC cache (issue 13).
    reports = [path.read_text() for path in sorted((out / "comments").glob("pr-*.md"))
               if "train-report" in path.read_text()]
    assert reports, "no report comment was written"
    for body in reports:
        assert "deleted" not in body and "not in the DVC cache" not in body, body
        assert "data/raw" not in body, body
