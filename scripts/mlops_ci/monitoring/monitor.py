"""`mlops-ci monitor`: what the monitor workflow does with its findings.

    mlops-ci monitor retrain --action dispatch --workflow retrain.yml [--ref develop] [--input K=V]
    mlops-ci monitor retrain --action issue [--title T] [--label L] [--details-file drift.md]
    mlops-ci monitor push --url http://pushgateway:9091 [--job J] [--label model=NAME] FILE...
    mlops-ci monitor performance --metrics live.json --metric accuracy --threshold 0.8

`retrain` starts the retraining pipeline: `dispatch` sends a workflow_dispatch event for the
project's retrain workflow on --ref (the token needs actions: write); `issue` opens an issue for
the team instead (issues: write), once: while an open issue carries the same marker, nothing new
is opened; `none` only says what happened. `push` replaces the group job/J(/label/value...) on a
Prometheus Pushgateway with the metrics in the Prometheus text files (the drift command's
`--prometheus` output), so the alert rules of `mlops-ci alerts` see the latest result.
`performance` reads the live model's metrics (a JSON object, nested keys joined with '.', such as
a DVC metrics file scored on labelled feedback) and exits 1 when the metric is below the threshold
(above it for loss-like metrics: loss, error, rmse, mae, mse, latency): the monitor workflow then
rolls the champion back.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from mlops_ci.core import gha
from mlops_ci.core.markers import COMMENT_LIMIT, marker
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.clients.github import GitHubClient, repo_path
from mlops_ci.clients.pushgateway import push_metrics
from mlops_ci.registry.metric_names import LOWER_IS_BETTER
from mlops_ci.core.text import show

ACTIONS = ("dispatch", "issue", "none")
DEFAULT_TITLE = "Retrain: data drift detected"
DEFAULT_LABEL = "retrain"
# github.com takes at most 25 workflow_dispatch inputs (10 before December 2025, still so on older
# Enterprise Server); more is refused by GitHub with a 422 after the monitor has done its work.
MAX_DISPATCH_INPUTS = 25


# --- retrain ----------------------------------------------------------------------------------------

def dispatch(github: GitHubClient, repo: str, workflow: str, ref: str, inputs: dict[str, str]) -> str:
    """Send a workflow_dispatch for `workflow` (file name or id) on `ref`; what was done, as a line."""
    github.post(repo_path(repo, "actions", "workflows", workflow, "dispatches"),
                json={"ref": ref, "inputs": inputs})
    return f"dispatched {workflow} on {ref}"


def open_issue(github: GitHubClient, repo: str, title: str, body: str, *,  # pylint: disable=too-many-arguments
               labels: list[str], key: str) -> str:
    """Open an issue carrying marker `key`, unless an open one already does; what was done, as a line."""
    tag = marker(key)
    text = f"{tag}\n{body.rstrip()}\n"
    if len(text) > COMMENT_LIMIT:
        text = text[:COMMENT_LIMIT - 40] + "\n\n(cut: see the workflow run)\n"
    params = {"state": "open", **({"labels": ",".join(labels)} if labels else {})}

    def existing() -> dict | None:
        return next((issue for issue in github.paginate(repo_path(repo, "issues"), params)
                     if "pull_request" not in issue and tag in (issue.get("body") or "")), None)

    issue, created = github.create_once(repo_path(repo, "issues"),
                                        {"title": title, "body": text, "labels": labels}, existing)
    if created:
        return f"opened issue #{issue['number']}: {issue.get('html_url', '')}"
    return f"issue #{issue['number']} is already open: {issue.get('html_url', '')}"


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise MlopsCiError(f"{show(value)}: expected NAME=VALUE", where=option)
        pairs[name] = text
    return pairs


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot read: {error.strerror}", where=path) from error


def retrain(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci monitor retrain`."""
    inputs = _pairs(args.input, "--input")
    if args.action == "dispatch" and not args.workflow:
        raise MlopsCiError("--action dispatch needs --workflow FILE (the project's retrain workflow)")
    if args.action == "dispatch" and len(inputs) > MAX_DISPATCH_INPUTS:
        raise MlopsCiError(f"--input: {len(inputs)} inputs; a workflow_dispatch takes at most "
                           f"{MAX_DISPATCH_INPUTS} (GitHub's limit): pass fewer, e.g. one JSON input")
    body = args.reason + ("\n\n" + _read(args.details_file) if args.details_file else "")
    if args.action == "none":
        outcome = "retraining not triggered (action none)"
    else:
        repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            raise MlopsCiError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
        with GitHubClient.from_env() as github:
            if args.action == "dispatch":
                outcome = dispatch(github, repo, args.workflow, args.ref, inputs)
            else:
                outcome = open_issue(github, repo, args.title, body, labels=args.label or [DEFAULT_LABEL],
                                     key=args.marker)
    print(f"{args.reason}: {outcome}")
    gha.set_output("outcome", outcome)
    gha.append_summary(f"### monitor: retraining\n\n{args.reason}: {outcome}")
    return EXIT_OK


