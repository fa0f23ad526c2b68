"""`mlops-ci lint`: the pull-request code-quality gate.

lint   pylint (code quality, code smells, duplicate code R0801) and vulture (dead code) on PATHs
       (default: src/ and tests/ when there is a src/ folder; otherwise every top-level .py file and
       folder holding Python files, hidden folders, virtual environments, build/ and dist/ skipped).
       Config: --rcfile; else the project's own (.pylintrc, pylintrc, .pylintrc.toml, pylintrc.toml,
       [tool.pylint.*] in pyproject.toml, [pylint.*] in setup.cfg or tox.ini, in the current folder);
       else mlops-ci's default (quality/pylintrc: ML-friendly names, 110 columns, duplicate and
       unused code on). Vulture reads its own [tool.vulture] settings; --vulture-min-confidence wins.
       Exit 0 passed; 1 the score is under --fail-under, pylint found a message --fail-on names
       (default: errors, warnings, duplicate code), or vulture found dead code; 2 pylint could not
       run or could not read a file (fatal F messages, usage errors), a missing PATH or --rcfile.

       --mode new-code (or `quality: {mode: new-code}` in .github/mlops-ci.yml) judges the lines the
       change makes since --base instead (the merge base of --base and HEAD): diff-quality's share of
       changed lines without a pylint message must reach --new-code-fail-under (default
       quality.new_code.pylint, 100), and no --fail-on message, duplicate code or dead code may be on
       them; the whole-code score may not drop below the base commit's, linted alike (the ratchet).
       --fail-under does not apply. Exit 1 names the lines.

Inside GitHub Actions every finding is an annotation on its file and line (the first 50; GitHub
itself shows 10 errors and 10 warnings per step, 50 per job), the job summary gets the verdict and
tables, and the step output `score` is set (in new-code mode also base-score, new-code-pylint and
new-code-findings; only the changed lines' findings are annotated).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError
from mlops_ci.core.text import md_escape
from mlops_ci.quality import newcode
from mlops_ci.quality.common import TABLE_ROWS, annotate, bounded, display_path, require_module
from mlops_ci.quality.newcode import add_mode_arguments

DEFAULT_RCFILE = Path(__file__).resolve().parent / "pylintrc"
DEFAULT_FAIL_UNDER = 9.0
DEFAULT_VULTURE_CONFIDENCE = 80

# pylint's exit status bits (pylint --long-help): 1 fatal, 32 usage error.
PYLINT_FATAL = 1
PYLINT_USAGE = 32
# vulture's: 0 clean, 1 invalid input (syntax error), 2 bad arguments, 3 dead code.
VULTURE_BAD_ARGS = 2

# Errors are likely bugs, warnings likely mistakes (unused import, undefined loop variable...) and
# duplicate code the smell the seed names: each fails the gate whatever the score; other conventions
# and refactors only lower the score.
DEFAULT_FAIL_ON = "error,warning,duplicate-code"

# Finding categories, most severe first: pylint's message types, and vulture's dead code.
CATEGORIES = ("fatal", "error", "warning", "dead-code", "refactor", "convention", "info")
DEAD_CODE = "dead-code"
SKIPPED_DIRS = frozenset({"venv", "env", "build", "dist", "node_modules", "site-packages", "__pycache__"})
PROJECT_CONFIGS = ("pylintrc", ".pylintrc", "pylintrc.toml", ".pylintrc.toml", "pyproject.toml",
                   "setup.cfg", "tox.ini")

# vulture findings pylint also reports, by vulture symbol: pylint's symbols for the same thing.
_PYLINT_TWINS = {"unused-import": ("unused-import",),
                 "unused-variable": ("unused-variable", "unused-argument")}
_DUPLICATE_BLOCK = re.compile(r"^==(?P<module>[^:\n]+):\[(?P<start>\d+):(?P<end>\d+)\]$", re.MULTILINE)
_VULTURE_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.+?) "
                           r"\((?P<confidence>\d+)% confidence(?:, \d+ lines?)?\)\s*$")
_INI_PYLINT_SECTION = re.compile(r"^\s*\[pylint(\.[^\]]*)?\]", re.MULTILINE)


@dataclass(frozen=True)
class Finding:  # pylint: disable=too-many-instance-attributes
    """One pylint message or vulture report. `line` is 1-based (None: the whole file).

    `blocks` (duplicate-code only): the similar blocks as (file, first line, last line)."""

    tool: str
    file: str
    line: int | None
    category: str
    symbol: str
    code: str
    message: str
    confidence: int | None = None
    blocks: tuple[tuple[str, int, int], ...] = ()

    @property
    def level(self) -> str:
        """The annotation level: error for pylint errors and fatals, warning otherwise."""
        return "error" if self.category in ("fatal", "error") else "warning"

    @property
    def where(self) -> str:
        """file:line, or the file alone."""
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def detail(self) -> str:
        """The message with the duplicate blocks named (file:first-last, ...)."""
        if not self.blocks:
            return self.message
        return f"{self.message}: " + ", ".join(f"{file}:{start}-{end}" for file, start, end in self.blocks)

    def text(self) -> str:
        """The message as an annotation shows it."""
        if self.tool == "vulture":
            return f"{self.message} ({self.confidence}% confidence)"
        return f"{self.detail} ({self.code} {self.symbol})"

    def title(self) -> str:
        """The annotation's title."""
        return "dead code" if self.tool == "vulture" else f"pylint {self.symbol}"


