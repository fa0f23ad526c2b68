"""The MLflow Model Registry as the commands use it: versions found by their tags, aliases, tags.

    with Registry(action="promote digits v3") as registry:   # MLFLOW_TRACKING_URI
        version = registry.version("digits", "3")
        registry.set_tags("digits", "3", {VALIDATION_STATUS_TAG: PASSED})   # registry.tags: what they mean
        registry.set_alias("digits", DEFAULT_ALIAS, "3")

MLflow's client retries a dead server for about four minutes by default; inside a Registry it makes
MLFLOW_HTTP_REQUEST_MAX_RETRIES and MLFLOW_HTTP_REQUEST_TIMEOUT bounded (MLFLOW_RETRY_DEFAULTS:
2 retries, 10 s) unless the environment sets them. Every failure becomes an MlopsCiError (exit 2)
naming the server, what was being done and what was not: "nothing was changed" before the first
write, else how many changes were made (rerunning the command converges).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from mlops_ci.core.errors import MlopsCiError

_NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST",)
MLFLOW_RETRY_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


@contextmanager
def bounded_mlflow_retries() -> Iterator[None]:
    """MLflow client retry and timeout defaults for this block, where the environment sets none."""
    added = [name for name in MLFLOW_RETRY_DEFAULTS if name not in os.environ]
    for name in added:
        os.environ[name] = MLFLOW_RETRY_DEFAULTS[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def is_server(uri: str) -> bool:
    """Whether a tracking URI names an MLflow server (http or https), not a local store."""
    return urlsplit(uri).scheme in ("http", "https")


def check_health(uri: str, timeout: float) -> None:
    """One GET of the server's /health, no retries: an MlopsCiError naming the URI unless it answers
    200 within `timeout` seconds."""
    url = uri.rstrip("/") + "/health"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as error:
        raise MlopsCiError(f"no answer from MLflow: {type(error).__name__}: {_first_line(error)}",
                           where=url) from error
    if response.status_code != 200:
        raise MlopsCiError(f"MLflow answered {response.status_code}: {_first_line(Exception(response.text))}",
                           where=url)


class NotFound(MlopsCiError):
    """The registry has no such model, version, alias or artifact."""


def _first_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:300] + "..."


def _literal(value: str) -> str:
    """A string literal for an MLflow search filter (its parser knows no escapes: pick the quotes)."""
    for quote in ("'", '"'):
        if quote not in value:
            return f"{quote}{value}{quote}"
    raise MlopsCiError(f"cannot search the registry for {value!r}: it holds both kinds of quotes")


class Registry:
    """An MLflow client for one command run; `action` names the run in error messages."""

    def __init__(self, tracking_uri: str | None = None, action: str = "the command") -> None:
        self.uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
        if not self.uri:
            raise MlopsCiError("MLFLOW_TRACKING_URI is not set: where is the MLflow server?")
        self.action = action
        self.writes = 0
        self._stack = ExitStack()
        self._client: Any = None

    def __enter__(self) -> Registry:
        self._stack.enter_context(bounded_mlflow_retries())
        try:
            from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel  # ~1 s import
        except ImportError as error:
            self._stack.close()
            raise MlopsCiError("the mlflow package is not installed (pip install mlflow-skinny)") from error
        self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._stack.close()

    # -- error handling ------------------------------------------------------------------------------

    def _call(self, doing: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

        try:
            return function(*args, **kwargs)
        except MlflowException as error:
            code = getattr(error, "error_code", "")
            if code in _NOT_FOUND_CODES or (code == "INVALID_PARAMETER_VALUE" and "not found" in str(error)):
                raise NotFound(f"{doing}: {_first_line(error)}", where=self.uri) from error
            raise self._failure(doing, error) from error
        except OSError as error:
            raise self._failure(doing, error) from error

    def _failure(self, doing: str, error: Exception) -> MlopsCiError:
        done = ("nothing was changed" if self.writes == 0 else
                f"stopped after {self.writes} change(s) to the registry: rerun the same command to finish")
        return MlopsCiError(f"MLflow failed while {doing} ({_first_line(error)}): {self.action} not done; "
                            f"{done}", where=self.uri)

    # -- reads ---------------------------------------------------------------------------------------

    def model(self, name: str) -> Any:
        """The registered model (its `aliases` map alias -> version)."""
        return self._call(f"reading registered model {name!r}", self._client.get_registered_model, name)

    def version(self, name: str, version: str) -> Any:
        """One model version."""
        return self._call(f"reading {name} version {version}", self._client.get_model_version, name, version)

    def versions_tagged(self, name: str | None, tag: str, value: str) -> list[Any]:
        """Versions (of model `name`, or of any model) whose tag `tag` is `value`, oldest first."""
        query = f"tags.`{tag}` = {_literal(value)}"
        if name is not None:
            query = f"name = {_literal(name)} and {query}"
        found = self._call(f"searching versions with {tag}={value}", self._client.search_model_versions,
                           query)
        return sorted(found, key=lambda version: (version.name, int(version.version)))

    def models(self) -> list[Any]:
        """Every registered model (each with its `aliases`)."""
        return list(self._call("listing registered models", self._client.search_registered_models))

    def versions(self, name: str) -> list[Any]:
        """Every version of model `name`, oldest first."""
        found = self._call(f"listing versions of {name}", self._client.search_model_versions,
                           f"name = {_literal(name)}")
        return sorted(found, key=lambda version: int(version.version))

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version number under `alias`, None when the alias is not set."""
        aliases = self.model(name).aliases or {}
        return str(aliases[alias]) if alias in aliases else None

    def run_metrics(self, run_id: str | None) -> dict[str, float]:
        """The latest value of each metric of run `run_id` ({} without a run)."""
        if not run_id:
            return {}
        return dict(self._call(f"reading run {run_id}", self._client.get_run, run_id).data.metrics)

    def artifact_text(self, run_id: str | None, path: str) -> str | None:
        """The text of artifact `path` of run `run_id`; None when the run has no such artifact."""
        if not run_id:
            return None
        with tempfile.TemporaryDirectory() as scratch:
            try:
                local = self._call(f"downloading {path} of run {run_id}", self._client.download_artifacts,
                                   run_id, path, scratch)
            except NotFound:
                return None
            return Path(local).read_text(encoding="utf-8")

    def artifact_paths(self, run_id: str, path: str) -> list[str]:
        """The artifacts directly under `path` of run `run_id` (empty when there are none)."""
        listed = self._call(f"listing {path} of run {run_id}", self._client.list_artifacts, run_id, path)
        return [entry.path for entry in listed]

    def download(self, run_id: str, path: str, destination: Path) -> Path:
        """Download artifact `path` (a file or folder) of run `run_id` into `destination`."""
        destination.mkdir(parents=True, exist_ok=True)
        return Path(self._call(f"downloading {path} of run {run_id}", self._client.download_artifacts,
                               run_id, path, str(destination)))

    # -- writes --------------------------------------------------------------------------------------

    def set_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        """Set tags on a model version (values cut to MLflow's 5,000 characters)."""
        for key, value in tags.items():
            self._call(f"tagging {name} version {version} with {key}", self._client.set_model_version_tag,
                       name, version, key, value[:5000])
            self.writes += 1

    def log_artifacts(self, run_id: str, folder: Path, path: str) -> None:
        """Log the files of `folder` as artifacts of run `run_id` under `path`."""
        self._call(f"logging {folder} to run {run_id}", self._client.log_artifacts, run_id, str(folder), path)
        self.writes += 1

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point `alias` of model `name` at `version`."""
        self._call(f"setting {name}@{alias} to version {version}", self._client.set_registered_model_alias,
                   name, alias, version)
        self.writes += 1

    def set_model_tags(self, name: str, tags: dict[str, str]) -> None:
        """Set tags on registered model `name`, in the order given."""
        for key, value in tags.items():
            self._call(f"tagging {name} with {key}", self._client.set_registered_model_tag, name, key, value)
            self.writes += 1

    def delete_model_tag(self, name: str, key: str) -> None:
        """Remove tag `key` from registered model `name`."""
        self._call(f"removing {key} from {name}", self._client.delete_registered_model_tag, name, key)
        self.writes += 1

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove `alias` of model `name`."""
        self._call(f"removing {name}@{alias}", self._client.delete_registered_model_alias, name, alias)
        self.writes += 1

    def copy_version(self, name: str, version: str, destination: str) -> Any:
        """Copy a version into registered model `destination` (created when absent); the new version."""
        copied = self._call(f"copying {name} version {version} to {destination}",
                            self._client.copy_model_version, f"models:/{name}/{version}", destination)
        self.writes += 1
        return copied

    # -- reads of `mlops-ci report` ------------------------------------------------------------------

    def version_by_alias(self, name: str, alias: str) -> Any:
        """The model version under `alias` (NotFound when the model or the alias does not exist)."""
        return self._call(f"reading {name}@{alias}", self._client.get_model_version_by_alias, name, alias)

    def run_experiment(self, run_id: str) -> str:
        """The id of the experiment that run `run_id` belongs to."""
        return self._call(f"reading run {run_id}", self._client.get_run, run_id).info.experiment_id
