"""The README's first command: the demo plays the whole story and stops everything it started."""

from __future__ import annotations

import json
import subprocess

import pytest

from testing.demo import main

pytestmark = pytest.mark.e2e


def test_demo_plays_the_story(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["--out", str(out)]) == 0
    summary = (out / "summary.md").read_text()
    printed = capsys.readouterr().out
    assert summary in printed
    assert "$ mlops-ci local pr open --head feature/PROJ-101-tune-learning-rate --base develop" in printed
    assert "--- comment on #1" in printed and "--- comment on #3" in printed  # printed by the runs
    # Three PRs opened, two approved, two merged: every step is a `mlops-ci local pr` command.
    assert summary.count("as expected") == 7 and "UNEXPECTED" not in summary
    assert "`policy/branch-policy/branch-policy` | failure" in summary  # the refused PR
    # The project's local GitHub state and MLflow data stay in its work folder.
    state = json.loads((out / "project" / ".mlops-ci" / "github-state.json").read_text())
    repo = state["repos"]["acme/digits"]
    assert [pull["merged_at"] is not None for pull in repo["pulls"].values()] == [True, False, True]
    assert sorted((r["pull_number"], r["state"]) for r in repo["reviews"].values()) == [(1, "APPROVED"),
                                                                                     (3, "APPROVED")]
    assert not state["tokens"], "a run's token is forgotten after the run"
    assert (out / "project" / ".mlops-ci" / "mlflow" / "mlflow.db").is_file()
    assert "Merge pull request #3 from develop" in subprocess.run(
        ["git", "log", "-1", "--format=%s", "main"], cwd=out / "project", capture_output=True, text=True,
        check=True).stdout
    # Built once, promoted as reviewed: the release PR reused the version PR 1 trained (no train job),
    # and the push to main made it the champion. One version for one model.
    release = summary[summary.index("| Release PR"):summary.index("| A reviewer approves PR 3")]
    assert "`train/train/train` | success" not in release and "`train/train/report` | success" in release
    assert "**`models:/digits-classifier@champion`** is version 1 (trained for PR #1, reviewed in #1, #3)" in summary
    assert "| digits-classifier | 2 |" not in summary
    # The promotion is reported on the PR whose merge made it (the release PR), not the one that trained.
    promoted = [comment["issue_number"] for comment in repo["comments"].values()
                if "mlops-ci promotion" in comment["body"]]
    assert promoted == [3], promoted
    # The reviewer's comments tell the truth about data: the demo's PRs change params and code, never
    # the dataset, so nothing reads as deleted even though the report job has no DVC cache (issue 13).
    reports = [path.read_text() for path in sorted((out / "comments").glob("pr-*.md"))
               if "train-report" in path.read_text()]
    assert reports, "no report comment was written"
    for body in reports:
        assert "deleted" not in body and "not in the DVC cache" not in body, body
        assert "data/raw" not in body, body
