"""New-code mode of `mlops-ci lint` and `mlops-ci test` on scratch git repositories: legacy code on
develop that fails the whole-code gates, and pull requests that add clean code (passes in new-code mode,
fails in whole mode), add a bad line (fails, naming it) or remove clean code (only the ratchet fails).
Each pull request is linted and tested once per module."""

from __future__ import annotations

import json

import pytest

from mlops_ci.core.proc import git
from mlops_ci.quality import lint, newcode
from mlops_ci.quality import test as tests_gate
from testing.quality import (BAD_CHANGE, BAD_LINE, CLEAN_CHANGE, UNTESTED, Run, legacy_repository,
                             run_cli, write)
from testing.quality import isolated_folder  # pylint: disable=unused-import  # autouse fixture

NEW_CODE = ("--mode", "new-code", "--base", "develop")


@pytest.fixture(scope="module", name="clean")
def _clean(tmp_path_factory) -> dict[str, Run]:
    repo = legacy_repository(tmp_path_factory.mktemp("clean"), CLEAN_CHANGE)
    return {"lint": run_cli(repo, "lint", *NEW_CODE, "--report", "lint.json"),
            "lint whole": run_cli(repo, "lint"),
            "test": run_cli(repo, "test", *NEW_CODE, "--", "-p", "no:cacheprovider"),
            "test whole": run_cli(repo, "test", "--", "-p", "no:cacheprovider"),
            "report": json.loads((repo / "lint.json").read_text(encoding="utf-8")),
            "worktrees": git(repo, "worktree", "list")}


@pytest.fixture(scope="module", name="bad")
def _bad(tmp_path_factory) -> dict[str, Run]:
    repo = legacy_repository(tmp_path_factory.mktemp("bad"), BAD_CHANGE)
    return {"lint": run_cli(repo, "lint", *NEW_CODE),
            "test": run_cli(repo, "test", *NEW_CODE, "--", "-p", "no:cacheprovider")}


@pytest.fixture(scope="module", name="ratchet")
def _ratchet(tmp_path_factory) -> dict[str, Run]:
    repo = legacy_repository(tmp_path_factory.mktemp("ratchet"),
                             removed=("src/legacy/clean.py", "tests/test_clean.py"))
    return {"lint": run_cli(repo, "lint", *NEW_CODE),
            "test": run_cli(repo, "test", *NEW_CODE, "--", "-p", "no:cacheprovider")}


# --- clean new code on legacy code ----------------------------------------------------------------

def test_clean_new_code_fails_whole_mode(clean):
    assert clean["lint whole"].code == 1 and "is under the gate 9" in clean["lint whole"].out
    assert clean["test whole"].code == 1 and "under the gate 80%" in clean["test whole"].out


def test_clean_new_code_passes_lint_in_new_code_mode(clean):
    run = clean["lint"]
    assert run.code == 0, run.out + run.err
    assert run.annotations() == []  # the legacy code's findings are counted, not annotated
    assert "lint: new code since develop: 100.00% of 13 changed line(s) free of pylint messages" in run.out
    assert run.outputs["new-code-pylint"] == "100.00" and run.outputs["new-code-findings"] == "0"
    assert float(run.outputs["score"]) > float(run.outputs["base-score"])
    assert run.summary.startswith("### lint, new code since develop: ✅ 100.00% of 13 changed line(s)")
    assert "| changed lines | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in run.summary
    assert "| whole code |" in run.summary


def test_the_lint_report_holds_both_figures(clean):
    report = clean["report"]
    assert report["mode"] == "new-code" and report["passed"]
    new_code = report["new_code"]
    assert new_code["base"] == "develop" and len(new_code["commit"]) == 40
    assert new_code["percent"] == 100.0 and new_code["lines"] == 13 and new_code["findings"] == []
    assert new_code["base_score"] < report["score"]
    assert report["findings"]  # the whole code's, legacy included


def test_clean_new_code_passes_test_in_new_code_mode(clean):
    run = clean["test"]
    assert run.code == 0, run.out + run.err
    assert run.outputs["new-code-coverage"] == "100.00"
    assert float(run.outputs["coverage"]) >= float(run.outputs["base-coverage"])
    assert "test, new code since develop: ✅ 3 passed" in run.summary
    assert "changed lines covered" in run.summary


