"""The pinning rules: why a requirement is not pinned to one version, and the fix to suggest."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from urllib.parse import urlsplit

from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlops_ci.core.text import show
from mlops_ci.quality.deps.pip import ARCHIVE_SUFFIXES, url_file_name
from mlops_ci.quality.deps.reader import load
from mlops_ci.quality.deps.records import CONDA, INCLUDE, PIP, URL, VCS, Dependency

VCS_REVISION = {"git": re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}"),
                "hg": re.compile(r"[0-9a-fA-F]{40}"),
                "svn": re.compile(r"\d+"), "bzr": re.compile(r"\d+")}
_PREFIX_VERSION = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Problem:
    """An unpinned dependency: why, and how to pin it."""

    dependency: Dependency
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.dependency.name}: {self.reason} (fix: {self.fix})"


def installed_version(name: str) -> str | None:
    """The version of a distribution installed here, None when it is not."""
    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def pip_reason(spec: str) -> str | None:
    """Why a pip version specifier is not a pin; None for exactly one == (no wildcard) or ===."""
    specifiers = list(SpecifierSet(spec))
    if not specifiers:
        return "no version"
    if len(specifiers) == 1:
        specifier = specifiers[0]
        exact = specifier.operator == "==" and not specifier.version.endswith("*")
        if exact or specifier.operator == "===":
            return None
        if specifier.operator == "==":
            return f"a wildcard ({specifier}) is a range"
    return f"a range ({spec})"


def conda_reason(name: str, spec: str) -> str | None:
    """Why a conda spec (from split_conda_spec) is not pinned; None when it is."""
    if not spec:
        return "no version"
    build = ""
    if spec.startswith("=") and not spec.startswith("=="):
        version, _, build = spec[1:].partition("=")
        fuzzy = not build
    elif spec.startswith("=="):
        version, _, build = spec[2:].partition("=")
        fuzzy = False
    else:
        version, _, build = spec.partition(" ")
        fuzzy = False
    if "*" in version:
        return f"a wildcard ({spec}) is a range"
    if spec[0] in "<>!~" or any(char in version for char in "<>!~=,| "):
        return f"a range ({spec})"
    if fuzzy and _PREFIX_VERSION.fullmatch(version) and not (name == "python" and "." in version):
        return f"conda reads ={version} as {version}.*"
    return None


def _pin_fix(name: str, operator: str, installed: Callable[[str], str | None], extras: str = "") -> str:
    if name == "python" and operator == "=":
        return f"pin it: python={sys.version_info.major}.{sys.version_info.minor} (the interpreter here)"
    version = installed(name)
    if version is None:
        return f"pin it, e.g. {name}{extras}{operator}X.Y.Z"
    return f"pin it: {name}{extras}{operator}{version} (installed here)"


def _vcs_problem(dependency: Dependency) -> tuple[str, str] | None:
    url = dependency.spec
    vcs, _, rest = url.partition("+")
    vcs = vcs.lower()
    parts = urlsplit(rest)
    location, _, revision = parts.path.rpartition("@") if "@" in parts.path else (parts.path, "", "")
    if VCS_REVISION[vcs].fullmatch(revision):
        return None
    base = f"{vcs}+{parts.scheme}://{parts.netloc}{location}"
    egg = f"#egg={dependency.name}"
    if vcs in ("svn", "bzr"):
        wanted, how = "a revision number", f"pin a revision: {base}@<revision>{egg}"
    else:
        wanted = "a full commit SHA" if vcs == "git" else "a full changeset id"
        lookup = f"git ls-remote {parts.scheme}://{parts.netloc}{location} {revision or 'HEAD'}" \
            if vcs == "git" else "hg id --debug -i -r REV"
        how = f"pin {wanted}: {base}@<{'40-hex sha' if vcs == 'git' else 'changeset id'}>{egg} ({lookup})"
    article = "an" if vcs in ("hg", "svn") else "a"
    if not revision:
        return f"{article} {vcs} URL with no revision (it installs whatever the default branch holds)", how
    return f"{article} {vcs} URL at {show(revision)}, not {wanted} (a branch or tag can move)", how


def archive_version(file_name: str) -> str | None:
    """The version in a wheel or source archive's file name (name-1.2.3.tar.gz), None when none."""
    if file_name.endswith(".whl"):
        try:
            return str(parse_wheel_filename(file_name)[1])
        except InvalidWheelFilename:
            return None
    suffix = next((suffix for suffix in ARCHIVE_SUFFIXES if file_name.lower().endswith(suffix)), None)
    if suffix is None:
        return None
    _, dash, version = file_name[:-len(suffix)].rpartition("-")
    try:
        return str(Version(version)) if dash else None
    except InvalidVersion:
        return None


