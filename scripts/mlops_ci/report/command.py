"""`mlops-ci report`: the pull-request report: metrics, params, data and plots against the base branch.

    mlops-ci report --base develop [--repo DIR] [--out report.md] [--json report.json]
                    [--model NAME [--alias champion] [--model-version V]] [--run-id ID]
                    [--run-url URL] [--artifacts-url URL] [--experiments DIR] [--config FILE]

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
with its own training (--experiments DIR), links, and the commit. --json FILE writes the
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
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from mlops_ci.config import load as load_config
from mlops_ci.config.sections import ReportConfig
from mlops_ci.core import gha
from mlops_ci.report import render as report_render
from mlops_ci.training.experiments import Experiment, load_experiments
from mlops_ci.registry.metric_names import INFO, LOWER, mlflow_key
from mlops_ci.clients.mlflow import bounded_mlflow_retries
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.core.proc import git, run_dvc
from mlops_ci.report.data import (BASE, CHANGE_KINDS, NEW, DataGroup, parse_data_diff, read_tracked,
                                  trained_revision)

DEFAULT_ALIAS = "champion"
WORKSPACE = "workspace"
# Outcomes of one comparison (and "noted": an informational value changed, shown but not judged).
BETTER, WORSE, SAME = "better", "worse", "same"
# Verdict results beyond better/worse/mixed/unchanged.
NOT_APPLICABLE = "n/a"        # nothing to compare with (no MLflow, no --model, no common metric)
NO_CHAMPION = "none"          # the model has no version under the alias yet
UNAVAILABLE = "unavailable"   # MLflow could not be asked
# A confusion matrix's predicted field, by name (DVC's docs put it on x or on y, depending on the page).
_PREDICTED = re.compile(r"pred", re.IGNORECASE)


# --- records ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricRow:  # pylint: disable=too-many-instance-attributes
    """One metric: base and workspace values from DVC, the champion's from MLflow, and the outcomes
    (better/worse/same, None when not comparable) against each."""

    path: str
    name: str
    base: Any
    new: Any
    champion: Any = None
    lower_is_better: bool = False
    informational: bool = False
    key: str = ""                    # the MLflow metric key (mlops_ci.metric_names)
    vs_base: str | None = None
    vs_champion: str | None = None

    @property
    def change(self) -> float | None:
        """new - base when both are numbers."""
        return difference(self.base, self.new)

    @property
    def champion_change(self) -> float | None:
        """new - champion when both are numbers."""
        return difference(self.champion, self.new)


@dataclass(frozen=True)
class ParamRow:
    """A parameter whose value differs from the base (None: absent on that side)."""

    path: str
    name: str
    base: Any
    new: Any


@dataclass(frozen=True)
class Series:
    """One revision's line of a curve."""

    rev: str
    role: str                                   # BASE or NEW
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class CurvePlot:  # pylint: disable=too-many-instance-attributes
    """A line plot (x and y numeric), one per y field, one series per revision."""

    name: str
    title: str
    x: str
    y: str
    series: tuple[Series, ...]
    lower_is_better: bool = False
    informational: bool = False
    kind: str = "curve"


@dataclass(frozen=True)
class ConfusionPlot:
    """Counts of (actual, predicted) pairs per revision role."""

    name: str
    title: str
    actual: str
    predicted: str
    labels: tuple[str, ...]
    counts: Mapping[str, Mapping[tuple[str, str], int]]
    kind: str = "confusion"


@dataclass(frozen=True)
class ClassTable:  # pylint: disable=too-many-instance-attributes
    """A bar plot over categories (per-class scores): every numeric column per category and role."""

    name: str
    title: str
    key: str
    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, Mapping[str, float]]]   # role -> category -> column -> value
    lower_is_better: tuple[bool, ...] = ()
    informational: tuple[bool, ...] = ()
    kind: str = "table"


@dataclass(frozen=True)
class ImagePlot:
    """An image plot (PNG, SVG): shown as a link to the workflow artifacts."""

    name: str
    revisions: tuple[str, ...]
    kind: str = "image"


@dataclass(frozen=True)
class OtherPlot:
    """A vega plot this report cannot draw (named only)."""

    name: str
    title: str
    kind: str = "other"


