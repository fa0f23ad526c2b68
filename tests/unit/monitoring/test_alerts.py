"""`mlops-ci alerts`: rules from the champion's metrics, checked and unit-tested with promtool
(cases that fire and cases that stay quiet), the dashboard's queries, the Prometheus configuration
(promtool check config), Grafana's provisioning files (checked by shape: no Grafana installable here).
The command against MLflow: tests/integration/monitoring/test_alerts_champion.py; the rules in a real
Prometheus scraping `serve`: tests/integration/monitoring/test_serve_registry.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from testing.fixtures import CHAMPION, promtool
from mlops_ci.monitoring.alerts import (DATASOURCE_UID, Options, build_dashboard, build_datasource,
                              build_prometheus_config, build_provider, build_rules)
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError

OPTIONS = Options(model="digits", metrics=("accuracy", "val_loss"), version="3", cpu=0.9, memory_mb=2048)


def rules_of(options: Options = OPTIONS) -> list[dict]:
    return build_rules(CHAMPION, options)["groups"][0]["rules"]


def summary_of(alert: str, value: str, metric: str | None = None) -> str:
    """The rendered summary annotation: the rule's template with `$value` filled in."""
    rule = next(rule for rule in rules_of() if rule["alert"] == alert
                and rule["labels"].get("metric") == metric)
    return (rule["annotations"]["summary"].replace("{{ $value | humanize1024 }}", value)
            .replace("{{ $value }}", value))


def test_thresholds_follow_the_champion_and_the_metric_direction():
    rules = {(rule["alert"], rule["labels"].get("metric")): rule for rule in rules_of()}
    accuracy = rules[("ModelMetricDegraded", "accuracy")]
    assert accuracy["expr"] == 'mlops_ci_model_metric{model="digits", metric="accuracy"} < 0.93'
    assert accuracy["for"] == "5m" and accuracy["labels"] == {"severity": "critical", "metric": "accuracy",
                                                              "model": "digits"}
    assert "champion v3 0.95 - tolerance 0.02" in accuracy["annotations"]["summary"]
    assert rules[("ModelMetricDegraded", "val_loss")]["expr"].endswith("> 0.22")  # loss: higher is worse
    assert rules[("ModelMemoryHigh", None)]["expr"].endswith("> 2147483648")
    assert rules[("DataDriftDetected", None)]["expr"] == (
        'max by (model) (mlops_ci_drift_detected{model="digits"}) == 1')
    assert "for" not in rules[("DataDriftDetected", None)]


def test_a_metric_the_champion_lacks_names_the_ones_it_has():
    with pytest.raises(MlopsCiError, match=r"no metric 'auc' \(it has: accuracy, f1, val_loss\)"):
        build_rules(CHAMPION, Options(model="digits", metrics=("auc",)))


def test_label_values_are_quoted():
    rules = build_rules({"accuracy": 0.9}, Options(model='odd"name'))["groups"][0]["rules"]
    assert rules[0]["expr"].startswith(r'mlops_ci_model_metric{model="odd\"name", ')


@pytest.fixture(name="rule_dir")
def fixture_rule_dir(tmp_path) -> Path:
    (tmp_path / "alert-rules.yml").write_text(yaml.safe_dump(build_rules(CHAMPION, OPTIONS), sort_keys=False))
    return tmp_path


