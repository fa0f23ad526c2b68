"""Naming conventions for models, datasets and experiments (the SOP asks for one set per team).

They live in the `naming:` section of .github/mlops-ci.yml, one Python regular expression per kind,
matched against the whole name:

    naming:
      model: '[a-z][a-z0-9]*(?:-[a-z0-9]+)*'        # MLflow registered model names
      dataset: '[a-z][a-z0-9_-]*(?:\\.[a-z0-9]+)?'   # DVC-tracked files and folders (base name)
      experiment: '[a-z][a-z0-9]*(?:-[a-z0-9]+)*'   # MLflow experiments

`check(kind, name, config)` is pure: `train plan` calls it with the datasets, model and experiment a
PR brings in, `train run` and `train experiment` with the MLflow experiment before the track command
creates it; `mlops-ci init` checks the names it writes into params.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mlops_ci.core.errors import MlopsCiError

KINDS = ("model", "dataset", "experiment")
_KEBAB = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
DEFAULTS = {"model": _KEBAB, "dataset": r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?:\.[a-z0-9]+)?",
            "experiment": _KEBAB}
EXAMPLES = {"model": "churn-classifier", "dataset": "customers_2024.csv", "experiment": "churn-baseline"}


def check(kind: str, name: str, config: Mapping[str, re.Pattern[str]] | None = None) -> str | None:
    """Why `name` breaks the naming convention of `kind` (model, dataset, experiment); None when it
    follows it. `config` holds the kinds the config file sets (`mlops_ci.config`); the others follow
    DEFAULTS."""
    if kind not in KINDS:
        raise MlopsCiError(f"unknown kind of name {kind!r} (one of: {', '.join(KINDS)})")
    pattern = (config or {}).get(kind) or re.compile(DEFAULTS[kind])
    if pattern.fullmatch(name):
        return None
    example = f", e.g. {EXAMPLES[kind]!r}" if pattern.pattern == DEFAULTS[kind] else ""
    return (f"{kind} name {name!r} does not follow the naming convention naming.{kind} "
            f"({pattern.pattern!r}{example})")