def _url_problem(dependency: Dependency) -> tuple[str, str] | None:
    if archive_version(url_file_name(dependency.spec)) is None:
        return ("a URL whose file name carries no version",
                "point at a release file (name-1.2.3.tar.gz or a .whl) with --hash=sha256:..., or use "
                "git+URL@<full commit sha>")
    if not dependency.hashes:
        return ("a URL without a hash (the file behind it can change)",
                "add --hash=sha256:<digest> to the line (pip hash FILE gives it) or #sha256=<digest> "
                "to the URL")
    return None


def problem(dependency: Dependency,
            installed: Callable[[str], str | None] | None = None) -> Problem | None:
    """Why one dependency is not pinned, and its fix (constraints not considered); None when pinned.

    `installed` names the version installed here for the fix (default: installed_version)."""
    installed = installed or installed_version
    found: tuple[str, str] | None = None
    if dependency.kind == PIP:
        reason = pip_reason(dependency.spec)
        extras = f"[{','.join(dependency.extras)}]" if dependency.extras else ""
        found = (reason, _pin_fix(dependency.name, "==", installed, extras)) if reason else None
        if found and dependency.hashes and not dependency.spec:
            found = (f"{reason} (a --hash needs == to be checked)", found[1])
    elif dependency.kind == CONDA:
        reason = conda_reason(dependency.name, dependency.spec)
        found = (reason, _pin_fix(dependency.name, "=", installed)) if reason else None
        if found and reason and reason.startswith("conda reads"):
            version = dependency.spec.lstrip("=")
            found = (reason, f"give the full version ({dependency.name}=X.Y.Z) or an exact match "
                             f"({dependency.name}=={version})")
    elif dependency.kind == VCS:
        found = _vcs_problem(dependency)
    elif dependency.kind == URL:
        found = _url_problem(dependency)
    elif dependency.kind == INCLUDE:
        kind = "constraints" if dependency.name.startswith("-c") else "requirements"
        found = (f"a remote {kind} file can change under you",
                 "vendor it into the repository and include the copy")
    return Problem(dependency, *found) if found else None


def problems(dependencies: Iterable[Dependency],
             installed: Callable[[str], str | None] | None = None) -> list[Problem]:
    """Every unpinned dependency of one install (a FILE with its includes), in file order.

    A pip requirement with no version or a range passes when a constraint pins it (== or ===) with no
    marker or the same marker. Constraints themselves are not judged.
    """
    dependencies = list(dependencies)
    pins: dict[str, set[str]] = {}
    for dependency in dependencies:
        if dependency.constraint and dependency.kind == PIP and pip_reason(dependency.spec) is None:
            pins.setdefault(canonicalize_name(dependency.name), set()).add(dependency.marker)
    found = []
    for dependency in dependencies:
        if dependency.constraint:
            continue
        unpinned = problem(dependency, installed)
        if unpinned is None:
            continue
        pinned_by = pins.get(canonicalize_name(dependency.name), set())
        if dependency.kind == PIP and pinned_by & {"", dependency.marker}:
            continue
        found.append(unpinned)
    return found


@dataclass(frozen=True)
class Checked:
    """`deps check` of some files: the unpinned dependencies (each once), how many requirements were
    judged, and every file read (includes too)."""

    found: list[Problem] = field(default_factory=list)
    checked: int = 0
    files: list[str] = field(default_factory=list)


def check_files(paths: Iterable[str]) -> Checked:
    """Read each requirements or environment file with its includes and judge every requirement
    (error, exit 2, on a missing or malformed file)."""
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
    return Checked(found=found, checked=len(checked), files=files)
