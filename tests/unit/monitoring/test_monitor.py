"""`mlops-ci monitor`: retraining triggers against the GitHub stand-in (a dispatch, one issue per
marker) and the live performance check; `monitor push`: tests/unit/clients/test_pushgateway.py."""

from __future__ import annotations

import json

import pytest

from mlops_ci.cli import main
from mlops_ci.core.markers import marker

REPO = "acme/digits"


@pytest.fixture(name="github")
def fixture_github(github_api, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    return github_api


def retrain(*args: str) -> int:
    return main(["monitor", "retrain", *args])


def test_dispatch_runs_the_retrain_workflow_on_develop(github, actions, tmp_path, monkeypatch, capsys):
    github.state.repo(REPO).add_workflow("mlops-ci-retrain-schedule.yml", inputs=["reason"])
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert retrain("--action", "dispatch", "--workflow", "mlops-ci-retrain-schedule.yml",
                   "--input", "reason=drift in 3 features") == 0
    [dispatched] = github.state.repo(REPO).dispatches
    assert (dispatched.workflow_id, dispatched.ref, dispatched.inputs) == (
        "mlops-ci-retrain-schedule.yml", "develop", {"reason": "drift in 3 features"})
    assert "data drift detected: dispatched mlops-ci-retrain-schedule.yml on develop" in capsys.readouterr().out
    assert "dispatched mlops-ci-retrain-schedule.yml on develop" in actions.read_text()
    assert "outcome<<" in outputs.read_text()


def test_an_issue_is_opened_once_per_marker(github, tmp_path, capsys):
    details = tmp_path / "drift.md"
    details.write_text("| feature | psi |\n|---|---|\n| brightness | 0.9 |\n")
    args = ("--action", "issue", "--details-file", str(details), "--reason", "drift in brightness")
    assert retrain(*args) == 0
    repo = github.state.repo(REPO)
    [issue] = repo.issues.values()
    assert issue.title == "Retrain: data drift detected" and issue.labels == ["retrain"]
    assert issue.body.startswith(marker("retrain") + "\ndrift in brightness\n\n| feature | psi |")
    assert f"opened issue #{issue.number}" in capsys.readouterr().out

    writes = len(github.writes())
    assert retrain(*args) == 0
    assert len(github.writes()) == writes and len(repo.issues) == 1
    assert f"issue #{issue.number} is already open" in capsys.readouterr().out

    issue.state = "closed"  # the team retrained and closed it: the next drift opens a new one
    assert retrain(*args, "--label", "ml", "--label", "retrain") == 0
    assert len(repo.issues) == 2 and repo.issues[issue.number + 1].labels == ["ml", "retrain"]


def test_another_marker_or_a_pull_request_body_is_not_our_issue(github):
    repo = github.state.repo(REPO)
    repo.add_pull("feature/PROJ-1-x", "develop", body=marker("retrain"))
    assert retrain("--action", "issue", "--marker", "retrain-digits") == 0
    assert retrain("--action", "issue") == 0
    assert len(repo.issues) == 2


def test_none_only_reports(github, capsys):
    assert retrain("--action", "none", "--reason", "drift in 2 features") == 0
    assert not github.writes() and not github.requests
    assert "drift in 2 features: retraining not triggered (action none)" in capsys.readouterr().out


def test_a_failed_issue_create_is_checked_before_it_is_sent_again(github):
    github.inject("POST", rf"/repos/{REPO}/issues", 502)
    assert retrain("--action", "issue") == 0
    assert len(github.state.repo(REPO).issues) == 1
    assert [record.method for record in github.requests] == ["GET", "POST", "GET", "POST"]


def test_a_token_without_issues_write_is_refused_with_the_reason(github, monkeypatch, capsys):
    github.state.add_token("read-only-token", read_only=True)
    monkeypatch.setenv("GITHUB_TOKEN", "read-only-token")
    assert retrain("--action", "issue") == 2
    assert "403 Resource not accessible by integration" in capsys.readouterr().err
    assert not github.state.repo(REPO).issues


@pytest.mark.parametrize(("args", "message"), [
    (["--action", "dispatch"], "--action dispatch needs --workflow FILE"),
    (["--action", "dispatch", "--workflow", "mlops-ci-retrain-schedule.yml", "--ref", "nope"],
     "422 No ref found for: nope"),
    (["--action", "dispatch", "--workflow", "r.yml"], "404 Not Found"),  # no such workflow
    (["--action", "dispatch", "--workflow", "mlops-ci-retrain-schedule.yml", "--input", "reason=x"],
     '422 Unexpected inputs provided: ["reason"]'),  # the template declares no inputs
    (["--action", "dispatch", "--workflow", "r.yml", "--input", "novalue"], "--input: 'novalue': expected NAME=VALUE"),
    (["--action", "issue", "--details-file", "/nonexistent"], "/nonexistent: cannot read"),
    (["--action", "dispatch", "--workflow", "r.yml", *[f"--input=k{index}=v" for index in range(26)]],
     "--input: 26 inputs; a workflow_dispatch takes at most 25"),
    (["--action", "issue", "--repo", "not-a-repo"], "not a repository: 'not-a-repo'"),
])
def test_retrain_input_errors_exit_2_with_one_line(github, args, message, capsys):
    assert retrain(*args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_retrain_needs_a_repository(monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert retrain("--action", "dispatch", "--workflow", "r.yml") == 2
    assert "no repository" in capsys.readouterr().err


# -- live performance ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("metrics", "args", "code", "line"), [
    ({"accuracy": 0.78}, ["--threshold", "0.8"], 1, "live accuracy 0.78: crossed the threshold 0.8"),
    ({"accuracy": 0.85}, ["--threshold", "0.8"], 0, "live accuracy 0.85: within the threshold 0.8"),
    ({"test": {"val_loss": 0.5}}, ["--metric", "test.val_loss", "--threshold", "0.4"], 1,
     "live test.val_loss 0.5: crossed"),
    ({"test": {"val_loss": 0.3}}, ["--metric", "test.val_loss", "--threshold", "0.4"], 0,
     "live test.val_loss 0.3: within"),
])
def test_performance_crossing_the_threshold_exits_1(tmp_path, actions, monkeypatch, capsys,  # pylint: disable=too-many-arguments
                                                    metrics, args, code, line):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    (tmp_path / "live.json").write_text(json.dumps(metrics))
    assert main(["monitor", "performance", "--metrics", str(tmp_path / "live.json"), *args]) == code
    assert line in capsys.readouterr().out and line in actions.read_text()
    assert f"\n{'true' if code else 'false'}\n" in outputs.read_text()


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not JSON"),
    ('{"accuracy": "high"}', "no number 'accuracy' in the metrics"),
    ('{"accuracy": true}', "no number 'accuracy' in the metrics"),
    ("[0.9]", "no number 'accuracy' in the metrics"),
])
def test_performance_input_errors_exit_2(tmp_path, text, message, capsys):
    (tmp_path / "live.json").write_text(text)
    assert main(["monitor", "performance", "--metrics", str(tmp_path / "live.json"), "--threshold", "0.8"]) == 2
    assert message in capsys.readouterr().err


def test_a_huge_report_is_cut_to_fit_an_issue(github, tmp_path):
    details = tmp_path / "drift.md"
    details.write_text("| feature | psi |\n" * 5000)
    assert retrain("--action", "issue", "--details-file", str(details)) == 0
    [issue] = github.state.repo(REPO).issues.values()
    assert len(issue.body) <= 65_536 and issue.body.endswith("(cut: see the workflow run)\n")
