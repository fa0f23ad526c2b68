"""`mlops-ci test`: pytest on small scratch projects (each tested once per module) and the JUnit and
coverage XML parsers on crafted input (the example project through both gates:
tests/integration/quality/test_quality_example.py)."""

from __future__ import annotations


import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.quality import common
from mlops_ci.quality import test as gate
from testing.quality import CLEAN, DIRTY, Run, run_cli, write
from testing.quality import isolated_folder  # pylint: disable=unused-import  # autouse fixture

# --- the clean project passes ---------------------------------------------------------------------

@pytest.fixture(scope="module", name="clean")
def _clean(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("clean"), CLEAN)
    run_cli(project, "lint", "--report", "reports/lint.json")  # its score goes into the test summary
    return {"test": run_cli(project, "test", "--lint-report", "reports/lint.json"), "project": project}


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


# --- the dirty project: a failing test, coverage under the gate ------------------------------------

@pytest.fixture(scope="module", name="dirty")
def _dirty(tmp_path_factory) -> dict[str, Run]:
    project = write(tmp_path_factory.mktemp("dirty"), DIRTY)
    return {
        "test": run_cli(project, "test", "--lint-report", "missing.json"),
        "coverage": run_cli(project, "test", "--cov-fail-under", "95", "--",
                            "tests/test_orders.py::test_total"),
    }


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


def test_out_of_range_coverage_gate_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as raised:
        run_cli(tmp_path, "test", "--cov-fail-under", "-1", actions=False)
    assert raised.value.code == 2


def test_missing_tool_is_exit_2(tmp_path, monkeypatch):
    real = common.importlib.util.find_spec
    monkeypatch.setattr(common.importlib.util, "find_spec",
                        lambda name: None if name in ("pylint", "pytest_cov") else real(name))
    test = run_cli(tmp_path, "test", actions=False)
    assert test.code == 2 and "pytest_cov is not installed" in test.err


# --- command line, JUnit and coverage XML -------------------------------------------------------------

def test_pytest_command_line():
    assert gate.pytest_command(["src", "lib"], "j.xml", "c.xml", ["-k", "x"], python="py") == [
        "py", "-m", "pytest", "--junit-xml=j.xml", "-o", "junit_family=xunit1", "--cov=src", "--cov=lib",
        "--cov-report=xml:c.xml", "--cov-report=term-missing:skip-covered", "-k", "x"]


def test_default_cov(tmp_path):
    assert gate.default_cov(tmp_path) == ["."]
    (tmp_path / "src").mkdir()
    assert gate.default_cov(tmp_path) == ["src"]


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
    cases = gate.parse_junit(tmp_path / "junit.xml")
    assert [(case.outcome, case.line, case.time) for case in cases] == [
        ("passed", 5, 0.5), ("failed", 12, 2.25), ("error", 1, 0.0), ("skipped", None, 0.1),
        ("error", None, 0.2), ("failed", None, 0.3), ("failed", None, 0.1)]
    ok, bad, setup, skipped, quiet, mapped, lost = cases
    assert ok.test_id == "tests/test_a.py::test_ok"
    assert bad.test_id == "tests/test_a.py::TestGroup::test_bad[1]" and bad.message == "AssertionError: math"
    assert setup.message == "failed on setup: fixture 'db' not found"
    assert skipped.test_id == "tests.test_b.test_later" and skipped.message == "later"
    assert quiet.message == "" and mapped.message == "boom happened"
    locations = [gate._testcase_location(case)  # pylint: disable=protected-access
                 for case in (bad, setup, mapped, lost)]
    assert locations == [("tests/test_a.py", 16), ("tests/test_b.py", 1), ("tests/test_d.py", 3),
                         (None, None)]
    result = gate.PytestResult(cases, gate.Coverage(50.0), 80.0,
                                  gate.pytest_reasons(cases, gate.Coverage(50.0), 80.0))
    assert result.reasons == ["3 test(s) failed, 2 errored", "coverage 50.00% is under the gate 80%"]
    summary = gate.pytest_summary(result)
    assert "#### Failing tests (5 of 5)" in summary
    assert "| nowhere.test\\_e.test\\_lost |  | lost |" in summary
    assert summary.index("test\\_bad\\[1\\] | 2.25") < summary.index("test\\_ok | 0.50")


