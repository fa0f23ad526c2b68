"""`mlops-ci`: one CLI, one module per command.

Each command module has `register(subparsers)`, which adds its parser and sets `handler`, a function
taking the parsed arguments and returning the exit code. Errors raised as `MlopsCiError` become one
readable line (an `::error::` annotation inside Actions) and exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mlops_ci import __version__
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_USAGE, MlopsCiError

# Command modules, in the order `--help` lists them.
COMMAND_MODULES = (
    "mlops_ci.local.command",
    "mlops_ci.gitflow.policy",
    "mlops_ci.gitflow.protect.command",
    "mlops_ci.quality.deps.command",
    "mlops_ci.quality.docker_test",
    "mlops_ci.quality.lint",
    "mlops_ci.quality.test",
    "mlops_ci.report.command",
    "mlops_ci.report.comment",
    "mlops_ci.training.command",
    "mlops_ci.training.track",
    "mlops_ci.training.promote",
    "mlops_ci.monitoring.data_check",
    "mlops_ci.monitoring.drift",
    "mlops_ci.monitoring.compare",
    "mlops_ci.project.init",
    "mlops_ci.project.reference",
    "mlops_ci.project.adopt",
    "mlops_ci.project.doctor",
    "mlops_ci.monitoring.alerts",
    "mlops_ci.monitoring.serve",
    "mlops_ci.monitoring.canary",
    "mlops_ci.monitoring.monitor",
    "mlops_ci.config.command",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        gha.report("error", f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command registered."""
    parser = _Parser(prog="mlops-ci", description="CI/CD backbone for ML project repositories.")
    parser.add_argument("--version", action="version", version=f"mlops-ci {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mlops-ci` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except MlopsCiError as error:
        gha.report("error", str(error) if error.line is None else error.message,
                   file=error.where if error.line is not None else None, line=error.line)
        return error.exit_code
    except KeyboardInterrupt:
        gha.report("error", "interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
