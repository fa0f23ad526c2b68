"""What `mlops-ci local` starts for one run when the project names no GitHub or MLflow of its own.

The GitHub stand-in serves the project's state file (``<repo>/.mlops-ci/github-state.json``) in this
process with a token made for the run; an MLflow server keeps its sqlite database and artifacts
under ``<repo>/.mlops-ci/mlflow/``. Both stop when the run ends, whatever happens; the state stays.
"""

from __future__ import annotations

import importlib.util
import logging
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local.pulls import STATE_FILE
from mlops_ci.local.github.state import GitHubState
from mlops_ci.local.services import ServiceStartError, mlflow_server

MLFLOW_VARIABLE = "MLFLOW_TRACKING_URI"
DECISION_KEY_FILE = "decision-key"


@contextmanager
def local_github(folder: Path, state: GitHubState) -> Iterator[tuple[str, str]]:
    """Serve `state` (kept in `folder`'s state file) on loopback for one run: (API URL, token).

    The token is made for this run and forgotten after it: it is valid only while the run lasts.
    """
    try:
        # The `local` extra's pytest-httpserver: imported here so every other command works without it.
        from mlops_ci.local.github.server import LocalGitHub  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MlopsCiError("the local GitHub needs pytest-httpserver: pip install 'mlops-ci[local]' "
                           "(or pass --github-api-url)") from error
    token = secrets.token_urlsafe(24)
    server_log = logging.getLogger("werkzeug")  # one line per request: left off the user's console
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    try:
        with LocalGitHub(state, token=token, state_file=folder / STATE_FILE) as github:
            print(f"started the local GitHub at {github.url} (state: {folder / STATE_FILE})", flush=True)
            try:
                yield github.url, token
            finally:
                state.tokens.pop(token, None)  # the state file is written once more as the stand-in stops
    finally:
        server_log.setLevel(level)


def decision_key(folder: Path) -> str:
    """The project's local stand-in for the production environment's MLOPS_CI_DECISION_KEY (kept in
    ``folder/decision-key``, readable by its owner only, made on first use), so that local promotions
    seal their verdicts as real ones do."""
    path = folder / DECISION_KEY_FILE
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def wants_mlflow(started_files: list[Path], job: str | None) -> bool:
    """Whether a job of the workflows about to run (`job` only, if given) reads
    ``vars.MLFLOW_TRACKING_URI``."""
    for path in started_files:
        jobs = yaml.safe_load(path.read_text(encoding="utf-8")).get("jobs") or {}
        selected = [jobs[job]] if job in jobs else [] if job else list(jobs.values())
        if any(f"vars.{MLFLOW_VARIABLE}" in json.dumps(item) for item in selected):
            return True
    return False


@contextmanager
def local_mlflow(folder: Path) -> Iterator[str]:
    """An MLflow server for one run, its data under ``folder/mlflow``: its URL."""
    if importlib.util.find_spec("mlflow") is None:
        raise MlopsCiError("no MLflow tracking URI given and no MLflow to start a server with: "
                           "pip install 'mlops-ci[local]' or pass --mlflow-tracking-uri")
    try:
        with mlflow_server(folder / "mlflow") as server:
            print(f"started an MLflow server at {server.url} (data: {folder / 'mlflow'})", flush=True)
            yield server.url
    except ServiceStartError as error:
        raise MlopsCiError(str(error).splitlines()[0]) from error
