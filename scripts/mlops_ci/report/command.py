"""`mlops-ci report`: the pull-request report: metrics, params, data and plots against the base branch.

    mlops-ci report --base develop [--repo DIR] [--out report.md] [--json report.json]
                    [--model NAME [--alias champion] [--model-version V]] [--run-id ID]
                    [--run-url URL] [--artifacts-url URL] [--experiments DIR] [--config FILE]
                    [--code-quality JSON]

Reads the DVC project in --repo (default: the current directory) through DVC's JSON output, the
documented interface of `dvc metrics diff BASE --all`, `dvc params diff BASE` and `dvc plots diff BASE`
(each compares BASE with the workspace, where the train job's outputs are), `dvc diff BASE HEAD` (the
data between the two revisions, never what the workspace or cache happen to hold; with the workspace's
dvc.lock when it differs from HEAD's) and the .dvc and dvc.lock files of both (directories' file counts
and sizes), and, when MLFLOW_TRACKING_URI and --model are given, the run metrics of the model version
under --alias (the current champion).

The Markdown (stdout, or --out FILE; appended to the job summary inside Actions) has: a one-line
verdict against the base and against the champion, the metrics table (direction-aware arrows), the
params that changed, the data that changed per DVC-tracked path, plots that render in a GitHub
comment (Mermaid line charts for curves, tables for confusion matrices and per-class scores; the
images themselves are linked through --artifacts-url), the PR's parallel experiments side by side
with its own training (--experiments DIR), the code's figures from the lint-test job
(--code-quality: its outputs as JSON; whole-code pylint score and coverage against the base's, and
the changed lines' figures in new-code mode), links, and the commit. --json FILE writes the
same content machine-readable. The comment is kept under GitHub's 65,536-character limit by
leaving out whole blocks, least important first: plot point detail, charts, per-class tables, data
file lists, the experiment table, params, unchanged metrics; the verdict and the metrics table always stay.

Config (`report:` in .github/mlops-ci.yml, or --config FILE):
    report:
      lower_is_better: [val_loss, "*_ms"]   # metric names, path:name or MLflow keys; globs allowed
      higher_is_better: [error_budget]      # overrides the built-in name rules
      informational: [epochs, "*_seen"]     # change shown, never judged better/worse nor counted
      precision: 4                          # decimals shown (default 4)
      max_points: 50                        # points per chart (default 50)
      max_files: 20                         # files listed per data path (default 20)
      max_chars: 64000                      # comment size budget (default 64000; at most 65416:
                                            # GitHub's 65536 less room for the comment's marker)
Without a rule, the built-in name rule of mlops_ci.metric_names decides; it also maps DVC names to the
champion's MLflow keys.

Exit 0 when the report was written (a report informs, it does not gate; an unreachable MLflow
server leaves the champion "unavailable" with a warning), 2 when the base revision does not exist,
the folder is not a DVC repository, a dvc command fails, or the config is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


from mlops_ci.core import gha
from mlops_ci.config import load as load_config
from mlops_ci.config.sections import ReportConfig
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.registry.tags import DEFAULT_ALIAS
from mlops_ci.report.compare import compare, with_directions
from mlops_ci.report.data import BASE, CHANGE_KINDS, NEW, parse_data_diff
from mlops_ci.report.dvc import parse_metrics_diff, parse_params_diff, parse_plots_diff
from mlops_ci.report.markdown import verdict_text
from mlops_ci.report.records import (BETTER, NOT_APPLICABLE, WORSE, Champion, ClassTable, ConfusionPlot,
                                     CodeQuality, CurvePlot, ImagePlot, Plot, Report, Verdict)
from mlops_ci.report.render import render
from mlops_ci.report.sources import check_repo, code_quality, collect_dvc, fetch_mlflow, mlflow_links
from mlops_ci.training.experiments import Experiment, load_experiments

# --- the report ---------------------------------------------------------------------------------

def build_report(  # pylint: disable=too-many-arguments
        base: str, dvc: Mapping[str, Any], *, config: ReportConfig = ReportConfig(),
        champion: Champion = Champion(NOT_APPLICABLE), links: Mapping[str, str | None] | None = None,
        warnings: tuple[str, ...] = (), commit: str | None = None, base_commit: str | None = None,
        experiments: tuple[Experiment, ...] = (), quality: CodeQuality = CodeQuality()) -> Report:
    """The report from the four DVC JSON outputs (`dvc["metrics"|"params"|"data"|"plots"]`) and the
    outputs recorded at both revisions (`dvc["outs"]`, {BASE: ..., NEW: ...} of parse_tracked)."""
    metrics, vs_base, vs_champion = compare(parse_metrics_diff(dvc.get("metrics") or {}), champion, config)
    plots, plot_notes = parse_plots_diff(dvc.get("plots") or {})
    return Report(base=base, metrics=tuple(metrics), vs_base=vs_base, vs_champion=vs_champion,
                  champion=champion, config=config, params=tuple(parse_params_diff(dvc.get("params") or {})),
                  data=tuple(parse_data_diff(dvc.get("data") or {}, dvc.get("outs"))),
                  plots=tuple(with_directions(plots, config)), links=dict(links or {}),
                  warnings=(*warnings, *plot_notes), commit=commit, base_commit=base_commit,
                  experiments=experiments, code_quality=quality)


# --- JSON ---------------------------------------------------------------------------------------

def _better(kind: str | None) -> bool | None:
    return {BETTER: True, WORSE: False}.get(kind or "")


def _verdict_json(item: Verdict) -> dict[str, Any]:
    return {"result": item.result, "better": item.better, "worse": item.worse, "unchanged": item.same,
            "compared": item.compared, "reason": item.reason or None}


def _plot_json(plot: Plot) -> dict[str, Any]:
    if isinstance(plot, CurvePlot):
        return {"kind": plot.kind, "name": plot.name, "title": plot.title, "x": plot.x, "y": plot.y,
                "lower_is_better": plot.lower_is_better, "informational": plot.informational,
                "series": [{"rev": series.rev, "role": series.role,
                            "points": [list(point) for point in series.points]} for series in plot.series]}
    if isinstance(plot, ConfusionPlot):
        return {"kind": plot.kind, "name": plot.name, "title": plot.title, "actual": plot.actual,
                "predicted": plot.predicted, "labels": list(plot.labels),
                "matrices": {role: [[cells.get((actual, predicted), 0) for predicted in plot.labels]
                                    for actual in plot.labels]
                             for role, cells in plot.counts.items()}}
    if isinstance(plot, ClassTable):
        return {"kind": plot.kind, "name": plot.name, "title": plot.title, "key": plot.key,
                "columns": list(plot.columns),
                "rows": {role: {key: dict(values) for key, values in rows.items()}
                         for role, rows in plot.rows.items()}}
    if isinstance(plot, ImagePlot):
        return {"kind": plot.kind, "name": plot.name, "revisions": list(plot.revisions)}
    return {"kind": plot.kind, "name": plot.name, "title": plot.title}


def to_json(report: Report) -> dict[str, Any]:
    """The machine-readable report: numbers as numbers, null where absent."""
    champion = report.champion
    return {
        "verdict": {"base": _verdict_json(report.vs_base), "champion": _verdict_json(report.vs_champion),
                    "text": verdict_text(report)},
        "metrics": [{"path": row.path, "name": row.name, "mlflow_key": row.key, "base": row.base,
                     "new": row.new, "change": row.change, "champion": row.champion,
                     "better": _better(row.vs_base), "champion_change": row.champion_change,
                     "better_than_champion": _better(row.vs_champion),
                     "lower_is_better": row.lower_is_better, "informational": row.informational}
                    for row in report.metrics],
        "params": [{"path": row.path, "name": row.name, "base": row.base, "new": row.new}
                   for row in report.params],
        "data": [{"path": group.path, "source": group.source, "status": group.status,
                  **{kind: group.counts().get(kind, 0) for kind in CHANGE_KINDS},
                  "nfiles": dict(zip((BASE, NEW), group.nfiles)), "size": dict(zip((BASE, NEW), group.size)),
                  "files": [{"path": path, "change": change} for change, path in group.files]}
                 for group in report.data],
        "plots": [_plot_json(plot) for plot in report.plots],
        "champion": {"status": champion.status, "model": champion.model, "alias": champion.alias,
                     "version": champion.version, "run_id": champion.run_id,
                     "metrics": dict(champion.metrics),
                     "message": champion.message or None},
        "experiments": [item.to_json() for item in report.experiments],
        "code_quality": vars(report.code_quality),
        "links": dict(report.links),
        "warnings": list(report.warnings),
        "base": {"rev": report.base, "commit": report.base_commit},
        "commit": report.commit,
    }


# --- the command line ---------------------------------------------------------------------------

def _write(path: str, text: str) -> None:
    try:
        target = Path(path)
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot write: {error.strerror}", where=path) from error


def run_report(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci report`."""
    repo = Path(args.repo)
    quality = code_quality(args.code_quality)
    config = load_config(args.config, repo=repo).report
    commit, base_commit = check_repo(repo, args.base)
    outputs, warnings = collect_dvc(repo, args.base)
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None
    champion, experiment_id, mlflow_warnings = fetch_mlflow(tracking_uri, args.model, args.alias, args.run_id)
    links = mlflow_links(tracking_uri, experiment_id=experiment_id, run_id=args.run_id, model=args.model,
                         version=args.model_version)
    links["champion_version"] = (mlflow_links(tracking_uri, model=champion.model, version=champion.version)
                                 ["model_version"] if champion.status == "ok" else None)
    links.update({"workflow_run": args.run_url, "artifacts": args.artifacts_url})
    report = build_report(args.base, outputs, config=config, champion=champion, links=links,
                          warnings=(*warnings, *mlflow_warnings),
                          commit=commit, base_commit=base_commit,
                          experiments=load_experiments(Path(args.experiments)) if args.experiments
                          else (), quality=quality)
    for warning in report.warnings:
        gha.report("warning", warning, title="mlops-ci report")
    markdown, _ = render(report)
    if args.out:
        _write(args.out, markdown)
    else:
        sys.stdout.write(markdown)
    if args.json:
        _write(args.json, json.dumps(to_json(report), indent=2) + "\n")
    if gha.in_actions():
        gha.append_summary(markdown)
        gha.set_output("verdict", report.vs_base.result)
        gha.set_output("champion_verdict", report.vs_champion.result)
    if args.out:
        print(f"report: {verdict_text(report)}; {len(markdown):,} characters in {args.out}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci report` to the CLI."""
    parser = subparsers.add_parser(
        "report", help="pull-request report: metrics, params, data and plots against the base (DVC, MLflow)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, metavar="REV", help="the base revision (branch, tag, SHA)")
    parser.add_argument("--repo", default=".", metavar="DIR", help="the DVC project (default: .)")
    parser.add_argument("--out", metavar="FILE", help="write the Markdown here (default: stdout)")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON here")
    parser.add_argument("--model", metavar="NAME", help="registered model whose champion to compare with")
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help="the champion's alias (default: champion)")
    parser.add_argument("--run-id", metavar="ID", help="this PR's MLflow run (linked)")
    parser.add_argument("--model-version", metavar="V", help="this PR's model version (linked)")
    parser.add_argument("--run-url", metavar="URL", help="the workflow run (linked)")
    parser.add_argument("--artifacts-url", metavar="URL", help="where the full-resolution plots are (linked)")
    parser.add_argument("--experiments", metavar="DIR",
                        help="the PR's parallel experiment results (`mlops-ci train experiment`)")
    parser.add_argument("--config", metavar="FILE", help="config file (default: DIR/.github/mlops-ci.yml)")
    parser.add_argument("--code-quality", metavar="JSON",
                        help="the lint-test workflow's outputs as a JSON object (the Code quality section)")
    parser.set_defaults(handler=run_report)
