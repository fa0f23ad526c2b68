"""`mlops-ci doctor [DIR]`: whether a repository has each thing the mlops-ci workflows need.

One line per check, in this order, each beginning with its verdict so that `grep '^FAIL'` finds what
is wrong:

  ok   NAME: what was found
  FAIL NAME: what is missing or broken — fix: what to do
  skip NAME: why the check was not made

  dvc.yaml      DVC's own loader reads it (templates expanded) and it declares at least one stage
  dvc remote    a default remote is set in .dvc/config, and every output in the DVC cache is in it
                (`dvc status --cloud`, which gives up after --timeout seconds)
  model         .github/mlops-ci.yml names a model whose `path` is an out of a stage, whose flavor's
                package is installed, and whose `loader` (when set) imports from DIR
  params        every params file that a stage reads exists
  requirements  every requirement is pinned (`mlops-ci deps check`): --requirements FILE..., else
                those of requirements.txt, environment.yml and environment.yaml that exist
  mlflow        the server of --mlflow-uri (else MLFLOW_TRACKING_URI) answers GET /health within
                --timeout seconds; skipped when no URI is given

Inside GitHub Actions each failure is also an `::error::` annotation. Exit 0 every check passed or was
skipped, 1 some check failed, 2 DIR is not a folder of a git repository.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_ci.clients.mlflow import check_health, is_server
from mlops_ci.config import DEFAULT_PATH, load as load_config
from mlops_ci.config.sections import ModelConfig
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.proc import git_output, run_dvc
from mlops_ci.quality.deps.rules import check_files
from mlops_ci.training import flavors
from mlops_ci.training.pipeline import Declared, declared

OK, FAIL, SKIP = "ok", "FAIL", "skip"
DEFAULT_TIMEOUT = 30.0
DEFAULT_REQUIREMENTS = ("requirements.txt", "environment.yml", "environment.yaml")
SHOWN = 3  # names listed in one line before "and N more"
# `dvc status --cloud`: in the cache, not in the remote; in neither (nobody can pull it).
UNPUSHED = ("new", "missing")


@dataclass(frozen=True)
class Check:
    """The verdict of one check: OK, FAIL or SKIP, what was found, and for a failure the fix."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The check as one output line."""
        text = f"{self.status:<4} {self.name}: {self.detail}"
        return f"{text} — fix: {self.fix}" if self.status == FAIL else text