def test_unreadable_junit_is_an_input_error(tmp_path):
    write(tmp_path, {"bad.xml": "<testsuites"})
    with pytest.raises(MlopsCiError, match="malformed XML"):
        gate.parse_junit(tmp_path / "bad.xml")
    with pytest.raises(MlopsCiError, match="not written"):
        gate.parse_junit(tmp_path / "none.xml")


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
    assert gate.parse_coverage(tmp_path / "branches.xml") == gate.Coverage(85.0, (("src/a.py", 50.0),))
    assert gate.parse_coverage(tmp_path / "rate.xml").percent == 75.0
    assert gate.parse_coverage(tmp_path / "empty.xml").percent == 100.0
    assert gate.parse_coverage(tmp_path / "nosource.xml").files == (("c.py", 100.0),)
    with pytest.raises(MlopsCiError, match="no line-rate"):
        gate.parse_coverage(tmp_path / "odd.xml")


def test_coverage_gate_compares_two_decimals():
    assert gate.pytest_reasons([], gate.Coverage(79.996), 80.0) == []
    assert gate.pytest_reasons([], gate.Coverage(79.99), 80.0) == [
        "coverage 79.99% is under the gate 80%"]
    assert gate.pytest_reasons([], None, 80.0) == []


def test_summary_without_tests_or_coverage():
    result = gate.PytestResult([], None, 80.0, ["no tests collected (pytest exit 5)"])
    summary = gate.pytest_summary(result, {"score": 9.5, "fail_under": 9.0, "passed": True})
    assert summary.startswith("### test: ❌ 0 passed, 0 failed, 0 errors, coverage not measured (gate 80%)")
    assert "| 0 | 0 | 0 | 0 | not measured (gate 80%) | 9.50/10 (gate 9) ✅ |" in summary
    assert "Slowest" not in summary and "Failing" not in summary and "Least covered" not in summary


def test_evaluate_pytest_exit_codes(tmp_path):
    junit, coverage = tmp_path / "j.xml", tmp_path / "c.xml"
    with pytest.raises(MlopsCiError, match=r"pytest could not run \(exit 3\): INTERNALERROR> boom"):
        gate.evaluate_pytest(3, ["INTERNALERROR> boom", "  more"], junit, coverage, 80)
    with pytest.raises(MlopsCiError, match=r"could not run \(exit 2\): last words"):
        gate.evaluate_pytest(2, ["", "last words"], junit, coverage, 80)
    with pytest.raises(MlopsCiError, match=r"could not run \(exit 137\): \(no output\)"):
        gate.evaluate_pytest(137, [], junit, coverage, 80)
    write(tmp_path, {"j.xml": '<testsuite><testcase classname="t" name="test_a"/></testsuite>',
                     "c.xml": '<coverage line-rate="1"/>'})
    plugin = gate.evaluate_pytest(1, [], junit, coverage, 80)
    assert plugin.reasons == ["pytest exited 1 with no failing test: a plugin's check said no (see its "
                              "output above; e.g. --cov-fail-under in the project's addopts)"]
    write(tmp_path, {"j.xml": '<testsuite><testcase classname="" name="t"><error message="collection '
                              'failure"/></testcase></testsuite>'})
    coverage.unlink()
    interrupted = gate.evaluate_pytest(2, [], junit, coverage, 80)
    assert interrupted.coverage is None and interrupted.reasons == ["0 test(s) failed, 1 errored"]


@pytest.mark.parametrize("text", ["{", '{"score": 9}', "[]"])
def test_unreadable_lint_report_is_a_warning(tmp_path, capsys, text):
    write(tmp_path, {"lint.json": text})
    assert gate.read_lint_report(str(tmp_path / "lint.json")) is None
    assert "warning: lint report" in capsys.readouterr().err