@dataclass(frozen=True)
class NewCodeLint(newcode.Figures):
    """The new-code figures, the share being diff-quality's of the changed lines free of pylint
    messages; the base's whole-code score (None: the base has none of the paths), and the changed
    lines' findings."""

    base_score: float | None
    findings: tuple[Finding, ...]


@dataclass
class LintResult:  # pylint: disable=too-many-instance-attributes
    """What `mlops-ci lint` found and decided; `new_code` is None in whole mode."""

    score: float
    fail_under: float
    findings: list[Finding]
    paths: list[str]
    config: str
    vulture_confidence: int | None  # None: vulture not run
    reasons: list[str] = field(default_factory=list)
    new_code: NewCodeLint | None = None

    @property
    def passed(self) -> bool:
        """True when no gate rule said no."""
        return not self.reasons

    def counts(self) -> dict[str, int]:
        """Findings per category, every category listed."""
        return category_counts(self.findings)

    @property
    def judged(self) -> list[Finding]:
        """The findings the gate judges: all of them, or the changed lines' in new-code mode."""
        return self.findings if self.new_code is None else list(self.new_code.findings)


def category_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per category, every category listed."""
    found = Counter(finding.category for finding in findings)
    return {category: found.get(category, 0) for category in CATEGORIES}


# --- lint: configuration and command lines ------------------------------------------------------

def _python_files(root: Path) -> Iterable[Path]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders
                               if not name.startswith(".") and name not in SKIPPED_DIRS)
        yield from (Path(folder) / name for name in sorted(files) if name.endswith(".py"))


def default_paths(root: Path = Path(".")) -> list[str]:
    """What `lint` checks without PATHs: src and tests (when a src/ folder exists), else every
    top-level .py file and folder holding Python files (hidden, virtual environment and build folders
    skipped). Raises MlopsCiError when there is no Python code."""
    if (root / "src").is_dir():
        return [name for name in ("src", "tests") if (root / name).is_dir()]
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
            continue
        if entry.is_file() and entry.suffix == ".py":
            found.append(entry.name)
        elif (entry.is_dir() and not (entry / "pyvenv.cfg").exists()
              and next(iter(_python_files(entry)), None) is not None):
            found.append(entry.name)
    if not found:
        raise MlopsCiError("no Python code found (no src/ folder, no .py file or Python folder): "
                           "name the PATHs to lint", where=str(root.resolve()))
    return found


def _has_pylint_section(path: Path) -> bool:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise MlopsCiError(f"malformed TOML: {error}", where=str(path)) from error
        return "pylint" in data.get("tool", {})
    if path.name in ("setup.cfg", "tox.ini"):
        return bool(_INI_PYLINT_SECTION.search(text))
    return True  # pylintrc, .pylintrc: pylint's own files


def project_config(root: Path = Path(".")) -> Path | None:
    """The project's own pylint configuration in `root`, in pylint's order of preference; None when
    it has none (pyproject.toml, setup.cfg and tox.ini count only with a pylint section)."""
    for name in PROJECT_CONFIGS:
        path = root / name
        if path.is_file() and _has_pylint_section(path):
            return path
    return None


def choose_rcfile(rcfile: str | None, root: Path = Path(".")) -> tuple[Path, str]:
    """(config file, where it comes from: given, project or default)."""
    if rcfile is not None:
        path = Path(rcfile)
        if not path.is_file():
            raise MlopsCiError("no such pylint config file", where=rcfile)
        return path, "given"
    found = project_config(root)
    if found is not None:
        return found, "project"
    return DEFAULT_RCFILE, "default"


def pylint_command(paths: Sequence[str], rcfile: Path, python: str = sys.executable,
                   parseable: Path | None = None) -> list[str]:
    """The pylint command line: JSON2 output (it carries the score), folders walked recursively; with
    `parseable`, the same messages in the parseable format diff-quality reads, written there."""
    formats = "json2" if parseable is None else f"json2,parseable:{parseable}"
    return [python, "-m", "pylint", f"--output-format={formats}", "--score=y", "--recursive=y",
            f"--rcfile={rcfile}", "--", *paths]


def vulture_command(paths: Sequence[str], min_confidence: int, python: str = sys.executable) -> list[str]:
    """The vulture command line."""
    return [python, "-m", "vulture", f"--min-confidence={min_confidence}", "--", *paths]


# --- lint: parsing ------------------------------------------------------------------------------

def parse_pylint_json2(text: str) -> tuple[float, list[Finding]]:
    """(score, findings) from pylint's json2 output. Raises ValueError for anything else."""
    try:
        data = json.loads(text)
        score = float(data["statistics"]["score"])
        messages = data["messages"]
        findings = [Finding("pylint", str(item["path"]), int(item["line"]) if item.get("line") else None,
                            str(item["type"]), str(item["symbol"]), str(item["messageId"]),
                            str(item["message"]))
                    for item in messages]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not pylint json2 output: {error}") from error
    return score, findings


