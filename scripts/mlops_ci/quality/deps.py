"""`mlops-ci deps check`: every dependency pinned to one version, as the SOP asks.

Reads pip requirements files and conda environment files (a .yml or .yaml FILE, which must have a
`dependencies:` list) and lists every requirement that is not pinned, with its file and line and a
fix. Exit 0 all pinned, 1 some are not (every one listed), 2 a missing or malformed file.

pip requirements files (any FILE that is not .yml/.yaml, and every -r/-c include):
  pinned     name==1.2.3 and name===1.2.3, also with extras (name[gpu]==1.2.3), an environment
             marker (; python_version < "3.12") and --hash options (\\ continuation lines too)
  refused    no version (name), a range (>=, >, <=, <, !=, ~=, several specifiers), a wildcard
             (==1.*), a --hash without == (pip needs == to check it)
  -c FILE    constraints: a requirement with no version or a range passes when a constraints file
             of the same FILE (read through its -r/-c includes) pins it with == or === (no marker,
             or the requirement's marker); constraints themselves are never refused
  -r FILE    followed, relative to the including file; an include cycle is an error (exit 2);
             -r/-c of a URL is refused (a remote file can change)
  VCS URLs   git+https://...@<full commit SHA> (40 or 64 hex digits; hg+: the 40-hex changeset id;
             svn+/bzr+: a revision number); a branch, tag, short SHA or no revision is refused
  URLs       name @ https://.../name-1.2.3-py3-none-any.whl (or name-1.2.3.tar.gz/.zip) passes when
             the file name carries a version and a hash pins the bytes (--hash=sha256:... or
             #sha256=... in the URL); a URL without either is refused
  local      ./pkg, ../pkg, /abs/pkg, dir/pkg, a local archive, -e ., file: URLs: allowed
  ignored    comments, blank lines, -i/--index-url, --extra-index-url, -f/--find-links,
             --no-index, --pre, --trusted-host, --prefer-binary, --only-binary, --no-binary,
             --require-hashes, --use-feature
conda environment files:
  pinned     name==1.26.4, name=1.26.4 (three or more parts: conda reads =V as V.*),
             name=1.26=build (a build string makes the version exact), name 1.26.4 [build],
             name[version='1.26.4'], channel::name=1.26.4; python=3.11 (the interpreter pinned to a
             minor version: conda takes its newest bug-fix release)
  refused    no version, ranges, wildcards, and name=X or name=X.Y for anything but python
             (conda reads numpy=1.26 as 1.26.*: give the full version, or numpy==1.26)
  pip:       its entries follow the pip rules (-r/-c relative to the environment file); problems
             point at the entry's YAML line
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape, show

# Dependency kinds.
PIP = "pip"          # a named requirement resolved from an index (name==1.2.3)
CONDA = "conda"      # a conda package spec
VCS = "vcs"          # git+/hg+/svn+/bzr+ URL
URL = "url"          # a direct URL to an archive
LOCAL = "local"      # a path in the repository, -e ., file: URL
INCLUDE = "include"  # -r/-c of a remote file

CONDA_SUFFIXES = (".yml", ".yaml")
STRONG_HASHES = ("sha256", "sha384", "sha512")
VCS_SCHEMES = ("git", "hg", "svn", "bzr")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
VCS_REVISION = {"git": re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}"),
                "hg": re.compile(r"[0-9a-fA-F]{40}"),
                "svn": re.compile(r"\d+"), "bzr": re.compile(r"\d+")}

# pip's requirements-file options: long name -> takes a value. Short forms map to long ones.
_OPTIONS = {"--requirement": True, "--constraint": True, "--editable": True, "--index-url": True,
            "--extra-index-url": True, "--find-links": True, "--trusted-host": True,
            "--only-binary": True, "--no-binary": True, "--use-feature": True, "--hash": True,
            "--config-settings": True, "--global-option": True, "--no-index": False, "--pre": False,
            "--prefer-binary": False, "--require-hashes": False}
_SHORT = {"-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url",
          "-f": "--find-links", "-C": "--config-settings"}
_PER_REQUIREMENT = ("--hash", "--config-settings", "--global-option")

_COMMENT_LINE = re.compile(r"\s*#")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_NAMED_URL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:", re.IGNORECASE)
_HASH = re.compile(r"(sha256|sha384|sha512):[0-9a-fA-F]+")
_CONDA_SPEC = re.compile(r"(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\s*\[(?P<brackets>[^\]]*)\])?"
                         r"(?P<spec>.*)", re.DOTALL)
_CONDA_BRACKET = re.compile(r"\s*(\w+)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([^,'\"]*?))\s*(?:,|$)")
_CONDA_VERSION_CHARS = re.compile(r"[\w.+!*<>=,|~ ]*")
_PREFIX_VERSION = re.compile(r"\d+(\.\d+)?")


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


@dataclass(frozen=True)
class Problem:
    """An unpinned dependency: why, and how to pin it."""

    dependency: Dependency
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.dependency.name}: {self.reason} (fix: {self.fix})"


# --- pip requirements files ---------------------------------------------------------------------

def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """pip's reading of a requirements file: lines ending in `\\` joined to the next, comments and
    blank lines dropped. Yields (number of the first physical line, the logical line)."""
    start, parts = 0, []
    for number, line in enumerate(text.splitlines(), 1):
        comment = bool(_COMMENT_LINE.match(line))
        if line.endswith("\\") and not comment:
            if not parts:
                start = number
            parts.append(line[:-1])
            continue
        if parts:
            line, number, parts = "".join(parts) + (" " + line if comment else line), start, []
        yield from _uncommented(number, line)
    if parts:
        yield from _uncommented(start, "".join(parts))


def _uncommented(number: int, line: str) -> Iterator[tuple[int, str]]:
    line = _COMMENT.sub("", line).strip()
    if line:
        yield number, line


def _error(message: str, file: str, line: int | None) -> MlopsCiError:
    return MlopsCiError(message, where=file, line=line)


def _parse_options(tokens: list[str], file: str, line: int) -> list[tuple[str, str]]:
    """(long option, value) pairs of pip options; a flag's value is ''."""
    parsed = []
    queue = list(tokens)
    while queue:
        token = queue.pop(0)
        if token.startswith("--"):
            name, equals, value = token.partition("=")
            given = value if equals else None
        elif token.startswith("-") and len(token) > 1:
            name, given = token[:2], token[2:] or None
        else:
            raise _error(f"unexpected {show(token)} among the options (one requirement a line)", file, line)
        option = _SHORT.get(name, name)
        if option not in _OPTIONS:
            raise _error(f"unknown option {show(name)}", file, line)
        if not _OPTIONS[option]:
            if given is not None:
                raise _error(f"{option} takes no value", file, line)
            parsed.append((option, ""))
            continue
        if given is None:
            if not queue:
                raise _error(f"{name} needs a value", file, line)
            given = queue.pop(0)
        parsed.append((option, given))
    return parsed