# --- push -------------------------------------------------------------------------------------------

def push(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci monitor push`."""
    if not args.url.startswith(("http://", "https://")):
        raise MlopsCiError(f"not an http(s) URL: {show(args.url)}", where="--url")
    labels = _pairs(args.label, "--label")
    for name in labels:
        if not name.isidentifier() or name == "job":
            raise MlopsCiError(f"{show(name)} is not a grouping label name (job is --job)", where="--label")
    text = "".join(_read(path).rstrip("\n") + "\n" for path in args.files)
    target = push_metrics(args.url, args.job, labels, text)
    print(f"pushed {len(args.files)} file(s) to {target}")
    return EXIT_OK


# --- performance ------------------------------------------------------------------------------------

def flatten(data: dict, prefix: str = "") -> dict[str, object]:
    """`{"test": {"accuracy": 0.9}}` -> `{"test.accuracy": 0.9}`."""
    flat: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        flat.update(flatten(value, f"{name}.") if isinstance(value, dict) else {name: value})
    return flat


def degraded(value: float, metric: str, threshold: float) -> bool:
    """Whether the live `value` of `metric` crossed `threshold` (direction by the metric's name)."""
    return value > threshold if LOWER_IS_BETTER.search(metric) else value < threshold


def performance(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci monitor performance`."""
    try:
        data = json.loads(_read(args.metrics))
    except ValueError as error:
        raise MlopsCiError(f"not JSON: {error}", where=args.metrics) from error
    value = flatten(data).get(args.metric) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MlopsCiError(f"no number {show(args.metric)} in the metrics", where=args.metrics)
    bad = degraded(float(value), args.metric, args.threshold)
    word = "crossed" if bad else "within"
    line = f"live {args.metric} {value:g}: {word} the threshold {args.threshold:g}"
    print(line)
    gha.set_output("degraded", str(bad).lower())
    gha.append_summary(f"### monitor: performance\n\n{'⚠️' if bad else '✅'} {line}")
    return EXIT_REFUSED if bad else EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci monitor` to the CLI."""
    parser = subparsers.add_parser(
        "monitor", help="act on monitoring results: retraining triggers, Pushgateway, live performance",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="monitor_command", metavar="SUBCOMMAND", required=True)

    trigger = commands.add_parser("retrain", help="dispatch the retrain workflow or open an issue")
    trigger.add_argument("--action", choices=ACTIONS, required=True,
                         help="dispatch the workflow, open an issue, or none")
    trigger.add_argument("--reason", default="data drift detected", help="why (first line of the issue)")
    trigger.add_argument("--details-file", help="Markdown appended to the issue (e.g. the drift table)")
    trigger.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    trigger.add_argument("--workflow", help="dispatch: the retrain workflow's file name or id")
    trigger.add_argument("--ref", default="develop",
                         help="dispatch: the branch it runs on (default %(default)s)")
    trigger.add_argument("--input", action="append", default=[], metavar="NAME=VALUE",
                         help="dispatch: a workflow input (repeatable)")
    trigger.add_argument("--title", default=DEFAULT_TITLE, help="issue: its title (default %(default)r)")
    trigger.add_argument("--label", action="append", metavar="NAME",
                         help=f"issue: a label (repeatable; default {DEFAULT_LABEL})")
    trigger.add_argument("--marker", default="retrain",
                         help="issue: identifies it; no second open issue with it (default %(default)s)")
    trigger.set_defaults(handler=retrain)

    pusher = commands.add_parser("push", help="replace a Pushgateway group with Prometheus text files")
    pusher.add_argument("files", nargs="+", metavar="FILE", help="Prometheus text-format files")
    pusher.add_argument("--url", required=True, help="the Pushgateway's base URL")
    pusher.add_argument("--job", default="mlops-ci-monitor",
                        help="the group's job label (default %(default)s)")
    pusher.add_argument("--label", action="append", default=[], metavar="NAME=VALUE",
                        help="a further grouping label, e.g. model=digits (repeatable)")
    pusher.set_defaults(handler=push)

    checker = commands.add_parser("performance", help="exit 1 when a live metric crossed its threshold")
    checker.add_argument("--metrics", required=True, metavar="FILE", help="the live model's metrics (JSON)")
    checker.add_argument("--metric", default="accuracy", help="the metric to check (default %(default)s)")
    checker.add_argument("--threshold", type=float, required=True, help="its limit")
    checker.set_defaults(handler=performance)
