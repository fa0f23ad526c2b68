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

Inside GitHub Actions every finding is an annotation on its file and line (the first 50; GitHub
itself shows 10 errors and 10 warnings per step, 50 per job), the job summary gets the verdict and
tables, and the step output `score` is set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError
from mlops_ci.core.text import md_escape
from mlops_ci.quality.common import TABLE_ROWS, annotate, bounded, display_path, require_module

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
             f"**paths:** {', '.join(md_escape(path) for path in result.paths)} · "
             f"**config:** {md_escape(result.config)}", ""]
    lines += [f"- {md_escape(reason)}" for reason in result.reasons]
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
            lines.append(f"| {md_escape(finding.where)} | {md_escape(finding.symbol)} "
                         f"| {md_escape(message.splitlines()[0])} |")
    duplicates = [finding for finding in findings if finding.blocks]
    if duplicates:
        lines += ["", "#### Duplicate code", ""]
        lines += ["- " + " ↔ ".join(md_escape(f"{file}:{start}-{end}") for file, start, end in finding.blocks)
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
    require_module("pylint", "checks code quality")
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
    require_module("vulture", "finds dead code")
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
    annotate(_lint_annotations(findings, fail_on), "findings")
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
    lint.set_defaults(handler=run_lint)
