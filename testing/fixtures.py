"""The tests' fixtures and helpers (registered by ``pytest_plugins = ["testing.fixtures"]`` in
tests/conftest.py): the GitHub stand-in and real MLflow / MariaDB / S3 servers on loopback.

Service fixtures are session-scoped (a server start costs seconds); a missing server binary turns
into a skip. Tests that use one live in tests/integration or tests/e2e (tests/conftest.py checks it).
Add further fixtures below the existing sections.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from mlops_ci.local import services
from mlops_ci.local.github.state import GitHubState
from testing import services as test_services
from testing.github import GitHubStandIn
from testing.project import make_project_repo

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "image-classifier"
T = TypeVar("T")

TEST_TOKEN = "test-token"
TEST_REPO = "acme/digits"
# An MLflow client against a dead server retries for minutes by default: fail fast instead.
MLFLOW_CLIENT_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


def enter_service(stack: ExitStack, service: AbstractContextManager[T]) -> T:
    """Enter a service context on ``stack``; a missing server binary skips the test."""
    try:
        return stack.enter_context(service)
    except test_services.ServiceNotInstalled as error:
        pytest.skip(str(error))
        raise  # not reached: pytest.skip raises


def seeded_github_state() -> GitHubState:
    """``acme/digits`` with branches main (default) and develop, and our caller templates as its
    dispatchable workflows (with the inputs they declare); accepts ``test-token``."""
    state = GitHubState()
    repo = state.add_repo(TEST_REPO, branches=["develop"])
    for template in sorted((ROOT / "workflows-templates").glob("*.yml")):
        document = yaml.safe_load(template.read_text(encoding="utf-8"))
        triggers = document.get("on", document.get(True))  # YAML 1.1 reads the key `on` as true
        if isinstance(triggers, dict) and "workflow_dispatch" in triggers:
            repo.add_workflow(template.name, list((triggers["workflow_dispatch"] or {}).get("inputs") or {}))
    state.add_token(TEST_TOKEN)
    return state


def github_http(github: GitHubStandIn, token: str | None = TEST_TOKEN) -> httpx.Client:
    """An httpx client for the stand-in, authenticated with ``token`` (none: anonymous)."""
    headers = {"Accept": "application/vnd.github+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=github.url, headers=headers, timeout=10)


# -- GitHub stand-in ---------------------------------------------------------------------------------


@pytest.fixture(name="github_api")
def fixture_github_api() -> Iterator[GitHubStandIn]:
    """A fresh GitHub stand-in per test, seeded by :func:`seeded_github_state`."""
    with GitHubStandIn(seeded_github_state(), token=TEST_TOKEN) as github:
        yield github
    assert not github.errors, f"the GitHub stand-in failed internally: {github.errors!r}"


@pytest.fixture(name="github_client")
def fixture_github_client(github_api: GitHubStandIn) -> Iterator[httpx.Client]:
    """An httpx client for ``github_api`` authenticated with ``test-token``."""
    with github_http(github_api) as client:
        yield client


# -- real servers ------------------------------------------------------------------------------------


@pytest.fixture(name="mlflow_client_env")
def fixture_mlflow_client_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded MLflow client retries and timeouts for this test."""
    for name, value in MLFLOW_CLIENT_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(name="mlflow_server", scope="session")
def fixture_mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.MlflowServer]:
    """An MLflow server with a sqlite backend and local proxied artifacts."""
    with ExitStack() as stack:
        yield enter_service(stack, services.mlflow_server(tmp_path_factory.mktemp("mlflow")))


def registered_model(tracking_uri: str, prefix: str, versions: int) -> tuple[str, Any]:
    """A new registered model `prefix-<random>` of `versions` versions (no artifacts), version 1 the
    champion; (its name, an MlflowClient)."""
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel  # services tier

    client = MlflowClient(tracking_uri, tracking_uri)
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    run = client.create_run(client.create_experiment(name))
    for _ in range(versions):
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", "1")
    return name, client


@pytest.fixture(name="mariadb_server", scope="session")
def fixture_mariadb_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[test_services.MariaDBServer]:
    """A MariaDB server (skips when ``mariadbd`` is not installed)."""
    with ExitStack() as stack:
        yield enter_service(stack, test_services.mariadb_server(tmp_path_factory.mktemp("mariadb")))


@pytest.fixture(name="mlflow_server_mariadb", scope="session")
def fixture_mlflow_server_mariadb(
    tmp_path_factory: pytest.TempPathFactory, mariadb_server: test_services.MariaDBServer
) -> Iterator[services.MlflowServer]:
    """An MLflow server whose backend store is database ``mlflow`` on :func:`mariadb_server`."""
    backend_uri = mariadb_server.create_database("mlflow")
    workdir = tmp_path_factory.mktemp("mlflow-mariadb")
    with ExitStack() as stack:
        yield enter_service(stack, services.mlflow_server(workdir, backend_uri))


@pytest.fixture(name="s3_server", scope="session")
def fixture_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[test_services.S3Server]:
    """An in-memory S3 stand-in (moto)."""
    with ExitStack() as stack:
        yield enter_service(stack, test_services.s3_server(tmp_path_factory.mktemp("s3")))


# -- scratch project repositories ------------------------------------------------------------------


@pytest.fixture(name="empty_folder")
def fixture_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder (no .github/mlops-ci.yml), outside Actions."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(name="project_repo")
def fixture_project_repo(tmp_path: Path) -> Path:
    """A scratch project repo: the example plus our caller templates, branches main and develop."""
    return make_project_repo(tmp_path / "digits", ROOT)


@pytest.fixture(name="actions")
def fixture_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pretend to run inside GitHub Actions; returns the job summary file."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return summary


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT's name<<delimiter blocks as a dict."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return {name: value for name, _, value in
            re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.MULTILINE | re.DOTALL)}


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool (Debian's `prometheus` package; dev/lib.sh installs it), `stdin` its input."""
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; dev/lib.sh does it)")
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, check=False,
                          timeout=120)


# -- local runs ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _env_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Local runs keep their requirement venvs in a session folder, not in the user's cache."""
    saved = os.environ.get("MLOPS_CI_ENV_CACHE")
    os.environ["MLOPS_CI_ENV_CACHE"] = str(tmp_path_factory.mktemp("env-cache"))
    yield
    if saved is None:
        del os.environ["MLOPS_CI_ENV_CACHE"]
    else:
        os.environ["MLOPS_CI_ENV_CACHE"] = saved


# -- helpers shared by a fast and an integration module of one domain ------------------------------


def predictions(labels, guesses) -> str:
    """An evaluation file (index,label,prediction) as the promote gates read it."""
    rows = [f"{index},{label},{guess}" for index, (label, guess) in enumerate(zip(labels, guesses))]
    return "index,label,prediction\n" + "\n".join(rows) + "\n"


# The champion metrics the alert tests derive their thresholds from.
CHAMPION = {"accuracy": 0.95, "val_loss": 0.2, "f1": 0.9}


def env_python(env: Path, code: str, cwd: Path | None = None) -> str:
    """What `code` prints when run by the python of virtual environment `env`."""
    return subprocess.run([str(env / "bin" / "python"), "-c", code], check=True, capture_output=True,
                          text=True, cwd=cwd).stdout.strip()
