"""The policy check's summary shows the review state it can see (informational; protection enforces)."""

from __future__ import annotations

import json

import pytest

from mlops_ci.cli import main
from mlops_ci.gitflow.policy import review_counts

REPO = "acme/digits"


def test_each_reviewers_latest_decision_counts():
    reviews = [{"user": {"login": "ana"}, "state": "CHANGES_REQUESTED"},
               {"user": {"login": "ana"}, "state": "COMMENTED"},
               {"user": {"login": "ana"}, "state": "APPROVED"},
               {"user": {"login": "bo"}, "state": "CHANGES_REQUESTED"},
               {"user": {"login": "cy"}, "state": "APPROVED"},
               {"user": {"login": "cy"}, "state": "DISMISSED"}]
    assert review_counts(reviews) == (1, 1)


@pytest.fixture(name="actions_env")
def fixture_actions_env(github_api, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    pull = github_api.state.repo(REPO).add_pull("feature/PROJ-1-x", "develop", title="PROJ-1 x")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": pull.number, "title": "PROJ-1 x", "body": None,
                                                  "base": {"ref": "develop"}, "head": {"ref": "feature/PROJ-1-x"}},
                                 "repository": {"full_name": REPO}}))
    return pull, event, tmp_path / "summary.md"


def test_summary_counts_approvals_with_a_token(github_api, actions_env, monkeypatch):
    pull, event, summary = actions_env
    github_api.state.repo(REPO).add_review(pull.number, "reviewer", "APPROVED")
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    assert main(["policy", "check", "--event", str(event)]) == 0
    assert "| approvals | ✅ 1 approved, 0 changes requested |" in summary.read_text()


def test_summary_without_token_or_with_an_api_error(github_api, actions_env, monkeypatch):
    _, event, summary = actions_env
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    assert main(["policy", "check", "--event", str(event)]) == 0
    assert "| approvals | ➖ not checked here |" in summary.read_text()
    monkeypatch.setenv("GITHUB_TOKEN", "wrong-token")
    assert main(["policy", "check", "--event", str(event)]) == 0, "reviews are information, not a gate"
    assert "| approvals | ➖ unknown | could not read the reviews" in summary.read_text()
    del github_api
