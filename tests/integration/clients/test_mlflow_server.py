"""clients.mlflow.Registry against a real MLflow server: reads, writes, not found, bounded retries."""

from __future__ import annotations

import os
import uuid

import pytest
from mlflow.tracking import MlflowClient

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.registry.tags import PR_TAG


@pytest.fixture(name="model")
def fixture_model(mlflow_server, mlflow_client_env, monkeypatch) -> str:
    """A fresh registered model with versions 1 (PR 7, predictions logged) and 2 (PR O'Brien)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    client = MlflowClient(mlflow_server.url)
    name = f"registry-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    experiment = client.create_experiment(name)
    for pr in ("7", "O'Brien"):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "accuracy", 0.9)
        if pr == "7":
            client.log_text(run.info.run_id, "index,label,prediction\n0,1,1\n", "eval/predictions.csv")
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id,
                                    tags={PR_TAG: pr})
    return name


def test_reads_and_writes(model):
    with Registry(action="a test") as registry:
        assert [v.version for v in registry.versions_tagged(model, PR_TAG, "7")] == ["1"]
        assert [v.version for v in registry.versions_tagged(None, PR_TAG, "O'Brien")] == ["2"]
        assert registry.alias_version(model, "champion") is None
        registry.set_alias(model, "champion", "2")
        registry.set_tags(model, "2", {"mlops_ci.note": "x" * 6000})
        assert registry.alias_version(model, "champion") == "2"
        version = registry.version(model, "2")
        assert version.tags["mlops_ci.note"] == "x" * 5000
        assert registry.run_metrics(version.run_id) == {"accuracy": 0.9}
        assert registry.run_metrics(None) == {}
        first = registry.version(model, "1")
        assert registry.artifact_text(first.run_id, "eval/predictions.csv").startswith("index,label")
        assert registry.artifact_text(version.run_id, "eval/predictions.csv") is None
        assert registry.artifact_text(None, "eval/predictions.csv") is None
        assert registry.writes == 2


def test_not_found_is_its_own_error(model):
    with Registry() as registry:
        with pytest.raises(NotFound, match="not found"):
            registry.version(model, "99")
        with pytest.raises(NotFound):
            registry.model(f"{model}-missing")


def test_bounded_retries_only_inside_and_overridable(mlflow_server, monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "7")
    with Registry(mlflow_server.url):
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
        assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "7"   # the user's value wins
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_a_value_with_both_quotes_cannot_be_searched(model):
    with Registry() as registry, pytest.raises(MlopsCiError, match="both kinds of quotes"):
        registry.versions_tagged(model, PR_TAG, "it's \"odd\"")
