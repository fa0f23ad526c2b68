"""`mlops-ci drift --reference REF --current CUR`: has the data moved away from the training data?

REF and CUR are both tables (CSV, Parquet, JSON Lines: one column a feature) or both image folders
(any layout; per image: brightness and contrast of the grayscale pixels, width, height, channels,
and a 16-number embedding, the grayscale image box-downsampled to 4x4). Per feature:
  numeric      mean and variance (the SOP's simple method: mean shift in reference standard
               deviations, variance ratio), the two-sample Kolmogorov-Smirnov test, PSI over the
               reference's quantile bins
  categorical  the chi-square test of the 2 x categories contingency table, PSI over the categories
A feature drifts when the change is significant (test p < p_value) *and* large enough to matter:
PSI >= psi, or |mean shift| >= mean_shift, or variance ratio (either way) >= variance_ratio. Both
are needed because with big samples a test flags trivial changes, and with small ones PSI is noisy.
Drift is detected when at least min_drifted_features features drift. Settings: the `drift:` section
of --config FILE or .github/mlops-ci.yml (defaults: psi 0.2, p_value 0.01, mean_shift 0.5,
variance_ratio 2, bins 10, min_drifted_features 1). The p-value is per feature: with many features,
lower it (Bonferroni: 0.01 / features) or raise min_drifted_features.

Output: a Markdown table (stdout, job summary), --json FILE, --prometheus FILE (text format for a
Pushgateway or node_exporter's textfile collector), --html FILE (Evidently's report; Evidently is
optional: the drift-html extra). Exit 0 no drift, 1 drift detected, 2 unreadable input or a bad config.
"""

# pylint: disable=import-outside-toplevel  # numpy/pandas/scipy/Pillow are the `monitor` extra (monitor_io)

from __future__ import annotations

import argparse
import importlib.util
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_ci.core import gha
from mlops_ci.config import DEFAULT_PATH, load as load_config
from mlops_ci.config.sections import Section
from mlops_ci.monitoring import io as monitor_io
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Share given to an empty bin in the PSI, so one empty bin doesn't make it infinite.
PSI_FLOOR = 1e-4
EMBEDDING_SIDE = 4
# A text column with more distinct values than this, and than half its rows, is an identifier.
IDENTIFIER_MIN = 20


@dataclass(frozen=True)
class Thresholds:
    """When a feature, and the data set, count as drifted."""

    psi: float = 0.2
    p_value: float = 0.01
    mean_shift: float = 0.5
    variance_ratio: float = 2.0
    bins: int = 10
    min_drifted_features: int = 1


@dataclass
class FeatureDrift:  # pylint: disable=too-many-instance-attributes  # one row of the report
    """One feature's comparison."""

    feature: str
    kind: str
    n_reference: int
    n_current: int
    test: str
    statistic: float
    p_value: float
    psi: float
    reference_mean: float | None = None
    current_mean: float | None = None
    mean_shift: float | None = None
    variance_ratio: float | None = None
    drifted: bool = False
    reasons: list[str] = field(default_factory=list)


# --- statistics -------------------------------------------------------------------------------------

