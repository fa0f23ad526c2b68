"""`mlops-ci train run` and `train reuse`: train, track and register a PR's pipeline, or reuse the
version that already trained it (the command's options and help: training.command).

run    log the GPUs seen; `dvc repro --pull` (stages already run anywhere are restored from the
       run-cache); `dvc push --run-cache`; the project's track command logs the run to MLflow and
       registers the model; the version gets mlops-ci's tags (registry.tags.version_tags) and its run
       the exported metrics, plots and dvc.lock (mlops-ci/train-outputs).
reuse  tag the version `plan` found with this PR too (mlops_ci.pr.N) and download the outputs its run
       logged; no training, no new version.
The repro, push and track steps are shared with `train experiment` (training.experiment).
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
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.proc import dvc
from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.registry.tags import COMMIT_TAG, PR_TAG, pr_tag, version_tags
from mlops_ci.training.fingerprint import pipeline_fingerprint
from mlops_ci.training.pipeline import declared

# Bounded MLflow client retries for the track command when the caller set none (the client's own
# defaults take about four minutes to give up on a dead server).
MLFLOW_CLIENT_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}
DEFAULT_TRACK_COMMAND = "mlops-ci track"   # the built-in tracker (training.track)
RESULT_CONTRACT = '{"run_id", "model_name", "model_version"} JSON in $MLOPS_CI_TRACK_OUTPUT'
OUTPUTS_ARTIFACT = "mlops-ci/train-outputs"   # the run's copy of what export_outputs exported
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


def has_remote(repo: Path) -> bool:
    """True when the DVC project has a default remote to pull from and push to."""
    done = dvc(repo, "remote", "default", echo=False)
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
            # `mlops-ci track` inside Actions says it as an annotation already: keep its message only.
            detail = re.sub(r"^::error[^:]*::", "", detail)
            raise MlopsCiError(f"the track command failed (exit {done.returncode}): {detail}",
                               where=os.environ.get("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"))
        if not output.is_file():
            raise MlopsCiError(f"the track command wrote no result: it must write {RESULT_CONTRACT}")
        return checked_result(output.read_text(encoding="utf-8"), registering)


def checked_result(text: str, registering: bool) -> dict[str, Any]:
    """A track command's result, once MLflow confirms it: the run exists and, when registering, the
    version exists and was registered from that run (exit 2 otherwise)."""
    try:
        result = json.loads(text)
    except json.JSONDecodeError as error:
        raise MlopsCiError(f"the track command's result is not JSON ({error}): "
                           f"it must be {RESULT_CONTRACT}") from error
    if not isinstance(result, dict) or not isinstance(result.get("run_id"), str) or not result["run_id"]:
        raise MlopsCiError(f"the track command's result names no run_id: it must be {RESULT_CONTRACT}")
    name, version = result.get("model_name"), result.get("model_version")
    if registering and not (name and version):
        raise MlopsCiError("the track command registered no model version: its result names "
                           f"model_name {name!r}, model_version {version!r}")
    with Registry(action="the check of the track command's result") as registry:
        try:
            registry.run_experiment(result["run_id"])
            found = registry.version(str(name), str(version)) if name and version else None
        except NotFound as missing:
            raise MlopsCiError("the track command's result names what MLflow does not have: "
                               f"{missing.message}",
                               where=registry.uri) from missing
    if found is not None and found.run_id != result["run_id"]:
        raise MlopsCiError(f"the track command's result names {name} version {version}, registered from run "
                           f"{found.run_id}, not from its run {result['run_id']}", where=registry.uri)
    return result


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
    pipeline = declared(repo)
    paths = {"dvc.lock", *pipeline.metrics, *pipeline.plots}
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


def pipeline_folder(repo_option: str) -> Path:
    """The DVC project folder --repo names (error when it has no dvc.yaml)."""
    repo = Path(repo_option)
    if not (repo / "dvc.yaml").is_file():
        raise MlopsCiError("no dvc.yaml: not a DVC pipeline", where=str(repo))
    return repo


def reproduce(repo: Path, command: tuple[str, ...], args: list[str]) -> tuple[dict[str, str] | None, bool]:
    """Run `dvc repro` or `dvc exp run` (with --pull when there is a remote, then `dvc push
    --run-cache`): (each stage's outcome, or None when the pipeline failed, reported; whether a
    remote was used)."""
    remote = has_remote(repo)
    done = dvc(repo, *command, *(["--pull"] if remote else []), *args)
    if done.returncode != 0:
        gha.report("error", f"dvc {' '.join(command)} failed: "
                   + (done.stderr.strip().splitlines() or ["see the log"])[-1])
        return None, remote
    if remote:
        push = dvc(repo, "push", "--run-cache")
        if push.returncode != 0:
            raise MlopsCiError("dvc push --run-cache failed: "
                               + (push.stderr.strip().splitlines() or ["?"])[-1])
    return stage_outcomes(done.stdout + done.stderr), remote


def stages_ran(stages: dict[str, str]) -> list[str]:
    """The stages that ran (neither restored from the run-cache nor unchanged), sorted."""
    return sorted(stage for stage, outcome in stages.items() if outcome == "ran")


def train(repo: Path, args: argparse.Namespace) -> int:
    """`mlops-ci train run` in DVC project `repo`, once the experiment's name passed its check."""
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
    ran = stages_ran(stages)
    gha.set_output("stages-ran", " ".join(ran))
    gha.append_summary(train_summary(gpus, stages, result, remote))
    done = (f"{len(ran)} stage(s) ran, {len(stages) - len(ran)} restored or unchanged" if stages
            else NOTHING_RAN.lower().rstrip("."))
    print(f"train: {done}; model {result.get('model_name', '-')} version {result.get('model_version', '-')}")
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
    commit = f" at commit `{tags[COMMIT_TAG][:12]}`" if tags.get(COMMIT_TAG) else ""
    gha.append_summary(f"### train: ♻️ reused\n\n**model:** `{args.model}` version **{args.version}**, "
                       f"{trained}"
                       f"{commit}; **MLflow run:** `{version.run_id}`. Nothing trained, no version registered"
                       + (f"; the version is tagged `{pr_tag(args.pr)}`." if args.pr else ".") + "\n")
    print(f"train reuse: {args.model} version {args.version} ({trained}) reused"
          + (f" for PR #{args.pr}" if args.pr else "") + f"; its outputs are in {args.output}")
    return EXIT_OK
