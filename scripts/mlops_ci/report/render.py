"""The Markdown of `mlops-ci report`: blocks rendered from the report's records, fitted to size.

Each section is a block with levels, richest first; fitting steps blocks down one drop stage at a
time (STAGES, least important first) until the comment fits, so a table is left out whole or kept
whole, never cut in half. Pure functions: records in, text out.
"""

from __future__ import annotations

import html
import json
import math
from decimal import Decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_ci import __version__
from mlops_ci.core.markers import BODY_LIMIT, COMMENT_LIMIT
from mlops_ci.registry.metric_names import INFO, LOWER
from mlops_ci.core.text import md_escape

if TYPE_CHECKING:  # pragma: no cover
    from mlops_ci.report.command import (ClassTable, ConfusionPlot, CurvePlot, DataGroup, MetricRow, Report, Series,
                                 Verdict)

COARSE_POINTS = 12               # points per chart once plot point detail is dropped
MAX_MATRIX_LABELS = 20           # wider confusion matrices become a list of the top confusions
TOP_CONFUSIONS = 15
MAX_DATA_GROUPS = 50
MAX_WARNINGS = 10
PALETTE = "#0969da, #fb8500"     # this PR (blue), base (orange): the legend's squares
LEGEND = {"new": "🟦", "base": "🟧"}
INIT = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + PALETTE + '"}}}}%%'

# Drop stages, least important first: stage N leaves out what STAGES[N - 1] names.
STAGES = ("plot point detail", "charts (final values kept)", "per-class tables", "data file lists",
          "experiment table", "params", "unchanged metrics")
POINTS, CHARTS, PER_CLASS, FILE_LISTS, EXPERIMENTS, PARAMS, UNCHANGED = range(1, len(STAGES) + 1)
MAX_EXPERIMENT_METRICS = 6       # metric columns in the experiments table (all are in the JSON)

_EMOJI = {"better": "✅", "worse": "⚠️", "mixed": "⚖️", "unchanged": "➖"}
_DIRECTION_MARK = {LOWER: " ↓", INFO: " ℹ️"}      # after a metric's name; higher-is-better has none


# --- formatting ---------------------------------------------------------------------------------

def size(text: str) -> int:
    """Length as GitHub may count it (UTF-16 code units: an emoji can count twice)."""
    return len(text.encode("utf-16-le")) // 2


