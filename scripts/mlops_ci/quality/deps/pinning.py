"""Whether requirement files pin every dependency: the typed check behind `mlops-ci deps check` and
`mlops-ci doctor`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mlops_ci.quality.deps.reader import load
from mlops_ci.quality.deps.rules import Problem, problems


@dataclass(frozen=True)
class Pinning:
    """The unpinned requirements of some files, each once, in the order they were read."""

    problems: list[Problem] = field(default_factory=list)
    checked: int = 0                                   # requirements read, constraints not counted
    files: list[str] = field(default_factory=list)     # every file read, -r/-c includes too


def check_files(paths: Iterable[str]) -> Pinning:
    """Read pip requirements and conda environment files (with their includes) and list every
    requirement not pinned to one version (error, exit 2, on a missing or malformed file)."""
    found: list[Problem] = []
    seen: set[tuple[str, int, str]] = set()
    files: list[str] = []
    checked: set[tuple[str, int, str]] = set()
    for path in dict.fromkeys(paths):
        dependencies, read = load(path)
        files.extend(file for file in read if file not in files)
        checked.update((dep.file, dep.line, dep.name) for dep in dependencies if not dep.constraint)
        for item in problems(dependencies):
            key = (item.dependency.file, item.dependency.line, item.dependency.name)
            if key not in seen:
                seen.add(key)
                found.append(item)
    return Pinning(found, len(checked), files)
