"""`mlops-ci lint` and `mlops-ci test`: pylint, vulture and pytest on small scratch projects (each
linted and tested once per module), the example project, and the parsers on crafted input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ci.quality import lint as quality
from mlops_ci.core.errors import MlopsCiError
from testing.quality import ENV_DROPPED, Run, run_cli

PYTEST_ONLY = '[tool.pytest.ini_options]\npythonpath = ["src"]\n'

CLEAN = {
    "pyproject.toml": PYTEST_ONLY,
    "src/calc/__init__.py": '"""Calculator."""\n',
    "src/calc/ops.py": '''"""Arithmetic."""


def add(x, y):
    """x plus y."""
    return x + y


def scale(values, factor):
    """Every value times factor."""
    return [value * factor for value in values]
''',
    "tests/test_ops.py": '''"""The arithmetic."""
from calc.ops import add, scale


def test_add():
    """Sums."""
    assert add(2, 3) == 5


def test_scale():
    """Products."""
    assert scale([1, 2], 3) == [3, 6]
''',
}

BLOCK = '''    amount = 0
    for price in prices:
        if price > 100:
            amount += price * 0.9
        elif price > 50:
            amount += price * 0.95
        else:
            amount += price
    return round(amount, 2)
'''
DIRTY = {
    "pyproject.toml": PYTEST_ONLY,
    "src/shop/__init__.py": '"""Shop."""\n',
    # line 2: unused import; 5-15: the block both modules share; 20: an undefined name (E0602);
    # 23: a function nobody calls.
    "src/shop/orders.py": '"""Orders."""\nimport json\n\n\ndef total(prices):\n'
                          '    """The sum of the prices, discounted."""\n' + BLOCK + '''

def describe(order):
    """A line for the order."""
    return f"order {order} of {undefined_customer}"


def forgotten():
    """Nobody calls this."""
    return 42
''',
    "src/shop/invoices.py": '"""Invoices."""\n\n\ndef invoice_total(prices):\n'
                            '    """The invoice\'s total."""\n' + BLOCK,
    # line 13: the failing assertion
    "tests/test_orders.py": '''"""Orders."""
from shop.invoices import invoice_total
from shop.orders import total


def test_total():
    """Discounts apply."""
    assert total([10, 60, 200]) == 10 + 57 + 180


def test_invoice_total_is_wrong():
    """Fails on purpose."""
    assert invoice_total([10]) == 11
''',
}


def write(root: Path, files: dict[str, str]) -> Path:
    """Write a scratch project; returns its root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Each test in its own empty folder, outside Actions."""
    monkeypatch.chdir(tmp_path)
    for name in ENV_DROPPED:
        monkeypatch.delenv(name, raising=False)


# --- the clean project: both gates pass ----------------------------------------------------------

@pytest.fixture(scope="module", name="clean")
def _clean(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("clean"), CLEAN)
    lint = run_cli(project, "lint", "--report", "reports/lint.json")
    test = run_cli(project, "test", "--lint-report", "reports/lint.json")
    return {"lint": lint, "test": test, "report": json.loads((project / "reports/lint.json").read_text()),
            "project": project}


def test_clean_project_lint_passes_with_score_10(clean):
    lint = clean["lint"]
    assert lint.code == 0, lint.out + lint.err
    assert lint.outputs == {"score": "10.00"}
    assert lint.annotations() == []
    assert "lint: pylint 10.00/10 (gate 9); no findings; passed" in lint.out
    assert "### lint: ✅ pylint 10.00/10 (gate 9), 0 dead code (vulture ≥ 80%)" in lint.summary
    assert "**paths:** src, tests" in lint.summary and "pylintrc (mlops-ci default)" in lint.summary


def test_clean_project_lint_report(clean):
    report = clean["report"]
    assert report["score"] == 10.0 and report["passed"] is True and report["findings"] == []
    assert report["paths"] == ["src", "tests"] and report["vulture_min_confidence"] == 80
    assert set(report["counts"]) == set(quality.CATEGORIES) and not any(report["counts"].values())


