"""`mlops-ci train` against a real MLflow server: a trained pipeline is reused, not trained again."""

from __future__ import annotations

import json
import sys

from mlflow.tracking import MlflowClient

from testing.fixtures import read_outputs
from mlops_ci.training import command as train
from mlops_ci.cli import main
from mlops_ci.core.proc import git
from mlops_ci.training.promote import find_candidate
from mlops_ci.clients.mlflow import Registry
from testing.pipeline import fixture_pipeline_repo, fixture_venv_path  # noqa: F401  fixtures


def test_trained_pipeline_is_reused_not_trained_again(pipeline_repo, tmp_path, monkeypatch, capsys, venv_path,
                                                      mlflow_server, mlflow_client_env):
    """train run tags the version with the fingerprint and keeps the outputs in its run; a later plan
    of the same pipeline (a re-run, a release PR) reuses it; reuse tags it with that PR too."""
    del venv_path, mlflow_client_env
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    model = f"reuse-{tmp_path.name[-12:]}".lower().replace("_", "-")
    monkeypatch.setenv("MLOPS_CI_MODEL_NAME", model)
    git(pipeline_repo, "checkout", "--quiet", "-b", "feature/x")
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.2\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "lr")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))

    # Not trained yet: the plan says train.
    assert main(["train", "plan", "--base", "develop", "--repo", str(pipeline_repo)]) == 0
    planned = read_outputs(outputs)
    assert planned["train"] == "true" and planned["reuse-version"] == "" and len(planned["fingerprint"]) == 64

    # The track command registers version 1 (as the example's src/track.py would).
    client = MlflowClient(mlflow_server.url)
    client.create_registered_model(model)
    run = client.create_run(client.create_experiment(model))
    client.create_model_version(model, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    tracker = tmp_path / "track.py"
    tracker.write_text("import json, os\njson.dump({'run_id': %r, 'model_name': %r, 'model_version': '1'}, "
                       "open(os.environ['MLOPS_CI_TRACK_OUTPUT'], 'w'))\n" % (run.info.run_id, model))
    export = tmp_path / "export"
    assert main(["train", "run", "--repo", str(pipeline_repo), "--track-command", f"{sys.executable} {tracker}",
                 "--pr", "7", "--export", str(export)]) == 0
    tags = client.get_model_version(model, "1").tags
    assert tags["mlops_ci.fingerprint"] == planned["fingerprint"] and tags["mlops_ci.pr.7"] == "true"

    # The same pipeline again (a re-run of PR 7, or the release PR 9): reused, nothing to train.
    outputs.write_text("")
    assert main(["train", "plan", "--base", "develop", "--repo", str(pipeline_repo)]) == 0
    planned = read_outputs(outputs)
    assert (planned["train"], planned["reuse-version"], planned["reuse-run-id"], planned["model-name"]) == (
        "false", "1", run.info.run_id, model)
    assert "trained for PR #7" in capsys.readouterr().out

    outputs.write_text("")
    report_dir = tmp_path / "report"
    assert main(["train", "reuse", "--model", model, "--version", "1", "--pr", "9",
                 "--output", str(report_dir)]) == 0
    assert read_outputs(outputs)["run-id"] == run.info.run_id
    assert json.loads((report_dir / "metrics.json").read_text()) == json.loads((export / "metrics.json").read_text())
    assert (report_dir / "dvc.lock").is_file() and (report_dir / "plots" / "curve.csv").is_file()
    assert client.get_model_version(model, "1").tags["mlops_ci.pr.9"] == "true"
    with Registry() as registry:   # promote --pr finds it for either PR
        assert [find_candidate(registry, model, ("pr", pr)).version for pr in ("7", "9")] == ["1", "1"]
        assert find_candidate(registry, model, ("pr", "8")) is None

    # Rolled back (as `mlops-ci rollback` tags it): still this pipeline's version, and the plan says
    # promotion will refuse it rather than training the same pipeline past its rollback.
    client.set_model_version_tag(model, "1", "mlops_ci.validation_status", "rolled_back")
    client.set_model_version_tag(model, "1", "mlops_ci.rollback_reason", "latency")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    outputs.write_text("")
    assert main(["train", "plan", "--base", "develop", "--repo", str(pipeline_repo)]) == 0
    assert read_outputs(outputs)["reuse-version"] == "1"
    assert "rolled back (latency), so promotion will refuse it" in capsys.readouterr().out
    assert "**rolled back** (latency)" in (tmp_path / "summary.md").read_text()

    # A changed pipeline is not the trained one.
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.3\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "lr again")
    outputs.write_text("")
    assert main(["train", "plan", "--base", "develop", "--repo", str(pipeline_repo)]) == 0
    assert read_outputs(outputs)["train"] == "true"


def test_a_version_whose_run_kept_no_outputs_is_not_reused(mlflow_server, mlflow_client_env, monkeypatch):
    del mlflow_client_env
    client = MlflowClient(mlflow_server.url)
    model = "reuse-no-outputs"
    client.create_registered_model(model)
    run = client.create_run(client.create_experiment(model))
    client.create_model_version(model, f"{run.info.artifact_uri}/model", run_id=run.info.run_id,
                                tags={"mlops_ci.fingerprint": "f" * 64})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    with Registry() as registry:
        assert train.trained_version(registry, model, "f" * 64) is None