def module_name(path: Path) -> str:
    """The module name pylint gives a file: its package chain up to the first folder without an
    __init__.py (src/pkg/a.py -> pkg.a when src/ has none)."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def module_index(paths: Sequence[str]) -> dict[str, str]:
    """Module name -> file, for every Python file under `paths`."""
    index: dict[str, str] = {}
    for path in map(Path, paths):
        files = [path] if path.is_file() else _python_files(path)
        for file in files:
            index.setdefault(module_name(file), file.as_posix())
    return index


def resolve_duplicates(findings: Iterable[Finding], paths: Sequence[str]) -> list[Finding]:
    """Rewrite duplicate-code (R0801) findings to name their blocks' files and lines.

    pylint reports each on line 1 of whichever module it linted last, naming the blocks by module
    and 0-based, end-exclusive line ranges; the finding moves to the first block's first line."""
    findings = list(findings)
    if not any(finding.symbol == "duplicate-code" for finding in findings):
        return findings
    index = module_index(paths)
    resolved = []
    for finding in findings:
        blocks = tuple((index.get(match["module"], match["module"]), int(match["start"]) + 1,
                        int(match["end"])) for match in _DUPLICATE_BLOCK.finditer(finding.message))
        if finding.symbol != "duplicate-code" or not blocks:
            resolved.append(finding)
            continue
        resolved.append(Finding(finding.tool, blocks[0][0], blocks[0][1], finding.category, finding.symbol,
                                finding.code, finding.message.splitlines()[0], blocks=blocks))
    return resolved


