"""`mlops-ci compare --control FILE --treatment FILE`: A/B or canary comparison of two models.

Each file is a prediction log (CSV, JSON Lines or Parquet) with columns `label`, `prediction`,
optionally `latency` (milliseconds), `request_id` and `timestamp`; rows without a label (ground truth
not in yet) count for latency only. The task is regression when the labels are numbers that are not
all whole, else classification (or --task).

Per variant: n; accuracy with its Wilson confidence interval, macro precision and recall
(classification); RMSE and MAE (regression); latency p50/p95/p99. Tests (two-sided, level --alpha):
  accuracy   McNemar's exact test (binomial on the discordant pairs) when both logs scored the same
             request_ids, else the pooled two-proportion z-test
  error      (regression) Welch's t-test on the absolute errors
  latency    Mann-Whitney U (decides: latency is skewed; only when the medians also differ by
             more than 5%) and Welch's t-test (reported)
with the sample size per arm that would detect the observed difference at 80% power.

Decision, the gate an ML team expects:
  rollback  the treatment is significantly worse on accuracy (error) or latency; exit 1
  promote   significantly better on at least one of them and significantly worse on none; exit 0
  hold      no significant difference yet; exit 0 (not a failure: keep collecting, the minimum
            sample size says how long)
A test with fewer than 30 rows in an arm (labelled rows for accuracy, pairs for McNemar) is reported
but decides nothing: a canary can be rolled back for latency before its labels come in.
"""

# pylint: disable=import-outside-toplevel  # numpy/pandas/scipy are the `monitor` extra (monitor_io)

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from mlops_ci.core import gha
from mlops_ci.monitoring import io as monitor_io
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape

if TYPE_CHECKING:
    import pandas as pd

POWER = 0.8
# Latency medians within 5% of each other count as the same, however significant the test.
LATENCY_TOLERANCE = 0.05
MIN_ROWS = 30
REQUIRED = ("label", "prediction")


# --- statistics -------------------------------------------------------------------------------------

def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion."""
    from scipy import stats

    interval = stats.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z-test of p_b - p_a."""
    from scipy import stats

    pooled = (successes_a + successes_b) / (n_a + n_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if error == 0:
        return 0.0, 1.0
    z = (successes_b / n_b - successes_a / n_a) / error
    return z, float(2 * stats.norm.sf(abs(z)))


def mcnemar_exact(only_a_right: int, only_b_right: int) -> float:
    """Two-sided p of McNemar's exact test: the discordant pairs against a fair coin."""
    from scipy import stats

    discordant = only_a_right + only_b_right
    return 1.0 if discordant == 0 else float(stats.binomtest(only_b_right, discordant, 0.5).pvalue)


def sample_size_proportions(p_a: float, p_b: float, alpha: float, power: float = POWER) -> int | None:
    """Rows per arm to detect p_a vs p_b (two-sided, normal approximation, no continuity correction)."""
    from scipy import stats

    if p_a == p_b:
        return None
    z_alpha, z_power = stats.norm.isf(alpha / 2), stats.norm.ppf(power)
    mean = (p_a + p_b) / 2
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))
    return math.ceil(root ** 2 / (p_a - p_b) ** 2)


def sample_size_means(a: pd.Series, b: pd.Series, alpha: float, power: float = POWER) -> int | None:
    """Rows per arm to detect the difference of the samples' means, with their standard deviations
    (two-sided, normal approximation)."""
    from scipy import stats

    difference = float(a.mean() - b.mean())
    if difference == 0:
        return None
    z_sum = stats.norm.isf(alpha / 2) + stats.norm.ppf(power)
    return max(2, math.ceil(z_sum ** 2 * float(a.var() + b.var()) / difference ** 2))


# --- per-variant metrics ----------------------------------------------------------------------------

def _classes(series: pd.Series) -> pd.Series:
    # 3 and 3.0 (an int column read with gaps becomes float) are the same class.
    return series.map(lambda value: str(int(value)) if isinstance(value, float) and value.is_integer()
                      else str(value))


