"""`mlops-ci init [DIR] --org ORG --ref REF`: put a project on mlops-ci.

In an existing repository (DIR has commits, or a dvc.yaml), it adds only what belongs to mlops-ci:
  .github/workflows/mlops-ci-*.yml   the caller workflows, `uses: ORG/mlops-ci/...@REF`, on the
                                     default branch it finds, the lint-test pins checked on the
                                     requirements*.txt / environment.yml it finds
  .github/mlops-ci.yml               `model:` from dvc.yaml's outs (by extension: .pkl .pickle .joblib
                                     .skops sklearn, .onnx onnx, .pt .pth .ptc pytorch, .ubj .xgb and a
                                     model-named .json xgboost, .lgb and a model-named .txt lightgbm;
                                     none found: commented out, to fill in), `quality: {mode: new-code}`,
                                     and comments naming the metrics and params files, the DVC remote
                                     and the default branch it read
  .github/pull_request_template.md   when the repository has no PR template
  .pre-commit-config.yaml            our hooks (mlops-ci-deps, mlops-ci-branch-name) merged in, every
                                     other hook and comment kept; created when missing
It never adds the scaffold's code, tests, pins or pipeline, never overwrites another file, never
commits and creates no branch. Then it prints what the team still has to do, in order: create
develop, set MLFLOW_TRACKING_URI and the object-store secrets, pin the requirements (what
`mlops-ci deps check` says), connect a DVC remote, commit the files.

In a new or empty folder it writes the SOP's layout (data/processed, models, tests, notebooks, src),
a tiny DVC pipeline that trains a scikit-learn model with its tests, pinned requirements.txt and
environment.yml, a .gitignore that leaves DVC data out, pre-commit hooks, a PR template with a
work-item field, CODEOWNERS, Dependabot, .github/mlops-ci.yml (naming conventions), docs/labeling.md,
and the caller workflows. Then `git init` (branch main) and `dvc init`, an initial commit, and the
branch develop. Never overwrites a file: a rerun before the first commit creates only what is missing.

--dry-run prints the plan (each file: create, merge or keep) and writes nothing. Exit 0 done, 2 bad
input (a dvc.yaml or .pre-commit-config.yaml that doesn't parse: one line naming the file).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

from mlops_ci.training import naming
from mlops_ci.project import existing, templates
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.core.proc import git

SCAFFOLD = "scaffold"
# Package data cannot hold dot files reliably: `dot-NAME` in the scaffold becomes `.NAME`.
DOT_PREFIX = "dot-"
WORKFLOWS = Path(".github") / "workflows"
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REF = re.compile(r"(?!.*\.\.)[A-Za-z0-9][\w./-]*")
COMMIT_IDENTITY = ("-c", "user.name=mlops-ci init", "-c", "user.email=init@mlops-ci.invalid")
# Without a trained pipeline on the base branch, the first PRs' reports have nothing to compare with.
SEED_STEPS = """\
Next, once, before the first pull request: connect the DVC remote (README.md, "Start"), then seed
develop and main with a trained pipeline (README.md, "Seed develop and main"):
  git switch develop && dvc repro && dvc push
  git add dvc.lock .dvc/config && git commit -m "Seed develop with the trained pipeline"
  git switch main && git merge --ff-only develop && git push -u origin main develop"""


def project_name(directory: Path) -> str:
    """The project's name from its folder: lower-case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")


def _target(relative: str) -> str:
    return "/".join(f".{part.removeprefix(DOT_PREFIX)}" if part.startswith(DOT_PREFIX) else part
                    for part in relative.split("/"))