def test_clean_project_tests_pass_with_full_coverage(clean):
    test = clean["test"]
    assert test.code == 0, test.out + test.err
    assert test.outputs == {"passed": "2", "failed": "0", "coverage": "100.00"}
    assert "test: 2 passed, 0 failed, 0 errors, 0 skipped; coverage 100.00% (gate 80%); passed" in test.out
    assert "### test: ✅ 2 passed, 0 failed, 0 errors, coverage 100.00% (gate 80%)" in test.summary
    assert "10.00/10 (gate 9) ✅" in test.summary  # the lint report's score
    assert "#### Slowest tests (2)" in test.summary and "tests/test\\_ops.py::test\\_add" in test.summary
    assert "Failing tests" not in test.summary and "Least covered" not in test.summary
    project = clean["project"]
    assert (project / "test-results/junit.xml").is_file()
    assert (project / "test-results/coverage.xml").is_file()


# --- the dirty project: every kind of finding ------------------------------------------------------

@pytest.fixture(scope="module", name="dirty")
def _dirty(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("dirty"), DIRTY)
    return {
        "lint": run_cli(project, "lint", "--vulture-min-confidence", "60", "--report", "lint.json"),
        "report": project / "lint.json",
        "test": run_cli(project, "test", "--lint-report", "missing.json"),
        "coverage": run_cli(project, "test", "--cov-fail-under", "95", "--",
                            "tests/test_orders.py::test_total"),
    }


def test_pylint_violation_fails_with_an_annotation_on_its_line(dirty):
    lint = dirty["lint"]
    assert lint.code == 1
    assert ("::error file=src/shop/orders.py,line=20,title=pylint undefined-variable::"
            "Undefined variable 'undefined_customer' (E0602 undefined-variable)") in lint.annotations()
    assert ("::error file=src/shop/orders.py,line=2,title=pylint unused-import::"
            "Unused import json (W0611 unused-import)") in lint.annotations()
    assert "the gate fails on" in lint.out
    assert lint.outputs["score"] == f"{json.loads(dirty['report'].read_text())['score']:.2f}"


def test_vulture_finds_the_unused_function(dirty):
    lint = dirty["lint"]
    assert ("::error file=src/shop/orders.py,line=23,title=dead code::"
            "unused function 'forgotten' (60%25 confidence)") in lint.annotations()
    # The unused import both tools report is annotated once, by pylint.
    assert len([line for line in lint.annotations() if "orders.py,line=2," in line]) == 1
    report = json.loads(dirty["report"].read_text())
    dead = [finding for finding in report["findings"] if finding["tool"] == "vulture"]
    assert {"symbol": "unused-function", "line": 23, "confidence": 60} in [
        {key: finding[key] for key in ("symbol", "line", "confidence")} for finding in dead]
    assert any("vulture found" in reason for reason in report["reasons"])


def test_duplicate_code_names_both_files(dirty):
    lint = dirty["lint"]
    duplicate = [line for line in lint.annotations() if "duplicate-code" in line]
    assert len(duplicate) == 1
    assert "src/shop/invoices.py:" in duplicate[0] and "src/shop/orders.py:" in duplicate[0]
    assert "#### Duplicate code" in lint.summary
    blocks = [finding["blocks"] for finding in json.loads(dirty["report"].read_text())["findings"]
              if finding["symbol"] == "duplicate-code"][0]
    assert sorted(file for file, _, _ in blocks) == ["src/shop/invoices.py", "src/shop/orders.py"]
    assert all(end - start + 1 >= 6 for _, start, end in blocks)


def test_lint_summary_lists_counts_and_findings(dirty):
    summary = dirty["lint"].summary
    assert summary.startswith("### lint: ❌ pylint ")
    assert "| fatal | error | warning | dead-code | refactor | convention | info |" in summary
    assert ("| src/shop/orders.py:20 | undefined-variable | Undefined variable 'undefined\\_customer' |"
            in summary)


def test_failing_test_fails_with_an_annotation_on_its_line(dirty):
    test = dirty["test"]
    assert test.code == 1
    assert ("::error file=tests/test_orders.py,line=13,title=test failed%3A "
            "tests/test_orders.py%3A%3Atest_invoice_total_is_wrong::assert 10 == 11") in test.annotations()
    assert test.outputs["passed"] == "1" and test.outputs["failed"] == "1"
    assert "| tests/test\\_orders.py::test\\_invoice\\_total\\_is\\_wrong | tests/test\\_orders.py:13 |" \
        in test.summary
    # The lint report named does not exist: a warning, and no pylint column.
    assert "::warning::lint report 'missing.json' not read" in test.out
    assert "| pylint |" not in test.summary


