"""`mlops-ci doctor`'s MLflow check against a live server (the session's MLflow server fixture)."""

from __future__ import annotations

from mlops_ci.project.doctor import OK, check_mlflow


def test_a_live_mlflow_server_answers(mlflow_server):
    check = check_mlflow(mlflow_server.url, timeout=10)
    assert (check.status, check.detail) == (OK, f"{mlflow_server.url} answers")
    assert check_mlflow(mlflow_server.url + "/", timeout=10).status == OK
