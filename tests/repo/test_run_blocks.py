"""tools/run_blocks.py: shellcheck of the bash/sh `run:` scripts in workflows and actions."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _import_tool():
    """tools/run_blocks.py is a standalone script, not part of the mlops_ci package."""
    spec = importlib.util.spec_from_file_location("run_blocks", ROOT / "tools" / "run_blocks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_blocks = _import_tool()
needs_shellcheck = pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")

WORKFLOW = """\
name: t
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: script
        run: |
{script}
"""


def workflow(script: str) -> str:
    """A one-job workflow whose second step runs `script` (its first line is line 10 of the file)."""
    return WORKFLOW.format(script=textwrap.indent(textwrap.dedent(script).strip("\n"), " " * 10))


def lint(tmp_path: Path, capsys, text: str, name: str = "wf.yml") -> tuple[int, list[str]]:
    """Run the tool's main on one file with `text`: (exit status, findings without the path)."""
    path = tmp_path / name
    path.write_text(text)
    status = run_blocks.main([str(path)])
    findings = capsys.readouterr().out.splitlines()
    return status, [finding.removeprefix(f"{path}:") for finding in findings]


def column(text: str, line: int, needle: str) -> str:
    """`line:column` of `needle` on a 1-based line of `text`, as the tool prints it."""
    return f"{line}:{text.splitlines()[line - 1].index(needle) + 1}"


@needs_shellcheck
def test_clean_block_passes(tmp_path, capsys):
    script = """
        set -x
        version=$(python --version)
        echo "version=$version" >> "$GITHUB_OUTPUT"
        echo "done" >> "$GITHUB_STEP_SUMMARY"
    """
    assert lint(tmp_path, capsys, workflow(script)) == (0, [])


@needs_shellcheck
def test_unquoted_variable_is_reported_at_its_yaml_line_and_column(tmp_path, capsys):
    script = """
        name=$(hostname)

          echo $name
    """
    text = workflow(script)
    status, findings = lint(tmp_path, capsys, text)
    assert status == 1
    message = "SC2086: Double quote to prevent globbing and word splitting."
    assert findings == [f"{column(text, 12, '$name')}: {message}"]


@needs_shellcheck
def test_one_line_and_quoted_scalars_map_to_their_line(tmp_path, capsys):
    text = workflow("true").replace("run: |\n          true", "run: 'echo $x'") + "      - run: echo $y\n"
    status, findings = lint(tmp_path, capsys, text)
    assert status == 1
    x, y = column(text, 9, "$x"), column(text, 10, "$y")
    assert [finding.split(": ")[:2] for finding in findings] == [
        [x, "SC2086"], [x, "SC2154"], [y, "SC2086"], [y, "SC2154"]]


@needs_shellcheck
def test_expressions_become_placeholders_without_findings(tmp_path, capsys):
    script = """
        if [ "${{ inputs.flag }}" = "true" ] && [ -n "${{ inputs.name }}" ]; then
          echo "${{ github.ref }}" "$PREFIX${{ inputs.suffix }}" "$(( ${{ inputs.n }} + 1 ))"
        fi
        case "${{ matrix.os }}" in ubuntu*) echo linux ;; esac
        for flag in ${{ inputs.flags }}; do echo "$flag"; done
        echo "${{ toJSON(
          inputs) }}"
    """
    text = workflow(script).replace("      - name", "      - env: {PREFIX: p}\n        name")
    assert lint(tmp_path, capsys, text) == (0, [])


def test_sanitize_keeps_length_and_lines():
    script = 'echo "${{ a }}" ${{ b\n }}x\n'
    sanitized = run_blocks.sanitize(script)
    assert sanitized == 'echo "________" _____\n___x\n'
    assert run_blocks.expression_spans(script) == [(1, 7, 15), (1, 17, 22), (2, 1, 4)]


@needs_shellcheck
def test_a_real_finding_next_to_an_expression_is_kept(tmp_path, capsys):
    status, findings = lint(tmp_path, capsys, workflow('echo "${{ inputs.a }}" $TYPO'))
    assert status == 1
    assert [finding.split(": ")[1] for finding in findings] == ["SC2086", "SC2154"]


def test_python_pwsh_and_windows_default_are_skipped():
    text = """\
on: push
jobs:
  linux:
    runs-on: ubuntu-latest
    steps:
      - {shell: python, run: "print($x)"}
      - {shell: pwsh, run: "Write-Output $x"}
      - {shell: "python {0}", run: "print($x)"}
      - {shell: sh, run: "echo ok"}
  windows:
    runs-on: [self-hosted, Windows]
    steps:
      - run: Write-Output $x
      - {shell: bash, run: "echo ok"}
"""
    blocks = run_blocks.extract("wf.yml", text)
    assert [(block.line, block.command) for block in blocks] == [(9, "sh -e {0}"),
                                                                  (14, run_blocks.SHELL_COMMANDS["bash"])]