def scaffold_files(values: dict[str, str]) -> dict[str, str]:
    """The scaffold's files (project path -> text) with `__KEY__` placeholders filled from `values`."""
    files = {}
    stack = [(resources.files("mlops_ci.project") / SCAFFOLD, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in folder.iterdir():
            relative = f"{prefix}{entry.name}"
            if entry.is_dir():
                if entry.name != "__pycache__":
                    stack.append((entry, f"{relative}/"))
                continue
            text = entry.read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace(f"__{key}__", value)
            files[_target(relative)] = text
    return files


def workflow_files(source: Path, org: str, ref: str, *, default_branch: str = "main",
                   pinned_files: list[str] | None = None, requirements: str | None = None) -> dict[str, str]:
    """The caller templates of the mlops-ci checkout `source`, as this project's workflows."""
    return {(WORKFLOWS / template.name).as_posix():
            templates.instantiate(template.read_text(encoding="utf-8"), org=org, ref=ref,
                                  default_branch=default_branch, pinned_files=pinned_files,
                                  requirements=requirements)
            for template in templates.template_files(source)}


def _installed(files: list[str]) -> str | None:
    """The lint-test `requirements` input to write: only when it differs from the input's default."""
    chosen = existing.install_file(files)
    return chosen if chosen not in (None, existing.DEFAULT_REQUIREMENTS) else None


def write_missing(root: Path, files: dict[str, str]) -> tuple[list[str], list[str]]:
    """Write each file that does not exist yet; (created, kept) paths, sorted."""
    created, kept = [], []
    for relative in sorted(files):
        path = root / relative
        if path.exists():
            kept.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[relative], encoding="utf-8")
        created.append(relative)
    return created, kept


def _has_commit(root: Path) -> bool:
    try:
        git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except MlopsCiError:
        return False
    return True


def _dvc_init(root: Path) -> None:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as error:
        raise MlopsCiError("dvc init did not finish in 300 s", where=str(root)) from error
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise MlopsCiError(f"dvc init failed: {lines[-1] if lines else done.returncode} "
                           "(is DVC installed? pip install 'mlops-ci[dvc]')", where=str(root))
    # autostage: `dvc repro` and `dvc add` stage what they write for git (dvc.lock, the .gitignore next
    # to a new output folder), so the seed commit and later commits miss nothing DVC made.
    with (root / ".dvc" / "config").open("a", encoding="utf-8") as config:
        config.write("[core]\n    autostage = true\n")


def init_repository(root: Path) -> list[str]:
    """git init (main), dvc init, an initial commit and develop, each only when missing; what was done."""
    done = []
    if not (root / ".git").exists():
        git(root, "init", "--quiet", "--initial-branch=main")
        done.append("git init (branch main)")
    if not (root / ".dvc").is_dir():
        _dvc_init(root)
        done.append("dvc init (core.autostage on)")
    if not _has_commit(root):
        identity = () if _git_identity(root) else COMMIT_IDENTITY
        git(root, "add", "--all")
        git(root, *identity, "commit", "--quiet", "--message", "Start the project with mlops-ci init")
        done.append("initial commit")
    if not git(root, "branch", "--list", "develop"):
        git(root, "branch", "develop")
        done.append("branch develop")
    return done


def _git_identity(root: Path) -> bool:
    try:
        return bool(git(root, "config", "user.email"))
    except MlopsCiError:
        return False


def _scaffold(root: Path, files: dict[str, str], dry_run: bool) -> None:
    """A new project: the whole scaffold, then git init, dvc init, the first commit and develop."""
    if dry_run:
        for relative in sorted(files):
            print(f"{existing.KEEP if (root / relative).exists() else existing.CREATE:<9}{relative}")
        print("Dry run: nothing written. Then: git init (branch main), dvc init, an initial commit, develop.")
        return
    root.mkdir(parents=True, exist_ok=True)
    first_commit = not (root / ".git").exists() or not _has_commit(root)
    created, kept = write_missing(root, files)
    for relative in created:
        print(f"created  {relative}")
    for relative in kept:
        print(f"kept     {relative} (exists)")
    for step in init_repository(root):
        print(f"done     {step}")
    print(f"{len(created)} file(s) created, {len(kept)} kept.")
    if created and not first_commit:
        print("The created files are not committed: review them, then commit.")
    if first_commit:
        print(SEED_STEPS)


_DONE = {existing.CREATE: "created", existing.MERGE: "merged", existing.KEEP: "kept"}


def _adopt(plan: existing.Plan, dry_run: bool) -> None:
    """An existing repository: the plan's files, then the team's next steps."""
    for action in plan.files:
        verb = action.action if dry_run else _DONE[action.action]
        print(f"{verb:<9}{action.path}" + (f" ({action.note})" if action.note else ""))
    if dry_run:
        print("Dry run: nothing written.")
    else:
        existing.apply(plan)
        counts = {verb: sum(action.action == verb for action in plan.files) for verb in _DONE}
        print(f"{counts[existing.CREATE]} file(s) created, {counts[existing.MERGE]} merged, "
              f"{counts[existing.KEEP]} kept; nothing committed.")
    print(f"Next, in {plan.root} (default branch {plan.found.default_branch}):")
    for number, step in enumerate(plan.next_steps, 1):
        first, *listed = step.split("\n")
        print(textwrap.fill(first, width=100, initial_indent=f"  {number}. ", subsequent_indent="     "))
        for line in listed:
            print(f"  {line}")


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci init`."""
    if not _OWNER.fullmatch(args.org):
        raise MlopsCiError(f"{args.org!r} is not a GitHub organisation or user name", where="--org")
    if not _REF.fullmatch(args.ref):
        raise MlopsCiError(f"{args.ref!r} is not a git tag or branch name", where="--ref")
    source = Path(args.source).resolve() if args.source else templates.default_source()
    if source is None or not (source / "workflows-templates").is_dir():
        raise MlopsCiError("no mlops-ci checkout with workflows-templates/: pass --source DIR")
    root = Path(args.directory)
    if root.exists() and not root.is_dir():
        raise MlopsCiError("not a folder", where=str(root))
    name = args.name or project_name(root)
    problem = naming.check("model", name)
    if problem:
        raise MlopsCiError(f"{problem}: pass --name", where=str(root))
    scaffold = scaffold_files({"PROJECT": name, "ORG": args.org, "REF": args.ref})
    if existing.is_existing(root):
        found = existing.survey(root)
        workflows = workflow_files(source, args.org, args.ref, default_branch=found.default_branch,
                                   pinned_files=found.dependency_files,
                                   requirements=_installed(found.dependency_files))
        _adopt(existing.build_plan(root, found, name=name, workflows=workflows, scaffold=scaffold),
               args.dry_run)
    else:
        _scaffold(root, {**scaffold, **workflow_files(source, args.org, args.ref)}, args.dry_run)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci init` to the CLI."""
    parser = subparsers.add_parser(
        "init", help="put a project on mlops-ci: adopt an existing repository or scaffold a new one",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="the project folder (default: .)")
    parser.add_argument("--org", required=True,
                        help="the organisation that hosts mlops-ci (uses: ORG/mlops-ci/...)")
    parser.add_argument("--ref", required=True, help="the mlops-ci tag the workflows call, e.g. v1")
    parser.add_argument("--name", help="the project's name, also its model and experiment name "
                                       "(default: the folder's name in lower-case-with-hyphens)")
    parser.add_argument("--source", help="the mlops-ci checkout to copy workflows-templates/ from "
                                         "(default: the one this CLI is installed from)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (each file: create, merge or keep) and write nothing")
    parser.set_defaults(handler=run)
