"""What the new-code mode of `mlops-ci lint` and `mlops-ci test` shares.

A pull request is judged on the lines it changes against its base: the merge base of --base and HEAD,
the commit `git diff BASE...HEAD` (diff-cover's default notation) compares with. diff-cover finds
those lines and judges them (`diff-cover` on coverage XML, `diff-quality --violations=pylint` on
pylint's parseable report: their JSON reports are read here); vulture has no diff-quality driver, so
its findings are kept to the lines diff-cover's own git diff reports. The ratchet's figures of the
base are measured on a checkout of that commit (a git worktree, removed afterwards), with this
change's tools and settings, so that both sides are measured alike.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_ci import config
from mlops_ci.config.sections import QUALITY_MODES, QualityConfig
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git, git_output, rev_parse
from mlops_ci.quality.common import bounded, display_path, require_module

NEW_CODE = "new-code"
# diff-cover's notation: the change is what HEAD adds since it left the base.
RANGE_NOTATION = "..."


@dataclass(frozen=True)
class Settings:
    """The mode and the changed lines' threshold of one gate: the command line's, else the config's."""

    mode: str
    base: str | None
    fail_under: float

    @property
    def new_code(self) -> bool:
        """True in new-code mode."""
        return self.mode == NEW_CODE


def settings(mode: str | None, base: str | None, fail_under: float | None, option: str | None,
             threshold: str) -> Settings:
    """The gate's settings: each given option wins over .github/mlops-ci.yml's `quality:` (read at the
    repository's root, or from --config), which wins over the defaults. `threshold` names the
    QualityConfig field of the changed lines' gate. New-code mode needs a base (usage error)."""
    quality: QualityConfig = config.load(option, repo=repository_root()).quality
    chosen = Settings(mode or quality.mode, base or None,
                      getattr(quality, threshold) if fail_under is None else fail_under)
    if chosen.new_code and not chosen.base:
        raise MlopsCiError("new-code mode compares with the pull request's base: give --base REV "
                           "(e.g. origin/develop)")
    return chosen


def add_mode_arguments(parser: argparse.ArgumentParser, threshold_help: str) -> None:
    """--mode, --base, --new-code-fail-under and --config, as `lint` and `test` take them."""
    parser.add_argument("--mode", choices=QUALITY_MODES,
                        help="whole: judge all the code; new-code: the lines changed since --base, and "
                             "the whole-code figure may not drop below the base's (default: quality.mode "
                             "of .github/mlops-ci.yml, else whole)")
    parser.add_argument("--base", metavar="REV",
                        help="new-code mode: the branch or commit the change is compared with "
                             "(its merge base with HEAD), e.g. origin/develop")
    parser.add_argument("--new-code-fail-under", type=bounded(0, 100), metavar="PCT", help=threshold_help)
    parser.add_argument("--config", metavar="FILE",
                        help="the config file (default: .github/mlops-ci.yml at the repository's root)")


def repository_root(folder: Path = Path(".")) -> Path:
    """The root of the git repository holding `folder`; `folder` itself outside one."""
    top = git_output(folder, "rev-parse", "--show-toplevel")
    return Path(top.strip()) if top else folder


def merge_base(base: str, repo: Path = Path(".")) -> str:
    """The commit the change is compared with: where HEAD left `base`. A base git does not know, or
    one without common history (a shallow clone), is an input error saying so."""
    rev_parse(repo, base)
    found = git_output(repo, "merge-base", base, "HEAD")
    if not found:
        raise MlopsCiError(f"{base} and HEAD have no common commit: check out the full history "
                           "(actions/checkout with fetch-depth: 0)", where=str(repo.resolve()))
    return found.strip()


def changed_lines(commit: str) -> dict[str, frozenset[int]]:
    """The Python lines changed since `commit` (committed, staged and unstaged, as diff-cover counts
    them), by file as display_path shows it: diff-cover's own git diff."""
    require_module("diff_cover", "finds the lines a change touches")
    # pylint: disable-next=import-outside-toplevel  # an optional tool, imported when the mode needs it
    from diff_cover import diff_reporter, git_diff
    reporter = diff_reporter.GitDiffReporter(commit, git_diff=git_diff.GitDiffTool(RANGE_NOTATION, False),
                                             supported_extensions=["py"])
    root = repository_root()
    try:
        return {display_path(str(root / path)): frozenset(reporter.lines_changed(path))
                for path in reporter.src_paths_changed()}
    except git_diff.GitDiffError as error:
        raise MlopsCiError(f"git diff {commit}{RANGE_NOTATION}HEAD failed: {error}") from error


@dataclass(frozen=True)
class Figures:
    """What both gates tell in new-code mode: the base as given, the commit compared with, the share
    of the changed lines that pass (percent) and how many lines were judged, against the gate."""

    base: str
    commit: str
    percent: float
    lines: int
    fail_under: float


@dataclass(frozen=True)
class DiffReport:
    """diff-cover's or diff-quality's verdict on the changed lines: the share of them that pass
    (percent; 100 when none is judged), how many were judged, and by file the lines that fail with
    the tool's messages (diff-quality; none for diff-cover)."""

    percent: float
    lines: int
    failing: dict[str, tuple[int, ...]]
    messages: dict[str, tuple[tuple[int, str], ...]]

    def where(self, limit: int = 5) -> str:
        """The failing lines, file:line, the first `limit` of them."""
        places = [f"{file}:{line}" for file, lines in sorted(self.failing.items()) for line in lines]
        more = f" and {len(places) - limit} more" if len(places) > limit else ""
        return ", ".join(places[:limit]) + more


def diff_report(tool: str, arguments: Sequence[str], commit: str) -> DiffReport:
    """Run diff-cover's `tool` module (diff_cover_tool, diff_quality_tool) against `commit` and read
    its JSON report; it failing to run is an MlopsCiError with its last line."""
    require_module("diff_cover", "judges the lines a change touches")
    with tempfile.TemporaryDirectory(prefix="mlops-ci-diff-") as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", f"diff_cover.{tool}", *arguments, f"--compare-branch={commit}",
                   f"--diff-range-notation={RANGE_NOTATION}", f"--format=json:{report}",
                   "--total-percent-float", "--quiet"]
        completed = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
        if completed.returncode or not report.is_file():
            lines = [line for line in (completed.stderr + completed.stdout).splitlines() if line.strip()]
            raise MlopsCiError(f"{tool.replace('_tool', '').replace('_', '-')} failed "
                               f"(exit {completed.returncode}): {lines[-1] if lines else 'no report'}")
        data = json.loads(report.read_text(encoding="utf-8"))
    root = repository_root()
    stats = {display_path(str(root / path)): value for path, value in data["src_stats"].items()}
    return DiffReport(float(data["total_percent_covered"]), int(data["total_num_lines"]),
                      {path: tuple(value["violation_lines"]) for path, value in stats.items()
                       if value["violation_lines"]},
                      {path: tuple((int(line), str(text)) for line, text in value["violations"] if text)
                       for path, value in stats.items() if value["violations"]})


@contextlib.contextmanager
def base_checkout(commit: str) -> Iterator[Path]:
    """A worktree of `commit`, detached, in a temporary folder; yields the counterpart there of the
    current folder (a project in a monorepo's subfolder). Removed on the way out, error or not."""
    root = repository_root().resolve()
    here = Path.cwd().resolve().relative_to(root)
    with tempfile.TemporaryDirectory(prefix="mlops-ci-base-") as folder:
        tree = Path(folder) / "base"
        git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree / here
        finally:
            git(root, "worktree", "remove", "--force", str(tree))
