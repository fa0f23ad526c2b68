"""GitHub's documented request and response schemas for the operations the stand-in serves.

They come from ``github-openapi.json`` (beside this module), a subset of GitHub's OpenAPI description vendored by
``tools/vendor_github_openapi.py`` (its ``info`` names the package, version and hashes): each operation's
request body schema and response schemas by status, as JSON Schema 2020-12 (OpenAPI's ``nullable``
already converted), sharing ``components.schemas``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SUBSET_FILE = "github-openapi.json"
_PARAMETER = re.compile(r"<[^>]+>|\{[^}]+\}")


def route_key(method: str, path: str) -> str:
    """``METHOD /path`` with every path parameter (werkzeug ``<x>`` or OpenAPI ``{x}``) as ``{}``."""
    return f"{method.upper()} {_PARAMETER.sub('{}', path)}"


@dataclass(frozen=True)
class Operation:
    """One documented operation: its request body schema (``None``: no body) and response schemas."""

    key: str
    request: dict[str, Any] | None
    responses: dict[str, dict[str, Any] | None]

    def request_problem(self, body: Any) -> str | None:
        """GitHub's 422 message for a request body its schema rejects, else ``None``."""
        if self.request is None:
            return None
        errors = sorted(_validator(self.request).iter_errors(body), key=lambda error: error.path)
        return _message(errors) if errors else None

    def response_errors(self, status: int, body: Any) -> list[str]:
        """Why a response does not match the documented one (an undocumented status is one reason)."""
        if str(status) not in self.responses:
            return [f"{self.key}: status {status} is not documented ({', '.join(self.responses)})"]
        schema = self.responses[str(status)]
        if schema is None:
            return [] if body is None else [f"{self.key} {status}: documented without a body"]
        return [f"{self.key} {status} at /{'/'.join(map(str, error.absolute_path))}: {error.message}"
                for error in _validator(schema).iter_errors(body)]


@cache
def subset() -> dict[str, Any]:
    """The vendored subset (loaded once)."""
    return json.loads(resources.files("mlops_ci.local.github").joinpath(SUBSET_FILE).read_text("utf-8"))


@cache
def operations() -> dict[str, Operation]:
    """Every vendored operation by :func:`route_key`."""
    found = {}
    for key, spec in subset()["operations"].items():
        method, path = key.split(" ", 1)
        found[route_key(method, path)] = Operation(key, spec["request"], spec["responses"])
    return found


def operation(method: str, path: str) -> Operation:
    """The operation serving ``method path`` (a route template); KeyError when not vendored."""
    return operations()[route_key(method, path)]


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # the shared components ride along so that "#/components/schemas/..." resolves
    return Draft202012Validator({**schema, "components": subset()["components"]})


def _message(errors: list[ValidationError]) -> str:
    """GitHub's wording: ``Invalid request.``, a blank line, then one line per problem."""
    return "Invalid request.\n\n" + "\n".join(dict.fromkeys(_lines(errors, [])))


def _lines(errors: Iterable[ValidationError], prefix: list[str]) -> list[str]:
    """One line per problem; missing keys of the same object share one (``"a", "b" weren't supplied.``)
    and a failed ``oneOf`` lists its alternatives' problems after it, as GitHub does."""
    lines: list[str | list[str]] = []
    missing: dict[str, list[str]] = {}
    for error in errors:
        where = "/".join(map(str, [*prefix, *list(error.relative_schema_path)[:-1]]))
        value = json.dumps(error.instance)
        if error.validator == "required":
            if where not in missing:
                lines.append(missing.setdefault(where, []))
            missing[where] += [key for key in error.validator_value if key not in error.instance]
        elif error.validator in ("oneOf", "anyOf"):
            matched = "No" if error.context else "More than one"
            lines.append(f'{matched} subschema in "{error.validator}" matched.')
            lines += _lines(error.context, [str(error.validator)])
        elif error.validator == "type":
            kinds = error.validator_value
            kinds = kinds if isinstance(kinds, list) else [kinds]
            lines.append(f"For '{where}', {value} is not {' or '.join(map(_article, kinds))}.")
        elif error.validator == "enum":
            lines.append(f"For '{where}', {value} is not a member of {json.dumps(error.validator_value)}.")
        else:
            lines.append(f"For '{where}', {error.message}.")
    return [line if isinstance(line, str) else _not_supplied(line) for line in lines]


def _not_supplied(keys: list[str]) -> str:
    names = list(dict.fromkeys(keys))
    return f"{', '.join(map(json.dumps, names))} {'wasn' if len(names) == 1 else 'weren'}'t supplied."


def _article(kind: str) -> str:
    return "null" if kind == "null" else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