def _tokens(text: str, file: str, line: int) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise _error(f"cannot split the options: {error}", file, line) from error


def _hashes(options: list[tuple[str, str]], file: str, line: int) -> tuple[str, ...]:
    hashes = []
    for option, value in options:
        if option != "--hash":
            continue
        if not _HASH.fullmatch(value):
            raise _error(f"--hash={show(value)}: expected ALGORITHM:HEX with ALGORITHM one of "
                         f"{', '.join(STRONG_HASHES)}", file, line)
        hashes.append(value.lower())
    return tuple(hashes)


def parse_line(text: str, file: str, line: int, *, constraint: bool = False) -> list[Dependency | Include]:
    """What one logical line of a requirements file asks for: a dependency, -r/-c includes, or nothing
    (an option pip applies to the whole install). Raises MlopsCiError for a line pip would not read."""
    if text.startswith("-"):
        options = _parse_options(_tokens(text, file, line), file, line)
        items: list[Dependency | Include] = []
        for option, value in options:
            if option in ("--requirement", "--constraint"):
                items.append(Include(file, line, value, option == "--constraint"))
            elif option == "--editable":
                items.append(replace(editable(value, file, line), constraint=constraint))
        hashes = _hashes(options, file, line)
        dependencies = [item for item in items if isinstance(item, Dependency)]
        if not dependencies and any(option in _PER_REQUIREMENT for option, _ in options):
            raise _error("--hash, --config-settings and --global-option need a requirement on their line",
                         file, line)
        return [replace(item, hashes=hashes) if isinstance(item, Dependency) else item for item in items]
    split = re.search(r"\s-", text)
    requirement, rest = (text[:split.start()], text[split.start():]) if split else (text, "")
    options = _parse_options(_tokens(rest, file, line), file, line)
    bad = [option for option, _ in options if option not in _PER_REQUIREMENT]
    if bad:
        raise _error(f"{bad[0]} cannot follow a requirement on its line", file, line)
    dependency = parse_requirement(requirement.strip(), file, line)
    hashes = tuple(dict.fromkeys(dependency.hashes + _hashes(options, file, line)))
    return [replace(dependency, hashes=hashes, constraint=constraint)]


