"""`mlops-ci test`: the pull-request test and coverage gate.

test   pytest with JUnit XML and coverage (pytest-cov), then the verdict from those files:
       exit 0 every test passed and coverage >= --cov-fail-under; 1 a test failed or errored
       (collection errors included), no tests were collected, or coverage is under the gate;
       2 pytest could not run (usage error, internal error, pytest-cov missing).
       Coverage is coverage.py's total: lines and, when measured, branches, like `coverage report`.

       --mode new-code (or `quality: {mode: new-code}` in .github/mlops-ci.yml) judges the lines the
       change makes since --base instead (the merge base of --base and HEAD): diff-cover's coverage
       of them must reach --new-code-fail-under (default quality.new_code.coverage, 80), and the total
       may not drop below the base commit's, tested alike in a checkout of it (the ratchet).
       --cov-fail-under does not apply. Exit 1 names the lines not covered.

Inside GitHub Actions every failing test is an annotation on its file and line (the first 50;
GitHub itself shows 10 errors and 10 warnings per step, 50 per job), the job summary gets the
verdict and tables (with the pylint score of --lint-report), and the step outputs passed, failed
and coverage are set (in new-code mode also base-coverage and new-code-coverage, and the changed
lines no test runs are annotated). JUnit and coverage XML are parsed with xml.etree: they come from our own
pytest run, not from users.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape, show
from mlops_ci.quality import newcode
from mlops_ci.quality.common import TABLE_ROWS, annotate, bounded, display_path, require_module

DEFAULT_COV_FAIL_UNDER = 80.0
DEFAULT_JUNIT = "test-results/junit.xml"
DEFAULT_COVERAGE_XML = "test-results/coverage.xml"
SLOWEST = 5

# pytest's exit codes: 0 passed, 1 failed, 2 interrupted (collection errors), 3 internal error,
# 4 usage error, 5 no tests collected.
PYTEST_INTERRUPTED = 2
PYTEST_NO_TESTS = 5

_PYTEST_ERROR = re.compile(r"INTERNALERROR|\bERROR\b|\berror:")
_CRASH_LINE = re.compile(r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+): ", re.MULTILINE)


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


@dataclass(frozen=True)
class NewCodeCoverage(newcode.Figures):
    """The new-code figures, the share being diff-cover's coverage of the changed lines it measures;
    the changed lines no test ran by file, and the base's total coverage (None: the base's tests wrote
    none)."""

    uncovered: dict[str, tuple[int, ...]]
    base_percent: float | None

    @property
    def passed(self) -> bool:
        """True when the changed lines' coverage reaches its gate (compared at 2 decimals)."""
        return round(self.percent, 2) >= self.fail_under

    def uncovered_ranges(self) -> list[tuple[str, int, int]]:
        """(file, first, last) of each run of consecutive uncovered changed lines."""
        return [(file, group[0][1], group[-1][1])
                for file, lines in sorted(self.uncovered.items())
                for _, grouped in itertools.groupby(enumerate(lines), key=lambda item: item[1] - item[0])
                for group in [list(grouped)]]


@dataclass
class PytestResult:
    """What `mlops-ci test` found and decided; `new_code` is None in whole mode."""

    cases: list[TestCase]
    coverage: Coverage | None
    fail_under: float
    reasons: list[str] = field(default_factory=list)
    new_code: NewCodeCoverage | None = None

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


def new_code_reasons(total: Coverage | None, new_code: NewCodeCoverage) -> list[str]:
    """Why the new-code coverage gate says no: the changed lines' coverage under its gate (naming the
    lines no test runs), or the total under the base's (both compared at 2 decimals)."""
    reasons = []
    if not new_code.passed:
        where = ", ".join(f"{file}:{first}" + (f"-{last}" if last > first else "")
                          for file, first, last in new_code.uncovered_ranges()[:5])
        reasons.append(f"coverage of the {new_code.lines} changed line(s) is {new_code.percent:.2f}%, under "
                       f"the gate {new_code.fail_under:g}%; not covered: {where}")
    if (total is not None and new_code.base_percent is not None
            and round(total.percent, 2) < round(new_code.base_percent, 2)):
        reasons.append(f"total coverage {total.percent:.2f}% dropped below the base's "
                       f"{new_code.base_percent:.2f}% ({new_code.base} at {new_code.commit[:12]}): "
                       "the ratchet")
    return reasons


