"""`mlops-ci canary` on a real MLflow registry: the rollout, and `serve` following start, abort and the
champion."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from testing.fixtures import registered_model
from mlops_ci.monitoring.canary import STEP
from mlops_ci.registry.tags import CANARY_FRACTION_TAG, CANARY_VERSION_TAG
from mlops_ci.cli import main
from testing.serve import log, register_iris, start_server


@pytest.fixture(name="registry_model")
def fixture_registry_model(mlflow_server, mlflow_client_env, monkeypatch):  # pylint: disable=unused-argument
    """A registered model of three versions (no artifacts), version 1 the champion."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    return registered_model(mlflow_server.url, "canary", 3)


def test_the_rollout_on_a_real_registry(registry_model, tmp_path, actions, capsys):
    name, client = registry_model
    assert main(["canary", "start", "--model", name, "--version", "2"]) == 0
    assert main(["canary", "start", "--model", name, "--version", "3"]) == 1
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "1", "challenger": "2"} and model.tags[CANARY_FRACTION_TAG] == "0.05"
    assert model.tags[CANARY_VERSION_TAG] == "2"

    control, treatment = log(tmp_path / "c.jsonl", 0.8, "1"), log(tmp_path / "t.jsonl", 0.95, "2")
    report = tmp_path / "step.json"
    step = ["canary", "step", "--model", name, "--control", control, "--treatment", treatment]
    assert main([*step, "--json", str(report)]) == 0
    assert client.get_registered_model(name).tags[CANARY_FRACTION_TAG] == "0.25"
    assert json.loads(report.read_text())["action"] == STEP
    assert "⏩ step" in actions.read_text() and "0.05 → 0.25" in actions.read_text()

    assert main(["canary", "promote", "--model", name]) == 0
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "2"}
    assert not any(key.startswith("mlops_ci.canary") for key in model.tags)
    tags = client.get_model_version(name, "2").tags
    assert tags["mlops_ci.previous_champion"] == "1" and tags["mlops_ci.promoted_by"]

    # A worse canary: compare says rollback, the step aborts it (exit 1), the champion stays.
    assert main(["canary", "start", "--model", name, "--version", "3", "--fraction", "0.5"]) == 0
    worse = log(tmp_path / "t3.jsonl", 0.6, "3")
    capsys.readouterr()
    assert main(["canary", "step", "--model", name, "--control", log(tmp_path / "c2.jsonl", 0.95, "2"),
                 "--treatment", worse]) == 1
    assert "::error::canary step: abort: " in capsys.readouterr().out
    model = client.get_registered_model(name)
    assert model.aliases == {"champion": "2"}
    assert not any(key.startswith("mlops_ci.canary") for key in model.tags)
    tags = client.get_model_version(name, "3").tags
    assert tags["mlops_ci.validation_status"] == "rolled_back" and tags["mlops_ci.rolled_back_to"] == "2"
    assert main(["canary", "abort", "--model", name]) == 0   # nothing running: nothing to do


def wait_for(http: httpx.Client, arms: dict[str, str]) -> None:
    """Poll /health until serve shows `arms` (it re-reads the registry every second)."""
    deadline = time.monotonic() + 60
    while http.get("/health").json()["arms"] != arms:
        if time.monotonic() > deadline:
            pytest.fail(f"serve still shows {http.get('/health').json()}, expected {arms}")
        time.sleep(0.2)


def challenger_share(http: httpx.Client, features: list, requests: int = 60) -> float:
    arms = [http.post("/invocations", json={"inputs": [features[index % len(features)]]},
                      headers={"X-Request-Id": f"{uuid.uuid4()}"}).json()["arm"] for index in range(requests)]
    return arms.count("challenger") / requests


@pytest.mark.usefixtures("mlflow_client_env")
def test_serve_follows_start_abort_and_the_champion(mlflow_server, monkeypatch):
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    name, features, _ = register_iris(mlflow_server.url, f"iris-canary-{uuid.uuid4().hex[:8]}")
    proc, url = start_server(["--model", name, "--refresh", "1"])
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/health").json()["arms"] == {"champion": "1"}
            assert challenger_share(http, features) == 0
            assert main(["canary", "start", "--model", name, "--version", "2", "--fraction", "0.5"]) == 0
            wait_for(http, {"champion": "1", "challenger": "2"})
            assert http.get("/health").json()["canary_fraction"] == 0.5
            assert challenger_share(http, features) > 0
            assert main(["canary", "abort", "--model", name, "--reason", "test"]) == 0
            wait_for(http, {"champion": "1"})
            assert challenger_share(http, features) == 0
            # The champion alias moved (a promotion, a rollback): serve follows it too.
            client = MlflowClient(mlflow_server.url, mlflow_server.url)
            client.set_registered_model_alias(name, "champion", "2")
            wait_for(http, {"champion": "2"})
            assert http.post("/invocations", json={"inputs": [features[0]]}).json()["version"] == "2"
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
