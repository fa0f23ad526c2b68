"""Find every `uses:` reference a run needs and decide where act should load it from.

act resolves a remote `uses:` by downloading it, and this machine is offline; so every reference must
be mapped with `--local-repository OWNER/REPO@REF=DIR`: mlops-ci's own workflows and actions to the
mlops-ci source tree, third-party actions to the host-mode shims that ship in `mlops_ci/local/shims`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_ci.core.errors import MlopsCiError

SHIMS_DIR = Path(__file__).resolve().parent / "shims"

# owner/repo[/path]@ref, as GitHub accepts it in `uses:`.
_REMOTE_USES = re.compile(r"^(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)(?P<path>/[^@]*)?@(?P<ref>[\w./-]+)$")


@dataclass(frozen=True, order=True)
class RemoteRef:
    """One `owner/repo@ref` that act must resolve (the sub-path does not matter for mapping)."""

    owner: str
    repo: str
    ref: str

    @property
    def key(self) -> str:
        """The form act's `--local-repository` takes on the left of `=`."""
        return f"{self.owner}/{self.repo}@{self.ref}"


def _walk_uses(node: object):
    """Yield every `uses:` string anywhere in a parsed workflow or action."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from _walk_uses(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_uses(item)


def uses_in_file(path: Path) -> list[str]:
    """Every `uses:` value in one workflow or action file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise MlopsCiError(f"malformed YAML: {getattr(error, 'problem', error)}", where=str(path),
                           line=mark.line + 1 if mark else None) from error
    except OSError as error:
        raise MlopsCiError(f"cannot read: {error.strerror}", where=str(path)) from error
    return list(_walk_uses(document))


def remote_refs(uses_values: list[str]) -> set[RemoteRef]:
    """The remote references among `uses:` values (local `./` paths and `docker://` images excluded)."""
    refs = set()
    for value in uses_values:
        match = _REMOTE_USES.match(value.strip())
        if match:
            refs.add(RemoteRef(match["owner"], match["repo"], match["ref"]))
    return refs


def workflow_files(directory: Path) -> list[Path]:
    """The workflow files act would read from a directory."""
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def source_files(source: Path) -> list[Path]:
    """mlops-ci's shipped workflows and composite actions: what a caller's `uses:` can reach."""
    return [*workflow_files(source / ".github" / "workflows"), *sorted(source.glob("actions/*/action.y*ml"))]


def local_repository_map(files: list[Path], source: Path, source_repo: str) -> dict[str, Path]:
    """Map each remote reference in `files` to a directory; raise when one cannot be served offline.

    `source_repo` is mlops-ci's repository name as callers spell it (`mlops-ci` unless adopted under
    another name): any owner and any ref of it map to `source`, the checkout under test.
    """
    uses_values = [value for path in files for value in uses_in_file(path)]
    mapping: dict[str, Path] = {}
    missing = []
    for ref in sorted(remote_refs(uses_values)):
        if ref.repo == source_repo:
            mapping[ref.key] = source
        elif (SHIMS_DIR / ref.owner / ref.repo).is_dir():
            mapping[ref.key] = SHIMS_DIR / ref.owner / ref.repo
        else:
            missing.append(ref.key)
    if missing:
        raise MlopsCiError(
            f"no host-mode shim for {', '.join(missing)}: act would try to download it and this run is "
            f"offline; add a shim under {SHIMS_DIR} or remove the step")
    return mapping
