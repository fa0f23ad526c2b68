"""`mlops-ci promote` and `mlops-ci rollback`: move the champion alias, with gates and an audit trail.

    mlops-ci promote --model NAME (--version V | --pr N | --commit SHA | --pushed-commit SHA)
                     [--alias champion] [--gate EXPR ...] [--config FILE] [--copy-to NAME]
    mlops-ci rollback --model NAME [--to VERSION] --reason TEXT [--alias champion] [--force]

The tracking server is MLFLOW_TRACKING_URI. promote finds the version (by number, by the tags
`mlops-ci train run` writes: mlops_ci.pr / mlops_ci.commit, or, with --pushed-commit, from the PR
merged as that commit, asked of GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY), checks its gates, and
points the alias at it. --model may be left out when the PR's or commit's versions belong to one model.

Gates (--gate, repeatable; else `promotion.gates` in .github/mlops-ci.yml) name MLflow metric keys
(mlops_ci.metric_names): `accuracy` in a project with one metrics file, `eval.accuracy` (file stem,
dotted key) with several.
    accuracy>=0.9              a threshold on the version's run metric (>=, <=, >, <, ==)
    accuracy:no-regress:0.01   not worse than the champion by more than 0.01 (absolute); the direction
                               follows the report's rule (names with loss, error, rmse... are lower-is-better)
    mcnemar:0.05               paired test on the same evaluation set: refused when the champion is
                               significantly better (exact McNemar, one-sided, p < 0.05); needs both runs
                               to have logged per-example predictions (the `predictions` artifact,
                               columns index,label,prediction); skipped otherwise. Needs scipy.
A metric the version's run did not log fails its gate. Config:
    promotion:
      gates: ["accuracy>=0.9", "accuracy:no-regress:0.01"]
      alias: champion
      predictions: eval/predictions.csv
      copy_to: digits-prod        # also copy the champion into this registered model

The story is kept on the versions as mlops_ci.* tags: validation_status (passed, failed,
rolled_back), gates, validation_reason, validated_at, merged_at, previous_champion, promoted_at,
promoted_by, promotion_run_url; rollback adds rollback_reason, rolled_back_at, rolled_back_by,
rolled_back_to. Rollback restores only a version that passed its gates and was not rolled back;
--force restores any, recorded on it as mlops_ci.forced (its status stays). Nothing is half-done:
the alias moves only after every gate passed and the result was recorded; a killed run leaves the
champion as it was, and a rerun converges. Racing promotions agree: the champion is the passed
version merged last (mlops_ci.merged_at), so an older merge that finishes late records its result
and leaves the newer champion in place.

Exit codes: 0 promoted, already the champion (a rerun changes nothing), passed but a newer merge is
the champion, or (with --missing-ok) nothing to promote; 1 a gate refused (the champion is untouched,
the version tagged with the gate and why), a rolled-back version, or no version / merged PR found;
2 usage or input error: unknown model or version, bad gate, MLflow or GitHub unreachable (bounded
retries; the message names the server and what was not done).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.config import load as load_config
from mlops_ci.config.sections import ReportConfig
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, CheckFailed, MlopsCiError
from mlops_ci.clients.github import GitHubClient, repo_path
from mlops_ci.clients.mlflow import Registry
from mlops_ci.core.text import md_escape
from mlops_ci.registry import seal
from mlops_ci.registry.metric_names import lower_is_better
from mlops_ci.registry.champion import actor, copy_champion, crown, now, promotion_tags
from mlops_ci.registry.tags import (COMMIT_TAG, COPIED_FROM_TAG, DEFAULT_ALIAS, FAILED, FORCED_TAG, GATES_TAG,
                                    MERGED_AT_TAG, PASSED, PR_TAG, PREVIOUS_CHAMPION_TAG, PROMOTED_AT_TAG,
                                    PROMOTED_BY_TAG, ROLLED_BACK, VALIDATED_AT_TAG, VALIDATION_REASON_TAG,
                                    VALIDATION_STATUS_TAG, pr_tag, recorded_reason, rollback_reason,
                                    rollback_tags)
from mlops_ci.training.gates import Gate, GateResult, check_metric_gate, gates_text, mcnemar_gate, parse_gate
from mlops_ci.training.promotion_outcome import (ALREADY, NOTHING, PROMOTED, REFUSED, SUPERSEDED, Outcome,
                                                 code_span, outcome_markdown)

DEFAULT_PREDICTIONS = "eval/predictions.csv"


def pick_merged_pull(pulls: Sequence[dict[str, Any]], sha: str, branch: str) -> dict[str, Any] | None:
    """The PR merged into `branch` as (or containing) commit `sha`: merge, squash and rebase merges."""
    merged = [pull for pull in pulls if pull.get("merged_at") and pull["base"]["ref"] == branch]
    exact = [pull for pull in merged if pull.get("merge_commit_sha") == sha]
    return max(exact or merged, key=lambda pull: pull["merged_at"]) if merged else None




# --- promote ------------------------------------------------------------------------------------

def versions_of_pr(registry: Registry, model: str | None, pr: str) -> list[Any]:
    """Versions (of `model`, or of any model) trained (tag mlops_ci.pr) or reused (tag mlops_ci.pr.N)
    for PR `pr`, oldest first; copies left out."""
    found = {(version.name, int(version.version)): version
             for tag, value in ((PR_TAG, pr), (pr_tag(pr), "true"))
             for version in registry.versions_tagged(model, tag, value)}
    return [version for _, version in sorted(found.items()) if COPIED_FROM_TAG not in (version.tags or {})]


def find_candidate(registry: Registry, model: str | None, selector: tuple[str, str]) -> Any | None:
    """The version to promote: by number, else the newest trained or reused for the PR (tags
    mlops_ci.pr, mlops_ci.pr.N) or carrying the commit tag."""
    kind, value = selector
    if kind == "version":
        return registry.version(str(model), value)
    tag = PR_TAG if kind == "pr" else COMMIT_TAG
    found = (versions_of_pr(registry, model, value) if kind == "pr" else
             [version for version in registry.versions_tagged(model, tag, value)   # copies made by --copy-to
              if COPIED_FROM_TAG not in (version.tags or {})])                   # carry the tags too
    names = sorted({version.name for version in found})
    if len(names) > 1:
        raise MlopsCiError(f"versions of several models carry {tag}={value} ({', '.join(names)}): "
                           "pass --model")
    return found[-1] if found else None


def check_gates(registry: Registry, candidate: Any, champion: Any | None, gates: Sequence[Gate],
                settings: tuple[ReportConfig, str]) -> list[GateResult]:
    """Every gate's result for `candidate` against `champion` (a model version or None)."""
    directions, predictions = settings
    metrics = registry.run_metrics(candidate.run_id)
    champion_metrics = registry.run_metrics(champion.run_id) if champion is not None else None
    results = []
    for gate in gates:
        if gate.kind == "mcnemar":
            theirs = registry.artifact_text(champion.run_id, predictions) if champion is not None else None
            ours = registry.artifact_text(candidate.run_id, predictions) if theirs is not None else None
            results.append(mcnemar_gate(gate, ours, theirs))
        else:
            results.append(check_metric_gate(gate, metrics, champion_metrics,
                                             lower_is_better(directions, gate.metric)))
    return results


