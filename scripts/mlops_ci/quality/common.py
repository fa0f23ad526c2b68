"""What `mlops-ci lint` and `mlops-ci test` share: annotation paths and caps, the installed-tool check
and bounded number arguments."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mlops_ci.core import gha
from mlops_ci.core.errors import MlopsCiError

MAX_ANNOTATIONS = 50
TABLE_ROWS = 20


def display_path(path: str) -> str:
    """A path as annotations need it: relative to $GITHUB_WORKSPACE (the repository root) when under
    it, else relative to the current folder when under it, else as given."""
    candidate = Path(path)
    absolute = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
    for base in (os.environ.get("GITHUB_WORKSPACE"), os.getcwd()):
        if base:
            try:
                return absolute.relative_to(Path(base).resolve()).as_posix()
            except ValueError:
                continue
    return candidate.as_posix()


def require_module(module: str, purpose: str) -> None:
    """Raise MlopsCiError naming the pip install when `module` is not importable here."""
    if importlib.util.find_spec(module) is None:
        raise MlopsCiError(f"{module} is not installed in this environment ({sys.executable}); "
                           f"it {purpose}: pip install {module}")


def annotate(items: Sequence[tuple[str, str, str | None, int | None, str]], what: str) -> None:
    """Report (level, message, file, line, title) items; inside Actions only the first
    MAX_ANNOTATIONS, then one notice saying how many more there are."""
    shown = items[:MAX_ANNOTATIONS] if gha.in_actions() else items
    for level, message, file, line, title in shown:
        gha.report(level, message, file=file, line=line, title=title)
    if len(items) > len(shown):
        gha.report("notice", f"{len(items) - len(shown)} more {what} not annotated: see the job summary")


def bounded(low: float, high: float, kind: type = float) -> Callable[[str], float]:
    """An argparse type: a number of `kind` between low and high, else a usage error."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value
    return parse
