"""End to end: the scheduled monitor template runs our reusable monitor workflow through act: the
samples come from the project's DVC remote, data-check and drift run, the metrics go to a Pushgateway
stand-in, and drift dispatches the retrain workflow on develop against the GitHub stand-in; a sample
without drift dispatches nothing. The retrain-schedule template is checked on the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.project import make_project_repo, seed_dvc_remote

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REPO = "acme/digits"
MONITOR = ".github/workflows/mlops-ci-monitor.yml"


def write_sample(path: Path, seed: int, shift: float = 0.0, rows: int = 400) -> None:
    """A table like production logs: two numeric features and a category; `shift` moves `size`."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    rng = np.random.default_rng(seed)
    size = rng.normal(10.0 + shift, 2.0, rows)
    price = rng.normal(100.0, 15.0, rows)
    colour = rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2])
    lines = ["size,price,colour", *(f"{s:.6f},{p:.6f},{c}" for s, p, c in zip(size, price, colour))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(name="project")
def fixture_project(project_repo, tmp_path) -> Path:
    """The project with a reference sample and two current ones (drifted, same) in its DVC remote,
    not in git: the monitor must `dvc pull` them."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def dvc(*args: str) -> None:
        subprocess.run(["dvc", *args], cwd=project_repo, env=env, check=True, capture_output=True, timeout=300)

    samples = project_repo / "monitoring"
    samples.mkdir()
    write_sample(samples / "reference.csv", seed=1)
    write_sample(samples / "current-drift.csv", seed=2, shift=3.0)
    write_sample(samples / "current-same.csv", seed=3)
    dvc("remote", "add", "--default", "storage", str(tmp_path / "dvc-remote"))
    dvc("add", "monitoring/reference.csv", "monitoring/current-drift.csv", "monitoring/current-same.csv")
    dvc("push")
    git(project_repo, "add", "--all")
    git(project_repo, "commit", "--quiet", "--message", "Monitoring samples in the DVC remote")
    return project_repo


def run_monitor(project, github_api, pushgateway, out, current) -> dict[str, dict]:
    main(["local", "schedule", "--repo", str(project), "-W", MONITOR, "--out", str(out),
          "--github-api-url", github_api.url, "--secret", "GITHUB_TOKEN",
          "--var", "MONITOR_REFERENCE=monitoring/reference.csv", "--var", f"MONITOR_CURRENT={current}",
          "--var", "MODEL_NAME=digits", "--var", f"PUSHGATEWAY_URL={pushgateway.url_for('/')}"])
    jobs = json.loads((out / "result.json").read_text())["jobs"]
    return {job["name"].rsplit("/", 1)[-1]: job for job in jobs}


@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")


def test_drift_dispatches_retraining_and_no_drift_dispatches_nothing(project, github_api, httpserver, tmp_path):
    httpserver.expect_request("/metrics/job/mlops-ci-monitor/model/digits", method="PUT").respond_with_data("")

    jobs = run_monitor(project, github_api, httpserver, tmp_path / "drift", "monitoring/current-drift.csv")
    assert jobs["monitor"]["result"] == "success", jobs
    assert jobs["retrain-dispatch"]["result"] == "success", jobs
    assert "retrain-issue" not in jobs or jobs["retrain-issue"]["result"] == "skipped"
    dispatched = [(d.workflow_id, d.ref) for d in github_api.state.repo(REPO).dispatches]
    assert dispatched == [("mlops-ci-retrain-schedule.yml", "develop")]
    summary = jobs["monitor"]["summary"]
    assert "### data-check:" in summary and "### drift:" in summary and "size" in summary, summary
    assert "dispatched mlops-ci-retrain-schedule.yml on develop" in jobs["retrain-dispatch"]["summary"]
    [push] = [request for request, _ in httpserver.log]
    assert "mlops_ci_drift_detected 1" in push.get_data(as_text=True)
    assert (tmp_path / "drift" / "artifacts" / "monitor-results" / "drift.json").is_file()

    jobs = run_monitor(project, github_api, httpserver, tmp_path / "same", "monitoring/current-same.csv")
    assert jobs["monitor"]["result"] == "success", jobs
    assert "retrain-dispatch" not in jobs or jobs["retrain-dispatch"]["result"] == "skipped"
    assert len(github_api.state.repo(REPO).dispatches) == 1, "no drift: nothing dispatched"
    assert "mlops_ci_drift_detected 0" in httpserver.log[-1][0].get_data(as_text=True)


def test_the_template_without_its_variables_says_which_to_set(project_repo, github_api, tmp_path):
    out = tmp_path / "unset"
    assert main(["local", "schedule", "--repo", str(project_repo), "-W", MONITOR, "--out", str(out),
                 "--github-api-url", github_api.url]) == 1
    jobs = {job["name"].rsplit("/", 1)[-1]: job for job in json.loads((out / "result.json").read_text())["jobs"]}
    job = jobs.pop("monitor")
    assert job["result"] == "failure"
    assert {name: other["result"] for name, other in jobs.items()} == dict.fromkeys(
        ("retrain-dispatch", "retrain-issue", "rollback"), "skipped")  # they need the monitor
    assert any("vars.MONITOR_REFERENCE" in error for error in job["errors"]), job["errors"]
    assert not github_api.writes()


EVERYTHING = """\
name: monitor everything
on: workflow_dispatch
permissions: {}
jobs:
  monitor:
    uses: org/mlops-ci/.github/workflows/monitor.yml@v1
    permissions: {contents: read, actions: write, issues: write}
    with:
      reference: monitoring/reference.csv
      current: s3://production/samples/current.csv
      model-name: ${{ vars.MODEL_NAME }}
      on-drift: issue
      performance-metrics: monitoring/live.json
      degradation-threshold: "0.9"
      rollback-on-degradation: true
      alert-rules: true
      mlflow-tracking-uri: ${{ vars.MLFLOW_TRACKING_URI }}
      object-store-endpoint-url: ${{ vars.OBJECT_STORE_ENDPOINT_URL }}
    secrets:
      object-store-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
      object-store-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
"""


@pytest.mark.usefixtures("mlflow_client_env")
def test_drift_opens_one_issue_and_degradation_rolls_the_champion_back(  # pylint: disable=too-many-arguments
        project, github_api, mlflow_server, s3_server, tmp_path, monkeypatch):
    """The current sample comes from an object-store prefix (dvc get-url) this time."""
    s3_server.create_bucket("production")
    sample = tmp_path / "current.csv"
    write_sample(sample, seed=2, shift=3.0)
    s3_server.client().upload_file(str(sample), "production", "samples/current.csv")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, s3_server.env()[variable])
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel
    client, name = MlflowClient(mlflow_server.url), f"digits-{tmp_path.name}"
    client.create_registered_model(name)
    for accuracy in (0.93, 0.95):
        run = client.create_run(client.create_experiment(f"monitor-{tmp_path.name}-{accuracy}"))
        client.log_metric(run.info.run_id, "accuracy", accuracy)
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", "2")
    client.set_model_version_tag(name, "2", "mlops_ci.previous_champion", "1")
    # Version 1 passed its promotion: rollback restores only such a version.
    client.set_model_version_tag(name, "1", "mlops_ci.validation_status", "passed")
    (project / "monitoring" / "live.json").write_text('{"accuracy": 0.81}')
    (project / ".github" / "workflows" / "monitor-everything.yml").write_text(EVERYTHING)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Monitor with every option")

    out = tmp_path / "everything"
    main(["local", "workflow_dispatch", "--repo", str(project), "--branch", "main",
          "-W", ".github/workflows/monitor-everything.yml", "--out", str(out),
          "--github-api-url", github_api.url, "--secret", "GITHUB_TOKEN", "--var", f"MODEL_NAME={name}",
          "--var", f"MLFLOW_TRACKING_URI={mlflow_server.url}", "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1",
          "--var", f"OBJECT_STORE_ENDPOINT_URL={s3_server.endpoint_url}", "--env", "AWS_DEFAULT_REGION=us-east-1",
          "--secret", "AWS_ACCESS_KEY_ID", "--secret", "AWS_SECRET_ACCESS_KEY"])
    jobs = {job["name"].rsplit("/", 1)[-1]: job for job in json.loads((out / "result.json").read_text())["jobs"]}
    assert {job: jobs[job]["result"] for job in ("monitor", "retrain-issue", "rollback")} == {
        "monitor": "success", "retrain-issue": "success", "rollback": "success"}, jobs
    [issue] = github_api.state.repo(REPO).issues.values()
    assert issue.title == "Retrain: data drift detected" and "| size |" in issue.body
    assert not github_api.state.repo(REPO).dispatches
    assert "live accuracy 0.81: crossed the threshold 0.9" in jobs["monitor"]["summary"]
    assert client.get_registered_model(name).aliases["champion"] == "1"
    rules = out / "artifacts" / "monitor-results" / "alerts" / "alert-rules.yml"
    assert "< 0.93" in rules.read_text()  # champion v2's 0.95 - 0.02: made before the rollback


@pytest.mark.usefixtures("mlflow_client_env")
def test_the_dispatched_retrain_workflow_repros_and_registers(tmp_path, mlflow_server, monkeypatch):
    """What the monitor's dispatch starts: the retrain-schedule template on develop, `dvc repro --pull`
    (restored from the remote's run-cache: nothing changed) and a registered version."""
    project = make_project_repo(tmp_path / "digits", ROOT, slug=REPO)
    seed_dvc_remote(project, tmp_path / "dvc-remote")
    model = f"digits-{tmp_path.name}"
    out = tmp_path / "retrain"
    main(["local", "workflow_dispatch", "--repo", str(project), "--branch", "develop",
          "-W", ".github/workflows/mlops-ci-retrain-schedule.yml", "--out", str(out),
          "--var", f"MLFLOW_TRACKING_URI={mlflow_server.url}", "--env", f"MLOPS_CI_MODEL_NAME={model}",
          "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1"])
    [job] = json.loads((out / "result.json").read_text())["jobs"]
    assert job["result"] == "success", job
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    [version] = MlflowClient().search_model_versions(f"name = '{model}'")
    assert version.tags["mlops_ci.branch"] == "develop"
    assert version.tags["mlops_ci.commit"] == git(project, "rev-parse", "develop")
    monitor = yaml.safe_load((ROOT / "workflows-templates" / "mlops-ci-monitor.yml").read_text())
    assert monitor["jobs"]["monitor"]["with"]["retrain-workflow"] == "mlops-ci-retrain-schedule.yml"
