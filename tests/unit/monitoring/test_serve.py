"""`mlops-ci serve`: routing, metrics and the prediction log as pure functions (the real thing, two
sklearn models in a real MLflow registry served over HTTP: tests/integration/monitoring/test_serve_registry.py)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from mlops_ci.monitoring.serve import Arm, Metrics, PredictionLog, Service, deployed_at, log_rows, route
from testing.serve import MODEL, samples, value

# --- pure functions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_route_sends_the_fraction_to_the_challenger(fraction):
    ids = [str(uuid.UUID(int=index)) for index in range(20_000)]
    share = sum(route(request_id, fraction) for request_id in ids) / len(ids)
    assert abs(share - fraction) < 0.01


def test_route_is_sticky_and_bounded():
    assert [route("req-42", 0.3) for _ in range(5)] == [route("req-42", 0.3)] * 5
    assert not any(route(f"r{index}", 0.0) for index in range(1000))
    assert all(route(f"r{index}", 1.0) for index in range(1000))
    # Raising the fraction only adds ids to the challenger: a canary grows without reshuffling users.
    assert {i for i in range(1000) if route(f"r{i}", 0.1)} <= {i for i in range(1000) if route(f"r{i}", 0.2)}


def test_deployed_at_prefers_the_promotion_tag():
    assert deployed_at({"mlops_ci.promoted_at": "2026-01-02T03:04:05.5Z"}, 1_000) == 1767323045.5
    assert deployed_at({}, 1_700_000_000_123) == 1_700_000_000.123
    assert deployed_at({"mlops_ci.promoted_at": "yesterday"}, 2_000) == 2.0


def test_log_rows_are_what_compare_reads():
    request = {"request_id": "abc", "timestamp": "T", "model": MODEL, "version": "2", "arm": "challenger",
               "latency": 3.5}
    single = log_rows(request, [1], [1])
    assert single == [{**request, "prediction": 1, "label": 1}]
    rows = log_rows(request, [0, 2], None)
    assert [row["request_id"] for row in rows] == ["abc/0", "abc/1"] and rows[1]["label"] is None


def test_metrics_render_the_series_the_alert_rules_read():
    arms = [Arm("champion", "1", 1_700_000_000.0, {"accuracy": 0.95}),
            Arm("challenger", "2", 1_700_000_100.0)]
    metrics = Metrics(MODEL, arms, started=0.0)
    metrics.observe(arms[0], 0.003, rows=4)
    metrics.error(arms[1], 500)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    found = samples(body.decode())
    champion = {"model": MODEL, "version": "1", "arm": "champion"}
    challenger = {"model": MODEL, "version": "2", "arm": "challenger"}
    assert value(found, "mlops_ci_predictions_total", **champion) == 4
    assert value(found, "mlops_ci_predictions_total", **challenger) == 0
    assert value(found, "mlops_ci_request_latency_seconds_bucket", **champion, le="0.005") == 1
    assert value(found, "mlops_ci_request_latency_seconds_count", **challenger) == 0
    assert value(found, "mlops_ci_request_errors_total", **challenger, status="500") == 1
    assert value(found, "mlops_ci_model_metric", **champion, metric="accuracy") == 0.95
    assert value(found, "mlops_ci_model_deployed_timestamp_seconds", **challenger) == 1_700_000_100.0
    assert value(found, "mlops_ci_uptime_seconds") > 1_700_000_000  # started at epoch 0 here
    assert any(name == "process_cpu_seconds_total" for name, _ in found)


class _Failing:
    """A pyfunc stand-in whose prediction fails."""

    metadata = SimpleNamespace(get_input_schema=lambda: None)

    @staticmethod
    def predict(_data):
        raise RuntimeError("out of memory")


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not JSON"),
    (b"[1, 2]", 400, "expected a JSON object"),
    (b'{"rows": [[1]]}', 400, "inputs"),
    (b'{"inputs": [[1.0]], "labels": 3}', 400, "labels: expected a list"),
    (b'{"inputs": [[1.0]]}', 500, "RuntimeError: out of memory"),
])
def test_bad_requests_and_model_failures_are_counted_not_logged(body, status, message, tmp_path):
    arm = Arm("champion", "1", 0.0, model=_Failing())
    service = Service(MODEL, arm, None, 0.0, Metrics(MODEL, [arm], 0.0), PredictionLog(tmp_path))
    code, answer = service.predict("r1", body)
    assert code == status and message in answer["error"] and answer["request_id"] == "r1"
    found = samples(service.metrics.render()[0].decode())
    assert value(found, "mlops_ci_request_errors_total", model=MODEL, version="1", arm="champion",
                 status=str(status)) == 1
    assert not list(tmp_path.iterdir())


# --- against a real registry ------------------------------------------------------------------------

# --- scraped by a real Prometheus -------------------------------------------------------------------

