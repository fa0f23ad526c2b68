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

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mlops_ci.core.errors import MlopsCiError

SCHEMA_PATH = Path(__file__).resolve().parent / "naming.schema.json"
KINDS = ("model", "dataset", "experiment")
_KEBAB = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
DEFAULTS = {"model": _KEBAB, "dataset": r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*(?:\.[a-z0-9]+)?",
            "experiment": _KEBAB}
EXAMPLES = {"model": "churn-classifier", "dataset": "customers_2024.csv", "experiment": "churn-baseline"}


def parse_config(document: Any, where: str | None = None) -> dict[str, re.Pattern[str]]:
    """The compiled pattern of each kind from a loaded config document (None = all defaults)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        path = ".".join(str(part) for part in error.absolute_path) or "top level"
        raise MlopsCiError(f"{path}: {error.message}", where=where)
    section = (document or {}).get("naming") or {}
    patterns = {}
    for kind in KINDS:
        try:
            patterns[kind] = re.compile(section.get(kind, DEFAULTS[kind]))
        except re.error as problem:
            raise MlopsCiError(f"naming.{kind}: invalid regular expression: {problem}",
                               where=where) from problem
    return patterns


def load_config(path: Path) -> dict[str, re.Pattern[str]]:
    """The naming patterns of a config file; the defaults when it does not exist."""
    if not path.is_file():
        return parse_config(None)
    try:
        return parse_config(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MlopsCiError(f"cannot read the config: {error}", where=str(path)) from error


def check(kind: str, name: str, config: dict[str, re.Pattern[str]]) -> str | None:
    """Why `name` breaks the naming convention of `kind` (model, dataset, experiment); None when it
    follows it."""
    if kind not in KINDS:
        raise MlopsCiError(f"unknown kind of name {kind!r} (one of: {', '.join(KINDS)})")
    pattern = config[kind]
    if pattern.fullmatch(name):
        return None
    example = f", e.g. {EXAMPLES[kind]!r}" if pattern.pattern == DEFAULTS[kind] else ""
    return (f"{kind} name {name!r} does not follow the naming convention naming.{kind} "
            f"({pattern.pattern!r}{example})")
