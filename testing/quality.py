"""`mlops-ci lint` and `test` run in a scratch project as inside Actions, for the quality tests (fast and
integration alike)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_ci.cli import main
from testing.fixtures import read_outputs

# The outer coverage run must not follow the pylint, vulture and pytest subprocesses (they run no
# mlops_ci code, and a second coverage tracer in the inner pytest would disturb its own).
ENV_DROPPED = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_WORKSPACE",
               "COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "PYLINTRC")


@dataclass
class Run:
    """One `mlops-ci` run: exit code, stdout, stderr, job summary and step outputs."""

    code: int
    out: str
    err: str
    summary: str
    outputs: dict[str, str]

    def annotations(self, level: str = "") -> list[str]:
        """The workflow-command lines (::error ...), optionally of one level."""
        return [line for line in self.out.splitlines() if line.startswith(f"::{level}")]


def run_cli(project: Path, *argv: str, actions: bool = True) -> Run:
    """Run `mlops-ci ARGV` in `project` (inside Actions: annotations on stdout, a summary, outputs)."""
    summary, outputs = project / ".gh-summary.md", project / ".gh-output"
    for path in (summary, outputs):
        path.unlink(missing_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        for name in ENV_DROPPED:
            patch.delenv(name, raising=False)
        if actions:
            patch.setenv("GITHUB_ACTIONS", "true")
            patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
            patch.setenv("GITHUB_OUTPUT", str(outputs))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue(),
               summary.read_text(encoding="utf-8") if summary.exists() else "", read_outputs(outputs))
