"""`mlops-ci lint` and `mlops-ci test`: the pull-request quality gates.

lint   pylint (code quality, code smells, duplicate code R0801) and vulture (dead code) on PATHs
       (default: src/ and tests/ when there is a src/ folder; otherwise every top-level .py file and
       folder holding Python files, hidden folders, virtual environments, build/ and dist/ skipped).
       Config: --rcfile; else the project's own (.pylintrc, pylintrc, .pylintrc.toml, pylintrc.toml,
       [tool.pylint.*] in pyproject.toml, [pylint.*] in setup.cfg or tox.ini, in the current folder);
       else mlops-ci's default (configs/pylintrc: ML-friendly names, 110 columns, duplicate and
       unused code on). Vulture reads its own [tool.vulture] settings; --vulture-min-confidence wins.
       Exit 0 passed; 1 the score is under --fail-under, pylint found a message --fail-on names
       (default: errors, warnings, duplicate code), or vulture found dead code; 2 pylint could not run or could not
       read a file (fatal F messages, usage errors), a missing PATH or --rcfile.

test   pytest with JUnit XML and coverage (pytest-cov), then the verdict from those files:
       exit 0 every test passed and coverage >= --cov-fail-under; 1 a test failed or errored
       (collection errors included), no tests were collected, or coverage is under the gate;
       2 pytest could not run (usage error, internal error, pytest-cov missing).
       Coverage is coverage.py's total: lines and, when measured, branches, like `coverage report`.

Inside GitHub Actions every finding and failing test is an annotation on its file and line (the
first 50; GitHub itself shows 10 errors and 10 warnings per step, 50 per job), the job summary gets
the verdict and tables, and step outputs are set (lint: score; test: passed, failed, coverage).
JUnit and coverage XML are parsed with xml.etree: they come from our own pytest run, not from users.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError
from mlops_ci.core.text import md_escape, show

DEFAULT_RCFILE = Path(__file__).resolve().parent / "pylintrc"
DEFAULT_FAIL_UNDER = 9.0
DEFAULT_VULTURE_CONFIDENCE = 80
DEFAULT_COV_FAIL_UNDER = 80.0
DEFAULT_JUNIT = "test-results/junit.xml"
DEFAULT_COVERAGE_XML = "test-results/coverage.xml"
MAX_ANNOTATIONS = 50
TABLE_ROWS = 20
SLOWEST = 5

# pylint's exit status bits (pylint --long-help): 1 fatal, 32 usage error.
PYLINT_FATAL = 1
PYLINT_USAGE = 32
# pytest's exit codes: 0 passed, 1 failed, 2 interrupted (collection errors), 3 internal error,
# 4 usage error, 5 no tests collected.
PYTEST_INTERRUPTED = 2
PYTEST_NO_TESTS = 5
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
_PYTEST_ERROR = re.compile(r"INTERNALERROR|\bERROR\b|\berror:")
_CRASH_LINE = re.compile(r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+): ", re.MULTILINE)


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


@dataclass
class LintResult:  # pylint: disable=too-many-instance-attributes
    """What `mlops-ci lint` found and decided."""

    score: float
    fail_under: float
    findings: list[Finding]
    paths: list[str]
    config: str
    vulture_confidence: int | None  # None: vulture not run
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no gate rule said no."""
        return not self.reasons

    def counts(self) -> dict[str, int]:
        """Findings per category, every category listed."""
        found = Counter(finding.category for finding in self.findings)
        return {category: found.get(category, 0) for category in CATEGORIES}


@dataclass(frozen=True)
class TestCase:  # pylint: disable=too-many-instance-attributes
    """One JUnit testcase. `line` is 1-based (pytest writes 0-based numbers; converted here)."""

    __test__ = False  # not a pytest test class

    classname: str
    name: str
    file: str | None
    line: int | None
    time: float
    outcome: str  # passed, failed, error, skipped
    message: str = ""
    detail: str = ""

    @property
    def test_id(self) -> str:
        """pytest's node id when the file is known (tests/test_x.py::TestA::test_b)."""
        if not self.file:
            return ".".join(part for part in (self.classname, self.name) if part)
        module = self.file.removesuffix(".py").replace("/", ".").replace("\\", ".")
        if not self.classname and self.name == module:  # a collection error: the module itself
            return self.file
        inner = self.classname[len(module) + 1:] if self.classname.startswith(module + ".") else ""
        return "::".join(part for part in (self.file, *inner.split("."), self.name) if part)