def _vulture_symbol(message: str) -> str:
    words = re.sub(r"'[^']*'", " ", message).split()
    while words and words[-1] in ("after", "in", "of"):
        words.pop()
    return "-".join(words) or "dead-code"


def parse_vulture(text: str) -> list[Finding]:
    """Findings from vulture's `file:line: message (N% confidence)` lines; other lines are skipped."""
    findings = []
    for line in text.splitlines():
        match = _VULTURE_LINE.match(line.strip())
        if match:
            message = match["message"]
            findings.append(Finding("vulture", match["file"], int(match["line"]), DEAD_CODE,
                                    _vulture_symbol(message), "", message, int(match["confidence"])))
    return findings


def lint_reasons(score: float, fail_under: float, findings: Sequence[Finding],
                 vulture_confidence: int | None = None,
                 fail_on: frozenset[str] = frozenset({"error"})) -> list[str]:
    """Why the lint gate says no; empty when it passes.

    `fail_on` names pylint categories (error, warning, refactor, convention), symbols
    (unused-import) or message ids (W0611) that fail the gate whatever the score.
    """
    reasons = []
    if score < fail_under:
        reasons.append(f"pylint score {score:.2f}/10 is under the gate {fail_under:g}")
    return reasons + _finding_reasons(findings, vulture_confidence, fail_on, "whatever the score")


def _places(findings: Sequence[Finding], limit: int = 5) -> str:
    """Where the findings are, file:line once each in file order, the first `limit` of them."""
    places = [where for _, where in sorted({(finding.file, finding.line or 0): finding.where
                                            for finding in findings}.items())]
    return ", ".join(places[:limit]) + (f" and {len(places) - limit} more" if len(places) > limit else "")


def _finding_reasons(findings: Sequence[Finding], vulture_confidence: int | None, fail_on: frozenset[str],
                     whatever: str, where: str = "") -> list[str]:
    """The --fail-on messages and the dead code among `findings`; with `where` (new-code mode: which
    lines were judged) each reason also names the places."""
    def places(found: Sequence[Finding]) -> str:
        return f": {_places(found)}" if where else ""

    reasons = []
    failing = [finding for finding in findings if finding.tool == "pylint"
               and {finding.category, finding.symbol, finding.code} & fail_on]
    if failing:
        shown = ", ".join(sorted({finding.symbol for finding in failing}))
        reasons.append(f"pylint found {len(failing)} message(s) the gate fails on ({shown}){where}, "
                       f"{whatever}{places(failing)}")
    dead = [finding for finding in findings if finding.category == DEAD_CODE]
    if dead:
        reasons.append(f"vulture found {len(dead)} piece(s) of dead code (min confidence "
                       f"{vulture_confidence}%){where}{places(dead)}")
    return reasons


def new_code_reasons(score: float, new_code: NewCodeLint, vulture_confidence: int | None = None,
                     fail_on: frozenset[str] = frozenset({"error"})) -> list[str]:
    """Why the new-code lint gate says no: diff-quality's share of clean changed lines under its gate,
    a --fail-on message or dead code on a changed line, or the whole-code score under the base's
    (compared as shown, at 2 decimals). Each names the lines."""
    reasons = []
    if new_code.percent < new_code.fail_under:
        places = _places([finding for finding in new_code.findings if finding.tool == "pylint"])
        reasons.append(f"{new_code.percent:.2f}% of the {new_code.lines} changed line(s) are free of pylint "
                       f"messages, under the gate {new_code.fail_under:g}%: {places}")
    reasons += _finding_reasons(new_code.findings, vulture_confidence, fail_on, "whatever the share",
                                f" on the changed lines since {new_code.base}")
    if new_code.base_score is not None and round(score, 2) < round(new_code.base_score, 2):
        reasons.append(f"the whole-code pylint score {score:.2f}/10 dropped below the base's "
                       f"{new_code.base_score:.2f} ({new_code.base} at {new_code.commit[:12]}): the ratchet")
    return reasons


