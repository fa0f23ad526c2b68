"""branch-protection.json: read and validated against branch-protection.schema.json (beside this
module), every problem an input error naming the JSON path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from mlops_ci.config.validate import load_schema, schema_error
from mlops_ci.core.errors import MlopsCiError

DEFAULT_CONFIG = Path("branch-protection.json")
SCHEMA_PATH = Path(__file__).resolve().parent / "branch-protection.schema.json"


@dataclass(frozen=True)
class Config:
    """branch-protection.json: branch -> PUT body, in file order."""

    path: str
    branches: dict[str, dict[str, Any]]


def _special(error: jsonschema.ValidationError) -> str | None:
    """This schema's own words for the two problems its jsonschema message would not explain."""
    if error.validator == "oneOf":  # required_status_checks: checks or contexts
        return "set `checks` or the deprecated `contexts`, exactly one of them (GitHub answers 422 to both)"
    if list(error.absolute_path) == ["branches"] and error.validator in ("pattern", "minLength", "maxLength"):
        # propertyNames
        return f"not a branch name: {error.instance!r} (no wildcards, spaces or '~^:?*[\\')"
    return None


def validate_config(document: Any, where: str) -> None:
    """Check a parsed branch-protection.json against its schema: MlopsCiError naming the JSON path."""
    problem = schema_error(load_schema(SCHEMA_PATH), document, where, special=_special, quote=json.dumps)
    if problem is not None:
        raise problem


def load_config(path: str | Path) -> Config:
    """Read and validate branch-protection.json; every problem is an MlopsCiError (exit 2)."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise MlopsCiError("no such config file (pass --config FILE)", where=where) from error
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise MlopsCiError(f"cannot read the config: {reason}", where=where) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MlopsCiError(f"malformed JSON: {error.msg}", where=where, line=error.lineno) from error
    validate_config(document, where)
    return Config(where, dict(document["branches"]))