def promote(registry: Registry, candidate: Any, gates: Sequence[Gate], alias: str, *,  # pylint: disable=too-many-arguments
            settings: tuple[ReportConfig, str], merged_at: str | None) -> Outcome:
    """Gate `candidate` against the current champion and, when every gate passed, make it the champion."""
    name, number, tags = candidate.name, str(candidate.version), dict(candidate.tags or {})
    pr = int(tags[PR_TAG]) if tags.get(PR_TAG, "").isdigit() else None
    current = registry.alias_version(name, alias)
    outcome = Outcome(ALREADY, name, number, alias, current, current, pr)
    if current == number:
        if PROMOTED_AT_TAG not in tags:   # a run killed after moving the alias: finish its record
            registry.set_tags(name, number, promotion_tags())
        return outcome
    if tags.get(VALIDATION_STATUS_TAG) == ROLLED_BACK:
        outcome.status = REFUSED
        outcome.why = f"it was rolled back ({rollback_reason(tags)})"
        return outcome
    champion = registry.version(name, current) if current else None
    outcome.results = check_gates(registry, candidate, champion, gates, settings)
    failed = [result for result in outcome.results if result.status == FAILED]
    record = {GATES_TAG: gates_text(outcome.results), VALIDATED_AT_TAG: now()}
    if failed:
        outcome.status, outcome.why = REFUSED, f"gate {failed[0].gate} failed: {failed[0].detail}"
        registry.set_tags(name, number, {**record, VALIDATION_STATUS_TAG: FAILED,
                                         VALIDATION_REASON_TAG: outcome.why})
        return outcome
    record.update({VALIDATION_STATUS_TAG: PASSED, VALIDATION_REASON_TAG: f"all {len(gates)} gate(s) passed",
                   PREVIOUS_CHAMPION_TAG: current or "none"})
    # A rerun keeps the merge time recorded first, when promotion recorded it (sealed), not a forged one.
    if merged_at or MERGED_AT_TAG not in tags or not seal.trusted(candidate):
        record[MERGED_AT_TAG] = merged_at or now()
    outcome.champion = crown(registry, name, number, alias, record)
    outcome.status = PROMOTED if outcome.champion == number else SUPERSEDED
    return outcome


