"""The comparison rule of `mlops-ci report`: each metric against the base and the champion, judged
by its direction (lower or higher is better, or informational), and the verdicts they add up to."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlops_ci.registry.metric_names import INFO, LOWER, configured_direction, mlflow_key
from mlops_ci.config.sections import ReportConfig
from mlops_ci.report.records import (BETTER, NOT_APPLICABLE, NOTED, SAME, WORSE, Champion, ClassTable,
                                     CurvePlot, MetricRow, Plot, Verdict, difference)


def judge(delta: float, lower_is_better: bool, precision: int, informational: bool = False) -> str:
    """SAME (rounds to zero at `precision`), NOTED (an informational value changed), BETTER or WORSE."""
    if abs(delta) < 0.5 * 10 ** -precision:
        return SAME
    if informational:
        return NOTED
    return BETTER if (delta < 0) == lower_is_better else WORSE


def outcome(reference: Any, value: Any, lower_is_better: bool, precision: int,
            informational: bool = False) -> str | None:
    """BETTER, WORSE, SAME (a change that rounds to zero at `precision`) or NOTED (an informational
    value changed); None if not comparable."""
    delta = difference(reference, value)
    return None if delta is None else judge(delta, lower_is_better, precision, informational)


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
        direction = configured_direction(config, row.name, row.path, key)
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
            direction = configured_direction(config, plot.y.rsplit(": ", 1)[-1])
            plot = replace(plot, lower_is_better=direction == LOWER, informational=direction == INFO)
        elif isinstance(plot, ClassTable):
            directions = [configured_direction(config, column) for column in plot.columns]
            plot = replace(plot, lower_is_better=tuple(direction == LOWER for direction in directions),
                           informational=tuple(direction == INFO for direction in directions))
        result.append(plot)
    return result