def classification_metrics(log: pd.DataFrame, confidence: float) -> dict[str, Any]:
    """Accuracy (Wilson interval), macro precision and recall over the labels and predictions seen."""
    labels, predictions = _classes(log["label"]), _classes(log["prediction"])
    correct = int((labels == predictions).sum())
    precision, recall = [], []
    for name in sorted(set(labels) | set(predictions)):
        hits = int(((labels == name) & (predictions == name)).sum())
        predicted, actual = int((predictions == name).sum()), int((labels == name).sum())
        precision.append(hits / predicted if predicted else 0.0)
        recall.append(hits / actual if actual else 0.0)
    return {"n": len(log), "correct": correct, "accuracy": correct / len(log),
            "accuracy_ci": list(wilson_interval(correct, len(log), confidence)),
            "macro_precision": sum(precision) / len(precision), "macro_recall": sum(recall) / len(recall)}


def regression_metrics(log: pd.DataFrame) -> dict[str, Any]:
    """RMSE and MAE."""
    errors = log["prediction"].astype(float) - log["label"].astype(float)
    return {"n": len(log), "rmse": float(math.sqrt((errors ** 2).mean())), "mae": float(errors.abs().mean())}


def latency_metrics(latency: pd.Series) -> dict[str, Any]:
    """n, mean and p50/p95/p99 (linear interpolation) of the latencies."""
    import numpy as np

    values = latency.to_numpy(dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": len(values), "mean": float(values.mean()), "p50": float(p50), "p95": float(p95),
            "p99": float(p99)}


# --- the comparison ---------------------------------------------------------------------------------

def load_log(path: str) -> pd.DataFrame:
    """A prediction log with its required columns; `latency` coerced to numbers."""
    import pandas as pd

    log = monitor_io.read_table(path)
    missing = [name for name in REQUIRED if name not in log.columns]
    if missing:
        raise MlopsCiError(f"missing column(s) {', '.join(missing)} (a prediction log has label, prediction, "
                           "optional latency, request_id, timestamp)", where=path)
    if "latency" in log.columns:
        latency = pd.to_numeric(log["latency"], errors="coerce")
        if (latency.isna() & log["latency"].notna()).any():
            raise MlopsCiError("latency: not a number in some rows (milliseconds expected)", where=path)
        log["latency"] = latency
    return log


def infer_task(logs: list[pd.DataFrame]) -> str:
    """regression when every label column is numeric and some label is not a whole number."""
    import pandas as pd

    labels = [log["label"].dropna() for log in logs]
    numeric = all(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
                  for column in labels)
    fractional = numeric and any(bool((column % 1 != 0).any()) for column in labels)
    return "regression" if fractional else "classification"


def _sign(value: float) -> int:
    return 0 if value == 0 else int(math.copysign(1, value))


def _test(name: str, statistic: float, p_value: float, alpha: float, direction: int,
          **extra: Any) -> dict[str, Any]:
    """One test's row; direction +1: the treatment is better, -1: worse (meaningful when significant)."""
    significant = p_value < alpha
    return {"test": name, "statistic": statistic, "p_value": p_value, "significant": significant,
            "treatment": ("better" if direction > 0 else "worse") if significant and direction else "same",
            **extra}


