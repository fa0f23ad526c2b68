"""What the requirement parsers produce: one record per requirement or include, and the input error
that points at a file and line."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_ci.core.errors import MlopsCiError

# Dependency kinds.
PIP = "pip"          # a named requirement resolved from an index (name==1.2.3)
CONDA = "conda"      # a conda package spec
VCS = "vcs"          # git+/hg+/svn+/bzr+ URL
URL = "url"          # a direct URL to an archive
LOCAL = "local"      # a path in the repository, -e ., file: URL
INCLUDE = "include"  # -r/-c of a remote file


@dataclass(frozen=True)
class Dependency:  # pylint: disable=too-many-instance-attributes
    """One requirement as written: where it is, what it names and how (`kind`, `spec`).

    `spec` is the version part for pip (`==1.2.3`, `>=1`, empty) and conda (`=1.26.4=build`), the
    URL for vcs/url, the path for local. `constraint`: read from a -c file (only limits versions).
    """

    file: str
    line: int
    name: str
    spec: str
    kind: str
    marker: str = ""
    extras: tuple[str, ...] = ()
    hashes: tuple[str, ...] = ()
    constraint: bool = False


@dataclass(frozen=True)
class Include:
    """A -r (requirements) or -c (constraints) line naming another file."""

    file: str
    line: int
    target: str
    constraint: bool



def file_error(message: str, file: str, line: int | None) -> MlopsCiError:
    """An input error at file:line (exit 2)."""
    return MlopsCiError(message, where=file, line=line)
