"""End to end: `mlops-ci local pr open` runs the workflows and prints the comment; `pr merge` pushes the
base; a team's own CI beside ours runs where it can and is skipped, one line each, where it can't."""

from __future__ import annotations

import json
import os

import pytest

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.project import commit_change
from testing.local import CML_WORKFLOWS, SLUG, add_workflows, path_without
from testing.local import fixture_repo  # noqa: F401  fixture


@pytest.mark.e2e
def test_pr_open_prints_the_comment_and_merge_pushes_the_base(repo, capsys):
    assert main(["local", "pr", "open", "--repo", str(repo), "--head", "feature/x", "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert "PR #1: feature/x -> main" in out and "started the local GitHub" in out
    assert "hello from PR 1" in out.split("--- comment on #1")[1]
    run = repo / ".mlops-ci" / "runs" / "001-pr-1-opened"
    [comment_file] = (run / "comments").glob("pr-1-comment-*.md")
    assert "hello from PR 1" in comment_file.read_text()
    commit_change(repo, "feature/x", "notes.txt", "one\ntwo\nthree\n", "A third note")
    assert main(["local", "pr", "sync", "1", "--repo", str(repo), "--secret", "GITHUB_TOKEN=mine"]) == 0
    assert (repo / ".mlops-ci" / "runs" / "002-pr-1-synchronize" / "result.json").is_file()
    assert "note: --secret GITHUB_TOKEN is not used: the local GitHub gives the run a token" \
        in capsys.readouterr().out
    assert main(["local", "pr", "approve", "1", "--repo", str(repo)]) == 0
    assert main(["local", "pr", "merge", "1", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "merged feature/x into main" in out and "hello" in out  # the push ran the job on main
    assert git(repo, "log", "-1", "--format=%s", "main") == "Merge pull request #1 from feature/x"
    pull = json.loads((repo / ".mlops-ci" / "github-state.json").read_text())["repos"][SLUG]["pulls"]["1"]
    assert pull["merge_commit_sha"] == git(repo, "rev-parse", "main") and pull["state"] == "closed"
    assert main(["local", "pr", "merge", "1", "--repo", str(repo)]) == 1


@pytest.mark.e2e
def test_a_team_s_cml_workflows_do_not_block_the_pr(repo, tmp_path, monkeypatch, capsys):
    add_workflows(repo, "feature/x", CML_WORKFLOWS)
    monkeypatch.setenv("PATH", path_without("cml"))
    assert main(["local", "pr", "open", "--repo", str(repo), "--head", "feature/x", "--base", "main"]) == 0
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if line.startswith("skipped ")]
    assert skipped == [
        "skipped .github/workflows/cml-report.yml: can't run offline: iterative/setup-cml@v2 "
        "(cml is not installed here)",
        "skipped .github/workflows/cml.yml: can't run offline: iterative/setup-cml@v2 (cml is not installed "
        "here), peter-evans/create-or-update-comment@v4 (no host-mode shim)"]
    assert "hello from PR 1" in out.split("--- comment on #1")[1]  # the PR flow went on
    # With cml installed, the setup shims use the host's tools and the report workflow runs.
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "cml").write_text("#!/bin/sh\necho 0.20.6\n")
    (tools / "cml").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    assert main(["local", "pr", "sync", "1", "--repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("skipped ")] == [
        "skipped .github/workflows/cml.yml: can't run offline: peter-evans/create-or-update-comment@v4 "
        "(no host-mode shim)"]
    result = json.loads((repo / ".mlops-ci" / "runs" / "002-pr-1-synchronize" / "result.json").read_text())
    jobs = {job["name"]: job for job in result["jobs"]}
    assert {name: job["result"] for name, job in jobs.items()} == {"hello/hello": "success",
                                                                  "cml-report/tools": "success"}
    assert "tools cml=0.20.6 dvc=" in jobs["cml-report/tools"]["summary"]