def test_coverage_under_the_gate_fails_with_the_percentage(dirty):
    run = dirty["coverage"]
    assert run.code == 1
    percent = run.outputs["coverage"]
    assert float(percent) < 95 and run.outputs == {"passed": "1", "failed": "0", "coverage": percent}
    assert f"::error title=test gate::coverage {percent}%25 is under the gate 95%25" in run.annotations()
    assert "#### Least covered files" in run.summary


def test_no_tests_collected_fails(tmp_path):
    write(tmp_path, CLEAN)
    run = run_cli(tmp_path, "test", "--", "-k", "no_such_test", actions=False)
    assert run.code == 1 and run.outputs == {}
    assert "error: no tests collected (pytest exit 5)" in run.err
    assert "test: 0 passed, 0 failed, 0 errors, 0 skipped; coverage not measured (gate 80%)" in run.out


def test_pytest_usage_error_is_exit_2(tmp_path):
    write(tmp_path, CLEAN)
    run = run_cli(tmp_path, "test", "--", "--no-such-option", actions=False)
    assert run.code == 2
    assert "pytest could not run (exit 4)" in run.err and "--no-such-option" in run.err


def test_collection_error_is_a_failing_test(tmp_path):
    write(tmp_path, {**CLEAN, "tests/test_broken.py": "import no_such_module  # noqa\n"})
    run = run_cli(tmp_path, "test")
    assert run.code == 1
    assert ("::error file=tests/test_broken.py,line=1,title=test error%3A tests/test_broken.py::"
            "collection failure: ModuleNotFoundError: No module named 'no_such_module'") in run.annotations()


# --- configuration --------------------------------------------------------------------------------

def test_project_config_is_used_and_rcfile_wins(tmp_path):
    write(tmp_path, {".pylintrc": "[MESSAGES CONTROL]\ndisable=missing-module-docstring\n",
                     "mod.py": "VALUE = 1\n"})
    project = run_cli(tmp_path, "lint", "--no-vulture")
    assert project.code == 0 and project.outputs["score"] == "10.00"
    assert ".pylintrc (project)" in project.summary and "vulture not run" in project.summary
    ours = run_cli(tmp_path, "lint", "--rcfile", str(quality.DEFAULT_RCFILE), "--fail-under", "10")
    assert ours.code == 1 and "missing-module-docstring" in ours.out
    assert "(given)" in ours.summary


@pytest.mark.parametrize(("files", "expected"), [
    ({}, None),
    ({"pyproject.toml": "[tool.black]\nline-length = 100\n"}, None),
    ({"pyproject.toml": "[tool.pylint.format]\nmax-line-length = 100\n"}, "pyproject.toml"),
    ({"setup.cfg": "[metadata]\nname = x\n"}, None),
    ({"setup.cfg": "[pylint.messages_control]\ndisable = C0114\n"}, "setup.cfg"),
    ({"tox.ini": "[pylint]\njobs = 1\n"}, "tox.ini"),
    ({"pylintrc.toml": "[tool.pylint.main]\njobs = 1\n"}, "pylintrc.toml"),
    ({".pylintrc": "", "pyproject.toml": "[tool.pylint.main]\njobs = 1\n"}, ".pylintrc"),
    ({"pylintrc": "", ".pylintrc": ""}, "pylintrc"),
])
def test_project_config_detection(tmp_path, files, expected):
    write(tmp_path, files)
    found = quality.project_config(tmp_path)
    assert (found.name if found else None) == expected
    rcfile, origin = quality.choose_rcfile(None, tmp_path)
    assert (rcfile, origin) == ((found, "project") if found else (quality.DEFAULT_RCFILE, "default"))