def _looks_like_path(head: str) -> bool:
    return (head.startswith((".", "/", "~")) or "/" in head or "\\" in head
            or head.lower().endswith(ARCHIVE_SUFFIXES))


def _fragment(url: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in urlsplit(url).fragment.split("&") if part)
    return {key: value for key, _, value in pairs}


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def _from_url(url: str, name: str | None, file: str, line: int, *,  # pylint: disable=too-many-arguments
              marker: str = "", extras: tuple[str, ...] = ()) -> Dependency:
    """A dependency given by URL: file: (local), VCS or an archive on a server."""
    fragment = _fragment(url)
    scheme = url.split(":", 1)[0].lower()
    is_vcs = "+" in scheme and scheme.split("+", 1)[0] in VCS_SCHEMES
    if not name and is_vcs:
        name = fragment.get("egg") or _file_name(url).rsplit("@", 1)[0].removesuffix(".git")
    name = name or fragment.get("egg") or _file_name(url) or url
    if scheme == "file":
        return Dependency(file, line, name, url, LOCAL, marker, extras)
    if is_vcs:
        return Dependency(file, line, name, url, VCS, marker, extras)
    if scheme not in ("http", "https", "ftp"):
        raise _error(f"unsupported URL scheme {show(scheme)} (http(s), file: and git+/hg+/svn+/bzr+ are)",
                     file, line)
    hashes = tuple(f"{key}:{value.lower()}" for key, value in fragment.items()
                   if key in STRONG_HASHES and value)
    return Dependency(file, line, name, url, URL, marker, extras, hashes)


def _pep508(text: str, file: str, line: int) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        detail = str(error).splitlines()[0]
        raise _error(f"not a requirement: {show(text)}: {detail}", file, line) from error


def parse_requirement(text: str, file: str, line: int) -> Dependency:
    """A requirement (the line without its options): PEP 508, a URL or a local path."""
    if _NAMED_URL.match(text):
        requirement = _pep508(text, file, line)
        assert requirement.url is not None  # name @ url
        return _from_url(requirement.url, requirement.name, file, line,
                         marker=str(requirement.marker or ""), extras=tuple(sorted(requirement.extras)))
    if _URL.match(text):
        url, _, marker = text.partition("; ")
        return _from_url(url.strip(), None, file, line, marker=marker.strip())
    head = re.split(r"[\s;\[]", text, maxsplit=1)[0]
    if _looks_like_path(head):
        return Dependency(file, line, head, head, LOCAL)
    requirement = _pep508(text, file, line)
    return Dependency(file, line, requirement.name, str(requirement.specifier), PIP,
                      str(requirement.marker or ""), tuple(sorted(requirement.extras)))