def quality_test(control: pd.DataFrame, treatment: pd.DataFrame, task: str, alpha: float,
                 metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The accuracy (classification) or absolute-error (regression) test, paired when possible."""
    from scipy import stats

    if task == "regression":
        errors = [(log["prediction"].astype(float) - log["label"].astype(float)).abs()
                  for log in (control, treatment)]
        welch = stats.ttest_ind(errors[1], errors[0], equal_var=False)
        return _test("welch_t_abs_error", float(welch.statistic), float(welch.pvalue), alpha,
                     -_sign(float(welch.statistic)), rows=min(map(len, errors)),
                     min_n_per_arm=sample_size_means(*errors, alpha))
    needed = sample_size_proportions(metrics["control"]["accuracy"], metrics["treatment"]["accuracy"], alpha)
    pairs = _pairs(control, treatment)
    if pairs is not None and len(pairs) >= MIN_ROWS:
        return _paired_test(pairs, alpha, needed)
    z, p_value = two_proportion_ztest(metrics["control"]["correct"], metrics["control"]["n"],
                                      metrics["treatment"]["correct"], metrics["treatment"]["n"])
    return _test("two_proportion_z", z, p_value, alpha, _sign(z), rows=min(len(control), len(treatment)),
                 min_n_per_arm=needed)


def _paired_test(pairs: pd.DataFrame, alpha: float, needed: int | None) -> dict[str, Any]:
    """McNemar's exact test on the requests both variants scored."""
    right_c = _classes(pairs["label_c"]) == _classes(pairs["prediction_c"])
    right_t = _classes(pairs["label_t"]) == _classes(pairs["prediction_t"])
    only_c, only_t = int((right_c & ~right_t).sum()), int((right_t & ~right_c).sum())
    return _test("mcnemar_exact", float(only_t), mcnemar_exact(only_c, only_t), alpha, _sign(only_t - only_c),
                 rows=len(pairs), only_control_right=only_c, only_treatment_right=only_t,
                 min_n_per_arm=needed)


def _pairs(control: pd.DataFrame, treatment: pd.DataFrame) -> pd.DataFrame | None:
    """The requests both variants scored (by request_id), or None when the logs can't be paired."""
    if "request_id" not in control.columns or "request_id" not in treatment.columns:
        return None
    if control["request_id"].duplicated().any() or treatment["request_id"].duplicated().any():
        return None  # a request scored twice by one variant: pairs would be ambiguous
    return control.merge(treatment, on="request_id", suffixes=("_c", "_t"))


def latency_tests(control: pd.Series, treatment: pd.Series, alpha: float,
                  tolerance: float = LATENCY_TOLERANCE) -> list[dict[str, Any]]:
    """Mann-Whitney U (decides) and Welch's t (reported) on the latencies; lower is better.

    A significant difference counts only when the medians also differ by more than `tolerance`
    (a fraction): with big logs, a 1 ms change is significant and nobody's concern.
    """
    from scipy import stats

    mann = stats.mannwhitneyu(treatment, control, alternative="two-sided")
    # U / (n_t * n_c): the probability that a treatment request is slower than a control one.
    slower = float(mann.statistic) / (len(treatment) * len(control))
    welch = stats.ttest_ind(treatment, control, equal_var=False)
    needed = sample_size_means(control, treatment, alpha)
    change = float(treatment.median() / control.median() - 1) if control.median() else 0.0
    agree = abs(change) > tolerance and _sign(-change) == _sign(0.5 - slower)
    direction = _sign(0.5 - slower) if agree else 0
    rows = min(len(control), len(treatment))
    return [_test("mann_whitney_u_latency", float(mann.statistic), float(mann.pvalue), alpha, direction,
                  rows=rows, prob_treatment_slower=slower, p50_change=change, min_n_per_arm=needed),
            _test("welch_t_latency", float(welch.statistic), float(welch.pvalue), alpha,
                  -_sign(float(welch.statistic)), rows=rows, decides=False)]


def decide(tests: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """promote / hold / rollback and why (see the module docstring)."""
    deciding = [test for test in tests if test.get("decides", True)]
    judged = [test for test in deciding if test["rows"] >= MIN_ROWS]
    worse = [f"{test['test']}: worse (p={test['p_value']:.2g})" for test in judged
             if test["treatment"] == "worse"]
    if worse:
        return "rollback", worse
    better = [f"{test['test']}: better (p={test['p_value']:.2g})" for test in judged
              if test["treatment"] == "better"]
    if better:
        return "promote", better
    short = [f"{test['test']}: {test['rows']} rows in an arm, {MIN_ROWS} needed" for test in deciding
             if test not in judged]
    return "hold", (["no significant difference yet"] if judged else []) + short


def compare(control: pd.DataFrame, treatment: pd.DataFrame, task: str, alpha: float) -> dict[str, Any]:
    """The whole comparison as a report dict."""
    logs = {"control": control, "treatment": treatment}
    labelled = {name: log.dropna(subset=list(REQUIRED)) for name, log in logs.items()}
    if any(log.empty for log in labelled.values()):
        raise MlopsCiError("an arm has no row with both label and prediction")
    task = infer_task(list(labelled.values())) if task == "auto" else task
    metrics = {name: (classification_metrics(log, 1 - alpha) if task == "classification"
                      else regression_metrics(log)) for name, log in labelled.items()}
    tests = [quality_test(labelled["control"], labelled["treatment"], task, alpha, metrics)]
    if all("latency" in log.columns and log["latency"].notna().any() for log in logs.values()):
        latencies = {name: log["latency"].dropna() for name, log in logs.items()}
        for name, series in latencies.items():
            metrics[name]["latency"] = latency_metrics(series)
        tests += latency_tests(latencies["control"], latencies["treatment"], alpha)
    decision, reasons = decide(tests)
    return {"decision": decision, "reasons": reasons, "task": task, "alpha": alpha, "power": POWER,
            "rows": {name: len(log) for name, log in logs.items()}, "metrics": metrics, "tests": tests}


# --- output -----------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(f"{item:.3f}" for item in value) + "]"
    return "–" if value is None else str(value)


def to_markdown(report: dict[str, Any]) -> str:
    """The job summary: decision, metrics side by side, tests."""
    icon = {"promote": "✅", "hold": "⏸️", "rollback": "❌"}[report["decision"]]
    control, treatment = report["metrics"]["control"], report["metrics"]["treatment"]
    lines = [f"### compare: {icon} {report['decision']}", "",
             md_escape("; ".join(report["reasons"])), "",
             f"{report['task']}, α = {report['alpha']:g}; intervals at {1 - report['alpha']:.0%}.", "",
             "| metric | control | treatment |", "|---|---|---|"]
    for key in ("n", "accuracy", "accuracy_ci", "macro_precision", "macro_recall", "rmse", "mae"):
        if key in control:
            lines.append(f"| {key} | {_cell(control[key])} | {_cell(treatment[key])} |")
    for key in ("p50", "p95", "p99", "mean"):
        if "latency" in control:
            lines.append(f"| latency {key} (ms) | {_cell(control['latency'][key])} | "
                         f"{_cell(treatment['latency'][key])} |")
    lines += ["", "| test | statistic | p-value | treatment | min n per arm (80% power) |",
              "|---|---|---|---|---|"]
    for test in report["tests"]:
        lines.append(f"| {test['test']}{'' if test.get('decides', True) else ' (reported)'} | "
                     f"{_cell(test['statistic'])} | {test['p_value']:.3g} | {test['treatment']} | "
                     f"{_cell(test.get('min_n_per_arm'))} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci compare`."""
    monitor_io.require_monitor_extra()
    if not 0 < args.alpha < 1:
        raise MlopsCiError(f"--alpha {args.alpha}: expected a level between 0 and 1 (e.g. 0.05)")
    report = compare(load_log(args.control), load_log(args.treatment), args.task, args.alpha)
    report.update(control=args.control, treatment=args.treatment)
    monitor_io.write_json(args.json, report)
    markdown = to_markdown(report)
    print(markdown)
    gha.append_summary(markdown)
    gha.set_output("decision", report["decision"])
    if report["decision"] == "rollback":
        gha.report("error", "compare: rollback: " + "; ".join(report["reasons"]), file=args.treatment)
        return EXIT_REFUSED
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci compare` to the CLI."""
    parser = subparsers.add_parser("compare", help="A/B or canary comparison: promote, hold or rollback",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--control", required=True, metavar="FILE", help="the current model's prediction log")
    parser.add_argument("--treatment", required=True, metavar="FILE", help="the new model's prediction log")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    parser.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                        help="default auto: regression when the labels are numbers, not all whole")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.set_defaults(handler=run)