def test_promtool_accepts_the_rules(rule_dir):
    result = promtool("check", "rules", str(rule_dir / "alert-rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def alert(name: str, summary: str, **labels: str) -> dict:
    return {"exp_labels": {**labels, "model": "digits"}, "exp_annotations": {"summary": summary}}


def test_promtool_rule_tests_fire_and_stay_quiet(rule_dir):
    """Healthy for 10 minutes, then degraded: quiet at 8m, firing at 25m (after `for: 5m`); another
    model's bad series never fires ours."""
    degraded = [alert("ModelMetricDegraded", summary_of("ModelMetricDegraded", "0.8", "accuracy"),
                      severity="critical", metric="accuracy"),
                alert("ModelMetricDegraded", summary_of("ModelMetricDegraded", "0.3", "val_loss"),
                      severity="critical", metric="val_loss")]
    server = {"job": "digits", "instance": "serve:8000"}
    cases = {
        "ModelMetricDegraded": degraded,
        "ModelLatencyHigh": [alert("ModelLatencyHigh", summary_of("ModelLatencyHigh", "0.955"),
                                   severity="warning")],
        "ModelCpuHigh": [alert("ModelCpuHigh", summary_of("ModelCpuHigh", "1"), severity="warning",
                               **server)],
        "ModelMemoryHigh": [alert("ModelMemoryHigh", summary_of("ModelMemoryHigh", "2.794Gi"),
                                  severity="warning", **server)],
    }
    bucket = 'mlops_ci_request_latency_seconds_bucket{model="digits",le="%s"}'
    series = [
        ('mlops_ci_model_metric{model="digits",metric="accuracy"}', "0.95x10 0.8x20"),
        ('mlops_ci_model_metric{model="digits",metric="val_loss"}', "0.21x10 0.3x20"),
        ('mlops_ci_model_metric{model="other",metric="accuracy"}', "0.1x30"),
        # 60 requests a minute, all under 100 ms; after 10 minutes all between 100 ms and 1 s.
        (bucket % "0.1", "0+60x10 600x20"),
        (bucket % "1", "0+60x30"),
        (bucket % "+Inf", "0+60x30"),
        # half a core, then a whole one; 1 GB, then 3 GB.
        ('process_cpu_seconds_total{job="digits",instance="serve:8000"}', "0+30x10 300+60x20"),
        ('process_resident_memory_bytes{job="digits",instance="serve:8000"}', "1e9x10 3e9x20"),
        ('process_resident_memory_bytes{job="other",instance="other:8000"}', "9e9x30"),
    ]
    tests = {
        "rule_files": ["alert-rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": name, "values": values} for name, values in series],
            "alert_rule_test": [
                *({"eval_time": "8m", "alertname": name, "exp_alerts": []} for name in cases),
                *({"eval_time": "25m", "alertname": name, "exp_alerts": alerts} for name, alerts in cases.items()),
            ],
        }, {
            "interval": "1m",
            "input_series": [{"series": 'mlops_ci_drift_detected{model="digits",job="mlops-ci-monitor"}',
                              "values": "0x10 1x5 0x5"},
                             {"series": 'mlops_ci_drift_detected{model="other",job="mlops-ci-monitor"}',
                              "values": "1x20"}],
            "alert_rule_test": [
                {"eval_time": "5m", "alertname": "DataDriftDetected", "exp_alerts": []},
                {"eval_time": "12m", "alertname": "DataDriftDetected", "exp_alerts": [
                    alert("DataDriftDetected", summary_of("DataDriftDetected", ""), severity="warning")]},
                {"eval_time": "18m", "alertname": "DataDriftDetected", "exp_alerts": []},
            ],
        }],
    }
    (rule_dir / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", str(rule_dir / "tests.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_dashboard_plots_every_alert_series_with_queries_promtool_parses(tmp_path):
    dashboard = build_dashboard(CHAMPION, OPTIONS)
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    for rule in rules_of():
        assert any(rule["expr"].startswith(expr + " ") for expr in exprs), rule["expr"]
    assert 'mlops_ci_drift_psi{model="digits"}' in exprs
    accuracy = next(panel for panel in dashboard["panels"] if panel["title"] == "accuracy")
    assert accuracy["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {"color": "green", "value": 0.93}
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    # Every query must be valid PromQL: as recording rules, promtool parses them.
    records = [{"record": f"mlops_ci:panel_{index}", "expr": expr} for index, expr in enumerate(exprs)]
    (tmp_path / "panels.yml").write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": records}]}))
    result = promtool("check", "rules", str(tmp_path / "panels.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_tests_name_the_degraded_canary_not_the_champion(rule_dir):
    """`mlops-ci serve` exports both arms' validation metrics: only the version below the baseline fires,
    and the alert keeps its version and arm labels."""
    tests = {"rule_files": ["alert-rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            {"series": 'mlops_ci_model_metric{model="digits",version="3",arm="champion",metric="accuracy"}',
             "values": "0.95x20"},
            {"series": 'mlops_ci_model_metric{model="digits",version="4",arm="challenger",metric="accuracy"}',
             "values": "0.6x20"}],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "ModelMetricDegraded", "exp_alerts": []},  # pending: for 5m
            {"eval_time": "10m", "alertname": "ModelMetricDegraded", "exp_alerts": [
                alert("ModelMetricDegraded", summary_of("ModelMetricDegraded", "0.6", "accuracy"),
                      severity="critical", metric="accuracy", version="4", arm="challenger")]},
        ],
    }]}
    (rule_dir / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", str(rule_dir / "tests.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_scrapes_the_job_the_rules_read(rule_dir):
    config = build_prometheus_config(OPTIONS, "serve:8000", "30s")
    assert config["rule_files"] == ["alert-rules.yml"]
    assert config["global"] == {"scrape_interval": "30s", "evaluation_interval": "30s"}
    assert config["scrape_configs"] == [{"job_name": "digits",
                                         "static_configs": [{"targets": ["serve:8000"]}]}]
    other = build_prometheus_config(Options(model="digits", job="digits-serve"), "localhost:8080", "15s")
    assert other["scrape_configs"][0]["job_name"] == "digits-serve"
    (rule_dir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = promtool("check", "config", str(rule_dir / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout  # it read the rule file too


def test_grafana_provisioning_has_the_documented_shape_and_the_dashboards_datasource():
    """Grafana is not installable here: the files are checked against the provisioning format
    (apiVersion 1; datasources: name, type, uid, url; providers: name, type file, options.path)."""
    [source] = build_datasource("http://prometheus:9090")["datasources"]
    assert build_datasource("x")["apiVersion"] == 1 and build_provider("x")["apiVersion"] == 1
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    assert source["uid"] == DATASOURCE_UID and source["access"] == "proxy" and source["isDefault"] is False
    [provider] = build_provider("/var/lib/grafana/dashboards/mlops-ci")["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/mlops-ci"
    dashboard = build_dashboard(CHAMPION, OPTIONS)
    [variable] = dashboard["templating"]["list"]
    # Every panel queries ${datasource}, whose default is the provisioned data source.
    assert (variable["type"], variable["query"], variable["current"]["value"]) == (
        "datasource", "prometheus", source["uid"])
    assert {target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel["targets"]} == {
        f"${{{variable['name']}}}"}


def test_without_a_tracking_server_there_is_no_baseline(monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["alerts", "--model", "digits"]) == 2
    assert "MLFLOW_TRACKING_URI is not set" in capsys.readouterr().err
