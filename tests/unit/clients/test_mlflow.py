"""The shared MLflow registry access without a server: errors and bounded retries (against a real server:
tests/integration/clients/test_mlflow_server.py)."""

from __future__ import annotations

import os

import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.clients import mlflow as registry
from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.local.services import free_port


def test_unreachable_server_names_the_uri_and_what_was_not_done(mlflow_client_env):
    uri = f"http://127.0.0.1:{free_port()}"
    with Registry(uri, action="promotion of m") as registry:
        with pytest.raises(MlopsCiError) as caught:
            registry.alias_version("m", "champion")
        assert not isinstance(caught.value, NotFound)
        assert caught.value.where == uri
        assert "promotion of m not done; nothing was changed" in caught.value.message
        registry.writes = 1
        with pytest.raises(MlopsCiError, match="stopped after 1 change"):
            registry.set_alias("m", "champion", "1")


def test_no_tracking_uri(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(MlopsCiError, match="MLFLOW_TRACKING_URI is not set"):
        Registry()


def test_bounded_retries_only_where_unset(monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    with registry.bounded_mlflow_retries():
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
        assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ
