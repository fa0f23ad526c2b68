"""DVC's JSON output as the report's records: `dvc metrics diff`, `dvc params diff` and the vega-lite
specs of `dvc plots diff` (curves, confusion matrices, per-class tables, images)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from mlops_ci.report.data import BASE, NEW
from mlops_ci.report.records import (ClassTable, ConfusionPlot, CurvePlot, ImagePlot, MetricRow, OtherPlot,
                                     ParamRow, Plot, Series, is_number)

WORKSPACE = "workspace"
# A confusion matrix's predicted field, by name (DVC's docs put it on x or on y, depending on the page).
_PREDICTED = re.compile(r"pred", re.IGNORECASE)


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
