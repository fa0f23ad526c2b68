"""End to end: a project's pull_request workflow runs our reusable branch-policy workflow and its
composite action for real, through act (host mode, offline), via `mlops-ci local`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_ci.cli import main
from testing.local import CML_WORKFLOWS, add_workflows, path_without
from testing.project import commit_change

pytestmark = pytest.mark.e2e


def run_pr(repo: Path, out: Path, head: str, base: str, title: str) -> tuple[int, dict]:
    code = main(["local", "pull_request", "--repo", str(repo), "--head", head, "--base", base,
                 "--title", title, "--job", "policy", "--out", str(out)])
    return code, json.loads((out / "result.json").read_text())


@pytest.fixture(name="feature_repo")
def fixture_feature_repo(project_repo: Path) -> Path:
    commit_change(project_repo, "feature/PROJ-7-tune-lr", "params.yaml",
                  (project_repo / "params.yaml").read_text() + "\n", "Tune the learning rate", start="develop")
    return project_repo


@pytest.mark.parametrize(("head", "base", "title", "expected"), [
    ("feature/PROJ-7-tune-lr", "develop", "PROJ-7: tune the learning rate", "success"),
    ("develop", "main", "Release #12", "success"),
    ("feature/PROJ-7-tune-lr", "main", "PROJ-7: tune the learning rate", "failure"),
    ("feature/PROJ-7-tune-lr", "develop", "tune the learning rate", "failure"),
])
def test_branch_policy_through_the_reusable_workflow(feature_repo, tmp_path, head, base, title, expected):
    code, result = run_pr(feature_repo, tmp_path / "out", head, base, title)
    jobs = {job["name"]: job for job in result["jobs"]}
    # The status check branch protection requires: caller job `policy`, reusable job `branch-policy`.
    assert list(jobs) == ["policy/branch-policy/branch-policy"]
    job = jobs["policy/branch-policy/branch-policy"]
    assert job["result"] == expected
    assert code == (0 if expected == "success" else 1)
    assert "branch-policy" in job["summary"] or expected == "failure"


def test_refused_pr_names_the_rule_and_the_fix(feature_repo, tmp_path):
    _, result = run_pr(feature_repo, tmp_path / "out", "feature/PROJ-7-tune-lr", "main", "PROJ-7: x")
    errors = result["jobs"][0]["errors"]
    assert any("main accepts pull requests only from develop" in error for error in errors), errors


def test_hostile_branch_name_is_data_not_shell(feature_repo, tmp_path):
    marker = tmp_path / "pwned"
    head = f"feature/$(touch${{IFS}}{marker})"
    commit_change(feature_repo, head, "README.md", "x\n", "hostile", start="develop")
    code, result = run_pr(feature_repo, tmp_path / "out", head, "develop", "PROJ-1 `id` $(id)")
    assert code == 1 and result["jobs"][0]["result"] == "failure"
    assert not marker.exists()


def test_a_team_s_own_cml_workflows_do_not_block_our_policy_check(feature_repo, tmp_path, monkeypatch,
                                                                   capsys):
    # The project's CI as it was before it adopted us, beside our caller workflows (issue 23).
    add_workflows(feature_repo, "feature/PROJ-7-tune-lr", CML_WORKFLOWS)
    monkeypatch.setenv("PATH", path_without("cml"))
    code, result = run_pr(feature_repo, tmp_path / "out", "feature/PROJ-7-tune-lr", "develop", "PROJ-7: tune")
    assert code == 0 and [job["result"] for job in result["jobs"]] == ["success"]
    skipped = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skipped ")]
    assert [line.split(":")[0] for line in skipped] == ["skipped .github/workflows/cml-report.yml",
                                                        "skipped .github/workflows/cml.yml"], skipped
    assert "peter-evans/create-or-update-comment@v4 (no host-mode shim)" in skipped[1]
