"""`mlops-ci canary`: a canary rollout kept in the MLflow registry and moved by `compare`'s decisions.

    mlops-ci canary start   --model NAME --version V [--fraction 0.05]
    mlops-ci canary step    --model NAME --control LOG --treatment LOG [--steps 0.05,0.25,0.5,1.0]
                            [--alpha 0.05] [--json FILE]
    mlops-ci canary promote --model NAME
    mlops-ci canary abort   --model NAME [--reason TEXT]

The state is in the registry (MLFLOW_TRACKING_URI), so every `mlops-ci serve` replica and the workflow
agree without another store:
    NAME@challenger                the canary version (serve's B arm)
    mlops_ci.canary.version        registered-model tags: the canary version,
    mlops_ci.canary.started_at     when it started,
    mlops_ci.canary.fraction       and the share of request ids `serve` routes to it. A canary is
                                   running while this tag exists: start writes it last, promote and
                                   abort remove it first, so a run that fails part-way leaves the
                                   traffic as it was and a rerun finishes the job.

start     points @challenger at V and sets the fraction; refuses (exit 1) while a canary of another
          version runs or when V was rolled back; V being the champion is an input error (exit 2).
step      compares the arms' prediction logs (`serve --log-dir`: rows of other versions are left out)
          with `compare`: promote -> the next fraction of --steps (after the last one: as `promote`);
          hold -> unchanged, exit 0; rollback -> as `abort` with compare's reasons, exit 1. No canary
          running: nothing to do, exit 0. Job summary, step outputs (action, fraction, decision), --json.
promote   makes the canary the champion with the tags a promotion leaves (validation_status passed,
          previous_champion, merged_at = now, promoted_at, promoted_by), then removes @challenger
          and the canary tags.
abort     tags the canary version rolled back (rollback_reason, rolled_back_at, _by, _to: the
          champion; `promote` refuses it from then on), removes the fraction, @challenger and the
          canary tags; the champion is untouched.
Every command is idempotent: rerun, it changes nothing. Exit 0 done or nothing to do; 1 refused or
rolled back; 2 usage or input error, MLflow unreachable.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_ci.monitoring import compare
from mlops_ci.core import gha
from mlops_ci.monitoring import io as monitor_io
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError, CheckFailed
from mlops_ci.clients.mlflow import Registry
from mlops_ci.registry.canary import Canary, parse_fraction, read_canary
from mlops_ci.registry.champion import actor, crown, now, promotion_tags
from mlops_ci.registry.tags import (CANARY_FRACTION_TAG, CANARY_STARTED_AT_TAG, CANARY_VERSION_TAG,
                                    CHALLENGER_ALIAS, DEFAULT_ALIAS, MERGED_AT_TAG, PASSED,
                                    PREVIOUS_CHAMPION_TAG, PROMOTED_AT_TAG, PROMOTED_BY_TAG, ROLLED_BACK,
                                    VALIDATED_AT_TAG, VALIDATION_REASON_TAG, VALIDATION_STATUS_TAG,
                                    recorded_reason, rollback_reason, rollback_tags)
from mlops_ci.core.text import md_escape

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_STEPS = (0.05, 0.25, 0.5, 1.0)
HOLD, STEP, PROMOTE, ABORT = "hold", "step", "promote", "abort"


# --- pure -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """What a step does: hold, step (to `fraction`), promote or abort, and why."""

    action: str
    fraction: float
    why: str


def parse_steps(text: str) -> tuple[float, ...]:
    """The schedule "0.05,0.25,0.5,1.0": increasing fractions in (0, 1]."""
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise MlopsCiError(f"{text!r}: expected fractions separated by commas (e.g. 0.05,0.25,0.5,1.0)",
                           where="--steps") from error
    if not steps or any(not 0 < step <= 1 for step in steps) or list(steps) != sorted(set(steps)):
        raise MlopsCiError(f"{text!r}: expected increasing fractions between 0 (excluded) and 1",
                           where="--steps")
    return steps


def next_move(decision: str, reasons: Sequence[str], steps: Sequence[float], fraction: float) -> Move:
    """The canary's next state from compare's decision, the schedule and the current fraction:
    rollback -> abort; hold -> unchanged; promote -> the first step above the fraction, after the
    last step -> promote."""
    why = "; ".join(reasons) or decision
    if decision == "rollback":
        return Move(ABORT, 0.0, why)
    if decision == "hold":
        return Move(HOLD, fraction, why)
    higher = [step for step in steps if step > fraction and not math.isclose(step, fraction)]
    return Move(STEP, higher[0], why) if higher else Move(PROMOTE, 1.0, why)


# --- writes -----------------------------------------------------------------------------------------

def start(registry: Registry, model: str, version: str, fraction: float) -> str:
    """Start a canary of `version` at `fraction`; what happened, one line."""
    record = registry.version(model, version)
    state = read_canary(registry, model)
    if state.champion == version:
        raise MlopsCiError(f"{model} version {version} is the {DEFAULT_ALIAS} already: nothing to canary")
    if (record.tags or {}).get(VALIDATION_STATUS_TAG) == ROLLED_BACK:
        raise CheckFailed(f"{model} version {version} was rolled back "
                          f"({rollback_reason(record.tags)}): not started")
    if state.running and state.candidate != version:
        raise CheckFailed(f"a canary of {model} version {state.candidate} is running (fraction "
                          f"{state.fraction:g}): promote or abort it first")
    if state.running:
        return (f"the canary of {model} version {version} is already running at {state.fraction:g}: "
                "nothing changed")
    # Fraction last: until it is written no canary runs, and a rerun finishes a partial start.
    if state.version != version:
        registry.set_model_tags(model, {CANARY_STARTED_AT_TAG: now(), CANARY_VERSION_TAG: version})
    if state.challenger != version:
        registry.set_alias(model, CHALLENGER_ALIAS, version)
    registry.set_model_tags(model, {CANARY_FRACTION_TAG: f"{fraction:g}"})
    return f"canary of {model} version {version} started: {fraction:g} of requests to @{CHALLENGER_ALIAS}"


def _clean_up(registry: Registry, state: Canary) -> None:
    """Remove the fraction (traffic back to the champion), @challenger, then the canary tags; each
    only when present, so that a rerun after a failure finishes the job and a second run writes nothing."""
    if state.running:
        registry.delete_model_tag(state.model, CANARY_FRACTION_TAG)
    if state.challenger is not None and state.challenger == state.candidate:
        registry.delete_alias(state.model, CHALLENGER_ALIAS)
    if state.started_at:
        registry.delete_model_tag(state.model, CANARY_STARTED_AT_TAG)
    if state.version is not None:   # last: it names the version while the cleanup is unfinished
        registry.delete_model_tag(state.model, CANARY_VERSION_TAG)


def promote(registry: Registry, model: str, why: str = "promoted by hand") -> str:
    """Make the canary version the champion, recorded as a promotion, and end the canary."""
    state = read_canary(registry, model)
    version = state.candidate
    if version is None:
        return f"no canary of {model} is running: nothing to promote"
    tags = dict(registry.version(model, version).tags or {})
    if tags.get(VALIDATION_STATUS_TAG) == ROLLED_BACK:
        raise CheckFailed(f"{model} version {version} was rolled back "
                          f"({rollback_reason(tags)}): abort the canary instead")
    if state.champion == version:
        if not {PROMOTED_AT_TAG, PROMOTED_BY_TAG} <= set(tags):   # a run stopped after moving the alias
            registry.set_tags(model, version, promotion_tags())
    else:
        stamp = now()
        # merged_at = now: a later merge's promotion supersedes this one, an earlier one does not.
        record = {VALIDATION_STATUS_TAG: PASSED, VALIDATION_REASON_TAG: f"canary: {why}",
                  PREVIOUS_CHAMPION_TAG: state.champion or "none", VALIDATED_AT_TAG: stamp,
                  MERGED_AT_TAG: stamp}
        champion = crown(registry, model, version, DEFAULT_ALIAS, record)
        if champion != version:
            raise CheckFailed(f"{model}@{DEFAULT_ALIAS} is version {champion}, merged after the canary "
                              f"version {version}: the canary is left running; abort it")
    _clean_up(registry, state)
    return f"{model} version {version} is now {model}@{DEFAULT_ALIAS} (was {state.champion or 'none'}): {why}"


def abort(registry: Registry, model: str, reason: str) -> str:
    """End the canary: its version tagged rolled back, traffic back to the untouched champion."""
    state = read_canary(registry, model)
    version = state.candidate
    if version is None:
        return f"no canary of {model} is running: nothing to abort"
    if state.champion == version:
        raise MlopsCiError(f"{model} version {version} is the {DEFAULT_ALIAS} already: use mlops-ci rollback")
    if (registry.version(model, version).tags or {}).get(VALIDATION_STATUS_TAG) != ROLLED_BACK:
        # The status last: a run that fails before it is redone whole by the rerun.
        registry.set_tags(model, version, {**rollback_tags(reason, state.champion or "none", now(), actor()),
                                           VALIDATION_STATUS_TAG: ROLLED_BACK})
    _clean_up(registry, state)
    return (f"canary of {model} version {version} aborted: {reason}; {model}@{DEFAULT_ALIAS} stays "
            f"version {state.champion or 'unset'}")


# --- step -------------------------------------------------------------------------------------------

def arm_log(path: str, version: str | None) -> pd.DataFrame:
    """A prediction log, only its rows of `version` when it has a version column (serve's logs)."""
    log = compare.load_log(path)
    if version is None or "version" not in log.columns:
        return log
    return log[log["version"].astype(str) == version].reset_index(drop=True)


def judge(state: Canary, control: str, treatment: str, alpha: float) -> dict[str, Any]:
    """compare's report on the champion's and the canary's rows; a hold when an arm has none labelled."""
    logs = {"control": arm_log(control, state.champion), "treatment": arm_log(treatment, state.candidate)}
    empty = [f"{name}: no labelled rows of version {version} yet"
             for (name, log), version in zip(logs.items(), (state.champion, state.candidate))
             if log.dropna(subset=list(compare.REQUIRED)).empty]
    if empty:
        return {"decision": "hold", "reasons": empty}
    return compare.compare(logs["control"], logs["treatment"], "auto", alpha)


def step(registry: Registry, args: argparse.Namespace, steps: Sequence[float]) -> tuple[Move, dict[str, Any]]:
    """One step of the rollout: compare, then move; (the move, the --json report)."""
    state = read_canary(registry, args.model)
    if not state.running:
        move = Move(HOLD, 0.0, f"no canary of {args.model} is running: nothing to do")
        return move, {"model": args.model, "action": move.action, "why": move.why}
    verdict = judge(state, args.control, args.treatment, args.alpha)
    move = next_move(verdict["decision"], verdict["reasons"], steps, float(state.fraction or 0))
    if move.action == STEP:
        registry.set_model_tags(args.model, {CANARY_FRACTION_TAG: f"{move.fraction:g}"})
    elif move.action == PROMOTE:
        promote(registry, args.model, f"compare said promote at fraction {state.fraction:g}: {move.why}")
    elif move.action == ABORT:
        abort(registry, args.model, f"compare said rollback: {move.why}")
    return move, {"model": args.model, "version": state.candidate, "champion": state.champion,
                  "decision": verdict["decision"], "action": move.action, "fraction_before": state.fraction,
                  "fraction": move.fraction, "why": move.why, "compare": verdict}


_ICONS = {HOLD: "⏸️ hold", STEP: "⏩ step", PROMOTE: "✅ promoted", ABORT: "❌ aborted"}


def step_markdown(move: Move, report: dict[str, Any]) -> str:
    """The job summary of a step: the move, then compare's tables."""
    lines = [f"### mlops-ci canary: {_ICONS[move.action]}", ""]
    if "version" in report:
        lines += [f"**Model:** `{report['model']}` · **canary:** version {report['version']} · "
                  f"**fraction:** {report['fraction_before']:g} → {move.fraction:g}", ""]
    lines.append(md_escape(move.why))
    text = "\n".join(lines) + "\n"
    verdict = report.get("compare", {})
    return text + ("\n" + compare.to_markdown(verdict) if "metrics" in verdict else "")


# --- command ----------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci canary`."""
    with Registry(action=f"canary {args.canary_command} of {args.model}") as registry:
        if args.canary_command == "step":
            monitor_io.require_monitor_extra()
            if not 0 < args.alpha < 1:
                raise MlopsCiError(f"--alpha {args.alpha}: expected a level between 0 and 1 (e.g. 0.05)")
            move, report = step(registry, args, parse_steps(args.steps))
            line = f"canary step: {move.action}" + (f" to {move.fraction:g}" if move.action == STEP else "")
            line += f": {move.why}"
            monitor_io.write_json(args.json, report)
            gha.append_summary(step_markdown(move, report))
            for name, value in {"action": move.action, "fraction": f"{move.fraction:g}",
                                "decision": str(report.get("decision", ""))}.items():
                gha.set_output(name, value)
            if move.action == ABORT:
                gha.report("error", line)
                return EXIT_REFUSED
            print(line, flush=True)
            return EXIT_OK
        if args.canary_command == "start":
            fraction = parse_fraction(args.fraction, "--fraction")
            if fraction == 0:
                raise MlopsCiError("0: a canary needs a fraction above 0", where="--fraction")
            line = start(registry, args.model, args.version, fraction)
        elif args.canary_command == "promote":
            line = promote(registry, args.model)
        else:
            line = abort(registry, args.model, recorded_reason(args.reason))
    print(f"canary {args.canary_command}: {line}", flush=True)
    gha.append_summary(f"### mlops-ci canary {args.canary_command}\n\n{md_escape(line)}\n")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci canary` to the CLI."""
    parser = subparsers.add_parser("canary",
                                   help="a canary rollout in the registry: start, step, promote, abort",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="canary_command", metavar="start|step|promote|abort",
                                     required=True)
    start_parser = commands.add_parser("start",
                                       help="point @challenger at a version and route a fraction to it")
    start_parser.add_argument("--version", required=True, help="the canary version")
    start_parser.add_argument("--fraction", default=f"{DEFAULT_STEPS[0]:g}",
                              help=f"share of request ids to route to it (default {DEFAULT_STEPS[0]:g})")
    step_parser = commands.add_parser("step",
                                      help="compare the arms' logs; move the fraction, promote or abort")
    step_parser.add_argument("--control", required=True, metavar="LOG", help="the champion's prediction log")
    step_parser.add_argument("--treatment", required=True, metavar="LOG", help="the canary's prediction log")
    step_parser.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)), metavar="F,F,...",
                             help="the fractions, in order (default " + ",".join(map(str, DEFAULT_STEPS))
                                  + "); a promote decision at the last one promotes")
    step_parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    step_parser.add_argument("--json", metavar="FILE",
                             help="also write the step and compare's report as JSON")
    commands.add_parser("promote", help="make the canary the champion, recorded; end the canary")
    abort_parser = commands.add_parser("abort",
                                       help="tag the canary rolled back; traffic back to the champion")
    abort_parser.add_argument("--reason", default="aborted by hand", help="why (recorded on the version)")
    for sub in commands.choices.values():
        sub.add_argument("--model", required=True, help="registered model name")
        sub.set_defaults(handler=run)
