"""`mlops-ci train plan|run|experiment`: decide whether a PR needs training; train, track, register.

plan   cheap, no data: does the change (BASE...HEAD) touch a pipeline input? dvc.yaml,
       dvc.lock, a `.dvc` data file, a stage's dependency, a param a stage declares, or a stage's
       definition as DVC resolves it (a `vars:` value); stages as HEAD has them, templates resolved
       (pipeline.stage_definitions). A PR that
       touches only docs never wakes a GPU runner. When it does, and MLFLOW_TRACKING_URI is set, the
       registry is asked for a version whose pipeline fingerprint (fingerprint.py) equals HEAD's: such
       a pipeline was trained already (a re-run, a release PR), so that version is reused instead
       (outputs reuse-version, reuse-run-id; `train` false). It also holds the names the change brings
       in to the team's conventions (`naming:` in the base branch's .github/mlops-ci.yml): the
       datasets of the `.dvc` files it adds or changes, the model name (MLOPS_CI_MODEL_NAME, else
       `model.name` of .github/mlops-ci.yml) and the MLflow experiment's (MLOPS_CI_EXPERIMENT, else
       `model:` of .github/mlops-ci.yml, else params.yaml model.experiment); exit 1 if not.
run    on the training runner: log the GPUs seen; `dvc repro --pull` (stages already run anywhere are
       restored from the run-cache instead of retrained); `dvc push --run-cache`; the project's track
       command logs the run to MLflow and registers the model; the version gets mlops-ci's tags (PR,
       commit, branch, workflow run, pipeline fingerprint) so promotion can find it; metrics, plots
       and dvc.lock are exported for the report job and logged to the run (mlops-ci/train-outputs).
       Before anything trains, with a track command to run: the MLflow experiment's name (as for plan)
       against `naming.experiment` of the commit's .github/mlops-ci.yml; exit 2 if not (so does
       `experiment`), and MLflow creates no experiment.
reuse  the version `plan` found: tag it with this PR too (mlops_ci.pr.N), download the outputs its
       run logged for the report job; no training, no new version.
experiment  one of the PR's parallel experiments (a matrix job on its own runner): `dvc exp run -S
       KEY=VALUE ...` (restored from the run-cache where it can be), `dvc push --run-cache`, the run
       logged to MLflow without registering a model version (only the PR's own training is a
       promotion candidate), and its params and metrics written as JSON for the report to compare.
"""

from __future__ import annotations

import argparse
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.config import load as load_config
from mlops_ci.config.sections import NamingPatterns
from mlops_ci.core import gha
from mlops_ci.training import naming
from mlops_ci.core.errors import EXIT_OK, CheckFailed, MlopsCiError
from mlops_ci.clients.mlflow import Registry
from mlops_ci.core.proc import git, git_output
from mlops_ci.core.text import md_escape
from mlops_ci.registry.tags import (COPIED_FROM_TAG, FINGERPRINT_TAG, PR_TAG, ROLLED_BACK,
                                    VALIDATION_STATUS_TAG, rollback_reason)
from mlops_ci.training.experiment import flatten, one_experiment, parse_sets
from mlops_ci.training.fingerprint import pipeline_fingerprint
from mlops_ci.training.pipeline import stage_definitions
from mlops_ci.training.run import DEFAULT_TRACK_COMMAND, OUTPUTS_ARTIFACT, pipeline_folder, run_reuse, train


# --- plan -------------------------------------------------------------------------------------------

@dataclass
class Pipeline:
    """What a change can touch: dependency paths, declared params per params file, tracked data."""

    deps: set[str] = field(default_factory=set)
    params: dict[str, set[str]] = field(default_factory=dict)


def read_pipeline(stages: dict[str, dict[str, Any]]) -> Pipeline:
    """Stage dependencies and declared params of resolved stage definitions
    (pipeline.stage_definitions), as paths relative to the project folder (a stage's own are
    relative to its `wdir`)."""
    pipeline = Pipeline()
    for stage in stages.values():
        wdir = str(stage.get("wdir") or ".")
        pipeline.deps.update(posixpath.normpath(posixpath.join(wdir, str(dep).rstrip("/")))
                             for dep in stage.get("deps") or [])
        for entry in stage.get("params") or []:
            declared = entry.items() if isinstance(entry, dict) else [("params.yaml", [entry])]
            for params_file, keys in declared:
                path = posixpath.normpath(posixpath.join(wdir, params_file))
                pipeline.params.setdefault(path, set()).update(str(key) for key in keys or [])
    return pipeline


def resolved_changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """The stages whose resolved definitions differ (added, removed, or changed by a value that
    `${...}` takes from a `vars:` file), as reasons to train."""
    return [f"stage changed: {name}" for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)]


