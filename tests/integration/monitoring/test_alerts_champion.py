"""`mlops-ci alerts` from the champion of a real MLflow server: the rules and dashboard it writes, and its
input errors."""

from __future__ import annotations

import json

import pytest
import yaml

from testing.fixtures import CHAMPION, promtool, read_outputs
from mlops_ci.cli import main


@pytest.fixture(name="champion")
def fixture_champion(mlflow_server, mlflow_client_env, tmp_path, monkeypatch) -> str:  # pylint: disable=unused-argument
    """A registered model with a champion whose run logged CHAMPION's metrics; its name."""
    from mlflow.tracking import MlflowClient   # pylint: disable=import-outside-toplevel
    client = MlflowClient(mlflow_server.url)
    name = f"digits-{tmp_path.name}"
    run = client.create_run(client.create_experiment(f"alerts-{tmp_path.name}"))
    for key, value in CHAMPION.items():
        client.log_metric(run.info.run_id, key, value)
    client.create_registered_model(name)
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    return name


def test_command_writes_rules_and_dashboard_from_the_champion(champion, tmp_path, actions, monkeypatch, capsys):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    out = tmp_path / "monitoring"
    code = main(["alerts", "--model", champion, "--out", str(out), "--metric", "accuracy", "--metric", "val_loss",
                 "--tolerance", "0.05", "--for", "10m"])
    assert code == 0, capsys.readouterr().err
    rules = yaml.safe_load((out / "alert-rules.yml").read_text())["groups"][0]["rules"]
    assert rules[0]["expr"].endswith("< 0.9") and rules[0]["for"] == "10m"
    assert rules[1]["expr"].endswith("> 0.25")
    dashboard = json.loads((out / "grafana/dashboards/mlops-ci.json").read_text())
    assert dashboard["title"] == f"mlops-ci: {champion}"
    source = yaml.safe_load((out / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["url"] == "http://localhost:9090"
    provider = yaml.safe_load((out / "grafana/provisioning/dashboards/mlops-ci.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/mlops-ci"
    config = yaml.safe_load((out / "prometheus.yml").read_text())
    assert config["scrape_configs"][0]["static_configs"] == [{"targets": ["localhost:8080"]}]
    assert {"rules", "prometheus-config", "dashboard", "grafana-provisioning"} <= set(read_outputs(outputs))
    assert "| ModelMetricDegraded |" in actions.read_text()
    assert f"alerts for {champion}@champion (v1)" in capsys.readouterr().out
    result = promtool("check", "config", str(out / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "MODEL", "--metric", "auc"], "--metric: the champion has no metric 'auc'"),
    (["--model", "MODEL", "--alias", "nope"], "@nope: no baseline: the alias is not set"),
    (["--model", "MODEL-unregistered"], "no baseline"),
    (["--model", "MODEL", "--for", "5 minutes"], "--for: '5 minutes' is not a Prometheus duration"),
    (["--model", "MODEL", "--tolerance", "-1"], "--tolerance: must not be negative"),
    (["--model", "MODEL", "--latency-quantile", "95"], "--latency-quantile: must be between 0 and 1"),
    (["--model", "MODEL", "--target", "http://s:80/"], "--target: 'http://s:80/': expected host:port"),
    (["--model", "MODEL", "--scrape-interval", "1 s"], "--scrape-interval: '1 s' is not a Prometheus"),
    (["--model", "MODEL", "--out", "/proc/forbidden"], "cannot write"),
])
def test_input_errors_exit_2_with_one_line(champion, args, message, capsys):
    code = main(["alerts", *[arg.replace("MODEL", champion) for arg in args]])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