def editable(value: str, file: str, line: int) -> Dependency:
    """An -e requirement: a local project (-e ., -e ./pkg[extra], -e file:...) or a VCS URL."""
    if _URL.match(value):
        dependency = _from_url(value, None, file, line)
        if dependency.kind == URL:
            raise _error(f"-e {show(value)}: -e takes a local path or a VCS URL", file, line)
        return dependency
    path = re.split(r"[\s;\[]", value, maxsplit=1)[0]
    return Dependency(file, line, path, path, LOCAL)


# --- conda environment files --------------------------------------------------------------------

def split_conda_spec(text: str) -> tuple[str, str]:
    """(name, version spec) of a conda package spec, channel dropped: 'conda-forge::numpy=1.26.4' ->
    ('numpy', '=1.26.4'); 'numpy 1.26.4 py_0' -> ('numpy', '1.26.4 py_0'); a bracket version
    (numpy[version='>=1']) comes back as the spec ('>=1'). Raises ValueError for what is not one."""
    spec_text = text.strip().rpartition("::")[2]
    match = _CONDA_SPEC.fullmatch(spec_text)
    if match is None:
        raise ValueError("expected NAME, NAME=VERSION or NAME==VERSION")
    name, spec = match["name"], match["spec"]
    if spec and not spec[0].isspace() and spec[0] not in "=<>!~":
        raise ValueError(f"cannot read {show(spec)} after the name")
    spec = spec.strip()
    if spec[:1] not in ("", "=", "<", ">", "!", "~") and len(spec.split()) > 2:
        raise ValueError("expected NAME VERSION [BUILD]")
    if match["brackets"] is not None:
        keys = {found[0]: next(value for value in found[1:] if value)
                for found in _CONDA_BRACKET.findall(match["brackets"]) if any(found[1:])}
        if "version" in keys:
            if spec:
                raise ValueError("a version both in [version=...] and after it")
            spec = keys["version"].strip()
    if not _CONDA_VERSION_CHARS.fullmatch(spec):
        raise ValueError(f"cannot read the version {show(spec)}")
    return name, spec


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


def _yaml_error(error: yaml.YAMLError, text: str, file: str) -> MlopsCiError:
    if isinstance(error, yaml.reader.ReaderError):
        return _error(f"malformed YAML: {error.reason} (U+{error.character:04X})", file,
                      text.count("\n", 0, error.position) + 1)
    assert isinstance(error, yaml.MarkedYAMLError)
    mark = error.problem_mark or error.context_mark
    return _error(f"malformed YAML: {error.problem or error.context}", file,
                  mark.line + 1 if mark is not None else None)


