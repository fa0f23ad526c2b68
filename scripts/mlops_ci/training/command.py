"""`mlops-ci train plan|run|experiment`: decide whether a PR needs training; train, track, register.

plan   cheap, no data: does the change (BASE...HEAD) touch a pipeline input? dvc.yaml,
       dvc.lock, a `.dvc` data file, a stage's dependency, or a param a stage declares. A PR that
       touches only docs never wakes a GPU runner. When it does, and MLFLOW_TRACKING_URI is set, the
       registry is asked for a version whose pipeline fingerprint (fingerprint.py) equals HEAD's: such
       a pipeline was trained already (a re-run, a release PR), so that version is reused instead
       (outputs reuse-version, reuse-run-id; `train` false). It also holds the names the change brings
       in to the team's conventions (`naming:` in the base branch's .github/mlops-ci.yml): the
       datasets of the `.dvc` files it adds or changes, the model name (MLOPS_CI_MODEL_NAME) and the
       MLflow experiment's (MLOPS_CI_EXPERIMENT, else params.yaml model.experiment); exit 1 if not.
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
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.config import load as load_config
from mlops_ci.config.sections import NamingPatterns
from mlops_ci.training import experiments
from mlops_ci.core import gha
from mlops_ci.training import naming
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, CheckFailed, MlopsCiError
from mlops_ci.training.fingerprint import FINGERPRINT_TAG, NotFingerprintable, fingerprint
from mlops_ci.clients.mlflow import COPY_TAG, PR_TAG, ROLLED_BACK, STATUS_TAG, Registry, pr_tag, rollback_reason
from mlops_ci.core.proc import run_dvc
from mlops_ci.core.text import md_escape

# Bounded MLflow client retries for the track command when the caller set none (the client's own
# defaults take about four minutes to give up on a dead server).
MLFLOW_CLIENT_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}
OUTPUTS_ARTIFACT = "mlops-ci/train-outputs"   # the run's copy of what export_outputs exported


# --- plan -------------------------------------------------------------------------------------------

@dataclass
class Pipeline:
    """What a change can touch: dependency paths, declared params per params file, tracked data."""

    deps: set[str] = field(default_factory=set)
    params: dict[str, set[str]] = field(default_factory=dict)


def read_pipeline(dvc_yaml: str) -> Pipeline:
    """Stage dependencies and declared params of a dvc.yaml text."""
    try:
        document = yaml.safe_load(dvc_yaml) or {}
    except yaml.YAMLError as error:
        raise MlopsCiError(f"malformed dvc.yaml: {error}") from error
    pipeline = Pipeline()
    for stage in (document.get("stages") or {}).values():
        pipeline.deps.update(str(dep).rstrip("/") for dep in stage.get("deps") or [])
        for entry in stage.get("params") or []:
            if isinstance(entry, dict):
                for params_file, keys in entry.items():
                    pipeline.params.setdefault(params_file, set()).update(keys or [])
            else:
                pipeline.params.setdefault("params.yaml", set()).add(str(entry))
    return pipeline


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(_flatten(value, f"{prefix}{key}."))
    return {key.rstrip("."): value for key, value in flat.items()}


def changed_params(keys: set[str], before: str | None, after: str | None) -> list[str]:
    """The params under the declared keys (dotted names or whole sections) whose values differ
    between two params texts, as dotted names."""
    old, new = _flatten(yaml.safe_load(before or "") or {}), _flatten(yaml.safe_load(after or "") or {})
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


def _git(repo: Path, *args: str, check: bool = True) -> str | None:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        if not check:
            return None
        detail = (done.stderr.strip().splitlines() or [str(done.returncode)])[-1]
        raise MlopsCiError(f"git {' '.join(args)}: {detail}", where=str(repo))
    return done.stdout


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
    MLOPS_CI_EXPERIMENT, else `model.experiment` of params.yaml (the track commands of `mlops-ci init`
    and of the example read them in that order); None when neither names one."""
    if environ.get("MLOPS_CI_EXPERIMENT"):
        return environ["MLOPS_CI_EXPERIMENT"], "MLOPS_CI_EXPERIMENT"
    path = repo / "params.yaml"
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MlopsCiError(f"cannot read: {error}", where=str(path)) from error
    model = params.get("model") if isinstance(params, dict) else None
    name = model.get("experiment") if isinstance(model, dict) else None
    return (str(name), f"{path} model.experiment") if name else None


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
    if _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False) is None:
        raise MlopsCiError(f"no base revision {base!r} (fetch it: actions/checkout with fetch-depth: 0)",
                           where=str(repo))
    prefix = (_git(repo, "rev-parse", "--show-prefix") or "").strip()
    changed = [name[len(prefix):] for name in
               (_git(repo, "diff", "--name-only", f"{base}...HEAD", "--", ".") or "").splitlines()
               if name.startswith(prefix)]
    pipeline = read_pipeline((repo / "dvc.yaml").read_text(encoding="utf-8"))
    params_text = {name: (_git(repo, "show", f"{base}:{prefix}{name}", check=False),
                          (repo / name).read_text(encoding="utf-8") if (repo / name).is_file() else None)
                   for name in pipeline.params}
    present = [name for name in changed if (repo / name).exists()]
    experiment = experiment_name(repo, dict(os.environ))
    problems = naming_problems(present, os.environ.get("MLOPS_CI_MODEL_NAME"), experiment and experiment[0],
                               naming_config(repo, base))
    if problems:
        raise NamingBroken(problems)
    return reasons_to_train(pipeline, changed, params_text)


