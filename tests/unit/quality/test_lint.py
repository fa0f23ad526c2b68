"""`mlops-ci lint`: pylint and vulture on small scratch projects (each linted once per module), the
project's pylint configuration, the parsers on crafted input and a faked pylint and vulture."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.quality import common
from mlops_ci.quality import lint as gate
from testing.quality import CLEAN, DIRTY, Run, run_cli, write
from testing.quality import isolated_folder  # pylint: disable=unused-import  # autouse fixture

# --- the clean project passes ---------------------------------------------------------------------

@pytest.fixture(scope="module", name="clean")
def _clean(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("clean"), CLEAN)
    lint = run_cli(project, "lint", "--report", "reports/lint.json")
    return {"lint": lint, "report": json.loads((project / "reports/lint.json").read_text())}


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
    assert set(report["counts"]) == set(gate.CATEGORIES) and not any(report["counts"].values())


# --- the dirty project: every kind of finding ------------------------------------------------------

@pytest.fixture(scope="module", name="dirty")
def _dirty(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("dirty"), DIRTY)
    return {
        "lint": run_cli(project, "lint", "--vulture-min-confidence", "60", "--report", "lint.json"),
        "report": project / "lint.json",
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


# --- configuration --------------------------------------------------------------------------------

def test_project_config_is_used_and_rcfile_wins(tmp_path):
    write(tmp_path, {".pylintrc": "[MESSAGES CONTROL]\ndisable=missing-module-docstring\n",
                     "mod.py": "VALUE = 1\n"})
    project = run_cli(tmp_path, "lint", "--no-vulture")
    assert project.code == 0 and project.outputs["score"] == "10.00"
    assert ".pylintrc (project)" in project.summary and "vulture not run" in project.summary
    ours = run_cli(tmp_path, "lint", "--rcfile", str(gate.DEFAULT_RCFILE), "--fail-under", "10")
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
    found = gate.project_config(tmp_path)
    assert (found.name if found else None) == expected
    rcfile, origin = gate.choose_rcfile(None, tmp_path)
    assert (rcfile, origin) == ((found, "project") if found else (gate.DEFAULT_RCFILE, "default"))


def test_malformed_pyproject_is_an_input_error(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.pylint\n", "mod.py": '"""M."""\n'})
    run = run_cli(tmp_path, "lint", actions=False)
    assert run.code == 2 and "pyproject.toml: malformed TOML" in run.err


def test_default_pylintrc_is_package_data_pylint_reads():
    text = gate.DEFAULT_RCFILE.read_text(encoding="utf-8")
    assert "max-line-length=110" in text and "min-similarity-lines=6" in text
    assert "good-names=x,y,X,Y,df,lr,i,j,k,_" in text
    completed = subprocess.run([sys.executable, "-m", "pylint", f"--rcfile={gate.DEFAULT_RCFILE}",
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
    ["lint", "--vulture-min-confidence", "101"],
])
def test_out_of_range_gates_are_usage_errors(tmp_path, argv):
    with pytest.raises(SystemExit) as raised:
        run_cli(tmp_path, *argv, actions=False)
    assert raised.value.code == 2


def test_default_paths(tmp_path):
    write(tmp_path, {"src/a.py": "", "tests/t.py": ""})
    assert gate.default_paths(tmp_path) == ["src", "tests"]
    (tmp_path / "tests/t.py").unlink()
    (tmp_path / "tests").rmdir()
    assert gate.default_paths(tmp_path) == ["src"]
    flat = write(tmp_path / "flat", {
        "pkg/__init__.py": "", "pkg/deep/m.py": "", "tests/test_x.py": "", "setup.py": "",
        "notes/readme.txt": "", ".venv/lib/x.py": "", "venv2/pyvenv.cfg": "", "venv2/lib/y.py": "",
        "build/lib/z.py": "", "README.md": ""})
    assert gate.default_paths(flat) == ["pkg", "setup.py", "tests"]
    empty = write(tmp_path / "empty", {"README.md": ""})
    with pytest.raises(MlopsCiError, match="no Python code found"):
        gate.default_paths(empty)


# --- parsers and command lines ------------------------------------------------------------------------

def test_command_lines():
    rcfile = Path("rc")
    assert gate.pylint_command(["src", "tests"], rcfile, python="py") == [
        "py", "-m", "pylint", "--output-format=json2", "--score=y", "--recursive=y", "--rcfile=rc", "--",
        "src", "tests"]
    assert gate.vulture_command(["src"], 70, python="py") == [
        "py", "-m", "vulture", "--min-confidence=70", "--", "src"]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"messages": []}',
                                  '{"messages": [{}], "statistics": {"score": 1}}',
                                  '{"messages": [], "statistics": {"score": "high"}}'])
def test_parse_pylint_json2_refuses_other_output(text):
    with pytest.raises(ValueError, match="not pylint json2 output"):
        gate.parse_pylint_json2(text)


def test_parse_pylint_json2():
    text = json.dumps({"messages": [
        {"type": "convention", "symbol": "missing-module-docstring", "message": "Missing module docstring",
         "messageId": "C0114", "path": "a.py", "line": 1},
        {"type": "fatal", "symbol": "astroid-error", "message": "boom", "messageId": "F0002",
         "path": "b.py", "line": None}], "statistics": {"score": 7.5}})
    score, findings = gate.parse_pylint_json2(text)
    assert score == 7.5
    assert findings == [
        gate.Finding("pylint", "a.py", 1, "convention", "missing-module-docstring", "C0114",
                        "Missing module docstring"),
        gate.Finding("pylint", "b.py", None, "fatal", "astroid-error", "F0002", "boom")]
    assert findings[1].level == "error" and findings[1].where == "b.py" and findings[0].level == "warning"


def test_parse_vulture_lines():
    text = "\n".join([
        "src/a.py:3: unused import 'os' (90% confidence)",
        r"C:\work\b.py:12: unused function 'f' (60% confidence, 4 lines)",
        "src/a b.py:7: unreachable code after 'return' (100% confidence)",
        "src/c.py:9: unsatisfiable 'while' condition (100% confidence)",
        "bad.py:1: invalid syntax at \"def (\"",
        "noise", ""])
    findings = gate.parse_vulture(text)
    assert [(f.file, f.line, f.symbol, f.confidence) for f in findings] == [
        ("src/a.py", 3, "unused-import", 90), (r"C:\work\b.py", 12, "unused-function", 60),
        ("src/a b.py", 7, "unreachable-code", 100), ("src/c.py", 9, "unsatisfiable-condition", 100)]
    assert findings[0].text() == "unused import 'os' (90% confidence)" and findings[0].title() == "dead code"
    assert findings[0].category == gate.DEAD_CODE and findings[0].level == "warning"


def test_module_names(tmp_path):
    write(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/sub/__init__.py": "", "src/pkg/sub/m.py": "",
                     "scripts/run.py": ""})
    assert gate.module_name(tmp_path / "src/pkg/sub/m.py") == "pkg.sub.m"
    assert gate.module_name(tmp_path / "src/pkg/__init__.py") == "pkg"
    assert gate.module_name(tmp_path / "scripts/run.py") == "run"
    index = gate.module_index([str(tmp_path / "src"), str(tmp_path / "scripts/run.py")])
    assert index["pkg.sub.m"].endswith("src/pkg/sub/m.py") and index["run"].endswith("scripts/run.py")


def test_duplicate_block_of_an_unknown_module_keeps_its_name(tmp_path):
    write(tmp_path, {"a.py": ""})
    finding = gate.Finding("pylint", "a.py", 1, "refactor", "duplicate-code", "R0801",
                              "Similar lines in 2 files\n==a:[0:6]\n==gone.mod:[2:8]\n    x = 1")
    other = gate.Finding("pylint", "a.py", 2, "warning", "unused-import", "W0611", "Unused import os")
    odd = gate.Finding("pylint", "a.py", 1, "refactor", "duplicate-code", "R0801", "Similar lines")
    resolved = gate.resolve_duplicates([finding, other, odd], [str(tmp_path / "a.py")])
    assert resolved[1:] == [other, odd]
    assert resolved[0].blocks[1] == ("gone.mod", 3, 8) and resolved[0].line == 1
    assert resolved[0].detail.endswith("a.py:1-6, gone.mod:3-8")
    assert gate.resolve_duplicates([other], []) == [other]


def test_lint_reasons():
    error = gate.Finding("pylint", "a.py", 1, "error", "no-member", "E1101", "x")
    dead = gate.Finding("vulture", "a.py", 2, gate.DEAD_CODE, "unused-function", "", "f", 60)
    assert gate.lint_reasons(9.0, 9.0, []) == []
    assert gate.lint_reasons(8.99, 9.0, [error, dead], 60) == [
        "pylint score 8.99/10 is under the gate 9",
        "pylint found 1 message(s) the gate fails on (no-member), whatever the score",
        "vulture found 1 piece(s) of dead code (min confidence 60%)"]
    warning = gate.Finding("pylint", "a.py", 3, "warning", "unused-import", "W0611", "os")
    duplicate = gate.Finding("pylint", "a.py", 4, "refactor", "duplicate-code", "R0801", "dup")
    naming = gate.Finding("pylint", "a.py", 5, "convention", "invalid-name", "C0103", "Bad")
    default = frozenset(gate.DEFAULT_FAIL_ON.split(","))
    assert len(gate.lint_reasons(9.5, 9.0, [warning, duplicate, naming], fail_on=default)) == 1
    assert gate.lint_reasons(9.5, 9.0, [naming], fail_on=default) == []
    assert gate.lint_reasons(9.5, 9.0, [warning], fail_on=frozenset({"error"})) == []
    assert gate.lint_reasons(9.5, 9.0, [naming], fail_on=frozenset({"C0103"})) != []


# --- lint against a faked pylint / vulture ------------------------------------------------------------

def fake_tools(monkeypatch, pylint=(0, "", ""), vulture=(0, "", "")):
    """Make lint's subprocess.run answer (exit code, stdout, stderr) per tool."""
    def run(command, **_):
        code, out, err = pylint if "pylint" in command else vulture
        return subprocess.CompletedProcess(command, code, out, err)
    monkeypatch.setattr(gate.subprocess, "run", run)


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
    real = common.importlib.util.find_spec
    monkeypatch.setattr(common.importlib.util, "find_spec",
                        lambda name: None if name in ("pylint", "pytest_cov") else real(name))
    lint = run_cli(tiny, "lint", actions=False)
    assert lint.code == 2 and "pylint is not installed in this environment" in lint.err
