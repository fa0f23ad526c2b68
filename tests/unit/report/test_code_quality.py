"""The report's Code quality section: the lint-test job's outputs, read as JSON and rendered."""

from __future__ import annotations

import json

import pytest

from mlops_ci.report import command as report
from mlops_ci.report import records, sources
from mlops_ci.report.render import render
from mlops_ci.core.errors import MlopsCiError

WHOLE = {"pylint-score": "9.12", "coverage": "81.5", "base-pylint-score": "", "base-coverage": "",
         "new-code-pylint": "", "new-code-coverage": ""}
NEW_CODE = {"pylint-score": "8.70", "coverage": "14.2", "base-pylint-score": "8.61", "base-coverage": "14.9",
            "new-code-pylint": "100.0", "new-code-coverage": "87.5"}


def report_with(outputs: dict | None) -> records.Report:
    return report.build_report("origin/develop", {}, quality=sources.code_quality(json.dumps(outputs)))


def test_whole_code_mode_shows_the_pr_figures_without_a_base():
    markdown, _ = render(report_with(WHOLE))
    section = markdown.split("### Code quality", 1)[1].split("###", 1)[0]
    assert "| pylint score, whole code (/10) | 9.12 | — | — |" in section
    assert "| coverage, whole code (%) | 81.50 | — | — |" in section
    assert "changed lines" not in section  # new-code figures only in new-code mode


def test_new_code_mode_shows_the_ratchet_and_the_changed_lines():
    built = report_with(NEW_CODE)
    markdown, _ = render(built)
    section = markdown.split("### Code quality", 1)[1].split("###", 1)[0]
    assert "| pylint score, whole code (/10) | 8.70 | 8.61 | ▲ +0.09" in section and "✅" in section
    assert "| coverage, whole code (%) | 14.20 | 14.90 | ▼ -0.70" in section and "⚠️" in section
    assert "| changed lines free of pylint messages (%) | 100.00 |" in section
    assert "| changed lines covered (%) | 87.50 |" in section
    assert report.to_json(built)["code_quality"] == {
        "pylint_score": 8.7, "coverage": 14.2, "base_pylint_score": 8.61, "base_coverage": 14.9,
        "new_code_pylint": 100.0, "new_code_coverage": 87.5}


# None ("null"): toJSON(needs.lint-test.outputs) in a caller whose train job doesn't need lint-test.
@pytest.mark.parametrize("outputs", [None, {}, dict.fromkeys(WHOLE, ""), {"a-later-output": "1"}])
def test_no_figures_no_section(outputs):
    built = report_with(outputs)
    assert not built.code_quality.measured
    assert "Code quality" not in render(built)[0]


@pytest.mark.parametrize("text, message", [("{", "not JSON"), ("[1]", "expected a JSON object"),
                                           ('{"coverage": "high"}', "coverage: 'high' is not a number")])
def test_bad_outputs_name_the_option(text, message):
    with pytest.raises(MlopsCiError) as raised:
        sources.code_quality(text)
    assert message in str(raised.value) and raised.value.where == "--code-quality"