def test_the_base_checkout_is_removed(clean):
    assert len(clean["worktrees"].splitlines()) == 1


# --- a bad line -----------------------------------------------------------------------------------

def test_a_bad_line_fails_lint_naming_it(bad):
    run = bad["lint"]
    assert run.code == 1
    place = f"src/legacy/sums.py:{BAD_LINE}"
    assert f"free of pylint messages, under the gate 100%: {place}" in run.out
    assert (f"pylint found 1 message(s) the gate fails on (unreachable) on the changed lines since "
            f"develop, whatever the share: {place}") in run.out
    assert (f"vulture found 1 piece(s) of dead code (min confidence 80%) on the changed lines since develop: "
            f"{place}") in run.out
    annotated = run.annotations("error")
    assert any(f"file=src/legacy/sums.py,line={BAD_LINE},title=pylint unreachable" in line
               for line in annotated)
    assert all("legacy/old.py" not in line for line in run.annotations())


def test_a_bad_line_fails_test_naming_the_uncovered_lines(bad):
    run = bad["test"]
    assert run.code == 1
    first, last = UNTESTED
    assert f"not covered: src/legacy/sums.py:{first}-{last}" in run.out
    assert (f"::error file=src/legacy/sums.py,line={first},title=not covered::changed line(s) no test "
            "runs") in run.annotations()
    assert f"| src/legacy/sums.py | {first}-{last} |" in run.summary


# --- the ratchet ----------------------------------------------------------------------------------

def test_removing_clean_code_fails_the_ratchet_only(ratchet):
    run = ratchet["lint"]
    assert run.code == 1
    assert "0 changed line(s)" in run.out
    assert "dropped below the base's" in run.out and "the ratchet" in run.out
    assert float(run.outputs["score"]) < float(run.outputs["base-score"])
    test = ratchet["test"]
    assert test.code == 1
    assert "total coverage" in test.out and "dropped below the base's" in test.out
    assert float(test.outputs["coverage"]) < float(test.outputs["base-coverage"])


# --- settings and errors --------------------------------------------------------------------------

def test_the_config_turns_new_code_mode_on_and_options_win(tmp_path):
    write(tmp_path, {".github/mlops-ci.yml": "quality:\n  mode: new-code\n  new_code: {coverage: 90}\n"})
    assert newcode.settings(None, "develop", None, None, "new_code_coverage") == newcode.Settings(
        "new-code", "develop", 90.0)
    assert newcode.settings(None, "develop", None, None, "new_code_pylint").fail_under == 100.0
    assert newcode.settings("whole", None, 70.0, None, "new_code_coverage") == newcode.Settings(
        "whole", None, 70.0)


def test_new_code_mode_without_a_base_or_with_an_unknown_one_is_exit_2(tmp_path):
    run = run_cli(tmp_path, "lint", "--mode", "new-code", actions=False)
    assert run.code == 2 and "give --base REV" in run.err
    repo = legacy_repository(tmp_path / "repo")
    run = run_cli(repo, "test", "--mode", "new-code", "--base", "nowhere", actions=False)
    assert run.code == 2 and "no branch or commit named 'nowhere'" in run.err


def test_reasons_compare_at_two_decimals():
    figures = lint.NewCodeLint("develop", "a" * 40, 100.0, 3, 100.0, 8.004, ())
    assert not lint.new_code_reasons(8.0, figures)
    assert lint.new_code_reasons(7.99, figures)[0].startswith("the whole-code pylint score 7.99/10 dropped")
    coverage = tests_gate.NewCodeCoverage("develop", "a" * 40, 79.996, 10, 80.0, {"a.py": (3, 4, 7)}, 50.0)
    assert coverage.passed and coverage.uncovered_ranges() == [("a.py", 3, 4), ("a.py", 7, 7)]
    assert tests_gate.new_code_reasons(tests_gate.Coverage(49.99), coverage) == [
        "total coverage 49.99% dropped below the base's 50.00% (develop at aaaaaaaaaaaa): the ratchet"]
