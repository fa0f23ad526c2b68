"""`mlops-ci serve` against a real MLflow registry: both arms, metrics, the prediction log compare reads,
input errors; scraped by a real Prometheus whose alert fires on the degraded canary."""

from __future__ import annotations

import http.client as http_client
import itertools
import json
from contextlib import ExitStack

import httpx
import pytest

from testing.fixtures import enter_service, promtool
from mlops_ci.cli import main
from mlops_ci.local import services
from testing import services as test_services
from testing.serve import MODEL, register_iris, samples, start_server, value


@pytest.fixture(name="registered", scope="module")
def fixture_registered(mlflow_server):
    """MODEL-serve, registered once for the module (register_iris)."""
    return register_iris(mlflow_server.url, f"{MODEL}-serve")


@pytest.fixture(name="iris_models")
def fixture_iris_models(registered, mlflow_server, mlflow_client_env,  # pylint: disable=unused-argument
                        monkeypatch):
    """The registered model's name and the iris data, MLFLOW_TRACKING_URI set for this test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    return registered


def test_canary_serves_both_arms_exports_metrics_and_feeds_compare(iris_models, tmp_path, capsys):
    name, features, labels = iris_models
    logs = tmp_path / "logs"
    proc, url = start_server(["--model", name, "--canary-fraction", "0.5", "--log-dir", str(logs)])
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/health").json()["arms"] == {"champion": "1", "challenger": "2"}
            arms = {}
            for index, (row, label) in enumerate(zip(features, labels)):
                request_id = f"req-{index}"
                answer = http.post("/invocations", json={"inputs": [row], "labels": [label]},
                                   headers={"X-Request-Id": request_id})
                assert answer.status_code == 200, answer.text
                assert answer.headers["X-Request-Id"] == request_id
                arms[request_id] = answer.json()["arm"]
                assert answer.json()["version"] == {"champion": "1", "challenger": "2"}[arms[request_id]]
            # Sticky: the same id is served by the same arm again.
            again = http.post("/invocations", json={"dataframe_split": {"data": [features[0]]}},
                              headers={"X-Request-Id": "req-0"})
            assert again.json()["arm"] == arms["req-0"] and len(again.json()["predictions"]) == 1
            assert http.post("/invocations", content=b"nope").status_code == 400
            raw = http_client.HTTPConnection(httpx.URL(url).host, httpx.URL(url).port, timeout=30)
            raw.request("POST", "/invocations", body=b"{}", headers={"Content-Length": "x"})
            assert raw.getresponse().status == 411
            exposition = http.get("/metrics").text
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    challenger_requests = sum(arm == "challenger" for arm in arms.values())
    assert 45 <= challenger_requests <= 105  # 150 ids at 0.5

    found = samples(exposition)
    champion = {"model": name, "version": "1", "arm": "champion"}
    challenger = {"model": name, "version": "2", "arm": "challenger"}
    served = value(found, "mlops_ci_predictions_total", **champion) + value(
        found, "mlops_ci_predictions_total", **challenger)
    assert served == len(features) + 1
    assert value(found, "mlops_ci_request_latency_seconds_count", **challenger) == challenger_requests
    assert value(found, "mlops_ci_model_deployed_timestamp_seconds", **champion) == 1767323045.0
    assert value(found, "mlops_ci_model_metric", **champion, metric="accuracy") > 0.9
    assert value(found, "mlops_ci_model_metric", **challenger, metric="accuracy") < 0.4
    errors = [count for (metric, _), count in found.items() if metric == "mlops_ci_request_errors_total"]
    assert sum(errors) == 1
    checked = promtool("check", "metrics", stdin=exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    logged = [json.loads(line) for line in (logs / "challenger.jsonl").read_text().splitlines()]
    assert len(logged) == challenger_requests + (arms["req-0"] == "challenger")
    assert set(logged[0]) == {"request_id", "timestamp", "model", "version", "arm", "prediction", "label",
                              "latency"}
    capsys.readouterr()
    # The challenger always answers one class: compare sees it worse and says roll back (exit 1).
    code = main(["compare", "--control", str(logs / "champion.jsonl"),
                 "--treatment", str(logs / "challenger.jsonl"), "--json", str(tmp_path / "compare.json")])
    report = json.loads((tmp_path / "compare.json").read_text())
    assert (code, report["decision"]) == (1, "rollback"), capsys.readouterr()
    assert report["metrics"]["control"]["accuracy"] > 0.9


def test_champion_only_without_a_canary_fraction(iris_models, tmp_path):
    name, features, _ = iris_models
    proc, url = start_server(["--model", name, "--log-dir", str(tmp_path)])
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/health").json()["arms"] == {"champion": "1"}
            answers = {http.post("/invocations", json={"inputs": features[:3]}).json()["arm"]
                       for _ in range(20)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert answers == {"champion"}
    rows = [json.loads(line) for line in (tmp_path / "champion.jsonl").read_text().splitlines()]
    assert len(rows) == 60 and rows[0]["request_id"].endswith("/0") and rows[0]["label"] is None


@pytest.mark.parametrize(("args", "message"), [
    (["--canary-fraction", "1.5"], "--canary-fraction: 1.5: expected a fraction between 0 and 1"),
    (["--alias", "nope"], "@nope: the alias is not set"),
    (["--canary-fraction", "0.1", "--challenger-alias", "b"], "@b: the alias is not set"),
])
def test_input_errors_exit_2_with_one_line(iris_models, args, message, capsys):
    code = main(["serve", "--model", iris_models[0], *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def prometheus_api(api: httpx.Client, path: str, **params: str) -> object:
    """The `data` of a Prometheus HTTP API answer."""
    answer = api.get(f"/api/v1/{path}", params=params).json()
    assert answer["status"] == "success", answer
    return answer["data"]


def query(api: httpx.Client, expr: str) -> list[dict]:
    """The instant vector of a PromQL query, now."""
    return prometheus_api(api, "query", query=expr)["result"]


@pytest.mark.slow
def test_prometheus_scrapes_the_server_and_fires_on_the_degraded_canary(iris_models, tmp_path):
    """serve -> Prometheus -> alert: `alerts` writes the rules and prometheus.yml for the champion
    (accuracy about 0.97), `serve` runs the always-one-class challenger (0.33) as a canary, a real
    Prometheus scrapes it every second, and ModelMetricDegraded fires for the challenger's version only.
    The dashboard's panel queries then answer from the scraped series."""
    name, features, labels = iris_models
    monitoring = tmp_path / "monitoring"
    proc, url = start_server(["--model", name, "--canary-fraction", "0.5"])
    try:
        target = f"{httpx.URL(url).host}:{httpx.URL(url).port}"
        assert main(["alerts", "--model", name, "--out", str(monitoring), "--tolerance", "0.1", "--for", "2s",
                     "--target", target, "--scrape-interval", "1s"]) == 0
        with ExitStack() as stack:
            prometheus = enter_service(stack, test_services.prometheus_server(
                tmp_path / "prometheus", monitoring / "prometheus.yml"))
            api = stack.enter_context(httpx.Client(base_url=prometheus.url, timeout=30))
            model = stack.enter_context(httpx.Client(base_url=url, timeout=30))
            requests = itertools.count()

            def scraped_and_firing() -> bool:
                for _ in range(5):  # traffic between scrapes, so that rate() sees requests
                    index = next(requests)
                    answer = model.post("/invocations", json={"inputs": [features[index % len(features)]],
                                                              "labels": [labels[index % len(labels)]]},
                                        headers={"X-Request-Id": f"req-{index}"})
                    assert answer.status_code == 200, answer.text
                alerts = prometheus_api(api, "alerts")["alerts"]
                return any(alert["labels"]["alertname"] == "ModelMetricDegraded"
                           and alert["state"] == "firing" for alert in alerts)

            # A deadline for the failure message only: nothing here measures how fast it fires.
            services.wait_until(scraped_and_firing, 120, what="ModelMetricDegraded firing", interval=0.5)
            [scraped] = prometheus_api(api, "targets")["activeTargets"]
            degraded = [alert for alert in prometheus_api(api, "alerts")["alerts"]
                        if alert["labels"]["alertname"] == "ModelMetricDegraded"]
            dashboard = json.loads((monitoring / "grafana/dashboards/mlops-ci.json").read_text())
            panels = {panel["title"]: query(api, panel["targets"][0]["expr"])
                      for panel in dashboard["panels"]}
            versions = query(api, f'mlops_ci_model_metric{{model="{name}"}}')
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert (scraped["health"], scraped["labels"]["job"]) == ("up", name)
    assert scraped["labels"]["instance"] == target
    # Only the challenger's version is below the champion's baseline minus the tolerance.
    assert [(alert["state"], alert["labels"]["version"], alert["labels"]["arm"]) for alert in degraded] == [
        ("firing", "2", "challenger")]
    assert degraded[0]["labels"]["metric"] == "accuracy" and degraded[0]["labels"]["model"] == name
    assert {series["metric"]["version"]: series["metric"]["arm"] for series in versions} == {
        "1": "champion", "2": "challenger"}
    # The dashboard's panels, queried as Grafana would: the latency quantile is a number, uptime and
    # both deployed versions are there; drift is pushed by the monitor workflow, not by serve.
    [latency] = panels["LatencyHigh"]
    assert 0 < float(latency["value"][1]) < 10
    [uptime] = panels["server uptime"]
    assert float(uptime["value"][1]) > 0
    deployed = {series["metric"]["version"]: float(series["value"][1])
                for series in panels["deployed versions"]}
    assert deployed["1"] == 1767323045.0 * 1000 and set(deployed) == {"1", "2"}
    assert panels["CpuHigh"] and panels["MemoryHigh"] and len(panels["accuracy"]) == 2
    assert not panels["DriftDetected"] and not panels["drift PSI per feature"]