def _listed(names: Sequence[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def check_pipeline(repo: Path) -> tuple[Check, Declared | None]:
    """dvc.yaml, and what it declares when DVC can read it."""
    name = "dvc.yaml"
    if not (repo / "dvc.yaml").is_file():
        return Check(name, FAIL, "no dvc.yaml: the workflows run `dvc repro`",
                     "describe the pipeline's stages with `dvc stage add` and commit dvc.yaml"), None
    try:
        pipeline = declared(repo)
    except MlopsCiError as error:
        return Check(name, FAIL, error.message, "correct dvc.yaml until `dvc repro --dry` reads it"), None
    if not pipeline.stages:
        return Check(name, FAIL, "it declares no stage",
                     "add the pipeline's stages with `dvc stage add`"), None
    return Check(name, OK, f"{pipeline.stages} stage(s), {len(pipeline.outs)} out(s)"), pipeline


def _default_remote(repo: Path) -> tuple[str | None, str | None]:
    """The default remote of .dvc/config (what a clone in CI has) and its URL, or (None, why not)."""
    from dvc.repo import Repo  # pylint: disable=import-outside-toplevel  # ~0.3 s import, only here

    with Repo(str(repo)) as dvc_repo:
        name = dvc_repo.config.load_one("repo").get("core", {}).get("remote")
        merged = dvc_repo.config["core"].get("remote")
        if not name:
            return None, (f"the default remote {merged} is set only outside .dvc/config, which CI's clone "
                          "does not have" if merged else "no default remote")
        return name, dvc_repo.config["remote"].get(name, {}).get("url", "")


def check_remote(repo: Path, pipeline: Declared | None, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """A default DVC remote, holding every output of the DVC cache."""
    name = "dvc remote"
    if not (repo / ".dvc").is_dir():
        return Check(name, FAIL, "not a DVC project (no .dvc/)",
                     "dvc init, then dvc remote add --default storage URL, and commit .dvc/")
    remote, url = _default_remote(repo)
    if remote is None:
        return Check(name, FAIL, f"{url}: the workflows pull and push data there",
                     "dvc remote add --default storage URL (an object store CI can reach), "
                     "commit .dvc/config")
    if pipeline is None:
        return Check(name, SKIP, f"{remote} ({url}) is the default; whether it holds the data needs a "
                                 "dvc.yaml that DVC reads (above)")
    try:
        status, _notes = run_dvc(repo, "status", "--cloud", timeout=timeout)
    except MlopsCiError as error:
        return Check(name, FAIL, f"{remote} ({url}): {error.message}",
                     "check the remote's URL and credentials (dvc remote list; dvc status --cloud)")
    unpushed = sorted(path for path, state in (status or {}).items() if state in UNPUSHED)
    if unpushed:
        missing = any(status[path] == "missing" for path in unpushed)
        return Check(name, FAIL, f"{len(unpushed)} output(s) not in {remote} ({url}): {_listed(unpushed)}",
                     ("dvc repro (or dvc pull where the data is), then dvc push" if missing else "dvc push"))
    return Check(name, OK, f"{remote} ({url}) holds every output of the DVC cache")


def _unloadable(model: ModelConfig, repo: Path, timeout: float) -> Check | None:
    """The failure of a model whose flavor's package is missing or whose loader does not import."""
    package = flavors.missing_package(model.flavor)
    if package:
        return Check("model", FAIL, f"flavor {model.flavor} needs the package {package}, not installed here",
                     f"install the distribution that provides {package} and pin it in the requirements")
    problem = flavors.loader_error(model.loader, repo, timeout) if model.loader else None
    if problem:
        return Check("model", FAIL, f"model.loader: {problem}",
                     "name a module:function importable from the repository's root")
    return None


def check_model(repo: Path, pipeline: Declared | None, config_option: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> Check:
    """The config's model: its path an out, its flavor's package installed, its loader importable."""
    name = "model"
    try:
        config = load_config(config_option, repo=repo)
    except MlopsCiError as error:
        return Check(name, FAIL, str(error), "correct the config file (mlops-ci config check)")
    model = config.model
    where = config.source or DEFAULT_PATH.as_posix()
    if model is None:
        return Check(name, FAIL, f"{where} names no model: `mlops-ci track` registers none",
                     "add model: {name, path, flavor} naming the out the pipeline writes")
    unloadable = _unloadable(model, repo, timeout)
    if unloadable:
        return unloadable
    if pipeline is None:
        return Check(name, SKIP, f"{model.name}: flavor {model.flavor}'s library imports; whether "
                                 f"{model.path} is an out needs a dvc.yaml that DVC reads (above)")
    if not pipeline.has_out(model.path):
        return Check(name, FAIL, f"model.path {model.path} is not an out of any stage in dvc.yaml, so DVC "
                                 "neither versions nor restores it",
                     f"add {model.path} to the outs: of the stage that writes it")
    return Check(name, OK, f"{model.name}: {model.path} is a DVC out, flavor {model.flavor}'s library "
                             "imports (`mlops-ci track` loads the file itself after `dvc repro`)")


def check_params(repo: Path, pipeline: Declared | None) -> Check:
    """Every params file that a stage reads exists."""
    name = "params"
    if pipeline is None:
        return Check(name, SKIP, "which params files the stages read needs a dvc.yaml that DVC reads (above)")
    if not pipeline.params_files:
        return Check(name, OK, "no stage reads a params file")
    # A params file a stage writes (dvclive's results/train/params.yaml) is there once the pipeline runs.
    missing = [path for path in pipeline.params_files
               if not (repo / path).is_file() and not pipeline.produces(path)]
    if missing:
        return Check(name, FAIL, f"missing {_listed(missing)}, which stages of dvc.yaml read",
                     "commit the file, or drop it from the stages' params:")
    return Check(name, OK, ", ".join(pipeline.params_files))


def check_requirements(repo: Path, files: Sequence[str] | None = None) -> Check:
    """Every requirement of `files` (relative to `repo`; default: those of DEFAULT_REQUIREMENTS that
    exist) pinned to one version."""
    name = "requirements"
    chosen = list(files or [file for file in DEFAULT_REQUIREMENTS if (repo / file).is_file()])
    if not chosen:
        return Check(name, FAIL, f"none of {', '.join(DEFAULT_REQUIREMENTS)}: the workflows install from it",
                     "write requirements.txt with every dependency pinned (name==version)")
    try:
        pinning = check_files(os.path.relpath(repo / file) for file in chosen)
    except MlopsCiError as error:
        return Check(name, FAIL, str(error), "correct the file (mlops-ci deps check FILE shows it)")
    if pinning.found:
        shown = [f"{item.dependency.name} ({item.dependency.file}:{item.dependency.line})"
                 for item in pinning.found]
        return Check(name, FAIL, f"{len(shown)} of {pinning.checked} not pinned: {_listed(shown)}",
                     "; ".join(item.fix for item in pinning.found[:SHOWN])
                     + f" (mlops-ci deps check {' '.join(chosen)} lists every one)")
    return Check(name, OK, f"{pinning.checked} requirement(s) pinned in {', '.join(chosen)}")


def check_mlflow(uri: str | None, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """The MLflow server at `uri` answers; skipped without a URI or for a local store."""
    name = "mlflow"
    if not uri:
        return Check(name, SKIP, "no URI given (--mlflow-uri or MLFLOW_TRACKING_URI)")
    if not is_server(uri):
        return Check(name, SKIP, f"{uri} is a local store, not a server: nothing to ask")
    try:
        check_health(uri, timeout)
    except MlopsCiError as error:
        return Check(name, FAIL, str(error),
                     "start the server or correct the URI "
                     "(the workflows read the MLFLOW_TRACKING_URI secret)")
    return Check(name, OK, f"{uri} answers")


def doctor(repo: Path, *, config_option: str | None = None, requirements: Sequence[str] | None = None,
           mlflow_uri: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> list[Check]:
    """Every check of repository folder `repo`, in order (error, exit 2, when it is not one)."""
    if not repo.is_dir():
        raise MlopsCiError("not a folder", where=str(repo))
    if git_output(repo, "rev-parse", "--git-dir") is None:
        raise MlopsCiError("not in a git repository (git init)", where=str(repo))
    pipeline_check, pipeline = check_pipeline(repo)
    return [pipeline_check, check_remote(repo, pipeline, timeout),
            check_model(repo, pipeline, config_option, timeout), check_params(repo, pipeline),
            check_requirements(repo, requirements), check_mlflow(mlflow_uri, timeout)]


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci doctor`."""
    checks = doctor(Path(args.dir), config_option=args.config, requirements=args.requirements,
                    mlflow_uri=args.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI"), timeout=args.timeout)
    for check in checks:
        print(check.line(), flush=True)
        if check.status == FAIL and gha.in_actions():
            print(gha.annotation("error", f"{check.detail} — fix: {check.fix}",
                                 title=f"doctor: {check.name}"))
    failed = sum(check.status == FAIL for check in checks)
    print(f"doctor: {len(checks) - failed} of {len(checks)} check(s) passed or skipped, {failed} failed")
    return EXIT_REFUSED if failed else EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:  # pylint: disable=protected-access
    """Add `mlops-ci doctor`."""
    parser = subparsers.add_parser(
        "doctor", help="check that a repository has what the mlops-ci workflows need (exit 1 when not)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR",
                        help="the repository's folder (default .)")
    parser.add_argument("--mlflow-uri", help="the MLflow server to ask (default MLFLOW_TRACKING_URI)")
    parser.add_argument("--config", help="the config file (default DIR/.github/mlops-ci.yml)")
    parser.add_argument("--requirements", nargs="+", metavar="FILE",
                        help=f"requirement files, relative to DIR (default: those of "
                             f"{', '.join(DEFAULT_REQUIREMENTS)} that exist)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="how long a server (DVC remote, MLflow) may take to answer "
                             f"(default {DEFAULT_TIMEOUT:g})")
    parser.set_defaults(handler=run)