def test_malformed_pyproject_is_an_input_error(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.pylint\n", "mod.py": '"""M."""\n'})
    run = run_cli(tmp_path, "lint", actions=False)
    assert run.code == 2 and "pyproject.toml: malformed TOML" in run.err


def test_default_pylintrc_is_package_data_pylint_reads():
    text = quality.DEFAULT_RCFILE.read_text(encoding="utf-8")
    assert "max-line-length=110" in text and "min-similarity-lines=6" in text
    assert "good-names=x,y,X,Y,df,lr,i,j,k,_" in text
    completed = subprocess.run([sys.executable, "-m", "pylint", f"--rcfile={quality.DEFAULT_RCFILE}",
                                "--generate-rcfile"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0 and "Unrecognized" not in completed.stderr, completed.stderr
    generated = completed.stdout
    assert re.search(r"^disable=.*arguments-differ", generated, re.MULTILINE | re.DOTALL)
    assert "min-similarity-lines=6" in generated and "max-positional-arguments=8" in generated


def test_missing_rcfile_is_exit_2(tmp_path):
    write(tmp_path, CLEAN)
    run = run_cli(tmp_path, "lint", "--rcfile", "nope.cfg", actions=False)
    assert run.code == 2 and run.err.strip() == "error: nope.cfg: no such pylint config file"


def test_missing_path_is_exit_2(tmp_path):
    run = run_cli(tmp_path, "lint", "nowhere", actions=False)
    assert run.code == 2 and "nowhere: no such file or folder" in run.err


@pytest.mark.parametrize("argv", [
    ["lint", "--fail-under", "11"], ["lint", "--fail-under", "x"],
    ["lint", "--vulture-min-confidence", "101"], ["test", "--cov-fail-under", "-1"],
])
def test_out_of_range_gates_are_usage_errors(tmp_path, argv):
    with pytest.raises(SystemExit) as raised:
        run_cli(tmp_path, *argv, actions=False)
    assert raised.value.code == 2


def test_default_paths(tmp_path):
    write(tmp_path, {"src/a.py": "", "tests/t.py": ""})
    assert quality.default_paths(tmp_path) == ["src", "tests"]
    (tmp_path / "tests/t.py").unlink()
    (tmp_path / "tests").rmdir()
    assert quality.default_paths(tmp_path) == ["src"]
    flat = write(tmp_path / "flat", {
        "pkg/__init__.py": "", "pkg/deep/m.py": "", "tests/test_x.py": "", "setup.py": "",
        "notes/readme.txt": "", ".venv/lib/x.py": "", "venv2/pyvenv.cfg": "", "venv2/lib/y.py": "",
        "build/lib/z.py": "", "README.md": ""})
    assert quality.default_paths(flat) == ["pkg", "setup.py", "tests"]
    empty = write(tmp_path / "empty", {"README.md": ""})
    with pytest.raises(MlopsCiError, match="no Python code found"):
        quality.default_paths(empty)


# --- the example project passes both gates ----------------------------------------------------------

# --- parsers and command lines ------------------------------------------------------------------------

def test_command_lines():
    rcfile = Path("rc")
    assert quality.pylint_command(["src", "tests"], rcfile, python="py") == [
        "py", "-m", "pylint", "--output-format=json2", "--score=y", "--recursive=y", "--rcfile=rc", "--",
        "src", "tests"]
    assert quality.vulture_command(["src"], 70, python="py") == [
        "py", "-m", "vulture", "--min-confidence=70", "--", "src"]
    assert quality.pytest_command(["src", "lib"], "j.xml", "c.xml", ["-k", "x"], python="py") == [
        "py", "-m", "pytest", "--junit-xml=j.xml", "-o", "junit_family=xunit1", "--cov=src", "--cov=lib",
        "--cov-report=xml:c.xml", "--cov-report=term-missing:skip-covered", "-k", "x"]


def test_default_cov(tmp_path):
    assert quality.default_cov(tmp_path) == ["."]
    (tmp_path / "src").mkdir()
    assert quality.default_cov(tmp_path) == ["src"]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"messages": []}',
                                  '{"messages": [{}], "statistics": {"score": 1}}',
                                  '{"messages": [], "statistics": {"score": "high"}}'])
def test_parse_pylint_json2_refuses_other_output(text):
    with pytest.raises(ValueError, match="not pylint json2 output"):
        quality.parse_pylint_json2(text)


def test_parse_pylint_json2():
    text = json.dumps({"messages": [
        {"type": "convention", "symbol": "missing-module-docstring", "message": "Missing module docstring",
         "messageId": "C0114", "path": "a.py", "line": 1},
        {"type": "fatal", "symbol": "astroid-error", "message": "boom", "messageId": "F0002",
         "path": "b.py", "line": None}], "statistics": {"score": 7.5}})
    score, findings = quality.parse_pylint_json2(text)
    assert score == 7.5
    assert findings == [
        quality.Finding("pylint", "a.py", 1, "convention", "missing-module-docstring", "C0114",
                        "Missing module docstring"),
        quality.Finding("pylint", "b.py", None, "fatal", "astroid-error", "F0002", "boom")]
    assert findings[1].level == "error" and findings[1].where == "b.py" and findings[0].level == "warning"


def test_parse_vulture_lines():
    text = "\n".join([
        "src/a.py:3: unused import 'os' (90% confidence)",
        r"C:\work\b.py:12: unused function 'f' (60% confidence, 4 lines)",
        "src/a b.py:7: unreachable code after 'return' (100% confidence)",
        "src/c.py:9: unsatisfiable 'while' condition (100% confidence)",
        "bad.py:1: invalid syntax at \"def (\"",
        "noise", ""])
    findings = quality.parse_vulture(text)
    assert [(f.file, f.line, f.symbol, f.confidence) for f in findings] == [
        ("src/a.py", 3, "unused-import", 90), (r"C:\work\b.py", 12, "unused-function", 60),
        ("src/a b.py", 7, "unreachable-code", 100), ("src/c.py", 9, "unsatisfiable-condition", 100)]
    assert findings[0].text() == "unused import 'os' (90% confidence)" and findings[0].title() == "dead code"
    assert findings[0].category == quality.DEAD_CODE and findings[0].level == "warning"


def test_module_names(tmp_path):
    write(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/sub/__init__.py": "", "src/pkg/sub/m.py": "",
                     "scripts/run.py": ""})
    assert quality.module_name(tmp_path / "src/pkg/sub/m.py") == "pkg.sub.m"
    assert quality.module_name(tmp_path / "src/pkg/__init__.py") == "pkg"
    assert quality.module_name(tmp_path / "scripts/run.py") == "run"
    index = quality.module_index([str(tmp_path / "src"), str(tmp_path / "scripts/run.py")])
    assert index["pkg.sub.m"].endswith("src/pkg/sub/m.py") and index["run"].endswith("scripts/run.py")


def test_duplicate_block_of_an_unknown_module_keeps_its_name(tmp_path):
    write(tmp_path, {"a.py": ""})
    finding = quality.Finding("pylint", "a.py", 1, "refactor", "duplicate-code", "R0801",
                              "Similar lines in 2 files\n==a:[0:6]\n==gone.mod:[2:8]\n    x = 1")
    other = quality.Finding("pylint", "a.py", 2, "warning", "unused-import", "W0611", "Unused import os")
    odd = quality.Finding("pylint", "a.py", 1, "refactor", "duplicate-code", "R0801", "Similar lines")
    resolved = quality.resolve_duplicates([finding, other, odd], [str(tmp_path / "a.py")])
    assert resolved[1:] == [other, odd]
    assert resolved[0].blocks[1] == ("gone.mod", 3, 8) and resolved[0].line == 1
    assert resolved[0].detail.endswith("a.py:1-6, gone.mod:3-8")
    assert quality.resolve_duplicates([other], []) == [other]


def test_lint_reasons():
    error = quality.Finding("pylint", "a.py", 1, "error", "no-member", "E1101", "x")
    dead = quality.Finding("vulture", "a.py", 2, quality.DEAD_CODE, "unused-function", "", "f", 60)
    assert quality.lint_reasons(9.0, 9.0, []) == []
    assert quality.lint_reasons(8.99, 9.0, [error, dead], 60) == [
        "pylint score 8.99/10 is under the gate 9",
        "pylint found 1 message(s) the gate fails on (no-member), whatever the score",
        "vulture found 1 piece(s) of dead code (min confidence 60%)"]
    warning = quality.Finding("pylint", "a.py", 3, "warning", "unused-import", "W0611", "os")
    duplicate = quality.Finding("pylint", "a.py", 4, "refactor", "duplicate-code", "R0801", "dup")
    naming = quality.Finding("pylint", "a.py", 5, "convention", "invalid-name", "C0103", "Bad")
    default = frozenset(quality.DEFAULT_FAIL_ON.split(","))
    assert len(quality.lint_reasons(9.5, 9.0, [warning, duplicate, naming], fail_on=default)) == 1
    assert quality.lint_reasons(9.5, 9.0, [naming], fail_on=default) == []
    assert quality.lint_reasons(9.5, 9.0, [warning], fail_on=frozenset({"error"})) == []
    assert quality.lint_reasons(9.5, 9.0, [naming], fail_on=frozenset({"C0103"})) != []


def test_display_path_is_relative_to_the_workspace(tmp_path, monkeypatch):
    project = tmp_path / "repo" / "examples" / "proj"
    project.mkdir(parents=True)
    monkeypatch.chdir(project)
    assert quality.display_path("src/a.py") == "src/a.py"
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "repo"))
    assert quality.display_path("src/a.py") == "examples/proj/src/a.py"
    assert quality.display_path(str(project / "t.py")) == "examples/proj/t.py"
    assert quality.display_path("/elsewhere/x.py") == "/elsewhere/x.py"


def test_annotations_are_capped_inside_actions(capsys, monkeypatch):
    items = [("warning", f"finding {number}", "a.py", number, "t") for number in range(1, 61)]
    quality._annotate(items, "findings")  # pylint: disable=protected-access
    assert len(capsys.readouterr().err.splitlines()) == 60  # a terminal gets them all
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    quality._annotate(items, "findings")  # pylint: disable=protected-access
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == quality.MAX_ANNOTATIONS + 1
    assert lines[-1] == "::notice::10 more findings not annotated: see the job summary"


# --- lint against a faked pylint / vulture ------------------------------------------------------------

def fake_tools(monkeypatch, pylint=(0, "", ""), vulture=(0, "", "")):
    """Make quality's subprocess.run answer (exit code, stdout, stderr) per tool."""
    def run(command, **_):
        code, out, err = pylint if "pylint" in command else vulture
        return subprocess.CompletedProcess(command, code, out, err)
    monkeypatch.setattr(quality.subprocess, "run", run)


def pylint_json(messages=(), score=10.0) -> str:
    return json.dumps({"messages": list(messages), "statistics": {"score": score}})


@pytest.fixture(name="tiny")
def _tiny(tmp_path) -> Path:
    return write(tmp_path, {"mod.py": '"""M."""\n'})


def test_fatal_pylint_message_is_exit_2(tiny, monkeypatch):
    fatal = {"type": "fatal", "symbol": "astroid-error", "message": "cannot parse", "messageId": "F0002",
             "path": "mod.py", "line": 1}
    fake_tools(monkeypatch, pylint=(1, pylint_json([fatal], 0), ""))
    run = run_cli(tiny, "lint")
    assert run.code == 2
    assert run.annotations() == ["::error file=mod.py,line=1,title=pylint fatal::pylint could not lint: "
                                 "cannot parse (F0002 astroid-error)"]


def test_pylint_fatal_exit_without_a_message_is_exit_2(tiny, monkeypatch):
    fake_tools(monkeypatch, pylint=(1, pylint_json(), "RecursionError: too deep\n"))
    run = run_cli(tiny, "lint", actions=False)
    assert run.code == 2 and "pylint stopped on a fatal error: RecursionError: too deep" in run.err


def test_pylint_usage_error_is_exit_2(tiny, monkeypatch):
    fake_tools(monkeypatch, pylint=(32, "", "usage: pylint ...\npylint: error: no such option: --x\n"))
    run = run_cli(tiny, "lint", actions=False)
    assert run.code == 2 and "pylint usage error: pylint: error: no such option: --x" in run.err


def test_pylint_crash_is_exit_2(tiny, monkeypatch):
    fake_tools(monkeypatch, pylint=(0, "Traceback ...", ""))
    run = run_cli(tiny, "lint", actions=False)
    assert run.code == 2 and "pylint crashed (exit 0): Traceback ..." in run.err


def test_vulture_usage_error_is_exit_2(tiny, monkeypatch):
    fake_tools(monkeypatch, pylint=(0, pylint_json(), ""), vulture=(2, "", "vulture: error: bad\n"))
    run = run_cli(tiny, "lint", actions=False)
    assert run.code == 2 and "vulture usage error: vulture: error: bad" in run.err


def test_vulture_syntax_errors_are_left_to_pylint(tiny, monkeypatch):
    fake_tools(monkeypatch, pylint=(0, pylint_json(), ""), vulture=(1, "", "mod.py:1: invalid syntax\n"))
    run = run_cli(tiny, "lint", actions=False)
    assert run.code == 0 and run.outputs == {} and run.err == ""


def test_many_findings_fill_a_capped_table(tiny, monkeypatch):
    messages = [{"type": "convention", "symbol": "invalid-name", "message": f"name {number}",
                 "messageId": "C0103", "path": "mod.py", "line": number} for number in range(1, 31)]
    fake_tools(monkeypatch, pylint=(16, pylint_json(messages, 9.5), ""))
    run = run_cli(tiny, "lint", "--no-vulture")
    assert run.code == 0 and "#### Findings (20 of 30)" in run.summary
    assert "30 convention; passed" in run.out


def test_missing_tool_is_exit_2(tiny, monkeypatch):
    real = quality.importlib.util.find_spec
    monkeypatch.setattr(quality.importlib.util, "find_spec",
                        lambda name: None if name in ("pylint", "pytest_cov") else real(name))
    lint = run_cli(tiny, "lint", actions=False)
    assert lint.code == 2 and "pylint is not installed in this environment" in lint.err
    test = run_cli(tiny, "test", actions=False)
    assert test.code == 2 and "pytest_cov is not installed" in test.err


# --- JUnit and coverage XML ---------------------------------------------------------------------------

JUNIT = '''<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" line="4" time="0.5"/>
  <testcase classname="tests.test_a.TestGroup" name="test_bad[1]" file="tests/test_a.py" line="11"
            time="2.25"><failure message="AssertionError: math&#10;assert 2 == 3">...
tests/test_a.py:16: AssertionError</failure></testcase>
  <testcase classname="tests.test_b" name="test_setup" file="tests/test_b.py" line="0" time="x">
    <error message="failed on setup with &quot;file tests/test_b.py, line 1&quot;">
E       fixture 'db' not found</error></testcase>
  <testcase classname="tests.test_b" name="test_later" time="0.1"><skipped message="later"/></testcase>
  <testcase classname="tests.test_c" name="test_quiet" time="0.2"><error message=""/></testcase>
  <testcase classname="tests.test_d.TestX" name="test_mapped" time="0.3">
    <failure message="">boom happened</failure></testcase>
  <testcase classname="nowhere.test_e" name="test_lost" time="0.1"><failure message="lost"/></testcase>
</testsuite></testsuites>
'''


def test_parse_junit(tmp_path):
    write(tmp_path, {"junit.xml": JUNIT,
                     "tests/test_d.py": "class TestX:\n\n    def test_mapped(self):\n        assert 0\n"})
    cases = quality.parse_junit(tmp_path / "junit.xml")
    assert [(case.outcome, case.line, case.time) for case in cases] == [
        ("passed", 5, 0.5), ("failed", 12, 2.25), ("error", 1, 0.0), ("skipped", None, 0.1),
        ("error", None, 0.2), ("failed", None, 0.3), ("failed", None, 0.1)]
    ok, bad, setup, skipped, quiet, mapped, lost = cases
    assert ok.test_id == "tests/test_a.py::test_ok"
    assert bad.test_id == "tests/test_a.py::TestGroup::test_bad[1]" and bad.message == "AssertionError: math"
    assert setup.message == "failed on setup: fixture 'db' not found"
    assert skipped.test_id == "tests.test_b.test_later" and skipped.message == "later"
    assert quiet.message == "" and mapped.message == "boom happened"
    locations = [quality._testcase_location(case)  # pylint: disable=protected-access
                 for case in (bad, setup, mapped, lost)]
    assert locations == [("tests/test_a.py", 16), ("tests/test_b.py", 1), ("tests/test_d.py", 3),
                         (None, None)]
    result = quality.PytestResult(cases, quality.Coverage(50.0), 80.0,
                                  quality.pytest_reasons(cases, quality.Coverage(50.0), 80.0))
    assert result.reasons == ["3 test(s) failed, 2 errored", "coverage 50.00% is under the gate 80%"]
    summary = quality.pytest_summary(result)
    assert "#### Failing tests (5 of 5)" in summary
    assert "| nowhere.test\\_e.test\\_lost |  | lost |" in summary
    assert summary.index("test\\_bad\\[1\\] | 2.25") < summary.index("test\\_ok | 0.50")


def test_unreadable_junit_is_an_input_error(tmp_path):
    write(tmp_path, {"bad.xml": "<testsuites"})
    with pytest.raises(MlopsCiError, match="malformed XML"):
        quality.parse_junit(tmp_path / "bad.xml")
    with pytest.raises(MlopsCiError, match="not written"):
        quality.parse_junit(tmp_path / "none.xml")


def test_parse_coverage(tmp_path):
    write(tmp_path, {
        "branches.xml": '<coverage lines-valid="90" lines-covered="80" branches-valid="10" '
                        'branches-covered="5" line-rate="0.8889"><sources><source>' + str(tmp_path / "src")
                        + '</source></sources><packages><package><classes>'
                          '<class filename="a.py" line-rate="0.5"/><class filename="b.py" line-rate="odd"/>'
                          '</classes></package></packages></coverage>',
        "rate.xml": '<coverage line-rate="0.75"/>',
        "empty.xml": '<coverage lines-valid="0" lines-covered="0" branches-valid="0" branches-covered="0"/>',
        "odd.xml": "<coverage/>",
        "nosource.xml": '<coverage line-rate="1"><class filename="c.py" line-rate="1"/></coverage>'})
    assert quality.parse_coverage(tmp_path / "branches.xml") == quality.Coverage(85.0, (("src/a.py", 50.0),))
    assert quality.parse_coverage(tmp_path / "rate.xml").percent == 75.0
    assert quality.parse_coverage(tmp_path / "empty.xml").percent == 100.0
    assert quality.parse_coverage(tmp_path / "nosource.xml").files == (("c.py", 100.0),)
    with pytest.raises(MlopsCiError, match="no line-rate"):
        quality.parse_coverage(tmp_path / "odd.xml")


def test_coverage_gate_compares_two_decimals():
    assert quality.pytest_reasons([], quality.Coverage(79.996), 80.0) == []
    assert quality.pytest_reasons([], quality.Coverage(79.99), 80.0) == [
        "coverage 79.99% is under the gate 80%"]
    assert quality.pytest_reasons([], None, 80.0) == []


def test_summary_without_tests_or_coverage():
    result = quality.PytestResult([], None, 80.0, ["no tests collected (pytest exit 5)"])
    summary = quality.pytest_summary(result, {"score": 9.5, "fail_under": 9.0, "passed": True})
    assert summary.startswith("### test: ❌ 0 passed, 0 failed, 0 errors, coverage not measured (gate 80%)")
    assert "| 0 | 0 | 0 | 0 | not measured (gate 80%) | 9.50/10 (gate 9) ✅ |" in summary
    assert "Slowest" not in summary and "Failing" not in summary and "Least covered" not in summary


def test_evaluate_pytest_exit_codes(tmp_path):
    junit, coverage = tmp_path / "j.xml", tmp_path / "c.xml"
    with pytest.raises(MlopsCiError, match=r"pytest could not run \(exit 3\): INTERNALERROR> boom"):
        quality.evaluate_pytest(3, ["INTERNALERROR> boom", "  more"], junit, coverage, 80)
    with pytest.raises(MlopsCiError, match=r"could not run \(exit 2\): last words"):
        quality.evaluate_pytest(2, ["", "last words"], junit, coverage, 80)
    with pytest.raises(MlopsCiError, match=r"could not run \(exit 137\): \(no output\)"):
        quality.evaluate_pytest(137, [], junit, coverage, 80)
    write(tmp_path, {"j.xml": '<testsuite><testcase classname="t" name="test_a"/></testsuite>',
                     "c.xml": '<coverage line-rate="1"/>'})
    plugin = quality.evaluate_pytest(1, [], junit, coverage, 80)
    assert plugin.reasons == ["pytest exited 1 with no failing test: a plugin's check said no (see its "
                              "output above; e.g. --cov-fail-under in the project's addopts)"]
    write(tmp_path, {"j.xml": '<testsuite><testcase classname="" name="t"><error message="collection '
                              'failure"/></testcase></testsuite>'})
    coverage.unlink()
    interrupted = quality.evaluate_pytest(2, [], junit, coverage, 80)
    assert interrupted.coverage is None and interrupted.reasons == ["0 test(s) failed, 1 errored"]


@pytest.mark.parametrize("text", ["{", '{"score": 9}', "[]"])
def test_unreadable_lint_report_is_a_warning(tmp_path, capsys, text):
    write(tmp_path, {"lint.json": text})
    assert quality.read_lint_report(str(tmp_path / "lint.json")) is None
    assert "warning: lint report" in capsys.readouterr().err
