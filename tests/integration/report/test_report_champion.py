"""`mlops-ci report` on the trained example project against a real MLflow server's champion."""

from __future__ import annotations

import json
import re

import pytest

from mlops_ci.report import sources
from mlops_ci.cli import main


@pytest.mark.usefixtures("venv_path", "mlflow_client_env")
def test_report_with_a_champion(project, mlflow_server, tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient   # pylint: disable=import-outside-toplevel
    client = MlflowClient(mlflow_server.url)
    name = f"digits-{tmp_path.name}"
    run = client.create_run(client.create_experiment(f"report-{tmp_path.name}"))
    for key, value in {"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.999999}.items():
        client.log_metric(run.info.run_id, key, value)
    client.create_registered_model(name)
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    data = tmp_path / "report.json"
    code = main(["report", "--base", "develop", "--repo", str(project), "--json", str(data), "--model", name,
                 "--run-id", run.info.run_id, "--model-version", version.version])
    markdown = capsys.readouterr().out
    assert code == 0
    assert f"⚖️ **Mixed** against champion `{name}@champion` v{version.version} (3 better, 1 worse)" in markdown
    assert re.search(r"^\| accuracy \| [\d.]+ \| [\d.]+ \| .* \| 0\.5000 ✅ \|$", markdown, re.MULTILINE)
    assert re.search(r"^\| f1 \| .* \| 1\.0000 ⚠️ \|$", markdown, re.MULTILINE)
    experiment = run.info.experiment_id
    assert f"[MLflow run]({mlflow_server.url}/#/experiments/{experiment}/runs/{run.info.run_id})" in markdown
    assert f"[model version]({mlflow_server.url}/#/models/{name}/versions/{version.version})" in markdown
    document = json.loads(data.read_text(encoding="utf-8"))
    assert document["verdict"]["champion"]["result"] == "mixed"
    assert next(row for row in document["metrics"] if row["name"] == "f1")["champion"] == 0.999999
    assert document["champion"]["version"] == version.version
    print(markdown)
    missing, _, _ = sources.fetch_mlflow(mlflow_server.url, f"{name}-none", "champion", None)
    assert missing.status == "none"
    no_alias, _, _ = sources.fetch_mlflow(mlflow_server.url, name, "other", "no-such-run")
    assert no_alias.status == "none"
