"""One setting that differs between the file and GitHub: found by comparing canonical shapes, shown
on one line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One setting that differs: its dotted path, the current value and the desired one."""

    path: str
    current: Any
    desired: Any

    def __str__(self) -> str:
        return f"{self.path}: {render(self.current)} -> {render(self.desired)}"


def diff(desired: Any, current: Any, path: str = "") -> list[Change]:
    """The settings that differ, as dotted paths; dicts are compared key by key, other values whole."""
    if isinstance(desired, dict) and isinstance(current, dict):
        changes = []
        for key in [*desired, *(key for key in current if key not in desired)]:
            changes += diff(desired.get(key), current.get(key), f"{path}.{key}" if path else key)
        return changes
    return [] if desired == current else [Change(path, current, desired)]


def _plain(value: Any) -> Any:
    """A value for display: a check with no app is just its name, null entries of a dict dropped."""
    if isinstance(value, dict):
        if set(value) <= {"context", "app_id"} and value.get("app_id") is None and "context" in value:
            return value["context"]
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def render(value: Any) -> str:
    """A setting's value on one line: JSON, a bare string unquoted."""
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value), ensure_ascii=False)
