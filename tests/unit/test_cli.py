"""The CLI contract shared by every command: --help, --version, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlops_ci import __version__
from mlops_ci.core import gha
from mlops_ci.cli import COMMAND_MODULES, build_parser, main
from mlops_ci.core.errors import CheckFailed, MlopsCiError

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # pylint: disable=protected-access


def test_every_command_module_adds_a_command():
    assert len(COMMANDS) >= len(COMMAND_MODULES)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])
    assert caught.value.code == 0
    assert f"mlops-ci {command}" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"mlops-ci {__version__}"


def test_usage_error_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and len(err.strip().splitlines()) == 1


def test_usage_error_inside_actions_is_an_annotation(capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(SystemExit):
        main(["local"])
    assert capsys.readouterr().out.startswith("::error::mlops-ci local: ")


def parser_with_failing_command(monkeypatch, error):
    """The real parser plus a command `boom` whose handler raises `error`."""
    parser = build_parser()
    subparsers = parser._subparsers._group_actions[0]  # pylint: disable=protected-access

    def handler(_args):
        raise error

    subparsers.add_parser("boom").set_defaults(handler=handler)
    monkeypatch.setattr("mlops_ci.cli.build_parser", lambda: parser)


@pytest.mark.parametrize(("error", "code", "line"), [
    (MlopsCiError("broken", where="params.yaml", line=3), 2, "error: params.yaml:3: broken"),
    (MlopsCiError("down", where="http://127.0.0.1:5000"), 2, "error: http://127.0.0.1:5000: down"),
    (CheckFailed("gate said no"), 1, "error: gate said no"),
    (KeyboardInterrupt(), 130, "error: interrupted"),
])
def test_errors_become_one_line_and_an_exit_code(monkeypatch, capsys, error, code, line):
    parser_with_failing_command(monkeypatch, error)
    assert main(["boom"]) == code
    assert capsys.readouterr().err.strip() == line


def test_errors_inside_actions_name_file_and_line(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    parser_with_failing_command(monkeypatch, MlopsCiError("bad, really: bad", where="a.yml", line=2))
    assert main(["boom"]) == 2
    assert capsys.readouterr().out.strip() == "::error file=a.yml,line=2::bad, really: bad"


def test_python_dash_m_runs_the_cli():
    done = subprocess.run([sys.executable, "-m", "mlops_ci", "--version"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == f"mlops-ci {__version__}"


def test_annotation_cannot_smuggle_a_second_command():
    text = gha.annotation("error", "first\n::error::second", file="a,b:c.py", title="t")
    assert text.count("\n") == 0 and text.startswith("::error file=a%2Cb%3Ac.py,title=t::first%0A")


def test_summary_and_outputs_outside_actions_are_skipped(monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    assert gha.append_summary("# x") is False and gha.set_output("a", "b") is False


def test_summary_and_multiline_outputs(monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    assert gha.append_summary("# title\n\n") and gha.append_summary("line")
    assert (tmp_path / "summary").read_text() == "# title\nline\n"
    assert gha.set_output("report", "two\nlines")
    name_line, *value, end = (tmp_path / "output").read_text().splitlines()
    assert name_line.startswith("report<<") and value == ["two", "lines"] and end == name_line[8:]
