"""`mlops-ci comment`: one comment per marker across every page, updated in place, never twice."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from mlops_ci.cli import main
from mlops_ci.core.markers import marker

ROOT = Path(__file__).resolve().parents[3]
REPO = "acme/digits"


@pytest.fixture(name="pr")
def fixture_pr(github_api, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    return github_api.state.repo(REPO).add_pull("feature/PROJ-1-x", "develop", title="PROJ-1")


def comment(tmp_path, text: str, *args: str) -> int:
    body = tmp_path / "body.md"
    body.write_text(text)
    return main(["comment", "--body-file", str(body), "--marker", "train-report", *args])


def comments(github_api, number):
    return github_api.state.repo(REPO).comments_on(number)


def test_creates_then_updates_in_place_then_leaves_alone(github_api, pr, tmp_path):
    assert comment(tmp_path, "## report v1", "--pr", str(pr.number)) == 0
    [first] = comments(github_api, pr.number)
    assert first.body.startswith(marker("train-report") + "\n") and "report v1" in first.body
    assert comment(tmp_path, "## report v2", "--pr", str(pr.number)) == 0
    [second] = comments(github_api, pr.number)
    assert second.id == first.id and "report v2" in second.body
    writes = len(github_api.writes())
    assert comment(tmp_path, "## report v2", "--pr", str(pr.number)) == 0
    assert len(github_api.writes()) == writes, "an identical body is not sent again"


def test_finds_its_comment_beyond_the_first_page(github_api, pr, tmp_path):
    repo = github_api.state.repo(REPO)
    repo.add_comment(pr.number, f"{marker('train-report')}\nold report", user="github-actions[bot]")
    for index in range(250):
        repo.add_comment(pr.number, f"review remark {index}")
    assert comment(tmp_path, "new report", "--pr", str(pr.number)) == 0
    ours = [c for c in comments(github_api, pr.number) if marker("train-report") in c.body]
    assert len(ours) == 1 and "new report" in ours[0].body


def test_a_thousand_comments_cost_at_most_eleven_requests(github_api, pr, tmp_path):
    repo = github_api.state.repo(REPO)
    for index in range(999):
        repo.add_comment(pr.number, f"remark {index}")
    repo.add_comment(pr.number, f"{marker('train-report')}\nold", user="github-actions[bot]")
    before = len(github_api.requests)
    assert comment(tmp_path, "new", "--pr", str(pr.number)) == 0
    assert len(github_api.requests) - before <= 11


def test_author_filter_ignores_a_copied_marker(github_api, pr, tmp_path):
    github_api.state.repo(REPO).add_comment(pr.number, f"{marker('train-report')}\nquoted by a human",
                                            user="someone")
    assert comment(tmp_path, "ours", "--pr", str(pr.number), "--author", "github-actions[bot]") == 0
    bodies = [c.body for c in comments(github_api, pr.number)]
    assert len(bodies) == 2 and "quoted by a human" in bodies[0]


def test_a_failed_create_is_checked_before_posting_again(github_api, pr, tmp_path):
    github_api.inject("POST", rf"/repos/{REPO}/issues/{pr.number}/comments", 502)
    assert comment(tmp_path, "report", "--pr", str(pr.number)) == 0
    assert len(comments(github_api, pr.number)) == 1


def test_pr_found_from_the_commit(github_api, pr, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", pr.head_sha)
    assert comment(tmp_path, "report") == 0
    assert len(comments(github_api, pr.number)) == 1


def test_pr_found_from_the_events_head_commit_not_the_test_merge(github_api, pr, tmp_path, monkeypatch):
    # In a pull_request run GITHUB_SHA is the test-merge commit, which no PR has as its head.
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": pr.number, "head": {"sha": pr.head_sha}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    assert comment(tmp_path, "report") == 0
    assert len(comments(github_api, pr.number)) == 1


def test_pr_of_a_commit_is_found_beyond_the_first_page(github_api, pr, tmp_path, monkeypatch):
    repo = github_api.state.repo(REPO)
    for index in range(35):   # closed PRs of the same commit fill the first page of commits/{sha}/pulls
        repo.add_pull(f"feature/PROJ-{index}-old", "develop", head_sha=pr.head_sha, state="closed")
    monkeypatch.setenv("GITHUB_SHA", pr.head_sha)
    assert comment(tmp_path, "report") == 0
    assert len(comments(github_api, pr.number)) == 1


@pytest.mark.parametrize(("token", "login"), [("pat-token", "alice"), ("app-token", "our-app[bot]")],
                         ids=["personal token", "app token"])
def test_a_token_updates_its_own_comment_not_a_humans_copy(github_api, pr, tmp_path, monkeypatch, token, login):
    """A personal token's own comment (found through GET /user) or an App bot's, never a human's
    quote of the marked report."""
    repo = github_api.state.repo(REPO)
    repo.add_comment(pr.number, f"{marker('train-report')}\nquoted by a human", user="someone")
    github_api.state.add_token(token, login=login)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    assert comment(tmp_path, "report v1", "--pr", str(pr.number)) == 0
    assert comment(tmp_path, "report v2", "--pr", str(pr.number)) == 0
    human, ours = comments(github_api, pr.number)
    assert "quoted by a human" in human.body and human.user == "someone"
    assert ours.user == login and "report v2" in ours.body


def test_the_action_leaves_whose_comment_to_the_token():
    # A hard-coded --author github-actions[bot] made a PAT or App token post a new comment every run.
    action = (ROOT / "actions" / "comment" / "action.yml").read_text()
    assert "--author" not in action


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--commit", "0" * 40], {}, "no open pull request contains commit"),
    ([], {"GITHUB_SHA": ""}, "no PR: pass --pr N"),
    (["--pr", "1", "--repo", "bad"], {}, "not a repository"),
    (["--pr", "1"], {"GITHUB_REPOSITORY": ""}, "no repository"),
    (["--pr", "1"], {"GITHUB_TOKEN": ""}, "no GitHub token"),
])
def test_input_errors_exit_2(github_api, pr, tmp_path, monkeypatch, capsys, args, env, message):
    del github_api, pr
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert comment(tmp_path, "x", *args) == 2
    assert message in capsys.readouterr().err


def test_read_only_token_says_why(github_api, pr, tmp_path, monkeypatch, capsys):
    github_api.state.add_token("fork-token", read_only=True)
    monkeypatch.setenv("GITHUB_TOKEN", "fork-token")
    assert comment(tmp_path, "x", "--pr", str(pr.number)) == 2
    assert "403" in capsys.readouterr().err and not comments(github_api, pr.number)


def test_too_long_and_bad_marker_and_missing_file(pr, tmp_path, capsys):
    assert comment(tmp_path, "x" * 70_000, "--pr", str(pr.number)) == 2
    assert "at most 65,536" in capsys.readouterr().err
    assert main(["comment", "--body-file", str(tmp_path / "none.md"), "--marker", "k", "--pr", "1"]) == 2
    (tmp_path / "b.md").write_text("x")
    assert main(["comment", "--body-file", str(tmp_path / "b.md"), "--marker", "a-->b", "--pr", "1"]) == 2
    assert main(["comment", "--body-file", str(tmp_path / "b.md"), "--marker", "k" * 101, "--pr", "1"]) == 2
    assert "(at most 100)" in capsys.readouterr().err


def test_cml_backend(pr, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert comment(tmp_path, "x", "--pr", str(pr.number), "--backend", "cml") == 2
    assert "cml CLI is not installed" in capsys.readouterr().err
    fake = tmp_path / "cml"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/cml-args\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert comment(tmp_path, "x", "--pr", str(pr.number), "--backend", "cml") == 0
    args = (tmp_path / "cml-args").read_text()
    assert f"--target=pr/{pr.number}" in args and "--watermark-title=train-report" in args
    assert os.environ["PATH"] == str(tmp_path)


# --- the train workflow's comment-backend input ------------------------------------------------------

def _load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def test_the_train_workflow_passes_comment_backend_to_the_comment_action():
    train = _load(".github/workflows/train.yml")
    assert train[True]["workflow_call"]["inputs"]["comment-backend"]["default"] == "api"
    check = train["jobs"]["plan"]["steps"][0]
    assert check["env"]["COMMENT_BACKEND"] == "${{ inputs.comment-backend }}" and "api | cml)" in check["run"]
    steps = {step.get("uses", "").split("@")[0]: step for step in train["jobs"]["report"]["steps"]}
    assert steps["org/mlops-ci/actions/comment"]["with"]["backend"] == "${{ inputs.comment-backend }}"
    install = next(step for step in train["jobs"]["report"]["steps"] if "@dvcorg/cml@" in step.get("run", ""))
    assert install["if"] == "${{ inputs.comment-backend == 'cml' }}"
    action = _load("actions/comment/action.yml")
    assert action["inputs"]["backend"]["default"] == "api"
    [step] = action["runs"]["steps"]
    assert step["env"]["BACKEND"] == "${{ inputs.backend }}" and '--backend "$BACKEND"' in step["run"]
    template = _load("workflows-templates/mlops-ci-pull-request.yml")
    assert template["jobs"]["train"]["with"]["comment-backend"] == "${{ vars.MLOPS_CI_COMMENT_BACKEND || 'api' }}"