def _order(finding: Finding) -> tuple[int, str, int]:
    rank = CATEGORIES.index(finding.category) if finding.category in CATEGORIES else len(CATEGORIES)
    return rank, finding.file, finding.line or 0


# --- lint: output -------------------------------------------------------------------------------

def _headline(result: LintResult) -> str:
    icon = "✅" if result.passed else "❌"
    dead = "vulture not run" if result.vulture_confidence is None else (
        f"{category_counts(result.judged)[DEAD_CODE]} dead code (vulture ≥ {result.vulture_confidence}%)")
    new_code = result.new_code
    if new_code is None:
        return f"### lint: {icon} pylint {result.score:.2f}/10 (gate {result.fail_under:g}), {dead}"
    base = "no base figure" if new_code.base_score is None else f"base {new_code.base_score:.2f}"
    return (f"### lint, new code since {md_escape(new_code.base)}: {icon} {new_code.percent:.2f}% of "
            f"{new_code.lines} changed line(s) free of pylint messages (gate {new_code.fail_under:g}%), "
            f"{dead} on them; whole code pylint {result.score:.2f}/10 ({base})")


def lint_summary(result: LintResult) -> str:
    """The job summary: verdict, counts per category (in new-code mode, of the changed lines and of
    the whole code), the judged findings, duplicate-code blocks."""
    lines = [_headline(result), "",
             f"**paths:** {', '.join(md_escape(path) for path in result.paths)} · "
             f"**config:** {md_escape(result.config)}", ""]
    lines += [f"- {md_escape(reason)}" for reason in result.reasons]
    if result.reasons:
        lines.append("")
    counted = [("", result.findings)] if result.new_code is None else [
        ("changed lines", result.judged), ("whole code", result.findings)]
    first = [] if result.new_code is None else ["lines"]
    lines += ["| " + " | ".join(first + list(CATEGORIES)) + " |",
              "|" + " --- |" * (len(first) + len(CATEGORIES))]
    for label, found in counted:
        counts = category_counts(found)
        lines.append("| " + " | ".join(([label] if label else []) + [str(counts[category])
                                                                     for category in CATEGORIES]) + " |")
    findings = sorted(result.judged, key=_order)
    if findings:
        lines += ["", f"#### Findings ({min(len(findings), TABLE_ROWS)} of {len(findings)})", "",
                  "| where | symbol | message |", "| --- | --- | --- |"]
        for finding in findings[:TABLE_ROWS]:
            message = finding.detail if finding.tool == "pylint" else finding.text()
            lines.append(f"| {md_escape(finding.where)} | {md_escape(finding.symbol)} "
                         f"| {md_escape(message.splitlines()[0])} |")
    duplicates = [finding for finding in findings if finding.blocks]
    if duplicates:
        lines += ["", "#### Duplicate code", ""]
        lines += ["- " + " ↔ ".join(md_escape(f"{file}:{start}-{end}") for file, start, end in finding.blocks)
                  for finding in duplicates]
    return "\n".join(lines) + "\n"