def test_shell_precedence_step_job_workflow_default():
    text = """\
on: push
defaults: {run: {shell: sh}}
jobs:
  a:
    runs-on: ubuntu-latest
    defaults: {run: {shell: "bash -x {0}"}}
    steps:
      - run: echo job
      - {shell: bash, run: echo step}
  b:
    runs-on: ubuntu-latest
    steps: [{run: echo workflow}]
"""
    assert [block.command for block in run_blocks.extract("wf.yml", text)] == [
        "bash -x {0}", "bash --noprofile --norc -eo pipefail {0}", "sh -e {0}"]
    unspecified = run_blocks.extract("wf.yml", "on: push\njobs: {a: {steps: [{run: x}]}}\n")
    assert unspecified[0].command == "bash -e {0}"


def test_generated_file_runs_as_github_does():
    block = run_blocks.extract("wf.yml", workflow("echo ${{ x }}"))[0]
    lines = run_blocks.script_file(block).splitlines()
    assert lines[:3] == ["#!/usr/bin/env bash",
                         "# shellcheck enable=check-unassigned-uppercase # GitHub runs: "
                         "bash -e {0}", "echo ________"]
    assert lines[3] == "set -e"
    assert lines[4].startswith("export ") and "GITHUB_OUTPUT" in lines[4].split()


ACTION = """\
name: a
description: d
runs:
  using: composite
  steps:
    - uses: actions/checkout@v4
    - shell: bash
      env:
        WANTED: ${{ inputs.wanted }}
      run: |
        # shellcheck disable=SC2086
        echo $WANTED
        echo $WANTED
    - shell: python
      run: print("$x")
    - shell: sh
      env: {WANTED: x}
      run: |
        if [ "$WANTED" == x ]; then echo "$WANTD"; fi
"""


@needs_shellcheck
def test_composite_action_steps(tmp_path, capsys):
    status, findings = lint(tmp_path, capsys, ACTION, name="action.yml")
    assert status == 1
    assert findings == [
        f"{column(ACTION, 19, '==')}: SC3014: In POSIX sh, == in place of = is undefined.",
        f"{column(ACTION, 19, '$WANTD')}: SC2153: Possible misspelling: WANTD may not be assigned. "
        "Did you mean WANTED?",
        f"{column(ACTION, 19, '$WANTD')}: SC2154: WANTD is referenced but not assigned "
        "(did you mean 'WANTED'?).",
    ]


@needs_shellcheck
def test_declared_variables_are_not_sc2154_but_typos_are(tmp_path, capsys):
    text = """\
on: push
env: {TOP: a}
jobs:
  a:
    runs-on: ubuntu-latest
    env: {JOB: b}
    steps:
      - run: |
          echo "SAVED=c" >> "$GITHUB_ENV"
          {
            echo "GROUPED=d"
          } >> "$GITHUB_ENV"
      - env: {STEP: e}
        run: |
          echo "$TOP $JOB $STEP $SAVED $GROUPED $GITHUB_WORKSPACE $RUNNER_TEMP $GITHUB_ACTION_PATH"
          echo "$HOME $PATH ${MAYBE:-}" >> "$GITHUB_STEP_SUMMARY"
          echo "$GITHUB_WORKSPAC"
"""
    status, findings = lint(tmp_path, capsys, text)
    assert status == 1
    typo = column(text, 17, "$GITHUB_WORKSPAC")
    assert [finding.split(": ")[:2] for finding in findings] == [[typo, "SC2153"], [typo, "SC2154"]]


@pytest.mark.parametrize("text", ["jobs: [unclosed\n", "on: push\n---\non: pull_request\n",
                                  "jobs:\n  a:\n    steps:\n      - run: echo a: b\n"])
def test_malformed_yaml_exits_2(tmp_path, capsys, text):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    assert run_blocks.main([str(path)]) == 2
    assert f"{path}:" in capsys.readouterr().err


def test_malformed_yaml_names_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.yml"
    path.write_text("jobs:\n  a:\n    steps:\n      - run: echo a: b\n")
    assert run_blocks.main([str(path), str(tmp_path / "missing.yml")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:20: malformed YAML: mapping values are not allowed here" in err
    assert f"{tmp_path / 'missing.yml'}: cannot read" in err


def test_missing_shellcheck_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(run_blocks, "SHELLCHECK", ("/nonexistent/shellcheck",))
    path = tmp_path / "wf.yml"
    path.write_text(workflow("echo hi"))
    assert run_blocks.main([str(path)]) == 2
    assert "cannot run shellcheck" in capsys.readouterr().err
