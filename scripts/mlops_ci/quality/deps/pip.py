"""pip requirements files: pip's logical lines, its options, and each requirement as a record
(PEP 508, a URL or a local path)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from mlops_ci.core.text import show
from mlops_ci.quality.deps.records import LOCAL, PIP, URL, VCS, Dependency, Include, file_error

STRONG_HASHES = ("sha256", "sha384", "sha512")
VCS_SCHEMES = ("git", "hg", "svn", "bzr")
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")

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
URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|file:", re.IGNORECASE)
_HASH = re.compile(r"(sha256|sha384|sha512):[0-9a-fA-F]+")


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
            raise file_error(f"unexpected {show(token)} among the options (one requirement a line)",
                             file, line)
        option = _SHORT.get(name, name)
        if option not in _OPTIONS:
            raise file_error(f"unknown option {show(name)}", file, line)
        if not _OPTIONS[option]:
            if given is not None:
                raise file_error(f"{option} takes no value", file, line)
            parsed.append((option, ""))
            continue
        if given is None:
            if not queue:
                raise file_error(f"{name} needs a value", file, line)
            given = queue.pop(0)
        parsed.append((option, given))
    return parsed


def _tokens(text: str, file: str, line: int) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise file_error(f"cannot split the options: {error}", file, line) from error


def _hashes(options: list[tuple[str, str]], file: str, line: int) -> tuple[str, ...]:
    hashes = []
    for option, value in options:
        if option != "--hash":
            continue
        if not _HASH.fullmatch(value):
            raise file_error(f"--hash={show(value)}: expected ALGORITHM:HEX with ALGORITHM one of "
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
            raise file_error("--hash, --config-settings and --global-option need a requirement on their line",
                         file, line)
        return [replace(item, hashes=hashes) if isinstance(item, Dependency) else item for item in items]
    split = re.search(r"\s-", text)
    requirement, rest = (text[:split.start()], text[split.start():]) if split else (text, "")
    options = _parse_options(_tokens(rest, file, line), file, line)
    bad = [option for option, _ in options if option not in _PER_REQUIREMENT]
    if bad:
        raise file_error(f"{bad[0]} cannot follow a requirement on its line", file, line)
    dependency = parse_requirement(requirement.strip(), file, line)
    hashes = tuple(dict.fromkeys(dependency.hashes + _hashes(options, file, line)))
    return [replace(dependency, hashes=hashes, constraint=constraint)]


def _looks_like_path(head: str) -> bool:
    return (head.startswith((".", "/", "~")) or "/" in head or "\\" in head
            or head.lower().endswith(ARCHIVE_SUFFIXES))


def _fragment(url: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in urlsplit(url).fragment.split("&") if part)
    return {key: value for key, _, value in pairs}


def url_file_name(url: str) -> str:
    """The last part of a URL's path, unquoted."""
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def _from_url(url: str, name: str | None, file: str, line: int, *,  # pylint: disable=too-many-arguments
              marker: str = "", extras: tuple[str, ...] = ()) -> Dependency:
    """A dependency given by URL: file: (local), VCS or an archive on a server."""
    fragment = _fragment(url)
    scheme = url.split(":", 1)[0].lower()
    is_vcs = "+" in scheme and scheme.split("+", 1)[0] in VCS_SCHEMES
    if not name and is_vcs:
        name = fragment.get("egg") or url_file_name(url).rsplit("@", 1)[0].removesuffix(".git")
    name = name or fragment.get("egg") or url_file_name(url) or url
    if scheme == "file":
        return Dependency(file, line, name, url, LOCAL, marker, extras)
    if is_vcs:
        return Dependency(file, line, name, url, VCS, marker, extras)
    if scheme not in ("http", "https", "ftp"):
        raise file_error(f"unsupported URL scheme {show(scheme)} (http(s), file: and git+/hg+/svn+/bzr+ are)",
                     file, line)
    hashes = tuple(f"{key}:{value.lower()}" for key, value in fragment.items()
                   if key in STRONG_HASHES and value)
    return Dependency(file, line, name, url, URL, marker, extras, hashes)


def _pep508(text: str, file: str, line: int) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        detail = str(error).splitlines()[0]
        raise file_error(f"not a requirement: {show(text)}: {detail}", file, line) from error


def parse_requirement(text: str, file: str, line: int) -> Dependency:
    """A requirement (the line without its options): PEP 508, a URL or a local path."""
    if _NAMED_URL.match(text):
        requirement = _pep508(text, file, line)
        assert requirement.url is not None  # name @ url
        return _from_url(requirement.url, requirement.name, file, line,
                         marker=str(requirement.marker or ""), extras=tuple(sorted(requirement.extras)))
    if URL_START.match(text):
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
    if URL_START.match(value):
        dependency = _from_url(value, None, file, line)
        if dependency.kind == URL:
            raise file_error(f"-e {show(value)}: -e takes a local path or a VCS URL", file, line)
        return dependency
    path = re.split(r"[\s;\[]", value, maxsplit=1)[0]
    return Dependency(file, line, path, path, LOCAL)
