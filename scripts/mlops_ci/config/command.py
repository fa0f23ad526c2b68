"""`mlops-ci config check [--config FILE]`: validate .github/mlops-ci.yml, every section at once.

Also the `mlops-ci-config` pre-commit hook. Exit 0 when the file is valid (or absent: the built-in
defaults apply), 2 when it is not, naming the file, the line and the key.
"""

from __future__ import annotations

import argparse

from mlops_ci import config
from mlops_ci.core.errors import EXIT_OK


def check(option: str | None) -> str:
    """What was checked, for the one line printed; an invalid file is an MlopsCiError."""
    found = config.load(option)
    if found.source is None:
        return f"config: no {config.DEFAULT_PATH}: the built-in defaults apply"
    return f"config: {found.source} is valid"


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci config check`."""
    print(check(args.config))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci config check` to the CLI."""
    parser = subparsers.add_parser("config", help="validate .github/mlops-ci.yml", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    commands.required = True
    check_parser = commands.add_parser(
        "check", help="validate every section against the schema (exit 0 valid, 2 invalid)",
        description="Validate the config file against mlops-ci's schema and the checks of each section.")
    check_parser.add_argument("--config", metavar="FILE",
                              help=f"the file (default: {config.DEFAULT_PATH} when it exists)")
    check_parser.set_defaults(handler=run)
