"""What `mlops-ci report` reads at the edges: dvc's JSON output and git revisions of the DVC project
(through core.proc), the champion and the PR's run from MLflow (through clients.mlflow.Registry), and
where the MLflow UI shows them."""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git, run_dvc
from mlops_ci.report.data import BASE, NEW, read_tracked, trained_revision
from mlops_ci.report.records import NO_CHAMPION, NOT_APPLICABLE, UNAVAILABLE, Champion, CodeQuality

# The lint-test workflow's outputs (toJSON(needs.lint-test.outputs)) -> CodeQuality's fields.
CODE_QUALITY_OUTPUTS = {"pylint-score": "pylint_score", "coverage": "coverage",
                        "base-pylint-score": "base_pylint_score", "base-coverage": "base_coverage",
                        "new-code-pylint": "new_code_pylint", "new-code-coverage": "new_code_coverage"}


def code_quality(text: str | None, where: str = "--code-quality") -> CodeQuality:
    """The lint-test job's outputs, a JSON object of strings; empty values (a figure that job did not
    measure) and keys it may add later are left out. `null` is no outputs: what toJSON gives for a
    caller whose train job doesn't need lint-test. MlopsCiError when it is not such an object."""
    if not text:
        return CodeQuality()
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as error:
        raise MlopsCiError(f"not JSON: {error.msg} at character {error.pos}", where=where) from error
    if outputs is None:
        return CodeQuality()
    if not isinstance(outputs, dict):
        raise MlopsCiError("expected a JSON object of the lint-test outputs", where=where)
    figures = {}
    for key, field_name in CODE_QUALITY_OUTPUTS.items():
        value = outputs.get(key)
        if value in (None, ""):
            continue
        try:
            figures[field_name] = float(value)
        except (TypeError, ValueError) as error:
            raise MlopsCiError(f"{key}: {value!r} is not a number", where=where) from error
    return CodeQuality(**figures)


def collect_dvc(repo: Path, base: str) -> tuple[dict[str, Any], list[str]]:
    """The four DVC JSON outputs (metrics, params and plots: BASE against the workspace; data: BASE
    against trained_revision), the outputs both revisions record, and DVC's warnings."""
    new = trained_revision(repo)
    outputs: dict[str, Any] = {"outs": {BASE: read_tracked(repo, base), NEW: read_tracked(repo, new)}}
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlops-ci-dvc-") as scratch:
        images = str(Path(scratch) / "plots")
        commands = {"metrics": ("metrics", "diff", base, "--all"), "params": ("params", "diff", base),
                    "data": ("diff", base, new), "plots": ("plots", "diff", base, "-o", images)}
        # Read-only commands: run side by side (about half the wall time); errors in this order. Each
        # has a DVC site cache of its own: sharing one, `dvc diff` once in 90 runs here lost the
        # base's side of an output (reported "added", not "modified"); none in 90 since.
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            futures = {key: pool.submit(run_dvc, repo, *args, site_cache=Path(scratch) / f"site-{key}")
                       for key, args in commands.items()}
        for key, future in futures.items():
            outputs[key], notes = future.result()
            warnings.extend(notes)
    return outputs, warnings


def check_repo(repo: Path, base: str) -> tuple[str, str]:
    """(HEAD commit, base commit) of a DVC repository; MlopsCiError when it is not one or BASE is unknown."""
    if not repo.is_dir():
        raise MlopsCiError("no such directory", where=str(repo))
    if not (repo / ".dvc").is_dir():
        raise MlopsCiError("not a DVC repository (no .dvc directory): run `dvc init`, or point --repo at "
                           "the project root", where=str(repo))
    head = git(repo, "rev-parse", "HEAD")
    try:
        base_commit = git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except MlopsCiError as error:
        raise MlopsCiError(f"base revision {base!r} not found (fetch it: actions/checkout with "
                           "fetch-depth: 0, or git fetch origin BRANCH)", where=str(repo)) from error
    return head, base_commit


def _mlflow_error(error: MlopsCiError) -> str:
    """MLflow's own message (the Registry's error wraps it in a command's failure sentence), cut."""
    text = " ".join(str(error.__cause__ or error).split())
    return text if len(text) <= 200 else text[:200] + "..."


def _champion(registry: Registry, model: str, alias: str) -> Champion:
    """The model version under `alias` and its run's metrics; NO_CHAMPION when there is none,
    UNAVAILABLE (with the reason as message) when MLflow fails."""
    try:
        version = registry.version_by_alias(model, alias)
        metrics = registry.run_metrics(version.run_id)
        return Champion("ok", model, alias, str(version.version), version.run_id, metrics)
    except NotFound as error:   # no such model, or no version under the alias
        return Champion(NO_CHAMPION, model, alias, message=_mlflow_error(error))
    except MlopsCiError as error:
        return Champion(UNAVAILABLE, model, alias, message=f"MLflow unavailable: {_mlflow_error(error)}")


def fetch_mlflow(tracking_uri: str | None, model: str | None, alias: str,
                 run_id: str | None) -> tuple[Champion, str | None, list[str]]:
    """(champion, experiment id of --run-id, warnings) from the MLflow server; never raises for the
    server's sake: an unreachable server makes the champion UNAVAILABLE, with a warning."""
    if not tracking_uri or (model is None and run_id is None):
        why = "MLFLOW_TRACKING_URI is not set" if not tracking_uri else "no --model given"
        return Champion(NOT_APPLICABLE, model, alias, message=why), None, []
    warnings: list[str] = []
    champion = Champion(NOT_APPLICABLE, model, alias, message="no --model given")
    experiment_id = None
    with ExitStack() as stack:
        try:
            registry = stack.enter_context(Registry(tracking_uri, action="the report"))
        except MlopsCiError as error:   # the mlflow package is not installed
            return Champion(UNAVAILABLE, model, alias, message=error.message), None, [error.message]
        if model is not None:
            champion = _champion(registry, model, alias)
            if champion.status == UNAVAILABLE:
                warnings.append(f"champion {model}@{alias}: {champion.message}")
        if run_id is not None and champion.status != UNAVAILABLE:
            try:
                experiment_id = registry.run_experiment(run_id)
            except MlopsCiError as error:
                warnings.append(f"MLflow run {run_id}: {_mlflow_error(error)}")
    return champion, experiment_id, warnings


def _segment(text: str) -> str:
    return quote(str(text), safe="")


def _without_credentials(url: str) -> str:
    """The URL without user:password@ (a comment must never show them)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def mlflow_links(tracking_uri: str | None, *, experiment_id: str | None = None, run_id: str | None = None,
                 model: str | None = None, version: str | None = None) -> dict[str, str | None]:
    """Links into the MLflow UI (only for an http(s) tracking URI)."""
    links: dict[str, str | None] = {"mlflow_run": None, "model_version": None}
    if not tracking_uri or not tracking_uri.startswith(("http://", "https://")):
        return links
    uri = _without_credentials(tracking_uri.rstrip("/"))
    if run_id and experiment_id:
        links["mlflow_run"] = f"{uri}/#/experiments/{_segment(experiment_id)}/runs/{_segment(run_id)}"
    if model and version:
        links["model_version"] = f"{uri}/#/models/{_segment(model)}/versions/{_segment(version)}"
    return links