class NamingBroken(CheckFailed):
    """The change names a dataset or model against the team's conventions (exit 1)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def pipeline_fingerprint(repo: Path, rev: str = "HEAD") -> str:
    """The fingerprint of the pipeline of `repo` (a DVC project folder) as commit `rev` has it; ""
    (and why, printed) when it has none: no git, no committed dvc.yaml, or a feature the fingerprint
    does not follow. Without one the pipeline trains and its version carries no fingerprint."""

    def read(path: str) -> str | None:
        return _git(repo, "show", f"{rev}:{prefix}{path}", check=False)

    def object_id(path: str) -> str | None:
        return (_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}:{prefix}{path}", check=False)
                or "").strip() or None

    try:
        prefix = (_git(repo, "rev-parse", "--show-prefix") or "").strip()
        dvc_yaml = read("dvc.yaml")
        if dvc_yaml is None:
            raise NotFingerprintable(f"no dvc.yaml committed at {rev}")
        return fingerprint(dvc_yaml, read, object_id)
    except MlopsCiError as why:
        print(f"train: no pipeline fingerprint: {why}")
        return ""


def trained_version(registry: Registry, model: str | None, digest: str) -> Any | None:
    """The newest version (of `model`, or of any model) registered with pipeline fingerprint `digest`
    whose run kept the outputs the report reads; None when there is none."""
    found = [version for version in registry.versions_tagged(model, FINGERPRINT_TAG, digest)
             if COPY_TAG not in (version.tags or {})]
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
            return digest, trained_version(registry, os.environ.get("MLOPS_CI_MODEL_NAME") or None, digest)
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
        if (reused.tags or {}).get(STATUS_TAG) == ROLLED_BACK:
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


# --- run --------------------------------------------------------------------------------------------

NOTHING_RAN = "No stage ran: dvc repro found the pipeline up to date."
_STAGE_RAN = re.compile(r"Running stage '([^']+)'")
_STAGE_RESTORED = re.compile(r"Stage '([^']+)' is cached - skipping run")
_STAGE_UNCHANGED = re.compile(r"Stage '([^']+)' didn't change, skipping")


def stage_outcomes(log: str) -> dict[str, str]:
    """Each stage's fate in a `dvc repro` log: ran, restored (from the run-cache) or unchanged."""
    outcomes: dict[str, str] = {}
    for pattern, outcome in ((_STAGE_RAN, "ran"), (_STAGE_RESTORED, "restored"),
                             (_STAGE_UNCHANGED, "unchanged")):
        for match in pattern.finditer(log):
            outcomes[match.group(1)] = outcome
    return outcomes


def gpus_seen() -> list[str]:
    """The GPUs nvidia-smi lists (name, memory, driver); empty without one."""
    if shutil.which("nvidia-smi") is None:
        return []
    done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                           "--format=csv,noheader"], capture_output=True, text=True, check=False, timeout=60)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    print(f"$ dvc {' '.join(args)}", flush=True)
    done = subprocess.run(["dvc", *args], cwd=repo, capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, end="", flush=True)
    return done