def changed_params(keys: set[str], before: str | None, after: str | None) -> list[str]:
    """The params under the declared keys (dotted names or whole sections) whose values differ
    between two params texts, as dotted names."""
    old, new = flatten(yaml.safe_load(before or "") or {}), flatten(yaml.safe_load(after or "") or {})
    changed = set()
    for name in old.keys() | new.keys():
        declared = any(name == key or name.startswith(key + ".") for key in keys)
        if declared and old.get(name) != new.get(name):
            changed.add(name)
    return sorted(changed)


def reasons_to_train(pipeline: Pipeline, changed_files: list[str],
                     params_text: dict[str, tuple[str | None, str | None]]) -> list[str]:
    """Why the change needs the pipeline to run; empty when it touches no pipeline input."""
    reasons = []
    for path in changed_files:
        if path in ("dvc.yaml", "dvc.lock"):
            reasons.append(f"{path} changed")
        elif path.endswith(".dvc"):
            reasons.append(f"data changed: {path}")
        elif any(path == dep or path.startswith(dep + "/") for dep in pipeline.deps):
            reasons.append(f"dependency changed: {path}")
    for params_file, keys in sorted(pipeline.params.items()):
        before, after = params_text.get(params_file, (None, None))
        reasons += [f"param changed: {key}" for key in changed_params(keys, before, after)]
    return reasons


def naming_config(repo: Path, base: str) -> NamingPatterns:
    """The naming conventions of .github/mlops-ci.yml as the *base* commit has it (a PR can't loosen
    its own rules); the defaults when it has none."""
    return load_config(repo=repo, rev=base).naming


def naming_problems(changed_files: list[str], model: str | None, experiment: str | None,
                    config: NamingPatterns) -> list[str]:
    """Names the change brings in that break the team's conventions: datasets (the `.dvc` files it
    adds or changes, e.g. data/raw.dvc tracks "raw"), the registered model's and the MLflow
    experiment's name."""
    names = [("dataset", Path(path).name.removesuffix(".dvc"))
             for path in changed_files if path.endswith(".dvc")]
    names += [("model", model)] if model else []
    names += [("experiment", experiment)] if experiment else []
    return [problem for kind, name in names if (problem := naming.check(kind, name, config))]


def experiment_name(repo: Path, environ: dict[str, str]) -> tuple[str, str] | None:
    """The MLflow experiment the track command will log to, and where that name is set:
    MLOPS_CI_EXPERIMENT, else the `model:` section of .github/mlops-ci.yml (`experiment`, else `name`:
    what `mlops-ci track` logs to), else `model.experiment` of params.yaml (a project's own tracker
    made by an earlier `mlops-ci init`); None when none names one."""
    if environ.get("MLOPS_CI_EXPERIMENT"):
        return environ["MLOPS_CI_EXPERIMENT"], "MLOPS_CI_EXPERIMENT"
    config = load_config(repo=repo)
    if config.model is not None:
        key = "experiment" if config.model.experiment else "name"
        return config.model.experiment or config.model.name, f"{config.source} model.{key}"
    path = repo / "params.yaml"
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MlopsCiError(f"cannot read: {error}", where=str(path)) from error
    model = params.get("model") if isinstance(params, dict) else None
    name = model.get("experiment") if isinstance(model, dict) else None
    return (str(name), f"{path} model.experiment") if name else None


def model_name(repo: Path, environ: dict[str, str]) -> str | None:
    """The registered model's name: MLOPS_CI_MODEL_NAME, else `model.name` of .github/mlops-ci.yml."""
    if environ.get("MLOPS_CI_MODEL_NAME"):
        return environ["MLOPS_CI_MODEL_NAME"]
    model = load_config(repo=repo).model
    return model.name if model else None


def check_experiment_name(repo: Path) -> None:
    """Refuse (exit 2) an MLflow experiment name against `naming.experiment` of the commit's
    .github/mlops-ci.yml before anything trains and the track command creates the experiment."""
    found = experiment_name(repo, dict(os.environ))
    if found is None:
        return
    name, where = found
    problem = naming.check("experiment", name, naming_config(repo, "HEAD"))
    if problem:
        raise MlopsCiError(f"{problem}: rename it before MLflow creates the experiment", where=where)


