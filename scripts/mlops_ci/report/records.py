"""The records of `mlops-ci report`: what the DVC outputs, the comparison and MLflow give, and what
the Markdown and the JSON are rendered from. Plain frozen dataclasses; the numbers they compute with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_ci.config.sections import ReportConfig
from mlops_ci.registry.tags import DEFAULT_ALIAS
from mlops_ci.report.data import DataGroup
from mlops_ci.training.experiments import Experiment

# Outcomes of one comparison (NOTED: an informational value changed, shown but not judged).
BETTER, WORSE, SAME, NOTED = "better", "worse", "same", "noted"
# Verdict results beyond better/worse/mixed/unchanged.
NOT_APPLICABLE = "n/a"        # nothing to compare with (no MLflow, no --model, no common metric)
NO_CHAMPION = "none"          # the model has no version under the alias yet
UNAVAILABLE = "unavailable"   # MLflow could not be asked


def is_number(value: Any) -> bool:
    """A finite int or float (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def difference(old: Any, new: Any) -> float | None:
    """new - old for two numbers (rounded off float noise), else None."""
    if not (is_number(old) and is_number(new)):
        return None
    delta = new - old
    return delta if isinstance(delta, int) else round(delta, 12)


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
class CodeQuality:
    """The lint-test job's figures (its workflow outputs), None where that job did not measure one:
    whole-code pylint score and coverage of this PR and of its base (the ratchet's floor, new-code
    mode only), and the changed lines' figures (new-code mode only)."""

    pylint_score: float | None = None
    coverage: float | None = None
    base_pylint_score: float | None = None
    base_coverage: float | None = None
    new_code_pylint: float | None = None
    new_code_coverage: float | None = None

    @property
    def measured(self) -> bool:
        """Whether any figure is there (the report shows the section only then)."""
        return any(value is not None for value in vars(self).values())


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
    code_quality: CodeQuality = CodeQuality()
