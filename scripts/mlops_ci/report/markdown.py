"""The Markdown of the report's sections: cell formatting (shared with the plots), the verdict, the
warnings, and the metrics, params, experiments and data tables. Pure functions: records in, text out.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from mlops_ci.core.text import md_escape
from mlops_ci.registry.metric_names import INFO, LOWER, configured_direction
from mlops_ci.report.data import DataGroup
from mlops_ci.report.records import BETTER, SAME, WORSE, MetricRow, Report, Verdict

MAX_DATA_GROUPS = 50
MAX_WARNINGS = 10
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


def code(text: str) -> str:
    """Inline code for a table cell (pipes escaped, as GFM tables need even inside code)."""
    text = " ".join(str(text).split())
    if "`" in text:
        return md_escape(text)
    return "`" + text.replace("|", "\\|") + "`"


def arrow(delta: float) -> str:
    """The direction of a change."""
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
    return f"{arrow(delta)} {signed(delta, precision)}{percent}{mark}"


def md_table(header: Sequence[str], align: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table."""
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
    parts.append(md_table(header, align, cells))
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
    parts.append(md_table(header, align, rows))
    return "\n".join(parts) + "\n"


def _ratchet_cell(base: float | None, new: float | None) -> str:
    """The change against the base's whole-code figure: higher is better, the ratchet holds at equal.
    No base figure (whole-code mode measures only the PR) is no change to show, not a new one."""
    if base is None or new is None:
        return "—"
    delta = round(new - base, 12)
    return change_cell(base, new, delta, BETTER if delta > 0 else WORSE if delta < 0 else SAME, 2)


def quality_block(report: Report) -> str:
    """The lint-test job's figures: whole-code pylint score and coverage against the base's (the
    ratchet, new-code mode), and the changed lines' figures (new-code mode)."""
    quality = report.code_quality
    if not quality.measured:
        return ""
    whole = (("pylint score, whole code (/10)", quality.pylint_score, quality.base_pylint_score),
             ("coverage, whole code (%)", quality.coverage, quality.base_coverage))
    rows = [[label, number(new, 2), number(base, 2), _ratchet_cell(base, new)] for label, new, base in whole]
    if quality.new_code_pylint is not None or quality.new_code_coverage is not None:
        rows += [["changed lines free of pylint messages (%)", number(quality.new_code_pylint, 2), "—", "—"],
                 ["changed lines covered (%)", number(quality.new_code_coverage, 2), "—", "—"]]
    table = md_table(["Code", "This PR", f"Base {code(report.base)}", "Change"],
                     [":---", "---:", "---:", "---:"], rows)
    return f"### Code quality\n\n{table}\n"


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
    directions = [configured_direction(report.config, name, path) for path, name in columns]
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
    parts.append(md_table(header, [":---", ":---", *("---:" for _ in columns)], rows))
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
        parts += [md_table(["DVC-tracked path", "Changes"], [":---", ":---"], rows), ""]
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