Plot = CurvePlot | ConfusionPlot | ClassTable | ImagePlot | OtherPlot


@dataclass(frozen=True)
class Champion:
    """The model version under the alias, and its run's metrics."""

    status: str                       # "ok", NOT_APPLICABLE, NO_CHAMPION or UNAVAILABLE
    model: str | None = None
    alias: str = DEFAULT_ALIAS
    version: str | None = None
    run_id: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome against one reference: better, worse, mixed, unchanged, or why there is none."""

    result: str
    better: int = 0
    worse: int = 0
    same: int = 0
    reason: str = ""

    @property
    def compared(self) -> int:
        """How many metrics were compared."""
        return self.better + self.worse + self.same


@dataclass(frozen=True)
class Report:  # pylint: disable=too-many-instance-attributes
    """Everything the Markdown and the JSON are made of."""

    base: str
    metrics: tuple[MetricRow, ...]
    vs_base: Verdict
    vs_champion: Verdict
    champion: Champion
    config: ReportConfig = ReportConfig()
    params: tuple[ParamRow, ...] = ()
    data: tuple[DataGroup, ...] = ()
    plots: tuple[Plot, ...] = ()
    links: Mapping[str, str | None] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    commit: str | None = None
    base_commit: str | None = None
    experiments: tuple[Experiment, ...] = ()


# --- DVC JSON -> records ------------------------------------------------------------------------

def is_number(value: Any) -> bool:
    """A finite int or float (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def difference(old: Any, new: Any) -> float | None:
    """new - old for two numbers (rounded off float noise), else None."""
    if not (is_number(old) and is_number(new)):
        return None
    delta = new - old
    return delta if isinstance(delta, int) else round(delta, 12)


def parse_metrics_diff(data: Mapping[str, Any]) -> list[MetricRow]:
    """`dvc metrics diff BASE --all --json`: {path: {name: {"old", "new", "diff"?}}} -> rows by path, name."""
    rows = []
    for path, metrics in data.items():
        if not isinstance(metrics, dict):
            continue
        for name, values in metrics.items():
            if isinstance(values, dict):
                rows.append(MetricRow(path, name, values.get("old"), values.get("new")))
    return sorted(rows, key=lambda row: (row.path, row.name))


def parse_params_diff(data: Mapping[str, Any]) -> list[ParamRow]:
    """`dvc params diff BASE --json`: {path: {name: {"old", "new", "diff"?}}} -> the changed params."""
    rows = []
    for path, params in data.items():
        if not isinstance(params, dict):
            continue
        for name, values in params.items():
            if isinstance(values, dict) and values.get("old") != values.get("new"):
                rows.append(ParamRow(path, name, values.get("old"), values.get("new")))
    return sorted(rows, key=lambda row: (row.path, row.name))


def _encodings(spec: Any, found: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The first x and y encodings (with a field) anywhere in a vega-lite spec."""
    found = {} if found is None else found
    if isinstance(spec, dict):
        encoding = spec.get("encoding")
        if isinstance(encoding, dict):
            for axis in ("x", "y"):
                channel = encoding.get(axis)
                if axis not in found and isinstance(channel, dict) and "field" in channel:
                    found[axis] = channel
        for key, value in spec.items():
            if key != "data":
                _encodings(value, found)
    elif isinstance(spec, list):
        for item in spec:
            _encodings(item, found)
    return found


def _number(value: Any) -> float | None:
    if is_number(value):
        return float(value)
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _role(rev: Any) -> str:
    return NEW if rev == WORKSPACE else BASE


def _label_key(label: str) -> tuple[int, float, str]:
    number = _number(label)
    return (0, number, label) if number is not None else (1, 0.0, label)


def _title(content: Mapping[str, Any], name: str) -> str:
    title = content.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return str(title) if isinstance(title, str) and title else name


def _curves(name: str, title: str, x: str, y: str, values: list[dict[str, Any]]) -> list[CurvePlot]:
    lines: dict[str, dict[str, list[tuple[float, float]]]] = {}
    files = {row.get("filename") for row in values} - {None}
    for row in values:
        field_name = str(row.get("field", y))
        if len(files) > 1:
            field_name = f"{row.get('filename')}: {field_name}"
        point = (_number(row.get(x)), _number(row.get(y)))
        if point[0] is not None and point[1] is not None:
            lines.setdefault(field_name, {}).setdefault(str(row.get("rev", WORKSPACE)), []).append(point)
    plots = []
    for field_name, by_rev in lines.items():
        series = sorted((Series(rev, _role(rev), tuple(sorted(points))) for rev, points in by_rev.items()),
                        key=lambda item: item.role)
        plots.append(CurvePlot(name, title, x, field_name, tuple(series)))
    return plots


def confusion_axes(x: str, y: str) -> tuple[str, str]:
    """(actual, predicted) of a confusion plot's x and y fields: the field named like a prediction
    is the predicted one; without one, y is actual (rows), as in DVC's confusion template."""
    if _PREDICTED.search(y) and not _PREDICTED.search(x):
        return x, y
    return y, x


def _confusion(name: str, title: str, actual: str, predicted: str,
               values: list[dict[str, Any]]) -> ConfusionPlot:
    counts: dict[str, dict[tuple[str, str], int]] = {}
    labels: set[str] = set()
    for row in values:
        pair = (str(row.get(actual)), str(row.get(predicted)))
        labels.update(pair)
        cells = counts.setdefault(_role(row.get("rev", WORKSPACE)), {})
        cells[pair] = cells.get(pair, 0) + 1
    return ConfusionPlot(name, title, actual, predicted, tuple(sorted(labels, key=_label_key)), counts)


_NOT_COLUMNS = {"rev", "filename", "field", "step", "dvc_inferred_y_value"}


def _class_table(name: str, title: str, key: str, values: list[dict[str, Any]]) -> ClassTable:
    columns: list[str] = []
    rows: dict[str, dict[str, dict[str, float]]] = {}
    for row in values:
        numbers = {column: _number(value) for column, value in row.items()
                   if column not in _NOT_COLUMNS and column != key}
        numbers = {column: value for column, value in numbers.items() if value is not None}
        columns.extend(column for column in numbers if column not in columns)
        rows.setdefault(_role(row.get("rev", WORKSPACE)), {})[str(row.get(key))] = numbers
    return ClassTable(name, title, key, tuple(columns), rows)


def _vega_plots(name: str, content: Mapping[str, Any]) -> list[Plot]:
    values = (content.get("data") or {}).get("values") or []
    values = [row for row in values if isinstance(row, dict)]
    title = _title(content, name)
    encodings = _encodings(content)
    x, y = encodings.get("x", {}), encodings.get("y", {})
    numeric = {"quantitative", "temporal"}
    if not values or "field" not in x or "field" not in y:
        return [OtherPlot(name, title)]
    if x.get("type") in numeric and y.get("type") in numeric:
        return list(_curves(name, title, x["field"], y["field"], values)) or [OtherPlot(name, title)]
    if x.get("type") not in numeric and y.get("type") not in numeric:
        return [_confusion(name, title, *confusion_axes(x["field"], y["field"]), values)]
    key = x["field"] if x.get("type") not in numeric else y["field"]
    return [_class_table(name, title, key, values)]


def parse_plots_diff(data: Mapping[str, Any]) -> tuple[list[Plot], list[str]]:
    """`dvc plots diff BASE --json` -> plot records, and one line per plot DVC could not load."""
    plots: list[Plot] = []
    for name, items in (data.get("data") or {}).items():
        images: list[str] = []
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            if item.get("type") == "image":
                images.extend(str(rev) for rev in item.get("revisions") or ())
            elif item.get("type") == "vega" and isinstance(item.get("content"), dict):
                plots.extend(_vega_plots(name, item["content"]))
        if images:
            plots.append(ImagePlot(name, tuple(dict.fromkeys(images))))
    problems: dict[str, list[str]] = {}
    for error in data.get("errors") or ():
        if isinstance(error, dict):
            # DVC leaves out what it does not know (a definition error has no rev): never print None.
            source = error.get("source") or error.get("name")
            reason = error.get("msg") or error.get("type") or "could not be loaded"
            revs = problems.setdefault(f"{source}: {reason}" if source else str(reason), [])
            if error.get("rev"):
                revs.append(str(error["rev"]))
    notes = [f"dvc plots: {what}" + (f" ({', '.join(revs)})" if revs else "")
             for what, revs in problems.items()]
    return plots, notes


# --- comparisons --------------------------------------------------------------------------------

def outcome(reference: Any, value: Any, lower_is_better: bool, precision: int,
            informational: bool = False) -> str | None:
    """BETTER, WORSE, SAME (a change that rounds to zero at `precision`) or NOTED (an informational
    value changed); None if not comparable."""
    delta = difference(reference, value)
    return None if delta is None else report_render.judge(delta, lower_is_better, precision, informational)


def verdict(outcomes: list[str | None], reason: str = "no metric on both sides") -> Verdict:
    """Better (only improvements), worse (only regressions), mixed, unchanged or n/a (none compared)."""
    better, worse, same = (outcomes.count(kind) for kind in (BETTER, WORSE, SAME))
    if better and worse:
        result = "mixed"
    elif better:
        result = BETTER
    elif worse:
        result = WORSE
    elif same:
        result = "unchanged"
    else:
        return Verdict(NOT_APPLICABLE, reason=reason)
    return Verdict(result, better, worse, same)


def compare(rows: list[MetricRow], champion: Champion,
            config: ReportConfig) -> tuple[list[MetricRow], Verdict, Verdict]:
    """Rows with directions, champion values (matched by MLflow key) and outcomes; the verdicts
    against base and champion, informational metrics left out of both."""
    compared = []
    paths = {row.path for row in rows}
    for row in rows:
        key = mlflow_key(row.path, row.name, paths)
        direction = config.direction(row.name, row.path, key)
        row = replace(row, lower_is_better=direction == LOWER, informational=direction == INFO, key=key,
                      champion=champion.metrics.get(key) if champion.status == "ok" else None)
        compared.append(replace(row, vs_base=outcome(row.base, row.new, row.lower_is_better, config.precision,
                                                     row.informational),
                                vs_champion=outcome(row.champion, row.new, row.lower_is_better,
                                                    config.precision, row.informational)))
    judged = [row for row in compared if not row.informational]
    vs_base = verdict([row.vs_base for row in judged])
    if champion.status == "ok":
        vs_champion = verdict([row.vs_champion for row in judged], "no metric in common with the champion"
                              + (" (with several metrics files, MLflow keys are <file stem>.<key>)"
                                 if len(paths) > 1 else ""))
    else:
        vs_champion = Verdict(champion.status, reason=champion.message)
    return compared, vs_base, vs_champion


def with_directions(plots: list[Plot], config: ReportConfig) -> list[Plot]:
    """Plots with the lower-is-better flags of their y fields or columns set from the config."""
    result: list[Plot] = []
    for plot in plots:
        if isinstance(plot, CurvePlot):
            direction = config.direction(plot.y.rsplit(": ", 1)[-1])
            plot = replace(plot, lower_is_better=direction == LOWER, informational=direction == INFO)
        elif isinstance(plot, ClassTable):
            directions = [config.direction(column) for column in plot.columns]
            plot = replace(plot, lower_is_better=tuple(direction == LOWER for direction in directions),
                           informational=tuple(direction == INFO for direction in directions))
        result.append(plot)
    return result


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


def build_report(  # pylint: disable=too-many-arguments
        base: str, dvc: Mapping[str, Any], *, config: ReportConfig = ReportConfig(),
        champion: Champion = Champion(NOT_APPLICABLE), links: Mapping[str, str | None] | None = None,
        warnings: tuple[str, ...] = (), commit: str | None = None, base_commit: str | None = None,
        experiments: tuple[Experiment, ...] = ()) -> Report:
    """The report from the four DVC JSON outputs (`dvc["metrics"|"params"|"data"|"plots"]`) and the
    outputs recorded at both revisions (`dvc["outs"]`, {BASE: ..., NEW: ...} of parse_tracked)."""
    metrics, vs_base, vs_champion = compare(parse_metrics_diff(dvc.get("metrics") or {}), champion, config)
    plots, plot_notes = parse_plots_diff(dvc.get("plots") or {})
    return Report(base=base, metrics=tuple(metrics), vs_base=vs_base, vs_champion=vs_champion,
                  champion=champion, config=config, params=tuple(parse_params_diff(dvc.get("params") or {})),
                  data=tuple(parse_data_diff(dvc.get("data") or {}, dvc.get("outs"))),
                  plots=tuple(with_directions(plots, config)), links=dict(links or {}),
                  warnings=(*warnings, *plot_notes), commit=commit, base_commit=base_commit,
                  experiments=experiments)


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
                    "text": report_render.verdict_text(report)},
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
        "links": dict(report.links),
        "warnings": list(report.warnings),
        "base": {"rev": report.base, "commit": report.base_commit},
        "commit": report.commit,
    }