def has_remote(repo: Path) -> bool:
    """True when the DVC project has a default remote to pull from and push to."""
    done = subprocess.run(["dvc", "remote", "default"], cwd=repo, capture_output=True, text=True, check=False)
    return done.returncode == 0 and bool(done.stdout.strip())


def track_env(environ: dict[str, str], pr: str | None, output: Path,
              registering: bool = True) -> dict[str, str]:
    """The track command's environment: bounded MLflow retries unless set, the PR, the output file,
    and MLOPS_CI_REGISTER=false when the run must not become a model version."""
    env = {**MLFLOW_CLIENT_DEFAULTS, **environ, "MLOPS_CI_TRACK_OUTPUT": str(output)}
    if pr:
        env["MLOPS_CI_PR_NUMBER"] = pr
    if not registering:
        env["MLOPS_CI_REGISTER"] = "false"
    return env


def version_tags(environ: dict[str, str], pr: str | None, digest: str = "") -> dict[str, str]:
    """The tags mlops-ci keeps on every model version it registers (what promotion and the reuse of
    an already trained pipeline look up)."""
    tags = {"mlops_ci.commit": environ.get("GITHUB_SHA", ""),
            "mlops_ci.branch": environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME", ""),
            PR_TAG: pr or "", **({pr_tag(pr): "true"} if pr else {}), FINGERPRINT_TAG: digest}
    if all(environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        tags["mlops_ci.run_url"] = (f"{environ['GITHUB_SERVER_URL']}/{environ['GITHUB_REPOSITORY']}"
                                    f"/actions/runs/{environ['GITHUB_RUN_ID']}")
    return {name: value for name, value in tags.items() if value}


def track(repo: Path, command: str, pr: str | None, registering: bool = True) -> dict[str, Any]:
    """Run the project's track command; the run id, model name and version it reports."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "track.json"
        done = subprocess.run(shlex.split(command), cwd=repo,
                              env=track_env(dict(os.environ), pr, output, registering),
                              capture_output=True, text=True, check=False)
        print(done.stdout + done.stderr, end="", flush=True)
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines()
                      or ["no output"])[-1]
            raise MlopsCiError(f"the track command failed (exit {done.returncode}): {detail}",
                               where=os.environ.get("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"))
        if not output.is_file():
            raise MlopsCiError("the track command wrote no result: it must write "
                               '{"run_id", "model_name", "model_version"} JSON to $MLOPS_CI_TRACK_OUTPUT')
        return json.loads(output.read_text(encoding="utf-8"))


def keep_version(result: dict[str, Any], tags: dict[str, str], outputs: Path | None) -> None:
    """Make sure the registered version carries mlops-ci's tags and its run the exported outputs (what
    a later reuse of the version reports from); idempotent."""
    name, version = result["model_name"], str(result["model_version"])
    with Registry(action=f"tagging {name} version {version}") as registry:
        registry.set_tags(name, version, tags)
        if outputs is not None and result.get("run_id"):
            registry.log_artifacts(str(result["run_id"]), outputs, OUTPUTS_ARTIFACT)


def export_outputs(repo: Path, destination: Path) -> list[str]:
    """Copy the pipeline's metrics and plots files (as dvc.yaml declares them) for the report job."""
    document = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8")) or {}
    paths: set[str] = {"dvc.lock"}
    for stage in (document.get("stages") or {}).values():
        for kind in ("metrics", "plots"):
            for entry in stage.get(kind) or []:
                paths.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    copied = []
    for path in sorted(paths):
        source = repo / path
        if source.is_file():
            (destination / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / path)
            copied.append(path)
        elif source.is_dir():
            shutil.copytree(source, destination / path, dirs_exist_ok=True)
            copied.append(path)
    return copied


def _pipeline(repo_option: str) -> Path:
    repo = Path(repo_option)
    if not (repo / "dvc.yaml").is_file():
        raise MlopsCiError("no dvc.yaml: not a DVC pipeline", where=str(repo))
    return repo