@dataclass(frozen=True)
class Coverage:
    """coverage.py's total percentage and each file's line coverage (percent)."""

    percent: float
    files: tuple[tuple[str, float], ...] = ()


# --- shared helpers -----------------------------------------------------------------------------

def display_path(path: str) -> str:
    """A path as annotations need it: relative to $GITHUB_WORKSPACE (the repository root) when under
    it, else relative to the current folder when under it, else as given."""
    candidate = Path(path)
    absolute = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
    for base in (os.environ.get("GITHUB_WORKSPACE"), os.getcwd()):
        if base:
            try:
                return absolute.relative_to(Path(base).resolve()).as_posix()
            except ValueError:
                continue
    return candidate.as_posix()


def _require_module(module: str, purpose: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MlopsCiError(f"{module} is not installed in this environment ({sys.executable}); "
                           f"it {purpose}: pip install {module}")


def _annotate(items: Sequence[tuple[str, str, str | None, int | None, str]], what: str) -> None:
    """Report (level, message, file, line, title) items; inside Actions only the first
    MAX_ANNOTATIONS, then one notice saying how many more there are."""
    shown = items[:MAX_ANNOTATIONS] if gha.in_actions() else items
    for level, message, file, line, title in shown:
        gha.report(level, message, file=file, line=line, title=title)
    if len(items) > len(shown):
        gha.report("notice", f"{len(items) - len(shown)} more {what} not annotated: see the job summary")


def _cell(text: str) -> str:
    return md_escape(text)


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


def pylint_command(paths: Sequence[str], rcfile: Path, python: str = sys.executable) -> list[str]:
    """The pylint command line: JSON2 output (it carries the score), folders walked recursively."""
    return [python, "-m", "pylint", "--output-format=json2", "--score=y", "--recursive=y",
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
    failing = [finding for finding in findings if finding.tool == "pylint"
               and {finding.category, finding.symbol, finding.code} & fail_on]
    if failing:
        shown = ", ".join(sorted({finding.symbol for finding in failing}))
        reasons.append(f"pylint found {len(failing)} message(s) the gate fails on ({shown}), "
                       "whatever the score")
    dead = sum(finding.category == DEAD_CODE for finding in findings)
    if dead:
        reasons.append(f"vulture found {dead} piece(s) of dead code (min confidence {vulture_confidence}%)")
    return reasons


def _order(finding: Finding) -> tuple[int, str, int]:
    rank = CATEGORIES.index(finding.category) if finding.category in CATEGORIES else len(CATEGORIES)
    return rank, finding.file, finding.line or 0


# --- lint: output -------------------------------------------------------------------------------

def lint_summary(result: LintResult) -> str:
    """The job summary: verdict, counts per category, top findings, duplicate-code blocks."""
    icon = "✅" if result.passed else "❌"
    dead = "vulture not run" if result.vulture_confidence is None else (
        f"{result.counts()[DEAD_CODE]} dead code (vulture ≥ {result.vulture_confidence}%)")
    lines = [f"### lint: {icon} pylint {result.score:.2f}/10 (gate {result.fail_under:g}), {dead}", "",
             f"**paths:** {', '.join(_cell(path) for path in result.paths)} · "
             f"**config:** {_cell(result.config)}", ""]
    lines += [f"- {_cell(reason)}" for reason in result.reasons]
    if result.reasons:
        lines.append("")
    counts = result.counts()
    lines += ["| " + " | ".join(CATEGORIES) + " |", "|" + " --- |" * len(CATEGORIES),
              "| " + " | ".join(str(counts[category]) for category in CATEGORIES) + " |"]
    findings = sorted(result.findings, key=_order)
    if findings:
        lines += ["", f"#### Findings ({min(len(findings), TABLE_ROWS)} of {len(findings)})", "",
                  "| where | symbol | message |", "| --- | --- | --- |"]
        for finding in findings[:TABLE_ROWS]:
            message = finding.detail if finding.tool == "pylint" else finding.text()
            lines.append(f"| {_cell(finding.where)} | {_cell(finding.symbol)} "
                         f"| {_cell(message.splitlines()[0])} |")
    duplicates = [finding for finding in findings if finding.blocks]
    if duplicates:
        lines += ["", "#### Duplicate code", ""]
        lines += ["- " + " ↔ ".join(_cell(f"{file}:{start}-{end}") for file, start, end in finding.blocks)
                  for finding in duplicates]
    return "\n".join(lines) + "\n"


def lint_report(result: LintResult) -> dict[str, Any]:
    """The --report JSON: score, gate, verdict, counts and every finding."""
    return {"score": round(result.score, 2), "fail_under": result.fail_under, "passed": result.passed,
            "reasons": result.reasons, "paths": result.paths, "config": result.config,
            "vulture_min_confidence": result.vulture_confidence, "counts": result.counts(),
            "findings": [{**asdict(finding), "message": finding.detail,
                          "blocks": [list(block) for block in finding.blocks]}
                         for finding in sorted(result.findings, key=_order)]}


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


def run_pylint(paths: Sequence[str], rcfile: Path) -> tuple[float, list[Finding]]:
    """Run pylint; (score, findings). Raises MlopsCiError when it could not run or lint."""
    _require_module("pylint", "checks code quality")
    completed = subprocess.run(pylint_command(paths, rcfile), capture_output=True, text=True,
                               errors="replace", check=False)
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
    return score, resolve_duplicates(findings, paths)


def run_vulture(paths: Sequence[str], min_confidence: int) -> list[Finding]:
    """Run vulture; its findings. Syntax errors it reports are left to pylint (syntax-error)."""
    _require_module("vulture", "finds dead code")
    completed = subprocess.run(vulture_command(paths, min_confidence), capture_output=True, text=True,
                               errors="replace", check=False)
    if completed.returncode == VULTURE_BAD_ARGS:
        raise MlopsCiError(f"vulture usage error: {_last_line(completed.stderr)}")
    return parse_vulture(completed.stdout)


def run_lint(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci lint`."""
    paths = list(dict.fromkeys(args.paths)) or default_paths()
    for path in paths:
        if not Path(path).exists():
            raise MlopsCiError("no such file or folder", where=path)
    rcfile, origin = choose_rcfile(args.rcfile)
    config = f"{rcfile.name} (mlops-ci default)" if origin == "default" else f"{rcfile} ({origin})"
    print(f"lint: pylint on {', '.join(paths)} with {config}", flush=True)
    score, findings = run_pylint(paths, rcfile)
    findings = [replace_file(finding) for finding in findings]
    fatal = [finding for finding in findings if finding.category == "fatal"]
    if fatal:
        for finding in fatal:
            gha.report("error", f"pylint could not lint: {finding.text()}", file=finding.file,
                       line=finding.line, title="pylint fatal")
        return EXIT_USAGE
    confidence = None if args.no_vulture else args.vulture_min_confidence
    if confidence is not None:
        findings += [replace_file(finding) for finding in run_vulture(paths, confidence)]
    result = LintResult(score, args.fail_under, findings, paths, config, confidence)
    fail_on = frozenset(item.strip() for item in args.fail_on.split(",") if item.strip())
    result.reasons = lint_reasons(score, args.fail_under, findings, confidence, fail_on)
    _annotate(_lint_annotations(findings, fail_on), "findings")
    if args.report:
        report_path = Path(args.report)
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(lint_report(result), indent=2) + "\n", encoding="utf-8")
    if gha.in_actions():
        gha.append_summary(lint_summary(result))
    gha.set_output("score", f"{score:.2f}")
    counts = ", ".join(f"{count} {category}" for category, count in result.counts().items() if count)
    verdict = "passed" if result.passed else "failed: " + "; ".join(result.reasons)
    print(f"lint: pylint {score:.2f}/10 (gate {args.fail_under:g}); {counts or 'no findings'}; {verdict}")
    return EXIT_OK if result.passed else EXIT_REFUSED


def replace_file(finding: Finding) -> Finding:
    """The finding with its file (and its duplicate blocks' files) shown as display_path does."""
    blocks = tuple((display_path(file), start, end) for file, start, end in finding.blocks)
    return replace(finding, file=display_path(finding.file), blocks=blocks)


# --- test: command line and parsing -------------------------------------------------------------

def default_cov(root: Path = Path(".")) -> list[str]:
    """What coverage measures without --cov: src when there is a src/ folder, else the project."""
    return ["src"] if (root / "src").is_dir() else ["."]


def pytest_command(cov: Sequence[str], junit_xml: str, coverage_xml: str, pytest_args: Sequence[str] = (),
                   python: str = sys.executable) -> list[str]:
    """The pytest command line: JUnit XML with file and line attributes (xunit1), coverage XML and
    the terminal report; the coverage gate is ours (no --cov-fail-under)."""
    return [python, "-m", "pytest", f"--junit-xml={junit_xml}", "-o", "junit_family=xunit1",
            *(f"--cov={target}" for target in cov), f"--cov-report=xml:{coverage_xml}",
            "--cov-report=term-missing:skip-covered", *pytest_args]


def _read_xml(path: Path) -> ET.Element:
    if not path.is_file():
        raise MlopsCiError("not written (see the pytest output above)", where=str(path))
    try:
        return ET.parse(path).getroot()  # our own pytest run wrote it: trusted input
    except ET.ParseError as error:
        raise MlopsCiError(f"malformed XML: {error}", where=str(path)) from error


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _crash_line(detail: str, file: str) -> int | None:
    """The last `file:line: ` of a failure's traceback in the test's own file (the failing line)."""
    wanted = Path(file).as_posix()
    lines = [int(match["line"]) for match in _CRASH_LINE.finditer(detail)
             if Path(match["file"]).as_posix() == wanted]
    return lines[-1] if lines else None


def _error_message(message: str, detail: str) -> str:
    """An error's message: pytest's phase ("collection failure", "failed on setup") and the first
    `E   ` line of its report, the exception."""
    phase = message.split(" with ", 1)[0] if message.startswith("failed on ") else message
    exception = next((match[1].strip() for match in re.finditer(r"^E\s+(.+)$", detail, re.MULTILINE)), "")
    return f"{phase}: {exception}" if phase and exception else (phase or exception)


def _testcase(element: ET.Element) -> TestCase:
    outcome, message, detail = "passed", "", ""
    for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = element.find(tag)
        if child is not None:
            outcome, detail = name, child.text or ""
            message = _first_line(child.get("message", ""))
            message = _error_message(message, detail) if tag == "error" else message or _first_line(detail)
            break
    line = element.get("line")
    try:
        seconds = float(element.get("time") or 0)
    except ValueError:
        seconds = 0.0
    return TestCase(element.get("classname", ""), element.get("name", ""), element.get("file") or None,
                    int(line) + 1 if line and line.isdigit() else None, seconds, outcome, message, detail)


def parse_junit(path: Path) -> list[TestCase]:
    """Every testcase of a JUnit XML file (a <testsuites> or <testsuite> root)."""
    return [_testcase(element) for element in _read_xml(path).iter("testcase")]


def parse_coverage(path: Path) -> Coverage:
    """coverage.py's total from its XML report: (covered lines + branches) / (lines + branches),
    line-rate when the counts are missing; each file's line coverage, paths from <source>."""
    root = _read_xml(path)
    try:
        counts = [int(root.get(name, "")) for name in
                  ("lines-covered", "branches-covered", "lines-valid", "branches-valid")]
        measured = counts[2] + counts[3]
        percent = 100.0 * (counts[0] + counts[1]) / measured if measured else 100.0
    except ValueError:
        try:
            percent = 100.0 * float(root.get("line-rate", ""))
        except ValueError as error:
            raise MlopsCiError("no line-rate on the <coverage> root: not a coverage.py XML report",
                               where=str(path)) from error
    source = root.findtext("sources/source") or ""
    files = []
    for element in root.iter("class"):
        name = element.get("filename", "")
        try:
            rate = 100.0 * float(element.get("line-rate", ""))
        except ValueError:
            continue
        files.append((display_path(str(Path(source) / name)) if source else name, rate))
    return Coverage(percent, tuple(files))


def _testcase_location(case: TestCase) -> tuple[str | None, int | None]:
    """(file, line) of a failing test for its annotation: the failing line in the test's file when
    the traceback shows it, else the test's def line; without a file attribute (xunit2), the file
    the classname names and the line of `def <name>` in it."""
    if case.file:
        return display_path(case.file), _crash_line(case.detail, case.file) or case.line
    parts = case.classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = Path(*parts[:end]).with_suffix(".py")
        if candidate.is_file():
            function = case.name.split("[", 1)[0]
            text = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
            line = next((number for number, source in enumerate(text, 1)
                         if re.match(rf"\s*(async\s+)?def\s+{re.escape(function)}\s*\(", source)), None)
            return display_path(str(candidate)), line
    return None, None


# --- test: output -------------------------------------------------------------------------------

def read_lint_report(path: str) -> dict[str, Any] | None:
    """The lint JSON's score and gate; None (with a warning) when it is missing or unreadable: the
    test gate does not depend on it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {"score": float(data["score"]), "fail_under": float(data["fail_under"]),
                "passed": bool(data.get("passed", True))}
    except (OSError, ValueError, KeyError, TypeError) as error:
        gha.report("warning", f"lint report {show(path)} not read ({type(error).__name__}): "
                              "the summary leaves the pylint score out")
        return None


@dataclass
class PytestResult:
    """What `mlops-ci test` found and decided."""

    cases: list[TestCase]
    coverage: Coverage | None
    fail_under: float
    reasons: list[str] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        """Testcases per outcome: passed, failed, error, skipped."""
        return Counter(case.outcome for case in self.cases)

    @property
    def failing(self) -> list[TestCase]:
        """The failed and errored testcases, in file order."""
        return [case for case in self.cases if case.outcome in ("failed", "error")]

    @property
    def coverage_text(self) -> str:
        """The coverage percentage as shown, or `not measured`."""
        return "not measured" if self.coverage is None else f"{self.coverage.percent:.2f}%"


def pytest_reasons(cases: Sequence[TestCase], coverage: Coverage | None, fail_under: float) -> list[str]:
    """Why the test gate says no; empty when it passes. Coverage is compared at 2 decimals."""
    counts = Counter(case.outcome for case in cases)
    reasons = []
    if counts["failed"] or counts["error"]:
        reasons.append(f"{counts['failed']} test(s) failed, {counts['error']} errored")
    if coverage is not None and round(coverage.percent, 2) < fail_under:
        reasons.append(f"coverage {coverage.percent:.2f}% is under the gate {fail_under:g}%")
    return reasons


def _failing_table(failing: Sequence[TestCase]) -> list[str]:
    if not failing:
        return []
    lines = ["", f"#### Failing tests ({min(len(failing), TABLE_ROWS)} of {len(failing)})", "",
             "| test | where | message |", "| --- | --- | --- |"]
    for case in failing[:TABLE_ROWS]:
        file, line = _testcase_location(case)
        where = f"{file}:{line}" if file and line else (file or "")
        lines.append(f"| {_cell(case.test_id)} | {_cell(where)} | {_cell(case.message)} |")
    return lines


def _slowest_table(cases: Sequence[TestCase]) -> list[str]:
    slowest = sorted((case for case in cases if case.outcome != "skipped"), key=lambda case: -case.time)
    if not slowest:
        return []
    return (["", f"#### Slowest tests ({min(len(slowest), SLOWEST)})", "", "| test | seconds |",
             "| --- | --- |"]
            + [f"| {_cell(case.test_id)} | {case.time:.2f} |" for case in slowest[:SLOWEST]])


def _least_covered_table(coverage: Coverage | None) -> list[str]:
    least = sorted((item for item in coverage.files if item[1] < 100.0),
                   key=lambda item: item[1]) if coverage else []
    if not least:
        return []
    return (["", "#### Least covered files", "", "| file | lines covered |", "| --- | --- |"]
            + [f"| {_cell(file)} | {rate:.1f}% |" for file, rate in least[:SLOWEST]])


def pytest_summary(result: PytestResult, lint: dict[str, Any] | None = None) -> str:
    """The job summary: verdict, counts, coverage vs gate, pylint score, failing and slowest tests,
    least covered files."""
    counts, gate = result.counts, f"(gate {result.fail_under:g}%)"
    icon = "❌" if result.reasons else "✅"
    lines = [f"### test: {icon} {counts['passed']} passed, {counts['failed']} failed, "
             f"{counts['error']} errors, coverage {result.coverage_text} {gate}", ""]
    lines += [f"- {_cell(reason)}" for reason in result.reasons] + ([""] if result.reasons else [])
    header = ["passed", "failed", "errors", "skipped", "coverage"]
    row = [str(counts["passed"]), str(counts["failed"]), str(counts["error"]), str(counts["skipped"]),
           f"{result.coverage_text} {gate}"]
    if lint is not None:
        header.append("pylint")
        row.append(f"{lint['score']:.2f}/10 (gate {lint['fail_under']:g}) {'✅' if lint['passed'] else '❌'}")
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header), "| " + " | ".join(row) + " |"]
    lines += _failing_table(result.failing) + _slowest_table(result.cases)
    lines += _least_covered_table(result.coverage)
    return "\n".join(lines) + "\n"


# --- test: the edges ----------------------------------------------------------------------------

def _run_streamed(command: Sequence[str]) -> tuple[int, list[str]]:
    """Run a command, its output passed through as it comes; (exit code, its last lines)."""
    tail: deque[str] = deque(maxlen=30)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace") as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            tail.append(line.rstrip("\n"))
        sys.stdout.flush()
        return process.wait(), list(tail)


def evaluate_pytest(code: int, tail: Sequence[str], junit: Path, coverage_xml: Path,
                    fail_under: float) -> PytestResult:
    """The verdict from pytest's exit code and the files it wrote. Raises MlopsCiError when pytest
    could not run (exit 2 without a failing test, 3, 4, other)."""
    cases = parse_junit(junit) if code in (0, 1) or junit.is_file() else []
    broken = any(case.outcome in ("failed", "error") for case in cases)
    if code == PYTEST_NO_TESTS:
        return PytestResult(cases, None, fail_under,
                            ["no tests collected (pytest exit 5): add tests or name them after --"])
    if code in (0, 1) or (code == PYTEST_INTERRUPTED and broken):
        coverage = parse_coverage(coverage_xml) if coverage_xml.is_file() or not broken else None
        reasons = pytest_reasons(cases, coverage, fail_under)
        if code == 1 and not broken:
            reasons.append("pytest exited 1 with no failing test: a plugin's check said no (see its "
                           "output above; e.g. --cov-fail-under in the project's addopts)")
        return PytestResult(cases, coverage, fail_under, reasons)
    lines = [line.strip() for line in tail if line.strip()]
    problem = next((line for line in reversed(lines) if _PYTEST_ERROR.search(line)),
                   lines[-1] if lines else "(no output)")
    raise MlopsCiError(f"pytest could not run (exit {code}): {problem}")


def _report_pytest(result: PytestResult, lint: dict[str, Any] | None) -> None:
    items = []
    for case in result.failing:
        file, line = _testcase_location(case)
        title = f"test {'failed' if case.outcome == 'failed' else 'error'}: {case.test_id}"
        items.append(("error", case.message or case.outcome, file, line, title))
    _annotate(items, "failing tests")
    for reason in result.reasons:
        if not reason.endswith("errored"):  # the failing tests have their own annotations
            gha.report("error", reason, title="test gate")
    if gha.in_actions():
        gha.append_summary(pytest_summary(result, lint))
    counts = result.counts
    gha.set_output("passed", str(counts["passed"]))
    gha.set_output("failed", str(counts["failed"] + counts["error"]))
    gha.set_output("coverage", "" if result.coverage is None else f"{result.coverage.percent:.2f}")
    verdict = "passed" if not result.reasons else "failed: " + "; ".join(result.reasons)
    print(f"test: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, "
          f"{counts['skipped']} skipped; coverage {result.coverage_text} (gate {result.fail_under:g}%); "
          f"{verdict}")


def run_test(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci test`."""
    _require_module("pytest", "runs the tests")
    _require_module("pytest_cov", "measures coverage")
    junit, coverage_xml = Path(args.junit_xml), Path(args.coverage_xml)
    for path in (junit, coverage_xml):  # results of an earlier run must not stand in for this one
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    command = pytest_command(args.cov or default_cov(), str(junit), str(coverage_xml), args.pytest_args)
    print(f"test: {' '.join(command[1:])}", flush=True)
    code, tail = _run_streamed(command)
    result = evaluate_pytest(code, tail, junit, coverage_xml, args.cov_fail_under)
    _report_pytest(result, read_lint_report(args.lint_report) if args.lint_report else None)
    return EXIT_REFUSED if result.reasons else EXIT_OK


# --- registration -------------------------------------------------------------------------------

def _bounded(low: float, high: float, kind: type = float):
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value
    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci lint` and `mlops-ci test` to the CLI."""
    lint = subparsers.add_parser(
        "lint", help="pylint score gate, duplicate code and vulture dead code (exit 0/1/2)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="files and folders to lint (default: src and tests, or the top-level Python code)")
    lint.add_argument("--rcfile", metavar="FILE",
                      help="pylint config (default: the project's own, else mlops-ci's configs/pylintrc)")
    lint.add_argument("--fail-under", type=_bounded(0, 10), default=DEFAULT_FAIL_UNDER, metavar="SCORE",
                      help=f"lowest passing pylint score, 0-10 (default {DEFAULT_FAIL_UNDER:g})")
    lint.add_argument("--vulture-min-confidence", type=_bounded(0, 100, int), metavar="N",
                      default=DEFAULT_VULTURE_CONFIDENCE,
                      help=f"vulture's confidence threshold, 0-100 (default {DEFAULT_VULTURE_CONFIDENCE}; "
                           "60 also reports unused functions, classes and pytest fixtures)")
    lint.add_argument("--fail-on", default=DEFAULT_FAIL_ON, metavar="LIST",
                      help="pylint categories (error, warning, refactor, convention), symbols or message "
                           f"ids that fail the gate whatever the score, comma-separated (default {DEFAULT_FAIL_ON})")
    lint.add_argument("--no-vulture", action="store_true", help="skip the dead-code check")
    lint.add_argument("--report", metavar="FILE", help="write score, counts and findings as JSON")
    lint.set_defaults(handler=run_lint)

    test = subparsers.add_parser(
        "test", help="pytest with JUnit and coverage; failing tests and a coverage gate (exit 0/1/2)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    test.add_argument("--cov", action="append", metavar="PKG",
                      help="what coverage measures, repeatable (default: src if it exists, else .)")
    test.add_argument("--cov-fail-under", type=_bounded(0, 100), default=DEFAULT_COV_FAIL_UNDER,
                      metavar="PCT",
                      help=f"lowest passing coverage percentage (default {DEFAULT_COV_FAIL_UNDER:g})")
    test.add_argument("--junit-xml", default=DEFAULT_JUNIT, metavar="FILE",
                      help=f"JUnit XML to write (default {DEFAULT_JUNIT})")
    test.add_argument("--coverage-xml", default=DEFAULT_COVERAGE_XML, metavar="FILE",
                      help=f"coverage XML to write (default {DEFAULT_COVERAGE_XML})")
    test.add_argument("--lint-report", metavar="FILE",
                      help="the JSON of `mlops-ci lint --report`: its score goes into the summary")
    test.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS",
                      help="passed to pytest after `--` (test paths, -k, -m ...)")
    test.set_defaults(handler=run_test)