def _failing_table(failing: Sequence[TestCase]) -> list[str]:
    if not failing:
        return []
    lines = ["", f"#### Failing tests ({min(len(failing), TABLE_ROWS)} of {len(failing)})", "",
             "| test | where | message |", "| --- | --- | --- |"]
    for case in failing[:TABLE_ROWS]:
        file, line = _testcase_location(case)
        where = f"{file}:{line}" if file and line else (file or "")
        lines.append(f"| {md_escape(case.test_id)} | {md_escape(where)} | {md_escape(case.message)} |")
    return lines


def _slowest_table(cases: Sequence[TestCase]) -> list[str]:
    slowest = sorted((case for case in cases if case.outcome != "skipped"), key=lambda case: -case.time)
    if not slowest:
        return []
    return (["", f"#### Slowest tests ({min(len(slowest), SLOWEST)})", "", "| test | seconds |",
             "| --- | --- |"]
            + [f"| {md_escape(case.test_id)} | {case.time:.2f} |" for case in slowest[:SLOWEST]])


def _uncovered_table(new_code: NewCodeCoverage | None) -> list[str]:
    ranges = new_code.uncovered_ranges() if new_code else []
    if not ranges:
        return []
    return (["", f"#### Changed lines no test runs ({min(len(ranges), TABLE_ROWS)} of {len(ranges)})", "",
             "| file | lines |", "| --- | --- |"]
            + [f"| {md_escape(file)} | {first}" + (f"-{last}" if last > first else "") + " |"
               for file, first, last in ranges[:TABLE_ROWS]])


def _least_covered_table(coverage: Coverage | None) -> list[str]:
    least = sorted((item for item in coverage.files if item[1] < 100.0),
                   key=lambda item: item[1]) if coverage else []
    if not least:
        return []
    return (["", "#### Least covered files", "", "| file | lines covered |", "| --- | --- |"]
            + [f"| {md_escape(file)} | {rate:.1f}% |" for file, rate in least[:SLOWEST]])


def pytest_summary(result: PytestResult, lint: dict[str, Any] | None = None) -> str:
    """The job summary: verdict, counts, coverage vs gate, pylint score, failing and slowest tests,
    least covered files."""
    counts, gate, new_code = result.counts, f"(gate {result.fail_under:g}%)", result.new_code
    icon = "❌" if result.reasons else "✅"
    tests = f"{icon} {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors"
    if new_code is None:
        lines = [f"### test: {tests}, coverage {result.coverage_text} {gate}", ""]
    else:
        base = "no base figure" if new_code.base_percent is None else f"base {new_code.base_percent:.2f}%"
        gate = f"({base})"
        lines = [f"### test, new code since {md_escape(new_code.base)}: {tests}, {new_code.percent:.2f}% of "
                 f"{new_code.lines} changed line(s) covered (gate {new_code.fail_under:g}%); total coverage "
                 f"{result.coverage_text} {gate}", ""]
    lines += [f"- {md_escape(reason)}" for reason in result.reasons] + ([""] if result.reasons else [])
    header = ["passed", "failed", "errors", "skipped", "coverage"]
    row = [str(counts["passed"]), str(counts["failed"]), str(counts["error"]), str(counts["skipped"]),
           f"{result.coverage_text} {gate}"]
    if new_code is not None:
        header.append("changed lines covered")
        row.append(f"{new_code.percent:.2f}% of {new_code.lines} (gate {new_code.fail_under:g}%) "
                   f"{'✅' if new_code.passed else '❌'}")
    if lint is not None:
        header.append("pylint")
        row.append(f"{lint['score']:.2f}/10 (gate {lint['fail_under']:g}) {'✅' if lint['passed'] else '❌'}")
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header), "| " + " | ".join(row) + " |"]
    lines += _failing_table(result.failing) + _uncovered_table(new_code) + _slowest_table(result.cases)
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
    annotate(items, "failing tests")
    new_code = result.new_code
    if new_code is not None:
        level = "warning" if new_code.passed else "error"
        annotate([(level, "changed line(s) no test runs" if last > first else "changed line no test runs",
                   file, first, "not covered") for file, first, last in new_code.uncovered_ranges()],
                 "uncovered changed lines")
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
    tests = (f"test: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, "
             f"{counts['skipped']} skipped")
    if new_code is None:
        print(f"{tests}; coverage {result.coverage_text} (gate {result.fail_under:g}%); {verdict}")
        return
    base = "" if new_code.base_percent is None else f"{new_code.base_percent:.2f}"
    gha.set_output("base-coverage", base)
    gha.set_output("new-code-coverage", f"{new_code.percent:.2f}")
    print(f"{tests}; new code since {new_code.base}: {new_code.percent:.2f}% of {new_code.lines} changed "
          f"line(s) covered (gate {new_code.fail_under:g}%); total coverage {result.coverage_text} "
          f"(base {base + '%' if base else 'not measured'}); {verdict}")