def _finding_records(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [{**asdict(finding), "message": finding.detail,
             "blocks": [list(block) for block in finding.blocks]}
            for finding in sorted(findings, key=_order)]


def lint_report(result: LintResult) -> dict[str, Any]:
    """The --report JSON: score, gate, verdict, counts and every finding; in new-code mode also
    `new_code`: the base, the changed lines' share and gate, the base's score, their findings."""
    new_code = result.new_code
    return {"score": round(result.score, 2), "fail_under": result.fail_under, "passed": result.passed,
            "reasons": result.reasons, "paths": result.paths, "config": result.config,
            "vulture_min_confidence": result.vulture_confidence, "counts": result.counts(),
            "findings": _finding_records(result.findings),
            "mode": "whole" if new_code is None else newcode.NEW_CODE,
            "new_code": None if new_code is None else {
                "base": new_code.base, "commit": new_code.commit, "percent": round(new_code.percent, 2),
                "lines": new_code.lines, "fail_under": new_code.fail_under,
                "base_score": None if new_code.base_score is None else round(new_code.base_score, 2),
                "counts": category_counts(new_code.findings),
                "findings": _finding_records(new_code.findings)}}


def _lint_annotations(findings: Sequence[Finding], fail_on: frozenset[str] = frozenset()
                      ) -> list[tuple[str, str, str | None, int | None, str]]:
    """One annotation per finding, except a vulture finding that pylint makes too (an unused import,
    variable or argument on the same line): pylint's is shown. A finding the gate fails on is an
    error annotation, whatever its pylint category."""
    pylint_says = {(finding.file, finding.line, finding.symbol) for finding in findings
                   if finding.tool == "pylint"}

    def level(finding: Finding) -> str:
        fails = finding.tool == "pylint" and {finding.category, finding.symbol, finding.code} & fail_on
        return "error" if fails or finding.category == DEAD_CODE else finding.level

    return [(level(finding), finding.text(), finding.file, finding.line, finding.title())
            for finding in sorted(findings, key=_order)
            if finding.tool == "pylint" or not any((finding.file, finding.line, symbol) in pylint_says
                                                   for symbol in _PYLINT_TWINS.get(finding.symbol, ()))]


# --- lint: the edges ----------------------------------------------------------------------------

def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _pylint(paths: Sequence[str], rcfile: Path, parseable: Path | None = None,
            cwd: Path | None = None) -> tuple[float, list[Finding]]:
    """Run pylint in `cwd`; (score, findings as pylint gives them). Raises MlopsCiError when it could
    not run or lint."""
    require_module("pylint", "checks code quality")
    completed = subprocess.run(pylint_command(paths, rcfile, parseable=parseable), capture_output=True,
                               text=True, errors="replace", check=False, cwd=cwd)
    if completed.stderr.strip():
        sys.stderr.write(completed.stderr)
    if completed.returncode & PYLINT_USAGE:
        raise MlopsCiError(f"pylint usage error: {_last_line(completed.stderr or completed.stdout)}")
    try:
        score, findings = parse_pylint_json2(completed.stdout)
    except ValueError as error:
        raise MlopsCiError(f"pylint crashed (exit {completed.returncode}): "
                           f"{_last_line(completed.stderr or completed.stdout)}") from error
    if completed.returncode & PYLINT_FATAL and not any(item.category == "fatal" for item in findings):
        raise MlopsCiError(f"pylint stopped on a fatal error: {_last_line(completed.stderr)}")
    return score, findings


def run_pylint(paths: Sequence[str], rcfile: Path,
               parseable: Path | None = None) -> tuple[float, list[Finding]]:
    """Run pylint; (score, findings, duplicate code placed on its blocks). With `parseable`, the
    messages are also written there for diff-quality."""
    score, findings = _pylint(paths, rcfile, parseable)
    return score, resolve_duplicates(findings, paths)


def run_vulture(paths: Sequence[str], min_confidence: int) -> list[Finding]:
    """Run vulture; its findings. Syntax errors it reports are left to pylint (syntax-error)."""
    require_module("vulture", "finds dead code")
    completed = subprocess.run(vulture_command(paths, min_confidence), capture_output=True, text=True,
                               errors="replace", check=False)
    if completed.returncode == VULTURE_BAD_ARGS:
        raise MlopsCiError(f"vulture usage error: {_last_line(completed.stderr)}")
    return parse_vulture(completed.stdout)


def base_score(commit: str, paths: Sequence[str], rcfile: Path) -> float | None:
    """The ratchet's figure: the whole-code pylint score of `commit`, on the paths it has of these
    (relative to the current folder) with the same config; None when it has none of them."""
    here = Path.cwd().resolve()
    relative = [os.path.relpath(Path(path).resolve(), here) for path in paths]
    with newcode.base_checkout(commit) as tree:
        present = [path for path in relative if not path.startswith("..") and (tree / path).exists()]
        print(f"lint: pylint on {', '.join(present) or 'nothing'} at the base, {commit[:12]}", flush=True)
        return _pylint(present, rcfile.resolve(), cwd=tree)[0] if present else None


def on_changed_lines(findings: Iterable[Finding], quality: newcode.DiffReport,
                     changed: dict[str, frozenset[int]]) -> tuple[Finding, ...]:
    """The findings on the changed lines: the pylint messages diff-quality placed there (by file, line
    and message id), duplicate code with a block there (diff-quality cannot place R0801) and vulture's
    dead code there (diff-quality has no vulture driver)."""
    placed = {(file, line, text.split(":", 1)[0]) for file, items in quality.messages.items()
              for line, text in items}

    def judged(finding: Finding) -> bool:
        if finding.blocks:
            return any(changed.get(file, frozenset()).intersection(range(start, end + 1))
                       for file, start, end in finding.blocks)
        if finding.tool == "vulture":
            return finding.line in changed.get(finding.file, frozenset())
        return (finding.file, finding.line, finding.code) in placed

    return tuple(finding for finding in findings if judged(finding))


def judge_new_code(gate: newcode.Settings, result: LintResult, parseable: Path, rcfile: Path) -> NewCodeLint:
    """The new-code figures of `result`: diff-quality on pylint's parseable report, the findings on
    the changed lines, and the base's whole-code score."""
    assert gate.base is not None  # newcode.settings refuses new-code mode without one
    commit = newcode.merge_base(gate.base)
    quality = newcode.diff_report("diff_quality_tool", ["--violations=pylint", str(parseable)], commit)
    findings = on_changed_lines(result.findings, quality, newcode.changed_lines(commit))
    return NewCodeLint(gate.base, commit, quality.percent, quality.lines, gate.fail_under,
                       base_score(commit, result.paths, rcfile), findings)


def lint_code(paths: Sequence[str], rcfile: Path, confidence: int | None,
              parseable: Path | None = None) -> tuple[float, list[Finding]] | None:
    """pylint, then vulture (confidence None: not run): the score and every finding, files shown as
    annotations need them; None when pylint could not lint a file (its fatal messages annotated)."""
    score, findings = run_pylint(paths, rcfile, parseable)
    findings = [replace_file(finding) for finding in findings]
    fatal = [finding for finding in findings if finding.category == "fatal"]
    for finding in fatal:
        gha.report("error", f"pylint could not lint: {finding.text()}", file=finding.file,
                   line=finding.line, title="pylint fatal")
    if fatal:
        return None
    if confidence is not None:
        findings += [replace_file(finding) for finding in run_vulture(paths, confidence)]
    return score, findings


def _publish(result: LintResult, fail_on: frozenset[str], report: str | None) -> None:
    new_code = result.new_code
    failing = fail_on | set(CATEGORIES) if new_code and new_code.percent < new_code.fail_under else fail_on
    annotate(_lint_annotations(result.judged, failing), "findings")
    if report:
        report_path = Path(report)
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(lint_report(result), indent=2) + "\n", encoding="utf-8")
    if gha.in_actions():
        gha.append_summary(lint_summary(result))
    gha.set_output("score", f"{result.score:.2f}")
    counts = ", ".join(f"{count} {category}" for category, count in result.counts().items() if count)
    verdict = "passed" if result.passed else "failed: " + "; ".join(result.reasons)
    if new_code is None:
        print(f"lint: pylint {result.score:.2f}/10 (gate {result.fail_under:g}); {counts or 'no findings'}; "
              f"{verdict}")
        return
    base = "no base figure" if new_code.base_score is None else f"base {new_code.base_score:.2f}"
    gha.set_output("base-score", "" if new_code.base_score is None else f"{new_code.base_score:.2f}")
    gha.set_output("new-code-pylint", f"{new_code.percent:.2f}")
    gha.set_output("new-code-findings", str(len(new_code.findings)))
    print(f"lint: new code since {new_code.base}: {new_code.percent:.2f}% of {new_code.lines} changed "
          f"line(s) free of pylint messages (gate {new_code.fail_under:g}%), {len(new_code.findings)} "
          f"finding(s) on them; whole code pylint {result.score:.2f}/10 ({base}), {counts or 'no findings'}; "
          f"{verdict}")