# --- I/O at the edges: git, dvc, MLflow --------------------------------------------------------

def collect_dvc(repo: Path, base: str) -> tuple[dict[str, Any], list[str]]:
    """The four DVC JSON outputs (metrics, params and plots: BASE against the workspace; data: BASE
    against trained_revision), the outputs both revisions record, and DVC's warnings."""
    new = trained_revision(repo)
    outputs: dict[str, Any] = {"outs": {BASE: read_tracked(repo, base), NEW: read_tracked(repo, new)}}
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlops-ci-plots-") as images:
        commands = {"metrics": ("metrics", "diff", base, "--all"), "params": ("params", "diff", base),
                    "data": ("diff", base, new), "plots": ("plots", "diff", base, "-o", images)}
        # Read-only commands: run side by side (about half the wall time); errors in this order.
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            futures = {key: pool.submit(run_dvc, repo, *args) for key, args in commands.items()}
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


def _mlflow_error(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:200] + "..."


def _champion(client: Any, model: str, alias: str, errors: tuple[type[Exception], ...]) -> Champion:
    """The model version under `alias` and its run's metrics; NO_CHAMPION when there is none,
    UNAVAILABLE (with the reason as message) when MLflow fails."""
    try:
        version = client.get_model_version_by_alias(model, alias)
        metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
        return Champion("ok", model, alias, str(version.version), version.run_id, dict(metrics))
    except errors as error:
        code = getattr(error, "error_code", "")
        missing = code == "INVALID_PARAMETER_VALUE" and "not found" in str(error)   # no such alias
        if code == "RESOURCE_DOES_NOT_EXIST" or missing:
            return Champion(NO_CHAMPION, model, alias, message=_mlflow_error(error))
        return Champion(UNAVAILABLE, model, alias, message=f"MLflow unavailable: {_mlflow_error(error)}")