def reproduce(repo: Path, command: tuple[str, ...], args: list[str]) -> tuple[dict[str, str] | None, bool]:
    """Run `dvc repro` or `dvc exp run` (with --pull when there is a remote, then `dvc push
    --run-cache`): (each stage's outcome, or None when the pipeline failed, reported; whether a
    remote was used)."""
    remote = has_remote(repo)
    done = _dvc(repo, *command, *(["--pull"] if remote else []), *args)
    if done.returncode != 0:
        gha.report("error", f"dvc {' '.join(command)} failed: "
                   + (done.stderr.strip().splitlines() or ["see the log"])[-1])
        return None, remote
    if remote:
        push = _dvc(repo, "push", "--run-cache")
        if push.returncode != 0:
            raise MlopsCiError("dvc push --run-cache failed: "
                               + (push.stderr.strip().splitlines() or ["?"])[-1])
    return stage_outcomes(done.stdout + done.stderr), remote


def _ran(stages: dict[str, str]) -> list[str]:
    return sorted(stage for stage, outcome in stages.items() if outcome == "ran")


def run_train(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train run`."""
    repo = _pipeline(args.repo)
    if os.environ.get("MLFLOW_TRACKING_URI") and args.track_command:
        check_experiment_name(repo)
    gpus = gpus_seen()
    print("GPUs: " + ("; ".join(gpus) if gpus else "none seen (nvidia-smi absent or silent): the CPU trains"))
    stages, remote = reproduce(repo, ("repro",), args.targets)
    if stages is None:
        return EXIT_REFUSED
    result: dict[str, Any] = {}
    pr = args.pr or None
    if args.export:
        export_outputs(repo, Path(args.export))
    if os.environ.get("MLFLOW_TRACKING_URI") and args.track_command:
        result = track(repo, args.track_command, pr)
        if result.get("model_name") and result.get("model_version"):
            digest = pipeline_fingerprint(repo)
            keep_version(result, version_tags(dict(os.environ), pr, digest),
                         Path(args.export) if args.export else None)
    else:
        print("MLFLOW_TRACKING_URI not set (or no --track-command): the run is not tracked")
    for name in ("run_id", "model_name", "model_version"):
        gha.set_output(name.replace("_", "-"), str(result.get(name) or ""))
    ran = _ran(stages)
    gha.set_output("stages-ran", " ".join(ran))
    gha.append_summary(train_summary(gpus, stages, result, remote))
    done = (f"{len(ran)} stage(s) ran, {len(stages) - len(ran)} restored or unchanged" if stages
            else NOTHING_RAN.lower().rstrip("."))
    print(f"train: {done}; model {result.get('model_name', '-')} version {result.get('model_version', '-')}")
    return EXIT_OK


# --- reuse ------------------------------------------------------------------------------------------

def run_reuse(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train reuse`: tag the already trained version with this PR, bring its
    run's outputs for the report; outputs run-id, model-name, model-version like `train run`."""
    with Registry(action=f"the reuse of {args.model} version {args.version}") as registry:
        version = registry.version(args.model, args.version)
        if args.pr:
            registry.set_tags(args.model, args.version, {pr_tag(args.pr): "true"})
        with tempfile.TemporaryDirectory() as scratch:
            outputs = registry.download(version.run_id, OUTPUTS_ARTIFACT, Path(scratch))
            shutil.copytree(outputs, Path(args.output), dirs_exist_ok=True)
    for name, value in (("run-id", version.run_id), ("model-name", args.model),
                        ("model-version", args.version)):
        gha.set_output(name, str(value))
    tags = version.tags or {}
    trained = f"trained for PR #{tags[PR_TAG]}" if tags.get(PR_TAG) else "trained before"
    commit = f" at commit `{tags['mlops_ci.commit'][:12]}`" if tags.get("mlops_ci.commit") else ""
    gha.append_summary(f"### train: ♻️ reused\n\n**model:** `{args.model}` version **{args.version}**, "
                       f"{trained}"
                       f"{commit}; **MLflow run:** `{version.run_id}`. Nothing trained, no version registered"
                       + (f"; the version is tagged `{pr_tag(args.pr)}`." if args.pr else ".") + "\n")
    print(f"train reuse: {args.model} version {args.version} ({trained}) reused"
          + (f" for PR #{args.pr}" if args.pr else "") + f"; its outputs are in {args.output}")
    return EXIT_OK


# --- experiment ---------------------------------------------------------------------------------

def parse_sets(values: list[str]) -> dict[str, str]:
    """`--set` values as {[FILE:]KEY: VALUE}; one value may hold several, space-separated (a matrix
    entry such as "train.lr=0.02 train.epochs=10")."""
    sets: dict[str, str] = {}
    for value in values:
        for item in value.split():
            key, equals, setting = item.partition("=")
            if not equals or not key:
                raise MlopsCiError(f"--set {item!r}: expected [FILE:]KEY=VALUE, e.g. train.lr=0.02")
            sets[key] = setting
    if not sets:
        raise MlopsCiError("--set: give at least one KEY=VALUE")
    return sets


def shown_metrics(shown: dict[str, Any]) -> list[dict[str, Any]]:
    """`dvc metrics show --json` as [{"path", "name", "value"}], numbers only (unreadable files skipped)."""
    rows = []
    for revision in shown.values():
        for path, entry in sorted(((revision or {}).get("data") or {}).items()):
            for name, value in _flatten(entry.get("data") or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    rows.append({"path": path, "name": name.rstrip("."), "value": value})
    return rows


def run_experiment(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci train experiment`."""
    repo = _pipeline(args.repo)
    sets = parse_sets(args.set)
    if os.environ.get("MLFLOW_TRACKING_URI") and args.track_command:
        check_experiment_name(repo)
    name = args.name or experiments.label(sets)
    dvc_args = [*(f"--set-param={key}={value}" for key, value in sets.items()),
                *(["--name", args.name] if args.name else []), *args.targets]
    stages, _ = reproduce(repo, ("exp", "run"), dvc_args)
    if stages is None:
        return EXIT_REFUSED
    metrics = shown_metrics(run_dvc(repo, "metrics", "show")[0])
    result: dict[str, Any] = {}
    if os.environ.get("MLFLOW_TRACKING_URI") and args.track_command:
        result = track(repo, args.track_command, args.pr or None, registering=False)
    document = {"name": name, "params": sets, "metrics": metrics, "run_id": result.get("run_id"),
                "stages_ran": _ran(stages)}
    slug = experiments.slug(sets)
    out = Path(args.out_dir) / f"{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    gha.set_output("slug", slug)
    gha.set_output("result", str(out.resolve()))
    rows = [f"| {md_escape(row['name'])} | {row['value']} |" for row in metrics]
    gha.append_summary("\n".join([f"### experiment `{name}`", "", "| metric | value |", "|---|---:|", *rows])
                       + "\n")
    print(f"experiment {name}: {len(document['stages_ran'])} stage(s) ran, {len(metrics)} metric(s) in {out}")
    return EXIT_OK


def train_summary(gpus: list[str], stages: dict[str, str], result: dict[str, Any], remote: bool) -> str:
    """The train job's summary: hardware, what each stage did, what was registered."""
    icons = {"ran": "🏋️ ran", "restored": "♻️ restored from the run-cache", "unchanged": "✔️ unchanged"}
    lines = ["### train", "", f"**GPUs:** {'; '.join(gpus) if gpus else 'none seen: trained on the CPU'}  ",
             "**DVC remote:** "
             + ("pulled from and pushed to (run-cache included)" if remote else "none configured"), ""]
    if stages:
        lines += ["| stage | outcome |", "|---|---|"]
        lines += [f"| {stage} | {icons[outcome]} |" for stage, outcome in sorted(stages.items())]
    else:   # DVC names no stage when the whole pipeline is up to date
        lines.append(NOTHING_RAN)
    if result:
        lines += ["", f"**MLflow run:** `{result.get('run_id')}` · **model:** `{result.get('model_name')}` "
                      f"version **{result.get('model_version')}**"]
    return "\n".join(lines) + "\n"


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
    run_parser.add_argument("--track-command", default="python -m src.track",
                            help="logs the run to MLflow and registers the model; writes its result JSON "
                                 "to $MLOPS_CI_TRACK_OUTPUT (default: python -m src.track)")
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
    experiment_parser.add_argument("--track-command", default="python -m src.track",
                                   help="logs the run to MLflow (run with MLOPS_CI_REGISTER=false: no model "
                                        "version); default: python -m src.track")
    experiment_parser.add_argument("--pr", help="the PR number, for the run's tags")
    experiment_parser.set_defaults(handler=run_experiment)