def plan(repo: Path, base: str) -> list[str]:
    """The reasons to train for the change from `base` to HEAD in `repo` (a DVC project folder)."""
    if not (repo / "dvc.yaml").is_file():
        raise MlopsCiError("no dvc.yaml: not a DVC pipeline", where=str(repo))
    if git_output(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}") is None:
        raise MlopsCiError(f"no base revision {base!r} (fetch it: actions/checkout with fetch-depth: 0)",
                           where=str(repo))
    prefix = git(repo, "rev-parse", "--show-prefix")
    changed = [name[len(prefix):] for name in
               git(repo, "diff", "--name-only", f"{base}...HEAD", "--", ".").splitlines()
               if name.startswith(prefix)]
    # The pipeline as the commits have it (what the fingerprint reads too, so DVC resolves HEAD once).
    stages = stage_definitions(repo, "HEAD")
    pipeline = read_pipeline(stages)
    params_text = {name: (git_output(repo, "show", f"{base}:{prefix}{name}"),
                          (repo / name).read_text(encoding="utf-8") if (repo / name).is_file() else None)
                   for name in pipeline.params}
    present = [name for name in changed if (repo / name).exists()]
    experiment = experiment_name(repo, dict(os.environ))
    problems = naming_problems(present, model_name(repo, dict(os.environ)), experiment and experiment[0],
                               naming_config(repo, base))
    if problems:
        raise NamingBroken(problems)
    try:
        base_stages = stage_definitions(repo, base)
    except MlopsCiError:
        base_stages = {}  # no pipeline DVC can load at the base: every stage is new
    return reasons_to_train(pipeline, changed, params_text) + resolved_changes(base_stages, stages)


class NamingBroken(CheckFailed):
    """The change names a dataset or model against the team's conventions (exit 1)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def trained_version(registry: Registry, model: str | None, digest: str) -> Any | None:
    """The newest version (of `model`, or of any model) registered with pipeline fingerprint `digest`
    whose run kept the outputs the report reads; None when there is none."""
    found = [version for version in registry.versions_tagged(model, FINGERPRINT_TAG, digest)
             if COPIED_FROM_TAG not in (version.tags or {})]
    newest_first = sorted(found, key=lambda v: (int(v.creation_timestamp or 0), int(v.version)), reverse=True)
    for version in newest_first:
        if version.run_id and registry.artifact_paths(version.run_id, OUTPUTS_ARTIFACT):
            return version
    return None


def reusable(repo: Path) -> tuple[str, Any | None]:
    """HEAD's pipeline fingerprint ("" when it has none) and the version that already trained that
    pipeline (None: train). Nothing is looked up without MLFLOW_TRACKING_URI; a failed lookup is a
    warning and the change trains: a registry problem never skips training wrongly."""
    digest = pipeline_fingerprint(repo)
    if not digest or not os.environ.get("MLFLOW_TRACKING_URI"):
        return digest, None
    try:
        with Registry(action="the look-up of an already trained version") as registry:
            return digest, trained_version(registry, model_name(repo, dict(os.environ)), digest)
    except MlopsCiError as error:
        gha.report("warning", f"{error}: training instead")
        return digest, None


def run_plan(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train plan`: outputs `train` (true/false), `reasons`, `fingerprint` and,
    when an already trained version is reused, `reuse-version`, `reuse-run-id` and `model-name`."""
    try:
        reasons = plan(Path(args.repo), args.base)
    except NamingBroken as broken:
        gha.set_output("train", "false")
        listed = "\n".join(f"- {problem}" for problem in broken.problems)
        gha.append_summary(f"### train plan: ⛔ naming conventions\n\n{listed}\n\nRename, or change `naming:` "
                           "in `.github/mlops-ci.yml` on the base branch.\n")
        raise
    digest, reused = reusable(Path(args.repo)) if reasons else ("", None)
    needed = bool(reasons) and reused is None
    gha.set_output("train", "true" if needed else "false")
    gha.set_output("reasons", "\n".join(reasons))
    gha.set_output("fingerprint", digest)
    for name, value in (("reuse-version", "version"), ("reuse-run-id", "run_id"), ("model-name", "name")):
        gha.set_output(name, str(getattr(reused, value, "") or ""))
    if reused is not None:
        trained_for = (reused.tags or {}).get(PR_TAG)
        what = f"{reused.name} version {reused.version}" + (f" (trained for PR #{trained_for})"
                                                             if trained_for else "")
        text = f"this pipeline (fingerprint {digest[:12]}) was trained: {what} is reused, nothing trains"
        summary = (f"### train plan: ♻️ already trained\n\nThe pipeline at this commit (fingerprint "
                   f"`{digest[:12]}`) "
                   f"was trained as **{md_escape(what)}**: no training job, no new version; the report uses "
                   "its run.\n\n" + "\n".join(f"- {r}" for r in reasons[:50]))
        if (reused.tags or {}).get(VALIDATION_STATUS_TAG) == ROLLED_BACK:
            # Training the very same pipeline again must not sneak a rolled-back model past its rollback.
            why = rollback_reason(reused.tags)
            text += f"; it was rolled back ({why}), so promotion will refuse it: change the pipeline"
            summary += (f"\n\n⚠️ This version was **rolled back** ({md_escape(why)}): promotion will refuse "
                        "it. Fix what the rollback was for (code, data or params) to train a new version.")
    elif needed:
        text = f"training needed ({len(reasons)} reason(s)): " + "; ".join(reasons[:10])
        summary = "### train plan: 🏋️ training needed\n\n" + "\n".join(f"- {r}" for r in reasons[:50])
    else:
        text = f"no pipeline input changed since {args.base}: training skipped"
        summary = f"### train plan: 💤 skipped\n\nNo pipeline input changed since `{args.base}`."
    print(f"train plan: {text}")
    gha.append_summary(summary)
    return EXIT_OK


