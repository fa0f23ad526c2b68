"""conda environment files: the `dependencies:` list as records, and its `pip:` entries with their
YAML lines (the pip rules read those)."""

from __future__ import annotations

import re

import yaml

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.text import show
from mlops_ci.quality.deps.records import CONDA, Dependency, file_error

CONDA_SUFFIXES = (".yml", ".yaml")
_CONDA_SPEC = re.compile(r"(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:\s*\[(?P<brackets>[^\]]*)\])?"
                         r"(?P<spec>.*)", re.DOTALL)
_CONDA_BRACKET = re.compile(r"\s*(\w+)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([^,'\"]*?))\s*(?:,|$)")
_CONDA_VERSION_CHARS = re.compile(r"[\w.+!*<>=,|~ ]*")


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


def _yaml_error(error: yaml.YAMLError, text: str, file: str) -> MlopsCiError:
    if isinstance(error, yaml.reader.ReaderError):
        return file_error(f"malformed YAML: {error.reason} (U+{error.character:04X})", file,
                      text.count("\n", 0, error.position) + 1)
    assert isinstance(error, yaml.MarkedYAMLError)
    mark = error.problem_mark or error.context_mark
    return file_error(f"malformed YAML: {error.problem or error.context}", file,
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
        raise file_error("no dependencies: list (not a conda environment file)", file,
                     _line(root) if root is not None else None)
    if _null(listed):
        return [], []
    if not isinstance(listed, yaml.SequenceNode):
        raise file_error("dependencies: expected a list", file, _line(listed))
    conda: list[Dependency] = []
    pip: list[tuple[int, str]] = []
    for item in listed.value:
        if _string(item):
            try:
                name, spec = split_conda_spec(item.value)
            except ValueError as error:
                raise file_error(f"not a conda package spec: {show(item.value)}: {error}", file,
                             _line(item)) from error
            conda.append(Dependency(file, _line(item), name, spec, CONDA))
        elif isinstance(item, yaml.MappingNode):
            pip.extend(_pip_section(item, file))
        else:
            raise file_error("dependencies: expected a package spec (a string) or a pip: list", file,
                             _line(item))
    return conda, pip


def _pip_section(node: yaml.MappingNode, file: str) -> list[tuple[int, str]]:
    entries = []
    for key, value in node.value:
        if not (_string(key) and key.value == "pip"):
            raise file_error("dependencies: the only mapping conda reads is pip:", file, _line(key))
        if _null(value):
            continue
        if not isinstance(value, yaml.SequenceNode):
            raise file_error("pip: expected a list of requirement strings", file, _line(value))
        for entry in value.value:
            if not _string(entry):
                raise file_error("pip: expected a requirement string", file, _line(entry))
        entries.extend((_line(entry), entry.value) for entry in value.value)
    return entries
