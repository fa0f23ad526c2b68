"""branch-protection.json: read and validated against branch-protection.schema.json (beside this
module), every problem an input error naming the JSON path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from mlops_ci.core.errors import MlopsCiError

DEFAULT_CONFIG = Path("branch-protection.json")
SCHEMA_PATH = Path(__file__).resolve().parent / "branch-protection.schema.json"


@dataclass(frozen=True)
class Config:
    """branch-protection.json: branch -> PUT body, in file order."""

    path: str
    branches: dict[str, dict[str, Any]]


def _json_path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"\$?\w+", str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(part)}]"
    return text or "top level"


def validate_config(document: Any, where: str) -> None:
    """Check a parsed branch-protection.json against its schema: MlopsCiError naming the JSON path."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    parts = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(key for key in error.instance if key not in allowed)[0]
        raise MlopsCiError(f"{_json_path([*parts, unknown])}: unknown key (allowed: {', '.join(allowed)})",
                           where=where)
    if error.validator == "oneOf":  # required_status_checks: checks or contexts
        raise MlopsCiError(f"{_json_path(parts)}: set `checks` or the deprecated `contexts`, exactly one of "
                           "them (GitHub answers 422 to both)", where=where)
    if parts == ["branches"] and error.validator in ("pattern", "minLength", "maxLength"):  # propertyNames
        raise MlopsCiError(f"{_json_path(parts)}: not a branch name: {error.instance!r} (no wildcards, "
                           "spaces or '~^:?*[\\')", where=where)
    raise MlopsCiError(f"{_json_path(parts)}: {error.message}", where=where)


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
