"""Find every `uses:` reference a run needs and decide where act should load it from.

act resolves a remote `uses:` by downloading it, and this machine is offline; so every reference must
be mapped with `--local-repository OWNER/REPO@REF=DIR`: mlops-ci's own workflows and actions to the
mlops-ci source tree, third-party actions to the host-mode shims that ship in `mlops_ci/local/shims`.
A project's workflow that needs an action no shim stands for here is skipped, not refused: the user's
own CI must not stop them trying ours. Ours (those that use mlops-ci) are never skipped.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops_ci.core.errors import MlopsCiError

SHIMS_DIR = Path(__file__).resolve().parent / "shims"
# The host tool a shim stands for, by `owner/repo`: it installs nothing, so without the tool on PATH
# the shim can't do its action's work and a workflow that uses it is skipped.
SHIM_TOOLS = {"iterative/setup-cml": "cml", "iterative/setup-dvc": "dvc"}

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


def unavailable(refs: set[RemoteRef], source_repo: str, search_path: str | None = None) -> dict[str, str]:
    """The references act can't load offline here, each `owner/repo@ref` with why: no shim, or the
    shim's tool is not on `search_path` (the steps' PATH; None: this process's)."""
    missing = {}
    for ref in sorted(refs):
        if ref.repo == source_repo:
            continue
        tool = SHIM_TOOLS.get(f"{ref.owner}/{ref.repo}")
        if not (SHIMS_DIR / ref.owner / ref.repo).is_dir():
            missing[ref.key] = "no host-mode shim"
        elif tool and shutil.which(tool, path=search_path) is None:
            missing[ref.key] = f"{tool} is not installed here"
    return missing


def described(missing: dict[str, str]) -> str:
    """`owner/repo@ref (why), ...` for a message."""
    return ", ".join(f"{key} ({why})" for key, why in missing.items())


def local_repository_map(files: list[Path], source: Path, source_repo: str,
                         search_path: str | None = None) -> dict[str, Path]:
    """Map each remote reference in `files` to a directory; raise when one cannot be served offline.

    `source_repo` is mlops-ci's repository name as callers spell it (`mlops-ci` unless adopted under
    another name): any owner and any ref of it map to `source`, the checkout under test.
    """
    found = remote_refs([value for path in files for value in uses_in_file(path)])
    missing = unavailable(found, source_repo, search_path)
    if missing:
        raise MlopsCiError(
            f"can't run offline: {described(missing)}: act would try to download it and this run is "
            f"offline; add a shim under {SHIMS_DIR} or remove the step")
    return {ref.key: source if ref.repo == source_repo else SHIMS_DIR / ref.owner / ref.repo
            for ref in sorted(found)}


def needed_files(workflow: Path, root: Path) -> list[Path]:
    """`workflow` and the local workflows and actions it reaches (`uses: ./PATH`, from the repository
    `root`, recursively): whatever act loads to run it."""
    needed, queue = [], [workflow]
    while queue:
        path = queue.pop()
        if path in needed or not path.is_file():
            continue
        needed.append(path)
        for value in uses_in_file(path):
            if value.startswith("./"):
                target = root / value
                queue += [target] if target.is_file() else [target / "action.yml", target / "action.yaml"]
    return needed


def sort_offline(workflows: list[Path], root: Path, source_repo: str,
                 search_path: str | None = None) -> tuple[list[Path], dict[Path, dict[str, str]]]:
    """(the workflows act can run offline, those it can't with what each needs and why). A workflow
    that uses mlops-ci (`source_repo`) is ours and never skipped: one it can't run is an error."""
    runnable, skipped = [], {}
    for workflow in workflows:
        found = remote_refs([value for path in needed_files(workflow, root) for value in uses_in_file(path)])
        missing = unavailable(found, source_repo, search_path)
        if not missing:
            runnable.append(workflow)
        elif any(ref.repo == source_repo for ref in found):
            raise MlopsCiError(f"can't run offline: {described(missing)}; add a shim under {SHIMS_DIR} "
                               f"or remove the step", where=str(workflow.relative_to(root)))
        else:
            skipped[workflow] = missing
    return runnable, skipped