def _string(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str"


def _null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def parse_conda(text: str, file: str) -> tuple[list[Dependency], list[tuple[int, str]]]:
    """The conda dependencies of an environment file and its pip: entries as (YAML line, text)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise _yaml_error(error, text, file) from error
    listed = None
    if isinstance(root, yaml.MappingNode):
        listed = next((value for key, value in root.value if _string(key) and key.value == "dependencies"),
                      None)
    if listed is None:
        raise _error("no dependencies: list (not a conda environment file)", file,
                     _line(root) if root is not None else None)
    if _null(listed):
        return [], []
    if not isinstance(listed, yaml.SequenceNode):
        raise _error("dependencies: expected a list", file, _line(listed))
    conda: list[Dependency] = []
    pip: list[tuple[int, str]] = []
    for item in listed.value:
        if _string(item):
            try:
                name, spec = split_conda_spec(item.value)
            except ValueError as error:
                raise _error(f"not a conda package spec: {show(item.value)}: {error}", file,
                             _line(item)) from error
            conda.append(Dependency(file, _line(item), name, spec, CONDA))
        elif isinstance(item, yaml.MappingNode):
            pip.extend(_pip_section(item, file))
        else:
            raise _error("dependencies: expected a package spec (a string) or a pip: list", file, _line(item))
    return conda, pip


def _pip_section(node: yaml.MappingNode, file: str) -> list[tuple[int, str]]:
    entries = []
    for key, value in node.value:
        if not (_string(key) and key.value == "pip"):
            raise _error("dependencies: the only mapping conda reads is pip:", file, _line(key))
        if _null(value):
            continue
        if not isinstance(value, yaml.SequenceNode):
            raise _error("pip: expected a list of requirement strings", file, _line(value))
        for entry in value.value:
            if not _string(entry):
                raise _error("pip: expected a requirement string", file, _line(entry))
        entries.extend((_line(entry), entry.value) for entry in value.value)
    return entries


# --- reading a file and its includes --------------------------------------------------------------

def _read_text(path: str, origin: Include | None) -> str:
    where, line = (origin.file, origin.line) if origin else (path, None)
    prefix = f"cannot read {'-c' if origin and origin.constraint else '-r'} {path}: " if origin else \
        "cannot read: "
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise _error(prefix + "no such file", where, line) from error
    except OSError as error:
        raise _error(prefix + str(error.strerror), where, line) from error
    except UnicodeDecodeError as error:
        raise _error(prefix + "not UTF-8 text", where, line) from error


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
            raise _error(f"include cycle: {chain}", origin.file, origin.line)
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
        if _URL.match(include.target):
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


# --- the rules ------------------------------------------------------------------------------------

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
    if archive_version(_file_name(dependency.spec)) is None:
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


# --- the command line ---------------------------------------------------------------------------

def summary_markdown(found: list[Problem], checked: int, files: list[str]) -> str:
    """The job summary: the verdict, then a where | package | problem | fix table."""
    shown_files = ", ".join(md_escape(file) for file in files)
    if not found:
        return (f"### deps: ✅ {checked} requirement(s) pinned\n\n"
                f"**files:** {shown_files}\n")
    lines = [f"### deps: ❌ {len(found)} unpinned requirement(s)", "", f"**files:** {shown_files}", "",
             "| where | package | problem | fix |", "| --- | --- | --- | --- |"]
    for item in found:
        dependency = item.dependency
        lines.append(f"| {md_escape(f'{dependency.file}:{dependency.line}')} | {md_escape(dependency.name)} "
                     f"| {md_escape(item.reason)} | {md_escape(item.fix)} |")
    return "\n".join(lines) + "\n"


def run_check(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci deps check`."""
    found: list[Problem] = []
    seen: set[tuple[str, int, str]] = set()
    files: list[str] = []
    checked: set[tuple[str, int, str]] = set()
    for path in dict.fromkeys(args.files):
        dependencies, read = load(path)
        files.extend(file for file in read if file not in files)
        checked.update((dep.file, dep.line, dep.name) for dep in dependencies if not dep.constraint)
        for item in problems(dependencies):
            key = (item.dependency.file, item.dependency.line, item.dependency.name)
            if key not in seen:
                seen.add(key)
                found.append(item)
    for item in found:
        gha.report("error", str(item), file=item.dependency.file, line=item.dependency.line,
                   title="unpinned dependency")
    if gha.in_actions():
        gha.append_summary(summary_markdown(found, len(checked), files))
    if found:
        print(f"deps: {len(found)} of {len(checked)} requirement(s) not pinned ({len(files)} file(s) read)")
        return EXIT_REFUSED
    print(f"deps: {len(checked)} requirement(s) pinned ({len(files)} file(s) read)")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci deps check` to the CLI."""
    parser = subparsers.add_parser(
        "deps", help="dependency files: every requirement pinned to one version",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="deps_command", metavar="SUBCOMMAND")
    commands.required = True
    check_parser = commands.add_parser(
        "check", help="list unpinned requirements (exit 0 all pinned, 1 some are not, 2 malformed file)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    check_parser.add_argument("files", nargs="+", metavar="FILE",
                              help="requirements files (pip) and environment.yml files (conda, .yml/.yaml)")
    check_parser.set_defaults(handler=run_check)
