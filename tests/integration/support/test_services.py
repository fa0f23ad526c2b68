"""Real servers on loopback: MLflow (sqlite, MariaDB, S3 artifacts), process-group handling, failures."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities.model_registry import ModelVersion

from mlops_ci.local import services
from testing import services as test_services

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("mlflow_client_env")]

PYTHON = sys.executable


def register_champion(tracking_uri: str, tmp_path: Path) -> tuple[MlflowClient, ModelVersion]:
    """Log a model directory as a run artifact, register it as a new model and alias it ``champion``."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = f"digits-{uuid.uuid4().hex[:8]}"
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (model_dir / "weights.txt").write_text(name, encoding="utf-8")
    run = client.create_run(client.create_experiment(name))
    client.log_artifacts(run.info.run_id, str(model_dir), artifact_path="model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    version = client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    return client, version


def assert_champion_is_served(
    client: MlflowClient, version: ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alias resolves to ``version`` and its artifacts download through the server."""
    assert client.get_model_version_by_alias(version.name, "champion").version == version.version
    assert client.get_registered_model(version.name).aliases == {"champion": version.version}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", client.tracking_uri)
    uri = f"models:/{version.name}@champion"
    local = download_artifacts(artifact_uri=uri, dst_path=str(tmp_path / "download"))
    assert (Path(local) / "weights.txt").read_text(encoding="utf-8") == version.name


# -- MLflow ------------------------------------------------------------------------------------------


def test_mlflow_sqlite_registers_a_version_and_sets_an_alias(mlflow_server, tmp_path, monkeypatch):
    assert mlflow_server.backend_uri.startswith("sqlite:///")
    assert mlflow_server.url.startswith("http://127.0.0.1:")
    client, version = register_champion(mlflow_server.url, tmp_path)
    assert version.version == "1"
    assert_champion_is_served(client, version, tmp_path, monkeypatch)
    stored = list(Path(mlflow_server.artifacts_destination).rglob("weights.txt"))
    assert [path.read_text(encoding="utf-8") for path in stored] == [version.name]
    assert "Uvicorn running" in mlflow_server.log_path.read_text(encoding="utf-8")


@pytest.mark.mariadb
def test_mlflow_on_mariadb_works_the_same(mlflow_server_mariadb, mariadb_server, tmp_path, monkeypatch):
    assert mlflow_server_mariadb.backend_uri == (
        f"mysql+pymysql://mlflow:mlflow@127.0.0.1:{mariadb_server.port}/mlflow"
    )
    client, version = register_champion(mlflow_server_mariadb.url, tmp_path)
    assert_champion_is_served(client, version, tmp_path, monkeypatch)
    with mariadb_server.connect("mlflow") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT alias, version FROM registered_model_aliases WHERE name = %s", (version.name,))
        assert cursor.fetchall() == (("champion", 1),)


@pytest.mark.mariadb
def test_mariadb_database_and_user(mariadb_server):
    uri = mariadb_server.create_database("reports")
    assert uri == mariadb_server.sqlalchemy_uri("reports")
    assert uri.startswith("mysql+pymysql://mlflow:mlflow@127.0.0.1:")
    assert "reports" in mariadb_server.databases
    with mariadb_server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        assert ("reports",) in cursor.fetchall()


def test_mlflow_with_s3_artifacts_stores_them_in_the_bucket(s3_server, tmp_path, monkeypatch):
    destination = s3_server.create_bucket("mlflow-artifacts")
    assert destination == "s3://mlflow-artifacts/"
    assert s3_server.env()["MLFLOW_S3_ENDPOINT_URL"] == s3_server.endpoint_url
    workdir = tmp_path / "mlflow"
    with services.mlflow_server(workdir, artifacts_destination=destination, env=s3_server.env()) as server:
        client, version = register_champion(server.url, tmp_path)
        assert_champion_is_served(client, version, tmp_path, monkeypatch)
    keys = s3_server.keys("mlflow-artifacts")
    assert any(key.endswith("/artifacts/model/weights.txt") for key in keys), keys
    assert not services.group_members(server.process.pgid)


# -- process handling and failures -------------------------------------------------------------------


def test_a_server_that_exits_raises_with_its_exit_code_and_log(tmp_path):
    url = f"http://127.0.0.1:{services.free_port()}/"
    command = [PYTHON, "-c", "print('cannot open the database', flush=True); raise SystemExit(3)"]
    started = time.monotonic()
    with pytest.raises(services.ServiceStartError) as raised:
        ready = services.http_ready(url, 30)
        with services.server_process("broken", command, tmp_path / "broken.log", ready=ready):
            pytest.fail("the body must not run")
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "broken did not come up" in message and "exited with code 3" in message
    assert message.endswith("cannot open the database")


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    started: list[services.ServerProcess] = []

    def ready(server: services.ServerProcess) -> None:
        started.append(server)
        services.wait_for_http(f"http://127.0.0.1:{services.free_port()}/", 1, process=server.process)

    command = ["bash", "-c", "echo listening nowhere; sleep 60 & sleep 60"]
    begin = time.monotonic()
    with pytest.raises(services.ServiceStartError, match=r"(?s)not ready after 1 s.*listening nowhere"):
        with services.server_process("silent", command, tmp_path / "silent.log", ready=ready):
            pass
    assert time.monotonic() - begin < 10
    assert not services.group_members(started[0].pgid)


def test_the_group_is_stopped_when_the_body_raises(tmp_path):
    command = ["bash", "-c", "sleep 60 & sleep 60 & wait"]
    with pytest.raises(RuntimeError, match="body failed"):
        with services.server_process("sleepers", command, tmp_path / "sleepers.log") as server:
            services.wait_until(lambda: len(services.group_members(server.pgid)) == 3, 10, what="children")
            raise RuntimeError("body failed")
    assert not services.group_members(server.pgid)
    assert server.process.returncode is not None


def test_a_server_ignoring_sigterm_is_killed(tmp_path):
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('up', flush=True); time.sleep(60)"
    )
    log = tmp_path / "stubborn.log"
    with services.server_process("stubborn", [PYTHON, "-c", script], log) as server:
        services.wait_until(lambda: server.log_tail() == "up", 10, what="stubborn")
        begin = time.monotonic()
        server.stop(timeout=0.5)
        assert time.monotonic() - begin < 5
        assert not services.group_members(server.pgid)


def test_mlflow_server_that_cannot_start_raises_a_readable_error(tmp_path):
    begin = time.monotonic()
    with pytest.raises(services.ServiceStartError) as raised:
        with services.mlflow_server(tmp_path, backend_uri="bogus://nowhere", timeout=60):
            pytest.fail("the body must not run")
    assert time.monotonic() - begin < 45
    message = str(raised.value)
    assert message.startswith("MLflow server did not come up:")
    assert "unsupported URI 'bogus://nowhere'" in message


def test_missing_mariadb_raises_service_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(test_services, "SBIN_DIRS", ())
    with pytest.raises(test_services.ServiceNotInstalled, match="mariadbd is not installed"):
        with test_services.mariadb_server(tmp_path):
            pytest.fail("the body must not run")


def test_missing_prometheus_names_its_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(test_services, "SBIN_DIRS", ())
    missing = r"prometheus is not installed \(Debian: apt-get install prometheus\)"
    with pytest.raises(test_services.ServiceNotInstalled, match=missing):
        with test_services.prometheus_server(tmp_path, tmp_path / "prometheus.yml"):
            pytest.fail("the body must not run")


def test_failing_mariadb_install_raises_with_its_log(tmp_path, monkeypatch):
    fail = shutil.which("false")
    monkeypatch.setattr(test_services, "find_binary", lambda name: fail)
    with pytest.raises(services.ServiceStartError, match="mariadb-install-db failed with code 1"):
        with test_services.mariadb_server(tmp_path):
            pytest.fail("the body must not run")


def test_wait_helpers(tmp_path):
    assert not services.http_ok("not a url")
    assert not services.http_ok(f"http://127.0.0.1:{services.free_port()}/")
    with pytest.raises(TimeoutError, match="never: not ready after 0.2 s"):
        services.wait_until(lambda: False, 0.2, what="never")
    services.wait_until(lambda: True, 0, what="at once")
    assert services.log_tail(tmp_path / "missing.log") == ""
    assert not services.group_members(2**22 + 12345)
