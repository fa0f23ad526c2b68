"""A document against a JSON schema: the most relevant problem as one MlopsCiError (file, line, key)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from mlops_ci.core.errors import MlopsCiError

# A schema's own message for a problem it knows better (None: the general wording).
Special = Callable[[jsonschema.ValidationError], str | None]


def _key_path(parts: list[Any] | tuple[Any, ...], quote: Callable[[Any], str] = repr) -> str:
    """`policy.targets['release/*'][0]`: dotted names, [index] and [quoted] for any other key (a JSON
    file's paths quote as JSON does: `branches["release/1.0"]`)."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"\$?\w+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{quote(part)}]"
    return text or "top level"


def load_schema(path: Path) -> dict[str, Any]:
    """A schema file shipped with mlops-ci."""
    return json.loads(path.read_text(encoding="utf-8"))


def schema_error(  # pylint: disable=too-many-arguments
        schema: Mapping[str, Any], document: Any, where: str, *,
        lines: Mapping[tuple[Any, ...], int] | None = None, special: Special | None = None,
        quote: Callable[[Any], str] = repr) -> MlopsCiError | None:
    """The best-matching schema violation of `document` as an MlopsCiError naming its key path (and its
    line, from `lines`), None when the document is valid.

    An unknown key names the keys allowed there; a string that misses a `pattern` whose schema has a
    `title` says what was expected in those words (the pattern itself helps no one). `quote` spells
    the keys of the key path that are not plain names.
    """
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    lines = lines or {}
    parts = list(error.absolute_path)
    at = _key_path(parts, quote)
    message = special(error) if special is not None else None
    if message is not None:
        return MlopsCiError(f"{at}: {message}", where=where, line=lines.get(tuple(parts)))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted((key for key in error.instance if key not in allowed), key=str)[0]
        return MlopsCiError(f"{_key_path([*parts, unknown], quote)}: unknown key "
                            f"(allowed: {', '.join(allowed)})", where=where,
                            line=lines.get((*parts, unknown)))
    if error.validator == "pattern" and "title" in error.schema:
        message = f"{error.instance!r}: expected {error.schema['title']}"
    return MlopsCiError(f"{at}: {message or error.message}", where=where, line=lines.get(tuple(parts)))