def finish(outcome: Outcome, args: argparse.Namespace) -> int:
    """Print the line, write outputs, summary and --body-file; the exit code."""
    line = f"promote: {outcome.line()}"
    if outcome.status == REFUSED:
        gha.report("error", line)
    else:
        print(line, flush=True)
    markdown = outcome_markdown(outcome, os.environ.get("MLFLOW_TRACKING_URI", ""))
    gha.append_summary(markdown)
    if args.body_file:
        Path(args.body_file).write_text(markdown, encoding="utf-8")
    outputs = {"model-name": outcome.model, "model-version": outcome.version if outcome.promoted else "",
               "model-uri": f"models:/{outcome.model}@{outcome.alias}" if outcome.model else "",
               "promoted": str(outcome.promoted).lower(), "outcome": outcome.status,
               "pr-number": str(outcome.pr or "")}
    for name, value in outputs.items():
        gha.set_output(name, value)
    if outcome.status == REFUSED or (outcome.status == NOTHING and not args.missing_ok):
        return EXIT_REFUSED
    return EXIT_OK


def merged_pull_of(sha: str, repo: str | None, branch: str) -> dict[str, Any] | None:
    """The merged PR into `branch` behind pushed commit `sha`, asked of GitHub."""
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        raise MlopsCiError("--pushed-commit: no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    with GitHubClient.from_env() as github:
        return pick_merged_pull(github.get(repo_path(repo, "commits", sha, "pulls")) or [], sha, branch)


def selected(args: argparse.Namespace) -> tuple[tuple[str, str] | None, str | None, str]:
    """(what selects the version: (kind, value), when it was merged, why nothing is) from the options;
    --pushed-commit asks GitHub for the merged PR (None when there is none)."""
    if not args.pushed_commit:
        given = (("version", args.version), ("pr", args.pr), ("commit", args.commit))
        return next((kind, str(value)) for kind, value in given if value is not None), args.merged_at, ""
    branch = args.branch or os.environ.get("GITHUB_REF_NAME") or "main"
    pull = merged_pull_of(args.pushed_commit, args.repo, branch)
    if pull is None:
        return None, None, f"no PR merged into {branch} as commit {args.pushed_commit[:12]}"
    return ("pr", str(pull["number"])), args.merged_at or pull["merged_at"], ""


def run_promote(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci promote`."""
    config = load_config(args.config)  # read once: the gates and the report's metric directions
    gates = [parse_gate(text) for text in args.gate] if args.gate else \
        [parse_gate(text, str(config.source)) for text in config.promotion.gates]
    alias = args.alias or config.promotion.alias or DEFAULT_ALIAS
    copy_to = args.copy_to or config.promotion.copy_to
    settings = (config.report, config.promotion.predictions or DEFAULT_PREDICTIONS)
    if args.version is not None and not args.model:
        raise MlopsCiError("--version needs --model")
    if gha.in_actions() and seal.decision_key() is None:
        gha.report("warning", f"promote: {seal.KEY_VARIABLE} is not set: verdicts are neither sealed nor "
                              "checked, so a tag written with the training identity could crown a version "
                              "(docs/admins/security.md)")
    selector, merged_at, why = selected(args)
    if selector is None:
        return finish(Outcome(NOTHING, args.model or "", alias=alias, why=why), args)
    with Registry(action=f"promotion of {args.model or 'the model'} "
                         f"({selector[0]} {selector[1]})") as registry:
        if args.model:
            registry.model(args.model)   # an unknown model is an error, not "no version"
        candidate = find_candidate(registry, args.model, selector)
        if candidate is None:
            why = f"no version of {args.model or 'any model'} carries {selector[0]} {selector[1]}"
            pr = int(selector[1]) if selector[0] == "pr" else None
            return finish(Outcome(NOTHING, args.model or "", alias=alias, pr=pr, why=why), args)
        outcome = promote(registry, candidate, gates, alias, settings=settings, merged_at=merged_at)
        if selector[0] == "pr":
            # The comment goes to the PR that was merged, also when its version was trained for an
            # earlier PR (build once: a release PR reuses the feature PR's version).
            outcome.pr = int(selector[1])
        if copy_to and outcome.promoted:
            champion, copied = copy_champion(registry, outcome.model, alias, copy_to)
            print(f"promote: {copy_to}@{alias} is version {copied}, a copy of {outcome.model} "
                  f"version {champion}")
    return finish(outcome, args)


# --- rollback -----------------------------------------------------------------------------------

def restore_refusal(version: Any) -> str:
    """Why rollback won't restore `version` without --force (it never passed its gates, its verdict
    is not sealed, or it was rolled back); empty when it may."""
    tags = dict(version.tags or {})
    status = tags.get(VALIDATION_STATUS_TAG)
    if status == PASSED and seal.trusted(version):
        return ""
    if status == PASSED:
        return (f"carries a passed verdict without a valid seal (not written by promotion: "
                f"{seal.KEY_VARIABLE})")
    if status == ROLLED_BACK:
        return f"was rolled back ({rollback_reason(tags)})"
    return f"never passed its gates (validation_status: {status or 'none'})"


def restored_tags(current: str, reason: str, stamp: str, who: str,
                  forced_status: str | None) -> dict[str, str]:
    """What a rollback records on the version it restores from `current`: a forced restore (of a
    version whose status was `forced_status`) says so in mlops_ci.forced and leaves its verdict."""
    restored = {PREVIOUS_CHAMPION_TAG: current, PROMOTED_AT_TAG: stamp, PROMOTED_BY_TAG: who}
    if forced_status is not None:
        restored[FORCED_TAG] = (f"rollback --force from version {current} by {who} at {stamp}: {reason} "
                                f"(status then: {forced_status})")
    else:
        restored[VALIDATION_REASON_TAG] = f"restored by rollback from version {current}: {reason}"
    return restored


def run_rollback(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci rollback`."""
    model, alias, reason = args.model, args.alias, recorded_reason(args.reason)
    with Registry(action=f"rollback of {model}@{alias}") as registry:
        current = registry.alias_version(model, alias)
        if current is None:
            raise MlopsCiError(f"{model} has no {alias}: nothing to roll back", where=registry.uri)
        target = args.to or registry.version(model, current).tags.get(PREVIOUS_CHAMPION_TAG, "none")
        if target == "none":
            raise MlopsCiError(f"{model} version {current} records no previous {alias}: pass --to VERSION",
                               where=registry.uri)
        if target == current:
            print(f"rollback: {model} version {current} is already {model}@{alias}: nothing changed")
            return EXIT_OK
        # It must exist, and have passed, before anything changes.
        restoring = registry.version(model, target)
        refusal = restore_refusal(restoring)
        if refusal and not args.force:
            raise CheckFailed(f"rollback refused: {model} version {target} {refusal}; pass --force to "
                              "restore it anyway (recorded on it)", where=registry.uri)
        stamp, who = now(), actor()
        # Marked first: a racing promotion then no longer counts the bad version as passed.
        registry.set_tags(model, current, {VALIDATION_STATUS_TAG: ROLLED_BACK,
                                           **rollback_tags(reason, target, stamp, who)})
        # No concurrency group serialises us with promotions (GitHub drops a pending run): re-read
        # before and after writing, so a promotion that finished meanwhile is never silently undone.
        moved = registry.alias_version(model, alias)
        if moved == current:
            registry.set_alias(model, alias, target)
            moved = registry.alias_version(model, alias)
        if moved != target:
            raise MlopsCiError(f"{model}@{alias} moved to version {moved} during the rollback (a promotion "
                               f"finished): version {current} is marked rolled back, but the {alias} is "
                               f"left at {moved}; rerun the rollback to restore version {target}",
                               where=registry.uri)
        registry.set_tags(model, target, restored_tags(
            current, reason, stamp, who,
            forced_status=(restoring.tags or {}).get(VALIDATION_STATUS_TAG, "none") if refusal else None))
    line = (f"rollback: {model}@{alias} is version {target} again (was {current})"
            f"{f' (forced: it {refusal})' if refusal else ''}: {reason}")
    print(line, flush=True)
    gha.append_summary(f"### mlops-ci rollback: ↩️ {code_span(model)} version {target} is the {alias}\n\n"
                       f"{md_escape(line)}\n")
    for name, value in {"model-name": model, "model-version": target,
                        "model-uri": f"models:/{model}@{alias}"}.items():
        gha.set_output(name, value)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci promote` and `mlops-ci rollback` to the CLI."""
    parser = subparsers.add_parser("promote", help="gate a model version and make it the champion",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="the registered model (default: the one the PR's version belongs to)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="this version number (needs --model)")
    which.add_argument("--pr", type=int, help="the newest version tagged with this PR (mlops_ci.pr)")
    which.add_argument("--commit", help="the newest version tagged with this commit (mlops_ci.commit)")
    which.add_argument("--pushed-commit", metavar="SHA", help="the version of the PR merged as this commit "
                                                              "(asks GitHub: GITHUB_TOKEN, GITHUB_API_URL)")
    parser.add_argument("--repo", help="OWNER/NAME for --pushed-commit (default: GITHUB_REPOSITORY)")
    parser.add_argument("--branch", help="the branch merged into, for --pushed-commit "
                                         "(default: GITHUB_REF_NAME, else main)")
    parser.add_argument("--alias", help=f"the alias to move (default: promotion.alias, else {DEFAULT_ALIAS})")
    parser.add_argument("--gate", action="append", metavar="EXPR",
                        help="a gate (repeatable; replaces promotion.gates of the config)")
    parser.add_argument("--config", help="config file (default: .github/mlops-ci.yml when present)")
    parser.add_argument("--copy-to", metavar="NAME", help="also copy the champion into this registered model")
    parser.add_argument("--merged-at", metavar="TIME",
                        help="when the version's PR was merged, ISO 8601 "
                             "(default: from GitHub with --pushed-commit, else now)")
    parser.add_argument("--missing-ok", action="store_true",
                        help="exit 0 when there is no merged PR or no version for it (nothing to promote)")
    parser.add_argument("--body-file", metavar="FILE",
                        help="also write the Markdown summary here (for a comment)")
    parser.set_defaults(handler=run_promote)

    rollback = subparsers.add_parser(
        "rollback", help="move the champion back to the previous one (or --to VERSION), recorded",
        description="Move the alias back to the version recorded as the previous champion (or --to VERSION). "
                    "The version rolled back from is tagged rolled_back with the reason, time and actor, and "
                    "promote refuses it from then on. Only a version that passed its gates (and was not "
                    "rolled back) is restored, unless --force. Exit 0 done or nothing to do; 1 the version "
                    "to restore never passed or was rolled back; 2 no champion, no previous champion "
                    "recorded, unknown version, or MLflow unreachable.")
    rollback.add_argument("--model", required=True, help="the registered model")
    rollback.add_argument("--to", metavar="VERSION",
                          help="the version to restore (default: the previous champion)")
    rollback.add_argument("--reason", required=True, help="why (recorded on the version rolled back from)")
    rollback.add_argument("--alias", default=DEFAULT_ALIAS, help=f"the alias (default {DEFAULT_ALIAS})")
    rollback.add_argument("--force", action="store_true",
                          help="restore a version that never passed its gates or was rolled back "
                               "(recorded on it as mlops_ci.forced, with the reason)")
    rollback.set_defaults(handler=run_rollback)