def base_coverage(commit: str, cov: Sequence[str], pytest_args: Sequence[str]) -> float | None:
    """The ratchet's figure: the total coverage of `commit`'s tests, run alike in a checkout of it;
    None (with a warning) when they wrote no coverage report."""
    with (newcode.base_checkout(commit) as tree,
          tempfile.TemporaryDirectory(prefix="mlops-ci-test-") as folder):
        junit, coverage_xml = Path(folder) / "junit.xml", Path(folder) / "coverage.xml"
        print(f"test: the same pytest at the base, {commit[:12]}", flush=True)
        completed = subprocess.run(pytest_command(cov, str(junit), str(coverage_xml), pytest_args), cwd=tree,
                                   capture_output=True, text=True, errors="replace", check=False)
        if not coverage_xml.is_file():
            lines = [line for line in completed.stdout.splitlines() if line.strip()]
            gha.report("warning", f"the base's tests ({commit[:12]}) wrote no coverage (pytest exit "
                                  f"{completed.returncode}: {lines[-1] if lines else 'no output'}): "
                                  "no coverage ratchet", title="test gate")
            return None
        return parse_coverage(coverage_xml).percent


def judge_new_code(gate: newcode.Settings, coverage_xml: Path, cov: Sequence[str],
                   pytest_args: Sequence[str]) -> NewCodeCoverage:
    """The new-code figures: diff-cover on this run's coverage XML, and the base's total coverage."""
    assert gate.base is not None  # newcode.settings refuses new-code mode without one
    commit = newcode.merge_base(gate.base)
    report = newcode.diff_report("diff_cover_tool", [str(coverage_xml)], commit)
    return NewCodeCoverage(gate.base, commit, report.percent, report.lines, gate.fail_under, report.failing,
                           base_coverage(commit, cov, pytest_args))


def run_test(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci test`."""
    gate = newcode.settings(args.mode, args.base, args.new_code_fail_under, args.config,
                            "new_code_coverage")
    require_module("pytest", "runs the tests")
    require_module("pytest_cov", "measures coverage")
    junit, coverage_xml = Path(args.junit_xml), Path(args.coverage_xml)
    for path in (junit, coverage_xml):  # results of an earlier run must not stand in for this one
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    cov = args.cov or default_cov()
    command = pytest_command(cov, str(junit), str(coverage_xml), args.pytest_args)
    print(f"test: {' '.join(command[1:])}", flush=True)
    code, tail = _run_streamed(command)
    # New-code mode: the changed lines' gate and the ratchet replace the total's gate.
    result = evaluate_pytest(code, tail, junit, coverage_xml, 0.0 if gate.new_code else args.cov_fail_under)
    if gate.new_code and result.coverage is not None:
        result.new_code = judge_new_code(gate, coverage_xml, cov, args.pytest_args)
        result.reasons += new_code_reasons(result.coverage, result.new_code)
    _report_pytest(result, read_lint_report(args.lint_report) if args.lint_report else None)
    return EXIT_REFUSED if result.reasons else EXIT_OK


# --- registration -------------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci test` to the CLI."""
    test = subparsers.add_parser(
        "test", help="pytest with JUnit and coverage; failing tests and a coverage gate (exit 0/1/2)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    test.add_argument("--cov", action="append", metavar="PKG",
                      help="what coverage measures, repeatable (default: src if it exists, else .)")
    test.add_argument("--cov-fail-under", type=bounded(0, 100), default=DEFAULT_COV_FAIL_UNDER,
                      metavar="PCT",
                      help=f"lowest passing coverage percentage (default {DEFAULT_COV_FAIL_UNDER:g})")
    test.add_argument("--junit-xml", default=DEFAULT_JUNIT, metavar="FILE",
                      help=f"JUnit XML to write (default {DEFAULT_JUNIT})")
    test.add_argument("--coverage-xml", default=DEFAULT_COVERAGE_XML, metavar="FILE",
                      help=f"coverage XML to write (default {DEFAULT_COVERAGE_XML})")
    test.add_argument("--lint-report", metavar="FILE",
                      help="the JSON of `mlops-ci lint --report`: its score goes into the summary")
    newcode.add_mode_arguments(test, "lowest coverage of the changed lines, percent (default: "
                                     "quality.new_code.coverage of .github/mlops-ci.yml, else 80)")
    test.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS",
                      help="passed to pytest after `--` (test paths, -k, -m ...)")
    test.set_defaults(handler=run_test)
