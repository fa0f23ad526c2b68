"""`mlops-ci init [DIR] --org ORG --ref REF`: start an ML project on mlops-ci.

Writes the SOP's layout (data/processed, models, tests, notebooks, src), a tiny DVC pipeline that
trains a scikit-learn model with its tests, pinned requirements.txt and environment.yml, a
.gitignore that leaves DVC data out, pre-commit hooks, a PR template with a work-item field,
CODEOWNERS, Dependabot, .github/mlops-ci.yml (naming conventions), docs/labeling.md, and the caller
workflows of workflows-templates/ with `org/mlops-ci/...@v1` set to ORG and REF. Then `git init`
(branch main) and `dvc init`, an initial commit, and the branch develop.

Never overwrites a file: a rerun creates only what is missing and lists what it kept. Files created
in a repository that already has commits are left for you to review and commit.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

from mlops_ci.training import naming
from mlops_ci.project import templates
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


def workflow_files(source: Path, org: str, ref: str) -> dict[str, str]:
    """The caller templates of the mlops-ci checkout `source`, as this project's workflows."""
    return {(WORKFLOWS / template.name).as_posix():
            templates.instantiate(template.read_text(encoding="utf-8"), org=org, ref=ref)
            for template in templates.template_files(source)}


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
    root.mkdir(parents=True, exist_ok=True)
    first_commit = not (root / ".git").exists() or not _has_commit(root)
    files = {**scaffold_files({"PROJECT": name, "ORG": args.org, "REF": args.ref}),
             **workflow_files(source, args.org, args.ref)}
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
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci init` to the CLI."""
    parser = subparsers.add_parser(
        "init", help="scaffold an ML project wired to mlops-ci (never overwrites)",
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
    parser.set_defaults(handler=run)