def run_lint(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci lint`."""
    gate = newcode.settings(args.mode, args.base, args.new_code_fail_under, args.config, "new_code_pylint")
    paths = list(dict.fromkeys(args.paths)) or default_paths()
    for path in paths:
        if not Path(path).exists():
            raise MlopsCiError("no such file or folder", where=path)
    rcfile, origin = choose_rcfile(args.rcfile)
    config = f"{rcfile.name} (mlops-ci default)" if origin == "default" else f"{rcfile} ({origin})"
    print(f"lint: pylint on {', '.join(paths)} with {config}", flush=True)
    confidence = None if args.no_vulture else args.vulture_min_confidence
    fail_on = frozenset(item.strip() for item in args.fail_on.split(",") if item.strip())
    with tempfile.TemporaryDirectory(prefix="mlops-ci-lint-") as folder:
        parseable = Path(folder) / "pylint.txt" if gate.new_code else None
        linted = lint_code(paths, rcfile, confidence, parseable)
        if linted is None:
            return EXIT_USAGE
        result = LintResult(linted[0], args.fail_under, linted[1], paths, config, confidence)
        if parseable is None:
            result.reasons = lint_reasons(result.score, args.fail_under, result.findings, confidence, fail_on)
        else:
            result.new_code = judge_new_code(gate, result, parseable, rcfile)
            result.reasons = new_code_reasons(result.score, result.new_code, confidence, fail_on)
    _publish(result, fail_on, args.report)
    return EXIT_OK if result.passed else EXIT_REFUSED


def replace_file(finding: Finding) -> Finding:
    """The finding with its file (and its duplicate blocks' files) shown as display_path does."""
    blocks = tuple((display_path(file), start, end) for file, start, end in finding.blocks)
    return replace(finding, file=display_path(finding.file), blocks=blocks)


# --- registration -------------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci lint` to the CLI."""
    lint = subparsers.add_parser(
        "lint", help="pylint score gate, duplicate code and vulture dead code (exit 0/1/2)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="files and folders to lint (default: src and tests, or the top-level Python code)")
    lint.add_argument("--rcfile", metavar="FILE",
                      help="pylint config (default: the project's own, else mlops-ci's quality/pylintrc)")
    lint.add_argument("--fail-under", type=bounded(0, 10), default=DEFAULT_FAIL_UNDER, metavar="SCORE",
                      help=f"lowest passing pylint score, 0-10 (default {DEFAULT_FAIL_UNDER:g})")
    lint.add_argument("--vulture-min-confidence", type=bounded(0, 100, int), metavar="N",
                      default=DEFAULT_VULTURE_CONFIDENCE,
                      help=f"vulture's confidence threshold, 0-100 (default {DEFAULT_VULTURE_CONFIDENCE}; "
                           "60 also reports unused functions, classes and pytest fixtures)")
    lint.add_argument("--fail-on", default=DEFAULT_FAIL_ON, metavar="LIST",
                      help="pylint categories (error, warning, refactor, convention), symbols or message "
                           "ids that fail the gate whatever the score, comma-separated "
                           f"(default {DEFAULT_FAIL_ON})")
    lint.add_argument("--no-vulture", action="store_true", help="skip the dead-code check")
    lint.add_argument("--report", metavar="FILE", help="write score, counts and findings as JSON")
    add_mode_arguments(lint, "lowest share of the changed lines free of pylint messages, percent "
                             "(default: quality.new_code.pylint of .github/mlops-ci.yml, else 100)")
    lint.set_defaults(handler=run_lint)