def tracked(args: argparse.Namespace) -> bool:
    """Whether the run is logged to MLflow: a tracking server and a track command."""
    return bool(os.environ.get("MLFLOW_TRACKING_URI") and args.track_command)


def run_train(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train run`: the experiment's name is checked before anything trains."""
    repo = pipeline_folder(args.repo)
    if tracked(args):
        check_experiment_name(repo)
    return train(repo, args)


def run_experiment(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train experiment`: the experiment's name is checked before it runs."""
    repo = pipeline_folder(args.repo)
    sets = parse_sets(args.set)
    if tracked(args):
        check_experiment_name(repo)
    return one_experiment(repo, sets, args)


# --- the command ------------------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci train plan|run|reuse|experiment` to the CLI."""
    parser = subparsers.add_parser("train", help="decide whether to train; train, track and register",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="train_command", metavar="plan|run|reuse|experiment", required=True)
    plan_parser = commands.add_parser("plan", help="does the change touch a pipeline input? was it trained?")
    plan_parser.add_argument("--base", required=True,
                             help="the revision the PR merges into (e.g. origin/develop)")
    plan_parser.add_argument("--repo", default=".", help="the DVC project folder (default .)")
    plan_parser.set_defaults(handler=run_plan)
    run_parser = commands.add_parser("run", help="dvc repro --pull, dvc push --run-cache, track, register")
    run_parser.add_argument("targets", nargs="*", help="dvc repro targets (default: the whole pipeline)")
    run_parser.add_argument("--repo", default=".", help="the DVC project folder (default .)")
    run_parser.add_argument("--track-command", default=DEFAULT_TRACK_COMMAND,
                            help="logs the run to MLflow and registers the model; writes its result JSON "
                                 f"to $MLOPS_CI_TRACK_OUTPUT (default: {DEFAULT_TRACK_COMMAND})")
    run_parser.add_argument("--pr", help="the PR number, for tags (default: none)")
    run_parser.add_argument("--export", metavar="DIR", help="copy metrics, plots and dvc.lock here")
    run_parser.set_defaults(handler=run_train)
    reuse_parser = commands.add_parser(
        "reuse", help="reuse the version plan found: tag it, bring its outputs")
    reuse_parser.add_argument("--model", required=True, help="the registered model (plan's model-name)")
    reuse_parser.add_argument("--version", required=True, help="its version (plan's reuse-version)")
    reuse_parser.add_argument("--pr", help="the PR it is reused for: tag mlops_ci.pr.N (promote --pr finds)")
    reuse_parser.add_argument("--output", default=".", metavar="DIR",
                              help="where its run's metrics, plots and dvc.lock go (default .)")
    reuse_parser.set_defaults(handler=run_reuse)
    experiment_parser = commands.add_parser("experiment", help="one parallel experiment: dvc exp run -S ...")
    experiment_parser.add_argument("targets", nargs="*", help="dvc exp run targets (default: whole pipeline)")
    experiment_parser.add_argument("--set", action="append", default=[], required=True, metavar="KEY=VALUE",
                                   help="a param to set ([FILE:]KEY=VALUE; repeat, or space-separated)")
    experiment_parser.add_argument("--name", help="the experiment's name (default: its settings)")
    experiment_parser.add_argument("--out-dir", required=True, metavar="DIR",
                                   help="write the experiment's params and metrics as DIR/SLUG.json (for the "
                                        "report; SLUG names the param set)")
    experiment_parser.add_argument("--repo", default=".", help="the DVC project folder (default .)")
    experiment_parser.add_argument("--track-command", default=DEFAULT_TRACK_COMMAND,
                                   help="logs the run to MLflow (run with MLOPS_CI_REGISTER=false: no model "
                                        f"version); default: {DEFAULT_TRACK_COMMAND}")
    experiment_parser.add_argument("--pr", help="the PR number, for the run's tags")
    experiment_parser.set_defaults(handler=run_experiment)
