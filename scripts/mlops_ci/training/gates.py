"""The promotion gates' language, pure: parse a gate expression, judge a version's metrics by it.

    accuracy>=0.9              a threshold on the version's run metric (>=, <=, >, <, ==)
    accuracy:no-regress:0.01   not worse than the champion by more than 0.01 (absolute)
    mcnemar:0.05               exact McNemar test on both runs' per-example predictions

A gate that cannot apply (no champion, no predictions) is skipped, not failed; a metric the version's
run did not log fails its gate. `mlops-ci promote` (training.promote) reads the metrics and runs them.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.registry.tags import FAILED, PASSED

DEFAULT_ALPHA = 0.05
SKIPPED = "skipped"  # a gate that could not apply (no champion, no predictions): not a refusal

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_THRESHOLD = re.compile(rf"^(?P<metric>[^\s<>=:]+)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>{_NUMBER})$")
_NO_REGRESS = re.compile(rf"^(?P<metric>[^\s<>=:]+):no-regress(?::(?P<value>{_NUMBER}))?$")
_MCNEMAR = re.compile(rf"^mcnemar(?::(?P<value>{_NUMBER}))?$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Gate:
    """One gate: kind threshold (metric op value), no-regress (metric, tolerance) or mcnemar (alpha)."""

    text: str
    kind: str
    metric: str = ""
    op: str = ""
    value: float = 0.0


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict: passed, failed or skipped, and why."""

    gate: str
    status: str
    detail: str


def parse_gate(text: str, where: str = "--gate") -> Gate:
    """A gate expression; MlopsCiError (exit 2) naming the accepted forms when it is none of them."""
    clean = text.strip()
    if match := _THRESHOLD.match(clean):
        return Gate(clean, "threshold", match["metric"], match["op"], float(match["value"]))
    if match := _NO_REGRESS.match(clean):
        return Gate(clean, "no-regress", match["metric"], value=float(match["value"] or 0))
    if match := _MCNEMAR.match(clean):
        alpha = float(match["value"] or DEFAULT_ALPHA)
        if not 0 < alpha < 1:
            raise MlopsCiError(f"gate {clean!r}: the significance level must be between 0 and 1", where=where)
        return Gate(clean, "mcnemar", value=alpha)
    raise MlopsCiError(f"gate {clean!r}: expected METRIC>=VALUE (or <=, >, <, ==), "
                       "METRIC:no-regress[:TOLERANCE] or mcnemar[:ALPHA]", where=where)


def check_metric_gate(gate: Gate, metrics: dict[str, float], champion: dict[str, float] | None,
                      lower_is_better: bool) -> GateResult:
    """A threshold or no-regress gate on the version's metrics (`champion`: None when there is none)."""
    value = metrics.get(gate.metric)
    if value is None:
        return GateResult(gate.text, FAILED, f"the version's run did not log {gate.metric}"
                          + _prefixed_hint(gate.metric, metrics))
    if gate.kind == "threshold":
        passed = _OPERATORS[gate.op](value, gate.value)
        return GateResult(gate.text, PASSED if passed else FAILED, f"{gate.metric} = {value:g}")
    if champion is None:
        return GateResult(gate.text, SKIPPED, "no champion to compare with")
    if gate.metric not in champion:
        return GateResult(gate.text, SKIPPED, f"the champion's run did not log {gate.metric}")
    best = champion[gate.metric]
    change = value - best
    passed = change <= gate.value if lower_is_better else -change <= gate.value
    return GateResult(gate.text, PASSED if passed else FAILED,
                      f"{value:g} vs champion {best:g} ({change:+g}, tolerance {gate.value:g})")


def _prefixed_hint(metric: str, metrics: dict[str, float]) -> str:
    """Name the file-prefixed keys a gate on a bare name probably meant (several metrics files)."""
    found = sorted(key for key in metrics if key.endswith(f".{metric}"))
    return f" (it logged {', '.join(found)}: with several metrics files, gates name <file stem>.<key>)" \
        if found else ""


def read_predictions(text: str) -> dict[str, tuple[str, str]]:
    """index -> (label, prediction) from a predictions CSV (columns index, label, prediction)."""
    rows = csv.DictReader(io.StringIO(text))
    if not {"index", "label", "prediction"} <= set(rows.fieldnames or ()):
        raise ValueError("expected columns index, label, prediction")
    return {row["index"]: (row["label"], row["prediction"]) for row in rows}


def mcnemar_gate(gate: Gate, candidate: str | None, champion: str | None) -> GateResult:
    """Exact McNemar test on the discordant pairs of two predictions CSVs of the same evaluation set:
    failed when the champion is right significantly more often where the two disagree."""
    if champion is None:
        return GateResult(gate.text, SKIPPED, "no champion, or it logged no per-example predictions")
    if candidate is None:
        return GateResult(gate.text, SKIPPED, "this version logged no per-example predictions")
    try:
        ours, theirs = read_predictions(candidate), read_predictions(champion)
    except (ValueError, csv.Error) as error:
        return GateResult(gate.text, SKIPPED, f"unreadable predictions: {error}")
    if ours.keys() != theirs.keys() or any(ours[key][0] != theirs[key][0] for key in ours):
        return GateResult(gate.text, SKIPPED, "not the same evaluation set (indices or labels differ)")
    only_ours = sum(1 for key, (label, guess) in ours.items() if guess == label != theirs[key][1])
    only_theirs = sum(1 for key, (label, guess) in ours.items() if theirs[key][1] == label != guess)
    if only_ours + only_theirs == 0:
        return GateResult(gate.text, PASSED, "no disagreements on the evaluation set")
    try:
        from scipy.stats import binomtest  # pylint: disable=import-outside-toplevel  # only this gate needs it
    except ImportError as error:
        raise MlopsCiError(f"gate {gate.text}: needs scipy (pip install scipy)") from error

    p_value = binomtest(only_theirs, only_ours + only_theirs, 0.5, alternative="greater").pvalue
    detail = (f"only this version right on {only_ours}, only the champion on {only_theirs} "
              f"(p = {p_value:.3g}, alpha {gate.value:g})")
    return GateResult(gate.text, FAILED if p_value < gate.value else PASSED, detail)


def gates_text(results: Sequence[GateResult]) -> str:
    """Every gate's result on one line each, for the version's mlops_ci.gates tag."""
    return "\n".join(f"{result.status}: {result.gate} ({result.detail})" for result in results) or "no gates"
