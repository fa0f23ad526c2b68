"""Reading a requirements or environment FILE and every -r/-c file it includes, once each."""

from __future__ import annotations

import os
from pathlib import Path

from mlops_ci.quality.deps.conda import CONDA_SUFFIXES, parse_conda
from mlops_ci.quality.deps.pip import URL_START, logical_lines, parse_line
from mlops_ci.quality.deps.records import INCLUDE, Dependency, Include, file_error


def _read_text(path: str, origin: Include | None) -> str:
    where, line = (origin.file, origin.line) if origin else (path, None)
    prefix = f"cannot read {'-c' if origin and origin.constraint else '-r'} {path}: " if origin else \
        "cannot read: "
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise file_error(prefix + "no such file", where, line) from error
    except OSError as error:
        raise file_error(prefix + str(error.strerror), where, line) from error
    except UnicodeDecodeError as error:
        raise file_error(prefix + "not UTF-8 text", where, line) from error


class _Reader:
    """Reads a FILE and everything it includes, once each; remembers the files read."""

    def __init__(self) -> None:
        self.dependencies: list[Dependency] = []
        self.files: list[str] = []
        self._done: set[tuple[Path, bool]] = set()

    def read(self, path: str, *, constraint: bool = False, origin: Include | None = None,
             stack: tuple[tuple[Path, str], ...] = ()) -> None:
        """Read `path` (pip or, at the top, conda format) and follow its includes."""
        resolved = Path(path).resolve()
        if any(resolved == seen for seen, _ in stack):
            assert origin is not None  # the top file cannot be in the stack
            chain = " -> ".join([shown for _, shown in stack] + [path])
            raise file_error(f"include cycle: {chain}", origin.file, origin.line)
        if (resolved, constraint) in self._done:
            return
        self._done.add((resolved, constraint))
        text = _read_text(path, origin)
        if path not in self.files:
            self.files.append(path)
        stack = (*stack, (resolved, path))
        if origin is None and path.lower().endswith(CONDA_SUFFIXES):
            conda, lines = parse_conda(text, path)
            self.dependencies.extend(conda)
        else:
            lines = list(logical_lines(text))
        for number, line_text in lines:
            for item in parse_line(line_text, path, number, constraint=constraint):
                if isinstance(item, Dependency):
                    self.dependencies.append(item)
                else:
                    self._include(item, stack)

    def _include(self, include: Include, stack: tuple[tuple[Path, str], ...]) -> None:
        # pip: -r inside a constraints file reads requirements, -c reads constraints.
        nested = include.constraint
        if URL_START.match(include.target):
            name = f"{'-c' if nested else '-r'} {include.target}"
            self.dependencies.append(Dependency(include.file, include.line, name, include.target, INCLUDE))
            return
        target = os.path.normpath(os.path.join(os.path.dirname(include.file), include.target))
        self.read(target, constraint=nested, origin=include, stack=stack)


def load(path: str) -> tuple[list[Dependency], list[str]]:
    """The dependencies of FILE with its includes, and the files read (FILE first)."""
    reader = _Reader()
    reader.read(path)
    return reader.dependencies, reader.files
