"""`mlops-ci local` before act runs: a workflow that needs what can't run offline is skipped, or refused
when it is ours, named with -W or --in-place; a refusal records nothing (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.local import CML_WORKFLOWS, OURS_UNSHIMMED, SLUG, add_workflows
from testing.local import fixture_repo  # noqa: F401  fixture

OPEN = ["local", "pr", "open", "--head", "feature/x", "--base", "main"]


def recorded_pulls(repo: Path) -> dict:
    """The PRs the local GitHub's state file holds (none before it is written)."""
    path = repo / ".mlops-ci" / "github-state.json"
    return json.loads(path.read_text())["repos"][SLUG]["pulls"] if path.exists() else {}


def test_our_workflow_that_cannot_run_offline_is_refused_and_nothing_is_recorded(repo, capsys):
    add_workflows(repo, "feature/x", {"ours.yml": OURS_UNSHIMMED})
    assert main([*OPEN, "--repo", str(repo)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: .github/workflows/ours.yml: can't run offline: evil/notify@v1 "
                           "(no host-mode shim); add a shim under "), line
    assert not recorded_pulls(repo) and not list((repo / ".mlops-ci").glob("runs/*"))
    assert main(["local", "pr", "list", "--repo", str(repo)]) == 0
    assert "no pull requests yet" in capsys.readouterr().out


def test_a_named_or_in_place_workflow_that_cannot_run_offline_is_refused(repo, capsys):
    add_workflows(repo, "feature/x", CML_WORKFLOWS)
    named = ["--workflow", ".github/workflows/cml.yml"]
    assert main([*OPEN, "--repo", str(repo), *named]) == 2
    assert ".github/workflows/cml.yml: can't run offline: " in capsys.readouterr().err
    assert main(["local", "pull_request", "--repo", str(repo), "--head", "feature/x", "--base", "main",
                 *named]) == 2
    assert not recorded_pulls(repo)
    # --in-place runs the working tree as it is: act would load a workflow that can't run, so it is
    # refused; one that the event does not start is no matter.
    git(repo, "checkout", "--quiet", "feature/x")
    assert main(["local", "pull_request", "--repo", str(repo), "--head", "feature/x", "--base", "main",
                 "--in-place"]) == 2
    assert "without --in-place the workflow is skipped" in capsys.readouterr().err
    assert not recorded_pulls(repo)
    assert main(["local", "push", "--repo", str(repo), "--branch", "feature/x", "--in-place"]) == 0
    assert "nothing to do" in capsys.readouterr().out  # the CML workflows have no push trigger


def test_a_pr_on_which_nothing_runs_is_still_recorded(repo, capsys):
    add_workflows(repo, "feature/x", CML_WORKFLOWS)
    # hello.yml runs on PRs into main only; the team's CML workflows would run but can't.
    assert main(["local", "pr", "open", "--repo", str(repo), "--head", "feature/x", "--base", "develop"]) == 0
    out = capsys.readouterr().out
    assert "PR #1: feature/x -> develop" in out and "nothing to do" in out
    assert out.count("skipped .github/workflows/") == 2
    assert recorded_pulls(repo)["1"]["head_ref"] == "feature/x"