def psi_from_shares(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index: sum of (cur - ref) * ln(cur / ref) over bins (shares floored)."""
    import numpy as np

    ref = np.clip(reference, PSI_FLOOR, None)
    cur = np.clip(current, PSI_FLOOR, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def quantile_psi(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    """PSI over `bins` quantile bins of the reference (tied quantiles merge bins)."""
    import numpy as np

    inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    slots = len(inner) + 1
    # side="right": a value equal to an edge belongs to the bin above it, as in np.histogram.
    ref = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=slots) / len(reference)
    cur = np.bincount(np.searchsorted(inner, current, side="right"), minlength=slots) / len(current)
    return psi_from_shares(ref, cur)


def _mean_shift(ref_mean: float, cur_mean: float, ref_std: float) -> float:
    if ref_std > 0:
        return (cur_mean - ref_mean) / ref_std
    return 0.0 if cur_mean == ref_mean else math.copysign(math.inf, cur_mean - ref_mean)


def _variance_ratio(ref_var: float, cur_var: float) -> float:
    if ref_var > 0:
        return cur_var / ref_var
    return 1.0 if cur_var == 0 else math.inf


def compare_numeric(name: str, reference: np.ndarray, current: np.ndarray,
                    limits: Thresholds) -> FeatureDrift:
    """Mean/variance, KS and quantile PSI of one numeric feature."""
    from scipy import stats

    ks = stats.ks_2samp(reference, current)
    ref_mean, cur_mean = float(reference.mean()), float(current.mean())
    # ddof=1 (sample variance) needs two values; a single value has no spread.
    ref_var = float(reference.var(ddof=1)) if len(reference) > 1 else 0.0
    cur_var = float(current.var(ddof=1)) if len(current) > 1 else 0.0
    result = FeatureDrift(name, "numeric", len(reference), len(current), "ks", float(ks.statistic),
                          float(ks.pvalue), quantile_psi(reference, current, limits.bins), ref_mean, cur_mean,
                          _mean_shift(ref_mean, cur_mean, math.sqrt(ref_var)),
                          _variance_ratio(ref_var, cur_var))
    return judge(result, limits)


def compare_categorical(name: str, reference: pd.Series, current: pd.Series,
                        limits: Thresholds) -> FeatureDrift:
    """Chi-square test and PSI over the categories of one categorical feature."""
    import numpy as np
    from scipy import stats

    ref_counts = reference.astype(str).value_counts()
    cur_counts = current.astype(str).value_counts()
    categories = sorted(set(ref_counts.index) | set(cur_counts.index))
    table = np.array([[ref_counts.get(c, 0) for c in categories], [cur_counts.get(c, 0) for c in categories]])
    if len(categories) > 1:
        chi2 = stats.chi2_contingency(table)
        statistic, p_value = float(chi2.statistic), float(chi2.pvalue)
    else:
        statistic, p_value = 0.0, 1.0
    psi = psi_from_shares(table[0] / table[0].sum(), table[1] / table[1].sum())
    return judge(FeatureDrift(name, "categorical", len(reference), len(current), "chi2", statistic, p_value,
                              psi), limits)


def judge(result: FeatureDrift, limits: Thresholds) -> FeatureDrift:
    """Set `drifted` and its reasons: a significant test and at least one large effect."""
    large = []
    if result.psi >= limits.psi:
        large.append(f"PSI {result.psi:.3g} ≥ {limits.psi:g}")
    if result.mean_shift is not None and abs(result.mean_shift) >= limits.mean_shift:
        large.append(f"mean shift {result.mean_shift:+.3g} sd, limit {limits.mean_shift:g}")
    ratio = result.variance_ratio
    if ratio is not None and (ratio >= limits.variance_ratio or ratio <= 1 / limits.variance_ratio):
        large.append(f"variance ratio {ratio:.3g}, limit {limits.variance_ratio:g}×")
    if result.p_value < limits.p_value and large:
        result.drifted = True
        result.reasons = [f"{result.test} p={result.p_value:.2g} under {limits.p_value:g}", *large]
    return result


# --- inputs -----------------------------------------------------------------------------------------

def image_features(root: Path) -> tuple[pd.DataFrame, int]:
    """Per-image features of every readable image under `root`, and how many files were skipped."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    rows, skipped = [], 0
    for _, path in monitor_io.dataset_files(root):
        try:
            image = monitor_io.open_image(path)
        except ValueError:
            skipped += 1  # data-check's business; drift compares what can be read
            continue
        gray = image.convert("L")
        pixels = np.asarray(gray, dtype=np.float64)
        small = np.asarray(gray.resize((EMBEDDING_SIDE, EMBEDDING_SIDE), Image.Resampling.BOX),
                           dtype=np.float64)
        row = {"brightness": pixels.mean(), "contrast": pixels.std(), "width": image.width,
               "height": image.height, "channels": len(image.getbands())}
        row.update({f"emb_{index:02d}": value / 255 for index, value in enumerate(small.ravel())})
        rows.append(row)
    if not rows:
        raise MlopsCiError("no readable image", where=str(root))
    return pd.DataFrame(rows), skipped


def load_sample(path: str) -> tuple[pd.DataFrame, int]:
    """(features, files skipped) of a table or an image folder."""
    target = Path(path)
    if target.is_dir():
        return image_features(target)
    if not target.exists():
        raise MlopsCiError("no such file or folder", where=path)
    frame = monitor_io.read_table(target)
    if frame.empty:
        raise MlopsCiError("no rows", where=path)
    return frame, 0


def thresholds(config: Section) -> Thresholds:
    """The thresholds of the `drift:` section (validated by the schema), defaults for the rest."""
    defaults = Thresholds()
    return Thresholds(**{name: config.get(name, default=value) for name, value in asdict(defaults).items()})


def _identifier_like(reference: pd.Series, current: pd.Series) -> bool:
    """Mostly distinct text values (more than IDENTIFIER_MIN of them, in over half of the rows)."""
    distinct = len(set(reference.astype(str)) | set(current.astype(str)))
    return distinct > max(IDENTIFIER_MIN, (len(reference) + len(current)) / 2)


def detect(reference: pd.DataFrame, current: pd.DataFrame, config: Section) -> dict[str, Any]:
    """Compare every shared column (features) of two samples; the report as a dict."""
    import pandas as pd

    limits = thresholds(config)
    ignore = set(config.get("ignore", default=[]))
    categorical = set(config.get("categorical", default=[]))
    shared = [name for name in reference.columns if name in current.columns and name not in ignore]
    features: list[FeatureDrift] = []
    skipped: dict[str, list[str]] = {"no_values": [], "identifiers": []}
    for name in shared:
        ref, cur = reference[name].dropna(), current[name].dropna()
        if ref.empty or cur.empty:
            skipped["no_values"].append(str(name))
        elif name not in categorical and all(pd.api.types.is_numeric_dtype(column)
                                             and not pd.api.types.is_bool_dtype(column)
                                             for column in (ref, cur)):
            features.append(compare_numeric(str(name), ref.to_numpy(dtype=float), cur.to_numpy(dtype=float),
                                            limits))
        elif _identifier_like(ref, cur):
            # Ids, timestamps, free text: every value new, so it would always "drift".
            skipped["identifiers"].append(str(name))
        else:
            features.append(compare_categorical(str(name), ref, cur, limits))
    if not features:
        raise MlopsCiError("no feature to compare: the samples share no column with values "
                           "(outside drift.ignore)")
    drifted = [feature.feature for feature in features if feature.drifted]
    return {"drift": len(drifted) >= limits.min_drifted_features, "drifted_features": drifted,
            "thresholds": asdict(limits), "n_reference": len(reference), "n_current": len(current),
            "features": [asdict(feature) for feature in features], **skipped,
            "only_in_reference": [str(c) for c in reference.columns if c not in current.columns],
            "only_in_current": [str(c) for c in current.columns if c not in reference.columns]}


# --- outputs ----------------------------------------------------------------------------------------

def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.3g}"