def fetch_mlflow(tracking_uri: str | None, model: str | None, alias: str,
                 run_id: str | None) -> tuple[Champion, str | None, list[str]]:
    """(champion, experiment id of --run-id, warnings) from the MLflow server; never raises for the
    server's sake: an unreachable server makes the champion UNAVAILABLE, with a warning."""
    if not tracking_uri or (model is None and run_id is None):
        why = "MLFLOW_TRACKING_URI is not set" if not tracking_uri else "no --model given"
        return Champion(NOT_APPLICABLE, model, alias, message=why), None, []
    try:
        from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel
        from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel
    except ImportError:
        message = "the mlflow package is not installed (pip install mlflow-skinny)"
        return Champion(UNAVAILABLE, model, alias, message=message), None, [message]
    errors = (MlflowException, OSError)
    warnings: list[str] = []
    champion = Champion(NOT_APPLICABLE, model, alias, message="no --model given")
    experiment_id = None
    with bounded_mlflow_retries():
        client = MlflowClient(tracking_uri=tracking_uri)
        if model is not None:
            champion = _champion(client, model, alias, errors)
            if champion.status == UNAVAILABLE:
                warnings.append(f"champion {model}@{alias}: {champion.message}")
        if run_id is not None and champion.status != UNAVAILABLE:
            try:
                experiment_id = client.get_run(run_id).info.experiment_id
            except errors as error:
                warnings.append(f"MLflow run {run_id}: {_mlflow_error(error)}")
    return champion, experiment_id, warnings


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
                          else ())
    for warning in report.warnings:
        gha.report("warning", warning, title="mlops-ci report")
    markdown, _ = report_render.render(report)
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
        print(f"report: {report_render.verdict_text(report)}; {len(markdown):,} characters in {args.out}")
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
    parser.set_defaults(handler=run_report)
