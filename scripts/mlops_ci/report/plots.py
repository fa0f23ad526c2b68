"""The plots of the report as Markdown that renders in a GitHub comment: Mermaid line charts for
curves, tables for confusion matrices and per-class scores, links to the images. Each plot has
levels, richest first, for the fitting in report.render.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from mlops_ci.core.text import md_escape
from mlops_ci.report.compare import judge
from mlops_ci.report.markdown import arrow, change_cell, code, md_table, number, signed
from mlops_ci.report.records import ClassTable, ConfusionPlot, CurvePlot, Report, Series

COARSE_POINTS = 12               # points per chart once plot point detail is dropped
MAX_MATRIX_LABELS = 20           # wider confusion matrices become a list of the top confusions
TOP_CONFUSIONS = 15
PALETTE = "#0969da, #fb8500"     # this PR (blue), base (orange): the legend's squares
LEGEND = {"new": "🟦", "base": "🟧"}
INIT = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + PALETTE + '"}}}}%%'


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
        return md_table(header, [":---", *["---:"] * len(plot.labels)], rows)
    pairs = sorted(((count, pair) for pair, count in shown.items() if pair[0] != pair[1]), reverse=True)
    rows = [[md_escape(actual), md_escape(predicted), str(count),
             str(base.get((actual, predicted), 0)) if new and base else "—"]
            for count, (actual, predicted) in pairs[:TOP_CONFUSIONS]]
    header = [md_escape(plot.actual), md_escape(plot.predicted), "This PR", f"Base {code(report.base)}"]
    return f"Most frequent confusions ({len(plot.labels)} classes):\n\n" + \
        md_table(header, [":---", ":---", "---:", "---:"], rows)


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
        return f"{number(value, precision)} ({arrow(delta)}{signed(delta, precision)}" \
               f"{' ⚠️' if kind == 'worse' else ''})"

    rows = [[md_escape(key), *(cell(key, column) for column in plot.columns)] for key in keys]
    table = md_table([md_escape(plot.key), *map(md_escape, plot.columns)],
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
