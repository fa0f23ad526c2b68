"""`mlops-ci init` in an existing repository (one with commits, or with a dvc.yaml): the plan of what
belongs to mlops-ci, and nothing else.

It adds the caller workflows (the default branch and the dependency files found filled in),
`.github/mlops-ci.yml` filled from the repository (the model among dvc.yaml's outs, new-code quality
gates, and comments naming the metrics and params files and the DVC remote it read), the PR template
when the repository has none, and our pre-commit hooks merged into `.pre-commit-config.yaml`. Never
the scaffold's code, tests, pins or pipeline; never a commit or a branch. A file that exists is kept,
except the pre-commit config, which gains the hooks it lacks with every other line kept. The plan
ends with what the team still has to do, in the order they do it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git_output
from mlops_ci.quality.deps.rules import check_files
from mlops_ci.training.flavors import flavor_of_file
from mlops_ci.training.pipeline import Declared, declared, remotes

CREATE, MERGE, KEEP = "create", "merge", "keep"
CONFIG = ".github/mlops-ci.yml"
PRE_COMMIT = ".pre-commit-config.yaml"
PR_TEMPLATE = ".github/pull_request_template.md"
# Where GitHub looks for a PR template (case-insensitive): a file, or a folder of several.
_PR_TEMPLATE_FOLDERS = ("", ".github", "docs")
_PR_TEMPLATE_NAMES = ("pull_request_template.md", "pull_request_template")
# The pre-push hook (mlops-ci-branch-name) runs only when pre-commit installs that hook type.
HOOK_TYPES = ("pre-commit", "pre-push")
# Dependency files anywhere in the repository, as the scaffold's mlops-ci-deps hook matches them (its
# `files:`; a test holds the two together): the lint-test job's pins check must see what the hook sees.
DEPENDENCY_FILES = re.compile(r"(^|/)(requirements[^/]*\.txt|environment\.ya?ml)$")
# The file the lint-test job installs when the repository has it (the workflow input's default).
DEFAULT_REQUIREMENTS = "requirements.txt"
# The files pytest collects by default: lint-test's test gate fails when it collects none.
TEST_FILES = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
# What the caller workflows read (workflows-templates/; a test holds the names to them).
TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"
STORE_VARIABLE = "OBJECT_STORE_ENDPOINT_URL"
STORE_SECRETS = ("OBJECT_STORE_ACCESS_KEY_ID", "OBJECT_STORE_SECRET_ACCESS_KEY")
TRACKING_SECRETS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
# At most this many unpinned requirements are listed; `mlops-ci deps check` lists them all.
SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class FileAction:
    """One file of the plan: create it, merge into it (`text` is its new whole text), or keep it."""

    path: str
    action: str
    text: str = ""
    note: str = ""


@dataclass(frozen=True)
class Found:  # pylint: disable=too-many-instance-attributes  # one field per thing read, shown to the team
    """What init read in the repository."""

    default_branch: str
    has_develop: bool
    pipeline: Declared | None                  # None: no dvc.yaml
    models: list[tuple[str, str]] = field(default_factory=list)   # (path, flavor) of the model outs
    remote: str | None = None                  # "name (url)" of the default DVC remote
    has_dvc: bool = False                      # .dvc/ is there (dvc init was run)
    dependency_files: list[str] = field(default_factory=list)
    has_tests: bool = True                     # pytest finds a test file (lint-test fails on none)


@dataclass(frozen=True)
class Plan:
    """What init does in an existing repository: the file actions, what it read, and the team's next
    steps after it."""

    root: Path
    files: list[FileAction]
    found: Found
    next_steps: list[str]


def is_existing(root: Path) -> bool:
    """An existing repository: a folder that is not empty and has a commit (its own or, in a
    monorepo, its repository's), or a dvc.yaml (a DVC project not yet in git)."""
    if not root.is_dir() or not any(root.iterdir()):
        return False
    has_commit = git_output(root, "rev-parse", "--verify", "--quiet", "HEAD") is not None
    return has_commit or (root / "dvc.yaml").is_file()


def default_branch(root: Path) -> str:
    """origin's default branch, else the checked-out branch, else main."""
    remote_head = (git_output(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
                   or "").strip()
    if remote_head.startswith("origin/"):
        return remote_head.removeprefix("origin/")
    return (git_output(root, "symbolic-ref", "--quiet", "--short", "HEAD") or "").strip() or "main"


def _has_branch(root: Path, name: str) -> bool:
    return any(git_output(root, "rev-parse", "--verify", "--quiet", ref) is not None
               for ref in (f"refs/heads/{name}", f"refs/remotes/origin/{name}"))


def model_outs(pipeline: Declared) -> list[tuple[str, str]]:
    """The stage outs whose file name says model (flavors.flavor_of_file), with their flavor; metrics
    and plots never count."""
    reports = {*pipeline.metrics, *pipeline.plots}
    return [(path, flavor) for path in pipeline.outs if path not in reports
            for flavor in [flavor_of_file(path)] if flavor]


def repository_files(root: Path) -> list[str]:
    """The repository's files: tracked, or new and not ignored."""
    listed = git_output(root, "ls-files", "--cached", "--others", "--exclude-standard") or ""
    return [path for path in listed.splitlines() if (root / path).is_file()]


def dependency_files(files: list[str]) -> list[str]:
    """The pip requirements and conda environment files among the repository's `files`, those at its
    root first, each group sorted."""
    return sorted({path for path in files if DEPENDENCY_FILES.search(path)},
                  key=lambda path: ("/" in path, path))


def install_file(files: list[str]) -> str | None:
    """The dependency file the lint-test job installs: requirements.txt when there is one, else the
    first of `files` (root ones first); None when there is none."""
    return DEFAULT_REQUIREMENTS if DEFAULT_REQUIREMENTS in files else next(iter(files), None)


def survey(root: Path) -> Found:
    """Read what the plan needs: the branches, dvc.yaml, the DVC remote and the dependency files."""
    pipeline = declared(root) if (root / "dvc.yaml").is_file() else None
    files = repository_files(root)
    found_remotes = remotes(root)
    remote = None
    if found_remotes.default:
        remote = f"{found_remotes.default} ({found_remotes.urls.get(found_remotes.default, '?')})"
    return Found(default_branch=default_branch(root), has_develop=_has_branch(root, "develop"),
                 pipeline=pipeline, models=model_outs(pipeline) if pipeline else [], remote=remote,
                 has_dvc=(root / ".dvc").is_dir(), dependency_files=dependency_files(files),
                 has_tests=any(TEST_FILES.search(path) for path in files))


def _listed(paths: Iterable[str]) -> str:
    return ", ".join(paths) or "none"


def config_text(name: str, found: Found) -> str:
    """`.github/mlops-ci.yml` for this repository: the model found, new-code gates, and what was read."""
    pipeline = found.pipeline
    lines = ["# mlops-ci settings of this repository (docs/users/config.md), written by `mlops-ci init`",
             "# from what it found here; read from the pull request's base commit.", "#"]
    if pipeline is None:
        lines.append("# No dvc.yaml: mlops-ci trains and reports a DVC pipeline "
                     "(docs/users/getting-started.md).")
    else:
        lines += [f"# dvc.yaml's metrics files: {_listed(pipeline.metrics)}",
                  f"# dvc.yaml's params files: {_listed(pipeline.params_files)}",
                  f"# dvc.yaml's plots: {_listed(pipeline.plots)}"]
    lines += [f"# DVC remote: {found.remote or 'none set'}", f"# Default branch: {found.default_branch}", "",
              "# What `mlops-ci track` (the train workflow's track step) logs to MLflow and registers:",
              "# the model file the pipeline writes (a DVC out) and its flavor (docs/users/tracking.md).",
              "# Read from the commit that trains."]
    if found.models:
        path, flavor = found.models[0]
        others = found.models[1:]
        if others:
            lines.append(f"# Other model outs in dvc.yaml: {_listed(f'{p} ({f})' for p, f in others)}")
        lines += ["model:", f"  name: {name}", f"  path: {path}", f"  flavor: {flavor}"]
    else:
        lines += ["# No model file among dvc.yaml's outs (by its extension: docs/users/getting-started.md).",
                  "# Fill in the path your pipeline writes the model to and its flavor, then uncomment:",
                  "# model:", f"#   name: {name}", "#   path: models/model.pkl", "#   flavor: sklearn"]
    lines += ["", "# The quality gates judge the lines each pull request changes, and the code as a whole",
              "# may not get worse than its base (docs/users/quality-gates.md).",
              "quality:", "  mode: new-code"]
    return "\n".join(lines) + "\n"


def _round_trip() -> Any:
    try:
        from ruamel.yaml import YAML  # pylint: disable=import-outside-toplevel  # installed with DVC
    except ImportError as error:
        raise MlopsCiError("merging the pre-commit config needs ruamel.yaml (pip install 'mlops-ci[dvc]')",
                           where=PRE_COMMIT) from error
    return YAML()


def _load(yaml: Any, text: str, where: str) -> Any:
    try:
        return yaml.load(text)
    except Exception as error:  # pylint: disable=broad-exception-caught  # ruamel's errors share no base
        detail = next(iter(str(error).strip().splitlines()), type(error).__name__)
        raise MlopsCiError(f"not YAML: {detail}", where=where) from error


def _add_hook_types(document: Any) -> bool:
    """Add the hook types our hooks need to `default_install_hook_types`; whether any was missing."""
    from ruamel.yaml.comments import CommentedSeq  # pylint: disable=import-outside-toplevel
    types = document.get("default_install_hook_types")
    if types is None:
        listed = CommentedSeq(HOOK_TYPES)
        listed.fa.set_flow_style()
        document.insert(0, "default_install_hook_types", listed)
        return True
    missing = [kind for kind in HOOK_TYPES if kind not in types]
    types.extend(missing)
    return bool(missing)


def _add_hooks(repos: list[Any], hooks: list[Any]) -> bool:
    """Add the `hooks` whose id no repo of `repos` has to its `repo: local`; whether any was missing."""
    from ruamel.yaml.comments import CommentedMap  # pylint: disable=import-outside-toplevel
    have = {hook.get("id") for repo in repos if isinstance(repo, dict)
            for hook in repo.get("hooks") or [] if isinstance(hook, dict)}
    missing = [hook for hook in hooks if hook["id"] not in have]
    if missing:
        local = next((repo for repo in repos if isinstance(repo, dict) and repo.get("repo") == "local"), None)
        if local is None:
            repos.append(CommentedMap(repo="local", hooks=missing))
        else:
            local.setdefault("hooks", []).extend(missing)
    return bool(missing)


def merged_pre_commit(text: str, ours: str, where: str = PRE_COMMIT) -> str | None:
    """`text` (a .pre-commit-config.yaml) with the `repo: local` hooks of `ours` it lacks (by id) and
    the pre-push hook type; every other line kept. None when nothing is missing."""
    from ruamel.yaml.util import load_yaml_guess_indent  # pylint: disable=import-outside-toplevel
    yaml = _round_trip()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line of theirs
    document = _load(yaml, text, where) if text.strip() else None
    if document is None:
        document = _load(yaml, "repos: []\n", where)
    if not isinstance(document, dict) or not isinstance(document.setdefault("repos", []), list):
        raise MlopsCiError("not a pre-commit config: no list of repos", where=where)
    our_hooks = [hook for repo in _load(yaml, ours, "scaffold")["repos"] if repo.get("repo") == "local"
                 for hook in repo["hooks"]]
    added_types = _add_hook_types(document)
    if not _add_hooks(document["repos"], our_hooks) and not added_types:
        return None
    # Dumped in the file's own indentation (ruamel's recipe), so the lines we don't add stay as they are.
    _, indent, offset = load_yaml_guess_indent(text) if text.strip() else (None, 4, 2)
    yaml.indent(mapping=offset or 2, sequence=indent or 4, offset=offset or 0)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _pr_template(root: Path) -> str | None:
    """The PR template the repository already has, if any (a file or a folder of them)."""
    for folder in _PR_TEMPLATE_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for entry in base.iterdir():
            if entry.name.lower() in _PR_TEMPLATE_NAMES:
                return entry.relative_to(root).as_posix()
    return None


def _file_actions(root: Path, name: str, found: Found, workflows: dict[str, str],
                  scaffold: dict[str, str]) -> list[FileAction]:
    actions = []
    for path, text in sorted({**workflows, CONFIG: config_text(name, found)}.items()):
        actions.append(FileAction(path, KEEP, note="exists") if (root / path).exists()
                       else FileAction(path, CREATE, text))
    existing_template = _pr_template(root)
    actions.append(FileAction(existing_template, KEEP, note="the repository's PR template")
                   if existing_template else FileAction(PR_TEMPLATE, CREATE, scaffold[PR_TEMPLATE]))
    pre_commit = root / PRE_COMMIT
    if not pre_commit.exists():
        actions.append(FileAction(PRE_COMMIT, CREATE, scaffold[PRE_COMMIT]))
    else:
        try:
            current = pre_commit.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise MlopsCiError(f"cannot read: {error}", where=PRE_COMMIT) from error
        merged = merged_pre_commit(current, scaffold[PRE_COMMIT])
        actions.append(FileAction(PRE_COMMIT, MERGE, merged) if merged is not None
                       else FileAction(PRE_COMMIT, KEEP, note="has our hooks"))
    return actions


def _requirements_step(root: Path, files: list[str]) -> str:
    if not files:
        return ("Requirements: no requirements*.txt or environment.yml, so the lint-test job checks no pins "
                "(its `pinned-files` input is empty) and has nothing to install: add a pinned "
                f"{DEFAULT_REQUIREMENTS} (it installs that file).")
    try:
        result = check_files([str(root / file) for file in files])
    except MlopsCiError as error:
        return f"Fix the requirements file: {error}"
    if not result.found:
        return f"Requirements: pinned ({result.checked} in {_listed(files)})."
    shown = [f"    {os.path.relpath(item.dependency.file, root)}:{item.dependency.line}: {item}"
             for item in result.found[:SHOWN_PROBLEMS]]
    more = len(result.found) - len(shown)
    return "\n".join([f"Pin the requirements: {len(result.found)} of {result.checked} are not pinned "
                      f"(mlops-ci deps check {' '.join(files)}):", *shown,
                      *([f"    ... and {more} more"] if more else [])])


def next_steps(root: Path, found: Found, written: list[str]) -> list[str]:
    """What the team does after init, in order."""
    steps = []
    if not found.has_develop:
        steps.append(f"Create develop from {found.default_branch} and push it: "
                     f"git branch develop {found.default_branch} && git push -u origin develop")
    steps.append(f"Set the repository variable {TRACKING_VARIABLE} (and {STORE_VARIABLE} for an "
                 f"S3-compatible store), and the secrets {' and '.join(STORE_SECRETS)} "
                 f"(and {' and '.join(TRACKING_SECRETS)} "
                 "when MLflow needs a login): Settings > Secrets and variables > Actions, or with "
                 "gh variable set and gh secret set (docs/admins/index.md, section 3).")
    steps.append(_requirements_step(root, found.dependency_files))
    if found.remote is None:
        init_first = "" if found.has_dvc else "dvc init && "
        steps.append(f"Connect a DVC remote (none is set): {init_first}dvc remote add -d storage "
                     "s3://BUCKET/PATH && dvc push; commit .dvc/config.")
    if found.pipeline is None:
        steps.append("Add the DVC pipeline that trains the model (dvc.yaml: `dvc stage add`).")
    if not found.models:
        steps.append(f"Fill in the model section of {CONFIG} (it is commented out: no model out was found).")
    else:
        path, flavor = found.models[0]
        steps.append(f"Check the model section of {CONFIG}: flavor {flavor} was read from {path}'s extension, "
                     "and `mlops-ci track` loads the file with it (another library's file, a fastai pickle "
                     "say, needs flavor: pyfunc and its loader: docs/users/tracking.md).")
    if not found.has_tests:
        steps.append("Add a first test (tests/test_*.py): lint-test runs pytest, and no test collected fails it.")
    if written:
        tops = dict.fromkeys(path.split("/", 1)[0] for path in written)
        # git-flow: main changes only by a PR from develop, so the files reach main with the first release.
        steps.append(f"Review and commit the files on develop (main gets them with the first release PR): "
                     f"git switch develop && git add {' '.join(tops)} && git commit -m \"Adopt mlops-ci\" "
                     "&& git push; then `pre-commit install`.")
    steps.append("Check what the workflows need: mlops-ci doctor (one line each, with the fix).")
    return steps


def build_plan(root: Path, found: Found, *, name: str, workflows: dict[str, str],
               scaffold: dict[str, str]) -> Plan:
    """The plan for existing repository `root`, where `found` was read (survey): `workflows` are the
    caller workflows (path -> text), `scaffold` the scaffold's files, of which only the PR template
    and the pre-commit config are used."""
    files = _file_actions(root, name, found, workflows, scaffold)
    written = [action.path for action in files if action.action != KEEP]
    return Plan(root=root, files=files, found=found, next_steps=next_steps(root, found, written))


def apply(plan: Plan) -> None:
    """Write every file the plan creates or merges (it creates no branch and commits nothing)."""
    for action in plan.files:
        if action.action == KEEP:
            continue
        path = plan.root / action.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(action.text, encoding="utf-8")