def to_markdown(report: dict[str, Any]) -> str:
    """The job summary: verdict, then one row per feature (drifted first)."""
    limits = report["thresholds"]
    verdict = (f"❌ drift detected in {len(report['drifted_features'])} feature(s)" if report["drift"]
               else f"✅ no drift ({len(report['drifted_features'])} feature(s) drifted, "
                    f"{limits['min_drifted_features']} needed)")
    lines = [f"### drift: {verdict}", "",
             f"Reference {report['n_reference']} rows, current {report['n_current']} rows. A feature drifts "
             f"when its test gives p < {limits['p_value']:g} and one effect reaches its limit: PSI ≥ "
             f"{limits['psi']:g}, absolute mean shift ≥ {limits['mean_shift']:g} sd, or variance ratio ≥ "
             f"{limits['variance_ratio']:g}× (either way).", "",
             "| feature | type | ref mean | cur mean | mean shift (sd) | var ratio | test | p-value | PSI "
             "| drift |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in sorted(report["features"], key=lambda item: (not item["drifted"], item["feature"])):
        verdict = "❌ " + md_escape("; ".join(row["reasons"])) if row["drifted"] else "–"
        lines.append(f"| {md_escape(row['feature'])} | {row['kind']} | {_number(row['reference_mean'])} | "
                     f"{_number(row['current_mean'])} | {_number(row['mean_shift'])} | "
                     f"{_number(row['variance_ratio'])} | {row['test']} {_number(row['statistic'])} | "
                     f"{row['p_value']:.2g} | {_number(row['psi'])} | {verdict} |")
    for key, text in (("no_values", "no values on one side"), ("identifiers", "mostly distinct values (ids)"),
                      ("only_in_reference", "only in the reference"),
                      ("only_in_current", "only in the current sample")):
        if report[key]:
            lines += ["", f"Not compared, {text}: {md_escape(', '.join(report[key]))}."]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    # The text format's label-value escapes.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(value: float) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def to_prometheus(report: dict[str, Any]) -> str:
    """Prometheus text-format metrics (gauges) of a drift report."""
    families = (
        ("mlops_ci_drift_psi", "Population stability index of the feature, current sample against the "
                               "reference.", "psi"),
        ("mlops_ci_drift_p_value", "p-value of the feature's two-sample test (ks: Kolmogorov-Smirnov, chi2: "
                                   "chi-square).", "p_value"),
        ("mlops_ci_drift_mean_shift", "Current mean minus reference mean, in reference standard deviations.",
         "mean_shift"),
        ("mlops_ci_drift_variance_ratio", "Current variance over reference variance.", "variance_ratio"),
        ("mlops_ci_drift_feature_drifted", "1 when the feature drifted.", "drifted"),
    )
    lines = []
    for metric, help_text, key in families:
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for row in report["features"]:
            if row[key] is not None:
                test = f',test="{row["test"]}"' if key == "p_value" else ""
                lines.append(f'{metric}{{feature="{_label(row["feature"])}"{test}}} {_sample(row[key])}')
    lines += ["# HELP mlops_ci_drift_features_drifted Number of features that drifted.",
              "# TYPE mlops_ci_drift_features_drifted gauge",
              f"mlops_ci_drift_features_drifted {len(report['drifted_features'])}",
              "# HELP mlops_ci_drift_detected 1 when drift was detected (enough features drifted).",
              "# TYPE mlops_ci_drift_detected gauge",
              f"mlops_ci_drift_detected {int(report['drift'])}"]
    return "\n".join(lines) + "\n"


def _restore_infer_dtype_from_object() -> None:
    """Evidently 0.7.23 imports pandas.core.dtypes.common.infer_dtype_from_object, which pandas 3 removed
    (Evidently's metadata allows pandas 3, so pip installs both): put back pandas 2's meaning, the dtype's
    scalar type, before importing it. Only Evidently's legacy column-type test calls it; the drift preset
    doesn't."""
    from pandas.api.types import pandas_dtype
    from pandas.core.dtypes import common

    if not hasattr(common, "infer_dtype_from_object"):
        common.infer_dtype_from_object = lambda dtype: pandas_dtype(dtype).type


def write_html(path: str, reference: pd.DataFrame, current: pd.DataFrame) -> None:
    """Evidently's data-drift report (Evidently >= 0.7 API; the drift-html extra)."""
    _restore_infer_dtype_from_object()
    from evidently import Report
    from evidently.presets import DataDriftPreset

    Report([DataDriftPreset()]).run(current, reference).save_html(path)


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci drift`."""
    monitor_io.require_monitor_extra()
    if args.html and importlib.util.find_spec("evidently") is None:
        raise MlopsCiError("--html needs Evidently, which is optional and not installed: pip install "
                           "'mlops-ci[drift-html]' (the Markdown, JSON and Prometheus outputs need nothing "
                           "extra)",
                           where="--html")
    config = load_config(args.config).drift
    reference, ref_skipped = load_sample(args.reference)
    current, cur_skipped = load_sample(args.current)
    report = detect(reference, current, config)
    report.update(reference=args.reference, current=args.current,
                  skipped_files={"reference": ref_skipped, "current": cur_skipped})
    monitor_io.write_json(args.json, report)
    monitor_io.write_text(args.prometheus, to_prometheus(report))
    if args.html:
        write_html(args.html, reference, current)
    markdown = to_markdown(report)
    print(markdown)
    gha.append_summary(markdown)
    gha.set_output("drift", "true" if report["drift"] else "false")
    gha.set_output("drifted-features", " ".join(report["drifted_features"]))
    if report["drift"]:
        gha.report("error", f"drift detected in {len(report['drifted_features'])} feature(s): "
                            + ", ".join(report["drifted_features"][:20]), file=args.current)
        return EXIT_REFUSED
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci drift` to the CLI."""
    parser = subparsers.add_parser("drift", help="per-feature drift of a current sample against a reference",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True, metavar="REF",
                        help="the training sample: a CSV/Parquet/JSONL file or an image folder")
    parser.add_argument("--current", required=True, metavar="CUR",
                        help="the production sample, of the same kind as REF")
    parser.add_argument("--config", metavar="FILE",
                        help=f"thresholds (default: {DEFAULT_PATH} when it exists, "
                             "else the defaults)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--prometheus", metavar="FILE", help="also write Prometheus text-format metrics")
    parser.add_argument("--html", metavar="FILE", help="also write Evidently's HTML report (needs evidently)")
    parser.set_defaults(handler=run)