def number(value: Any, precision: int) -> str:
    """A value for a table cell: numbers with `precision` decimals (tiny ones in e-notation)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return _decimal(value, precision, "")
    return md_escape(value if isinstance(value, str) else json.dumps(value))


def _decimal(value: float, precision: int, sign: str) -> str:
    """`precision` decimals; tiny values in e-notation; ints, NaN and infinities as they are."""
    if isinstance(value, int) or not math.isfinite(value):
        return f"{value:{sign}}"
    if value and abs(value) < 10 ** -precision:
        return f"{value:{sign}.{max(precision, 1)}g}"
    return f"{value:{sign}.{precision}f}"


def signed(delta: float, precision: int) -> str:
    """A change with its sign."""
    return _decimal(delta, precision, "+")


def judge(delta: float, lower_is_better: bool, precision: int, informational: bool = False) -> str:
    """same (rounds to zero at `precision`), noted (an informational value changed), better or worse."""
    if abs(delta) < 0.5 * 10 ** -precision:
        return "same"
    if informational:
        return "noted"
    return "better" if (delta < 0) == lower_is_better else "worse"


def code(text: str) -> str:
    """Inline code for a table cell (pipes escaped, as GFM tables need even inside code)."""
    text = " ".join(str(text).split())
    if "`" in text:
        return md_escape(text)
    return "`" + text.replace("|", "\\|") + "`"


def _arrow(delta: float) -> str:
    return "▲" if delta > 0 else "▼"


def change_cell(base: Any, new: Any, delta: float | None, kind: str | None, precision: int) -> str:
    """The change column: arrow (direction of the value), signed change, percent, ✅ better / ⚠️ worse
    (no mark when noted: informational)."""
    if kind is None or delta is None:
        if base is None and new is not None:
            return "🆕 new"
        if new is None and base is not None:
            return "removed"
        return "changed" if base != new else "—"
    if kind == "same":
        return "="
    percent = f" ({delta / abs(base) * 100:+.2f}%)" if base else ""
    mark = f" {_EMOJI[kind]}" if kind in _EMOJI else ""
    return f"{_arrow(delta)} {signed(delta, precision)}{percent}{mark}"


def _table(header: Sequence[str], align: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- the verdict --------------------------------------------------------------------------------

def _counts(item: Verdict) -> str:
    for count, label in ((item.better, "better"), (item.worse, "worse"), (item.same, "unchanged")):
        if count == item.compared:
            return f"{'both' if count == 2 else 'all ' + str(count) if count > 1 else 'the one'} " \
                   f"metric{'s' if count > 1 else ''} {label}"
    parts = [f"{count} {label}" for count, label in ((item.better, "better"), (item.worse, "worse"),
                                                      (item.same, "unchanged")) if count]
    return ", ".join(parts)


def _phrase(item: Verdict, target: str, markdown: bool) -> str:
    bold = (lambda text: f"**{text}**") if markdown else (lambda text: text)
    words = {"better": "better than", "worse": "worse than", "mixed": "mixed against",
             "unchanged": "unchanged against"}
    if item.result in words:
        head, _, tail = words[item.result].partition(" ")
        text = f"{bold(head.capitalize() if markdown else head)} {tail} {target} ({_counts(item)})"
        return f"{_EMOJI[item.result]} {text}" if markdown else text
    return f"❔ {bold('No comparison')} with {target}: {item.reason}" if markdown else \
        f"no comparison with {target}: {item.reason}"


def _champion_phrase(report: Report, markdown: bool) -> str:
    champion = report.champion
    name = f"{champion.model}@{champion.alias}" if champion.model else champion.alias
    shown = code(name) if markdown else name
    if champion.status == "ok":
        version = f" v{champion.version}" if champion.version else ""
        return _phrase(report.vs_champion, f"champion {shown}{version}", markdown)
    if champion.status == "none":
        text = f"no champion yet ({shown} not found)"
        return f"🏁 {text[0].upper()}{text[1:]}" if markdown else text
    if champion.status == "unavailable":
        return "⚠️ Champion **unavailable** (MLflow could not be reached)" if markdown else \
            "champion unavailable (MLflow could not be reached)"
    why = f" ({champion.message})" if champion.message else ""
    return f"❔ Champion: n/a{why}" if markdown else f"champion: n/a{why}"


def verdict_text(report: Report) -> str:
    """The verdict as one plain line (stdout, the JSON report)."""
    return f"{_phrase(report.vs_base, report.base, False)}; {_champion_phrase(report, False)}"


def verdict_block(report: Report) -> str:
    """The heading and the one-line verdict."""
    line = f"{_phrase(report.vs_base, 'base ' + code(report.base), True)} · {_champion_phrase(report, True)}"
    return f"## 📊 Model report\n\n{line}\n"


def warnings_block(warnings: Sequence[str]) -> str:
    """DVC and MLflow warnings as a quote (capped)."""
    if not warnings:
        return ""
    lines = [f"> ⚠️ {md_escape(text)}" for text in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        lines.append(f"> … and {len(warnings) - MAX_WARNINGS} more warnings (in the job log)")
    return "\n>\n".join(lines) + "\n"


# --- metrics, params, data ----------------------------------------------------------------------

def _champion_cell(report: Report, row: MetricRow) -> str:
    status = report.champion.status
    if status != "ok":
        return "unavailable" if status == "unavailable" else "n/a"
    mark = {"better": " ✅", "worse": " ⚠️"}.get(row.vs_champion or "", "")
    return number(row.champion, report.config.precision) + mark


def metrics_block(report: Report, *, changed_only: bool = False, limit: int | None = None) -> str:
    """The metrics table: metric, base, this PR, change, champion."""
    precision = report.config.precision
    rows = [row for row in report.metrics if not (changed_only and row.vs_base == "same")]
    hidden = len(report.metrics) - len(rows)
    if limit is not None and limit < len(rows):
        hidden += len(rows) - limit
        rows = rows[:limit]
    with_path = len({row.path for row in report.metrics}) > 1
    champion = report.champion
    version = f" v{champion.version}" if champion.status == "ok" and champion.version else ""
    header = [*(["File"] if with_path else []), "Metric", f"Base {code(report.base)}", "This PR", "Change",
              f"Champion{version}"]
    align = [*([":---"] if with_path else []), ":---", "---:", "---:", "---:", "---:"]
    cells = [[*([code(row.path)] if with_path else []),
              md_escape(row.name) + _DIRECTION_MARK.get(LOWER if row.lower_is_better else
                                                         INFO if row.informational else "", ""),
              number(row.base, precision), number(row.new, precision),
              change_cell(row.base, row.new, row.change, row.vs_base, precision), _champion_cell(report, row)]
             for row in rows]
    parts = ["### Metrics", ""]
    if not report.metrics:
        parts.append("_No metrics: `dvc metrics diff` found none in the base or the workspace._")
        return "\n".join(parts) + "\n"
    parts.append(_table(header, align, cells))
    legend = ["▲▼ direction of the change", "✅ better", "⚠️ worse"]
    if any(row.lower_is_better for row in report.metrics):
        legend.append("↓ lower is better")
    if any(row.informational for row in report.metrics):
        legend.append("ℹ️ informational: the change is shown, not judged")
    if champion.status == "ok":
        legend.append("champion column: ✅/⚠️ when this PR is better/worse than the champion")
    parts += ["", f"<sub>{' · '.join(legend)}</sub>"]
    if hidden:
        what = "unchanged metric(s)" if limit is None else "more metric(s)"
        parts += ["", f"_{hidden} {what} not shown (all are in the JSON report)._"]
    return "\n".join(parts) + "\n"


def _param_value(value: Any) -> str:
    if value is None:
        return "—"
    return code(value if isinstance(value, str) else json.dumps(value))


def params_block(report: Report, *, full: bool = True) -> str:
    """The params that changed (dvc params diff hides unchanged ones)."""
    if not report.params:
        return ""
    parts = ["### Params", ""]
    if not full:
        parts.append(f"_{len(report.params)} param(s) changed: listed in the JSON report._")
        return "\n".join(parts) + "\n"
    with_path = len({row.path for row in report.params}) > 1
    header = [*(["File"] if with_path else []), "Param", f"Base {code(report.base)}", "This PR"]
    align = [*([":---"] if with_path else []), ":---", "---:", "---:"]
    rows = [[*([code(row.path)] if with_path else []), code(row.name), _param_value(row.base),
             _param_value(row.new)] for row in report.params]
    parts.append(_table(header, align, rows))
    return "\n".join(parts) + "\n"


def _experiment_columns(report: Report) -> list[tuple[str, str]]:
    """(path, name) of the metrics to compare: the PR's own metrics that the experiments have too,
    in the metrics table's order (else the experiments' own), at most MAX_EXPERIMENT_METRICS."""
    found = [key for item in report.experiments for key in item.metrics]
    ours = [(row.path, row.name) for row in report.metrics if (row.path, row.name) in found]
    return (ours or list(dict.fromkeys(found)))[:MAX_EXPERIMENT_METRICS]


def _best(values: Sequence[Any], lower_is_better: bool) -> Any:
    numbers = [value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if len(numbers) < 2:
        return None
    return min(numbers) if lower_is_better else max(numbers)


def experiments_block(report: Report, *, full: bool = True) -> str:
    """The PR's parallel experiments beside its own training: the params each set and its metrics,
    the best value of each judged metric in bold."""
    if not report.experiments:
        return ""
    parts = ["### Experiments", ""]
    if not full:
        parts.append(f"_{len(report.experiments)} experiment(s) ran: compared in the JSON report._")
        return "\n".join(parts) + "\n"
    precision = report.config.precision
    columns = _experiment_columns(report)
    ours: dict[tuple[str, str], Any] = {(row.path, row.name): row.new for row in report.metrics}
    lines: list[tuple[str, str, Any]] = [("**this PR**", "its own params", ours)]
    lines += [(md_escape(item.name), " ".join(code(f"{key}={value}") for key, value in item.params.items()),
               item.metrics) for item in report.experiments]
    directions = [report.config.direction(name, path) for path, name in columns]
    # No best of an informational value (a feature importance is not better for being higher).
    best = [None if direction == INFO else _best([values.get(key) for _, _, values in lines],
                                                 direction == LOWER)
            for key, direction in zip(columns, directions)]

    def cell(value: Any, top: Any) -> str:
        text = number(value, precision)
        return f"**{text}**" if top is not None and value == top else text

    header = ["Run", "Params set",
              *(md_escape(name) + _DIRECTION_MARK.get(direction, "")
                for (_, name), direction in zip(columns, directions))]
    rows = [[label, settings, *(cell(values.get(key), top) for key, top in zip(columns, best))]
            for label, settings, values in lines]
    parts.append(_table(header, [":---", ":---", *("---:" for _ in columns)], rows))
    hidden = len({key for item in report.experiments for key in item.metrics} - set(columns))
    more = f" · {hidden} more metric(s) in the JSON report" if hidden else ""
    parts += ["", f"<sub>bold: the best value of each metric{more}</sub>"]
    return "\n".join(parts) + "\n"


_CHANGE_MARK = {"added": "➕", "deleted": "➖", "modified": "✏️", "renamed": "🔀"}


def _bytes(amount: int) -> str:
    """Decimal units, as GitHub shows file sizes."""
    for exponent, unit in ((3, "GB"), (2, "MB"), (1, "kB")):
        if amount >= 1000 ** exponent:
            return f"{amount / 1000 ** exponent:,.1f} {unit}"
    return f"{amount:,} B"


def _span(values: tuple[Any, Any], show: Callable[[int], str]) -> str | None:
    """'base → new', one value when they are equal or one side is absent, None when neither is known."""
    known = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
    if not known:
        return None
    return " → ".join(show(value) for value in dict.fromkeys(known))


def _group_changes(group: DataGroup) -> str:
    """The files dvc listed (when the cache had them), else the path's own status; then the file
    counts and sizes the .dvc/dvc.lock records give."""
    counts = group.counts()
    if counts:
        text = ", ".join(f"{counts[kind]} {kind}" for kind in ("added", "modified", "deleted", "renamed")
                         if kind in counts)
    else:
        text = group.status or "—"
    files = _span(group.nfiles, lambda count: f"{count:,}")
    files = files and f"{files} {'file' if files == '1' else 'files'}"
    shown = ", ".join(span for span in (files, _span(group.size, _bytes)) if span)
    return f"{text} · {shown}" if shown else text


def data_block(report: Report, *, with_files: bool = True) -> str:
    """What changed per DVC-tracked path, then (optionally) the files, capped per path."""
    if not report.data:
        return ""
    listed = [group for group in report.data if group.is_dir or group.source == "data"]
    outputs = [group for group in report.data if group not in listed]
    groups = listed[:MAX_DATA_GROUPS]
    parts = ["### Data", ""]
    if groups:
        rows = [[code(group.path) + (" (data)" if group.source == "data" else ""), _group_changes(group)]
                for group in groups]
        parts += [_table(["DVC-tracked path", "Changes"], [":---", ":---"], rows), ""]
        if any(group.is_dir and not group.files for group in groups):
            parts += ["<sub>Files inside a directory are listed only where the DVC cache here holds the "
                      "revisions' directory listings; counts and sizes come from the .dvc and dvc.lock "
                      "files.</sub>", ""]
    if len(listed) > len(groups):
        parts += [f"_… and {len(listed) - len(groups)} more paths (in the JSON report)._", ""]
    by_change: dict[str, list[str]] = {}
    for group in outputs:
        by_change.setdefault(group.status or "changed", []).append(group.path)
    for change, paths in by_change.items():
        shown = ", ".join(code(path) for path in paths[:MAX_DATA_GROUPS])
        more = f" and {len(paths) - MAX_DATA_GROUPS} more" if len(paths) > MAX_DATA_GROUPS else ""
        parts += [f"Pipeline outputs {change}: {shown}{more}.", ""]
    parts.pop()
    cap = report.config.max_files
    if with_files and cap:
        for group in groups:
            if not group.files:
                continue
            items = [f"- {_CHANGE_MARK.get(change, '')} {code(path)}" for change, path in group.files[:cap]]
            if len(group.files) > cap:
                items.append(f"- … and {len(group.files) - cap} more (in the JSON report)")
            parts += ["", f"<details><summary>Files under <code>{html.escape(group.path)}</code>: "
                          f"{len(group.files)} changed (listed from the DVC cache)</summary>", "", *items, "",
                      "</details>"]
    return "\n".join(parts) + "\n"


# --- plots --------------------------------------------------------------------------------------

def sample(count: int, limit: int) -> list[int]:
    """Up to `limit` evenly spaced indices of `count` points, first and last included."""
    if count <= limit:
        return list(range(count))
    if limit < 2:
        return [count - 1]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _short(value: float) -> str:
    """Four significant digits, never in e-notation (Mermaid reads plain decimals only)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(f"{value:.4g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid string: no double quotes, no backticks (a fence could close)."""
    return " ".join(str(text).replace('"', "'").replace("`", "'").split())


def mermaid_chart(title: str, x_label: str, y_label: str, lines: Sequence[Series], limit: int) -> str:
    """A Mermaid xychart-beta line chart; every line shares the first line's x values."""
    xs = [point[0] for point in lines[0].points]
    keep = sample(len(xs), limit)
    categories = ", ".join(f'"{_short(xs[index])}"' for index in keep)
    chart = ["```mermaid", INIT, "xychart-beta", f'    title "{_mermaid_text(title)}"',
             f'    x-axis "{_mermaid_text(x_label)}" [{categories}]',
             f'    y-axis "{_mermaid_text(y_label)}"']
    chart += [f"    line [{', '.join(_short(line.points[index][1]) for index in keep)}]" for line in lines]
    chart.append("```")
    return "\n".join(chart)


def _ordered(series: Sequence[Series]) -> list[Series]:
    return sorted(series, key=lambda item: item.role != "new")   # this PR first: the palette's blue


def _who(report: Report, role: str, *, markdown: bool = True) -> str:
    if role == "new":
        return "this PR"
    return f"base {code(report.base)}" if markdown else report.base


def _legend(report: Report, series: Sequence[Series]) -> str:
    return " · ".join(f"{LEGEND[item.role]} {_who(report, item.role)}" for item in series)


def curve_summary(report: Report, plot: CurvePlot) -> str:
    """The last point of each line, and the change at the end of the curve."""
    precision = report.config.precision
    last = {item.role: item.points[-1] for item in plot.series if item.points}
    if "new" in last and "base" in last:
        (base_x, base_y), (new_x, new_y) = last["base"], last["new"]
        delta = round(new_y - base_y, 12)
        kind = judge(delta, plot.lower_is_better, precision, plot.informational)
        where = f"at {md_escape(plot.x)} {_short(new_x)}" if new_x == base_x else "at the end"
        return (f"{md_escape(plot.y)} {where}: {number(base_y, precision)} → {number(new_y, precision)}, "
                f"{change_cell(base_y, new_y, delta, kind, precision)}")
    role, (x, y) = next(iter(last.items())) if last else ("new", (0.0, 0.0))
    return f"{md_escape(plot.y)} at {md_escape(plot.x)} {_short(x)}: {number(y, precision)} " \
           f"({_who(report, role)} only)"


def curve_levels(report: Report, plot: CurvePlot) -> tuple[str, str, str]:
    """(chart at max_points, chart at COARSE_POINTS, summary only) for one curve."""
    heading = f"#### {md_escape(plot.title)}: {md_escape(plot.y)}"
    series = _ordered([item for item in plot.series if item.points])
    summary = curve_summary(report, plot) if series else "_No points._"

    def with_points(limit: int) -> str:
        if not series:
            return f"{heading}\n\n{summary}\n"
        if len({tuple(x for x, _ in item.points) for item in series}) == 1:
            charts = [mermaid_chart(f"{plot.title}: {plot.y}", plot.x, plot.y, series, limit)]
        else:   # different x values: one chart per revision
            charts = [mermaid_chart(f"{plot.title}: {plot.y} ({_who(report, item.role, markdown=False)})",
                                    plot.x, plot.y, [item], limit) for item in series]
        return f"{heading}\n\n" + "\n\n".join(charts) + f"\n\n{_legend(report, series)} — {summary}\n"
    return (with_points(report.config.max_points), with_points(min(COARSE_POINTS, report.config.max_points)),
            f"{heading}\n\n{summary}\n")


def _errors(cells: Any, labels: Sequence[str]) -> tuple[int, int]:
    total = sum(cells.values())
    right = sum(cells.get((label, label), 0) for label in labels)
    return total - right, total


def _confusion_summary(report: Report, plot: ConfusionPlot) -> str:
    new, base = plot.counts.get("new", {}), plot.counts.get("base", {})
    wrong, total = _errors(new or base, plot.labels)
    summary = f"Misclassified: {wrong} of {total}" + (f" ({wrong / total:.2%})" if total else "")
    if new and base:
        base_wrong, base_total = _errors(base, plot.labels)
        rate, base_rate = wrong / max(total, 1), base_wrong / max(base_total, 1)
        mark = "" if rate == base_rate else (" ✅" if rate < base_rate else " ⚠️")
        summary += f" · base {code(report.base)}: {base_wrong} of {base_total}{mark}"
    elif base:
        summary += f" (base {code(report.base)} only)"
    return summary


def _confusion_table(report: Report, plot: ConfusionPlot) -> str:
    new, base = plot.counts.get("new", {}), plot.counts.get("base", {})
    shown = new or base

    def cell(actual: str, predicted: str) -> str:
        count = shown.get((actual, predicted), 0)
        text = str(count) if count else "·"
        if new and base and base.get((actual, predicted), 0) != count:
            text = f"{count} ({count - base.get((actual, predicted), 0):+d})"
        return f"**{text}**" if actual == predicted and count else text

    if len(plot.labels) <= MAX_MATRIX_LABELS:
        header = [f"{md_escape(plot.actual)} ╲ {md_escape(plot.predicted)}", *map(md_escape, plot.labels)]
        rows = [[f"**{md_escape(actual)}**", *(cell(actual, predicted) for predicted in plot.labels)]
                for actual in plot.labels]
        return _table(header, [":---", *["---:"] * len(plot.labels)], rows)
    pairs = sorted(((count, pair) for pair, count in shown.items() if pair[0] != pair[1]), reverse=True)
    rows = [[md_escape(actual), md_escape(predicted), str(count),
             str(base.get((actual, predicted), 0)) if new and base else "—"]
            for count, (actual, predicted) in pairs[:TOP_CONFUSIONS]]
    header = [md_escape(plot.actual), md_escape(plot.predicted), "This PR", f"Base {code(report.base)}"]
    return f"Most frequent confusions ({len(plot.labels)} classes):\n\n" + \
        _table(header, [":---", ":---", "---:", "---:"], rows)


def confusion_levels(report: Report, plot: ConfusionPlot) -> tuple[str, str]:
    """(matrix or top confusions, with a summary; the summary alone) for a confusion matrix."""
    heading = f"#### {md_escape(plot.title)}\n\n{_confusion_summary(report, plot)}\n"
    return f"{heading}\n{_confusion_table(report, plot)}\n", heading


def class_table_levels(report: Report, plot: ClassTable) -> tuple[str, str]:
    """(the per-class table, a one-line note) for a bar plot over categories."""
    heading = f"#### {md_escape(plot.title)}"
    precision = report.config.precision
    new, base = plot.rows.get("new", {}), plot.rows.get("base", {})
    shown = new or base
    keys = list(shown) + [key for key in base if key not in shown]
    lower = dict(zip(plot.columns, plot.lower_is_better))
    info = dict(zip(plot.columns, plot.informational))

    def cell(key: str, column: str) -> str:
        value = shown.get(key, {}).get(column)
        old = base.get(key, {}).get(column) if new else None
        if value is None or old is None:
            return number(value, precision)
        delta = round(value - old, 12)
        kind = judge(delta, lower.get(column, False), precision, info.get(column, False))
        if kind == "same":
            return number(value, precision)
        return f"{number(value, precision)} ({_arrow(delta)}{signed(delta, precision)}" \
               f"{' ⚠️' if kind == 'worse' else ''})"

    rows = [[md_escape(key), *(cell(key, column) for column in plot.columns)] for key in keys]
    table = _table([md_escape(plot.key), *map(md_escape, plot.columns)],
                   [":---", *["---:"] * len(plot.columns)], rows)
    note = "" if new and base else f"_{'This PR' if new else 'Base ' + code(report.base)} only._\n\n"
    return (f"{heading}\n\n{note}{table}\n",
            f"{heading}\n\n_{len(keys)} rows: table left out to fit the comment (in the JSON report)._\n")


def images_block(report: Report, names: Sequence[str]) -> str:
    """The image plots, linked to the workflow artifacts."""
    if not names:
        return ""
    url = report.links.get("artifacts")
    listed = ", ".join(code(name) for name in names)
    where = f"[download them from the workflow artifacts]({url})" if url else "in the workflow artifacts"
    return f"🖼️ Full-resolution images ({listed}): {where}.\n"


# --- assembling and fitting ---------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A section's renderings, richest first; `stages[i]` is the drop stage that replaces
    levels[i] with levels[i + 1]."""

    levels: tuple[str, ...]
    stages: tuple[int, ...] = ()

    def at(self, stage: int) -> str:
        """The rendering used at drop stage `stage` (0: nothing dropped)."""
        return self.levels[sum(1 for step in self.stages if step <= stage)]


def plot_blocks(report: Report) -> list[Block]:
    """One block per drawable plot, then the images and the plots not drawn."""
    found: list[Block] = []
    images, others = [], []
    for plot in report.plots:
        if plot.kind == "curve":
            found.append(Block(curve_levels(report, plot), (POINTS, CHARTS)))
        elif plot.kind == "confusion":
            found.append(Block(confusion_levels(report, plot), (PER_CLASS,)))
        elif plot.kind == "table":
            found.append(Block(class_table_levels(report, plot), (PER_CLASS,)))
        elif plot.kind == "image":
            images.append(plot.name)
        else:
            others.append(plot.name)
    tail = images_block(report, images)
    if others:
        tail += f"\nNot drawn here: {', '.join(code(name) for name in others)}.\n"
    if tail:
        found.append(Block((tail,)))
    if found:
        found.insert(0, Block(("### Plots\n",)))
    return found


def _url(url: str) -> str:
    """A URL as a Markdown link target: spaces, parentheses and angle brackets percent-encoded."""
    for char, encoded in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, encoded)
    return url


def links_block(report: Report) -> str:
    """Links to MLflow, the workflow run; the footer with the commit and the base."""
    names = {"mlflow_run": "MLflow run", "model_version": "model version",
             "champion_version": "champion", "workflow_run": "workflow run", "artifacts": "artifacts"}
    links = [f"[{label}]({_url(str(report.links[key]))})" for key, label in names.items()
             if report.links.get(key)]
    parts = [f"🔗 {' · '.join(links)}", ""] if links else []
    base = f"{report.base}" + (f" ({report.base_commit})" if report.base_commit else "")
    parts.append(f"<sub>mlops-ci {__version__} · commit {report.commit or 'unknown'} · base "
                 f"{html.escape(base)}</sub>")
    return "\n".join(parts) + "\n"


def blocks(report: Report) -> tuple[list[Block], list[Block]]:
    """(the blocks before the truncation note, the blocks after it), in document order."""
    head = [Block((verdict_block(report),)), Block((warnings_block(report.warnings),)),
            Block((metrics_block(report), metrics_block(report, changed_only=True)), (UNCHANGED,)),
            Block((params_block(report), params_block(report, full=False)), (PARAMS,)),
            Block((experiments_block(report), experiments_block(report, full=False)), (EXPERIMENTS,)),
            Block((data_block(report), data_block(report, with_files=False)), (FILE_LISTS,)),
            *plot_blocks(report)]
    return head, [Block((links_block(report),))]


def truncation_note(dropped: Sequence[str]) -> str:
    """What fitting left out."""
    return (f"> ✂️ **Shortened** to stay under GitHub's {COMMENT_LIMIT:,}-character comment limit: "
            f"left out {', '.join(dropped)}. The JSON report and the workflow artifacts have everything.\n")


def _join(parts: Sequence[str]) -> str:
    return "\n".join(part for part in parts if part)


def fit(head: Sequence[Block], tail: Sequence[Block], budget: int,
        last_resort: Callable[[int], str] | None = None, resort_index: int = 2) -> tuple[str, list[str]]:
    """The fullest document within `budget` (see size()), and the drop stages it needed.

    Stages apply in order; whole blocks change level, so no table is ever cut. A stage that changes
    no block (no experiments, say) is skipped and not named in the note. When even the last stage is
    too long, `last_resort(rows)` renders head[resort_index] with fewer rows (binary search)."""
    end = _join([block.at(0) for block in tail])
    dropped: list[str] = []
    text = ""
    for stage in range(len(STAGES) + 1):
        if stage and all(block.at(stage) == block.at(stage - 1) for block in head):
            continue
        if stage:
            dropped.append(STAGES[stage - 1])
        note = truncation_note(dropped) if dropped else ""
        text = _join([*(block.at(stage) for block in head), note, end])
        if size(text) <= budget:
            return text, dropped
    dropped.append("metric rows")
    if last_resort is None:
        return text, dropped
    parts = [block.at(len(STAGES)) for block in head]

    def document(rows: int) -> str:
        parts[resort_index] = last_resort(rows)
        return _join([*parts, truncation_note(dropped), end])

    return _most_rows(document, budget) or document(0), dropped


def _most_rows(document: Callable[[int], str], budget: int) -> str | None:
    """document(rows) for the most rows that fit the budget (binary search); None if none does."""
    low, high, best = 0, 1 << 20, None
    while low <= high:
        middle = (low + high) // 2
        candidate = document(middle)
        if size(candidate) <= budget:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def render(report: Report) -> tuple[str, list[str]]:
    """The comment Markdown within the configured budget, and what was left out to fit."""
    head, tail = blocks(report)
    budget = min(report.config.max_chars, BODY_LIMIT)
    return fit(head, tail, budget,
               lambda rows: metrics_block(report, changed_only=True, limit=rows), resort_index=2)
