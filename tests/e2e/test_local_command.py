"""`mlops-ci local`: events from git state, the run's inputs, results; every error is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.local import command
from mlops_ci.project import templates
from mlops_ci.core.proc import git
from testing.project import commit_change

pytestmark = pytest.mark.e2e

PROBE = """\
name: probe
on: [push, pull_request, schedule, workflow_dispatch]
jobs:
  probe:
    runs-on: [self-hosted, gpu]
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - name: Show what the run was given
        env:
          SECRET: ${{ secrets.PROBE_SECRET }}
          VARIABLE: ${{ vars.PROBE_VAR }}
          INPUT: ${{ github.event.inputs.level }}
        run: |
          {
            echo "## probe"
            echo "event=$GITHUB_EVENT_NAME ref=$GITHUB_REF repo=$GITHUB_REPOSITORY"
            echo "secret-length=${#SECRET} var=$VARIABLE input=$INPUT"
            echo "api=$GITHUB_API_URL mlflow=$MLFLOW_TRACKING_URI extra=$EXTRA"
            echo "branch=$(git rev-parse --abbrev-ref HEAD) files=$(ls | tr '\\n' ' ')"
            echo "run-dir=$MLOPS_CI_LOCAL_RUN_DIR"
          } >> "$GITHUB_STEP_SUMMARY"
      - name: Keep a file
        uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: kept
          path: params.yaml
"""


@pytest.fixture(name="probe_repo")
def fixture_probe_repo(project_repo: Path) -> Path:
    git(project_repo, "rm", "--quiet", "-r", ".github/workflows")
    commit_change(project_repo, "main", ".github/workflows/probe.yml", PROBE, "probe workflow")
    commit_change(project_repo, "develop", "README.md", "develop\n", "develop work", start="main")
    return project_repo


def run_local(repo: Path, out: Path, *args: str) -> tuple[int, str]:
    code = main(["local", *args, "--repo", str(repo), "--out", str(out)])
    result = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else None
    return code, result["jobs"][0]["summary"] if result else ""


def test_push_gets_secrets_vars_env_and_artifacts(probe_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_SECRET", "s3cret-value")
    code, summary = run_local(probe_repo, tmp_path / "out", "push", "--branch", "develop",
                              "--secret", "PROBE_SECRET", "--var", "PROBE_VAR=v1", "--env", "EXTRA=x",
                              "--github-api-url", "http://127.0.0.1:9", "--mlflow-tracking-uri", "http://m")
    assert code == 0, summary
    assert "event=push ref=refs/heads/develop repo=acme/digits" in summary
    assert "secret-length=12 var=v1" in summary
    assert "api=http://127.0.0.1:9 mlflow=http://m extra=x" in summary
    assert "branch=develop" in summary and "params.yaml" in summary
    assert (tmp_path / "out" / "artifacts" / "kept" / "params.yaml").is_file()
    # Where actions/setup-env puts requirements given by path: the run's scratch folder, gone afterwards.
    run_dir = Path(summary.split("run-dir=", 1)[1].split()[0])
    assert run_dir.parent == tmp_path / "out" and run_dir.name.startswith("work-") and not run_dir.exists()
    # The secret's value was given through a file, never on act's command line or in its log.
    assert "s3cret-value" not in (tmp_path / "out" / "act.jsonl").read_text()


def test_workflow_dispatch_and_schedule(probe_repo, tmp_path):
    code, summary = run_local(probe_repo, tmp_path / "d", "workflow_dispatch", "--branch", "main",
                              "--input", "level=high")
    assert code == 0 and "event=workflow_dispatch" in summary and "input=high" in summary
    code, summary = run_local(probe_repo, tmp_path / "s", "schedule", "--branch", "main")
    assert code == 0 and "event=schedule" in summary


def test_pull_request_runs_the_head_in_a_clean_clone(probe_repo, tmp_path):
    (probe_repo / "uncommitted.txt").write_text("not part of the PR")
    code, summary = run_local(probe_repo, tmp_path / "out", "pull_request", "--head", "develop",
                              "--base", "main", "--pr-number", "5")
    assert code == 0
    assert "ref=refs/pull/5/merge" in summary and "uncommitted.txt" not in summary


def test_in_place_runs_the_working_tree(probe_repo, tmp_path):
    (probe_repo / "uncommitted.txt").write_text("a local edit")
    code, summary = run_local(probe_repo, tmp_path / "out", "push", "--in-place")
    assert code == 0 and "uncommitted.txt" in summary


def test_no_workflow_for_the_event_is_nothing_to_do(project_repo, tmp_path, capsys):
    # The pull-request template has no push trigger.
    code = main(["local", "push", "--repo", str(project_repo), "--out", str(tmp_path),
                 "-W", ".github/workflows/mlops-ci-pull-request.yml"])
    assert code == 0 and "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["pull_request", "--head", "develop"], "pull_request needs --head BRANCH and --base BRANCH"),
    (["pull_request", "--head", "nope", "--base", "main"], "no branch or commit named 'nope'"),
    (["push", "--secret", "UNSET_SECRET_NAME"], "expected NAME=VALUE or the name of a set environment"),
    (["push", "--var", "1bad=x"], "'1bad' is not a valid name"),
    (["push", "--source", "/"], "no mlops-ci source tree"),
    (["push", "-W", "missing.yml"], "no workflow files"),
    (["pull_request", "--head", "develop", "--base", "main", "--body-file", "/nonexistent"], "cannot read"),
])
def test_input_errors_exit_2_with_one_line(project_repo, tmp_path, capsys, args, message):
    code = main(["local", *args, "--repo", str(project_repo), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_not_a_git_repository(tmp_path, capsys):
    assert main(["local", "push", "--repo", str(tmp_path)]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_another_source_than_the_installed_one_is_refused(project_repo, tmp_path, capsys):
    other = tmp_path / "other-mlops-ci"
    (other / ".github" / "workflows").mkdir(parents=True)
    (other / "actions").mkdir()
    assert main(["local", "push", "--repo", str(project_repo), "--source", str(other)]) == 2
    assert "pip install -e" in capsys.readouterr().err


def test_default_source_is_this_checkout():
    assert templates.default_source() == Path(__file__).resolve().parents[2]
