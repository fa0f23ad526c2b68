"""Shellcheck the bash and sh `run:` scripts of workflows, templates and composite actions.

    python tools/run_blocks.py [FILE...]    (default: the repository's usual folders, from the cwd)

Prints `path:line:col: SCxxxx: message` for each finding, at its place in the YAML file; exits 0 when
clean, 1 on findings, 2 on an unreadable or malformed file or when shellcheck cannot run.

Each script is linted as GitHub runs it: the step's shell (step `shell:`, job then workflow
`defaults.run.shell`, else `bash -e {0}`, or pwsh on a Windows runner); other shells are skipped.
Every `${{ ... }}` becomes underscores of the same length and line structure, as upstream actionlint
does. The generated file is two header lines (shebang, then a directive comment that enables
shellcheck's optional check-unassigned-uppercase and names the command GitHub runs), the script, and
a trailer: the shell's `set` flags and an `export` of the variables the step gets (GitHub's defaults,
workflow/job/step `env:` keys, names written to $GITHUB_ENV in the file), so that SC2154 flags real
typos only. The trailer comes last so that a `# shellcheck disable=...` at the top of a script still
covers all of it; the checks that read `set -e`, `pipefail` and assignments look at the whole file.

Findings that come from the placeholders, not the script, are dropped: "this word/expression is
constant" (the placeholder is a literal, the expression's value is not) when an expression is on
the finding's lines, and unassigned names that a placeholder extends (`$FOO${{ x }}`, arithmetic).
SC1091 (cannot follow `source`: the workspace is the caller's checkout) and SC1128 (a `#!` line in a
script is only a comment there) are excluded. Positions map exactly for literal blocks (`|`) and
one-line scalars (columns shift after escapes in double quotes); findings in folded (`>`) or
multi-line flow scalars are reported at the script's start.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import yaml

DEFAULT_GLOBS = (".github/workflows/*.y*ml", "workflows-templates/*.y*ml", "actions/*/action.y*ml",
                 "scripts/mlops_ci/local/shims/*/*/action.y*ml")
# https://docs.github.com/en/actions/reference/variables-reference#default-environment-variables
GITHUB_DEFAULT_ENV = frozenset("""
    CI GITHUB_ACTION GITHUB_ACTION_PATH GITHUB_ACTION_REPOSITORY GITHUB_ACTIONS GITHUB_ACTOR
    GITHUB_ACTOR_ID GITHUB_API_URL GITHUB_BASE_REF GITHUB_ENV GITHUB_EVENT_NAME GITHUB_EVENT_PATH
    GITHUB_GRAPHQL_URL GITHUB_HEAD_REF GITHUB_JOB GITHUB_OUTPUT GITHUB_PATH GITHUB_REF GITHUB_REF_NAME
    GITHUB_REF_PROTECTED GITHUB_REF_TYPE GITHUB_REPOSITORY GITHUB_REPOSITORY_ID GITHUB_REPOSITORY_OWNER
    GITHUB_REPOSITORY_OWNER_ID GITHUB_RETENTION_DAYS GITHUB_RUN_ATTEMPT GITHUB_RUN_ID GITHUB_RUN_NUMBER
    GITHUB_SERVER_URL GITHUB_SHA GITHUB_STATE GITHUB_STEP_SUMMARY GITHUB_TRIGGERING_ACTOR GITHUB_WORKFLOW
    GITHUB_WORKFLOW_REF GITHUB_WORKFLOW_SHA GITHUB_WORKSPACE RUNNER_ARCH RUNNER_DEBUG RUNNER_ENVIRONMENT
    RUNNER_NAME RUNNER_OS RUNNER_TEMP RUNNER_TOOL_CACHE ImageOS ImageVersion LANG TMPDIR
""".split())
# https://docs.github.com/en/actions/reference/workflow-syntax-for-github-actions#jobsjob_idstepsshell
SHELL_COMMANDS = {"bash": "bash --noprofile --norc -eo pipefail {0}", "sh": "sh -e {0}"}
UNSPECIFIED_SHELL = "bash -e {0}"
HEADER_LINES = 2
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ENV_WRITE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)(?:=|<<)")
CONSTANT_CODES = frozenset({2043, 2050, 2078, 2157, 2170, 2193, 2194})
NAME_CODES = frozenset({2153, 2154})
SHELLCHECK = ("shellcheck", "--norc", "--format=json1", "--exclude=SC1091,SC1128")


@dataclasses.dataclass(frozen=True)
class Block:
    """One `run:` script and where its text starts in the YAML file."""

    path: str
    line: int  # 1-based line of the script's first line
    column: int  # characters before the script's text on each of its lines
    exact: bool  # False: the scalar's lines are folded, report everything at `line`
    command: str  # how GitHub runs it, e.g. "bash --noprofile --norc -eo pipefail {0}"
    script: str
    env: frozenset[str]


class Finding(NamedTuple):
    """A shellcheck finding at its place in a YAML file; sorts by file, line, column."""

    path: str
    line: int
    column: int
    code: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: SC{self.code}: {self.message}"


class InputError(Exception):
    """A file that cannot be read or parsed, or a shellcheck that cannot run."""


def child(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """The node at `keys` under nested mappings, or None."""
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((value for name, value in node.value if name.value == key), None)
    return node


def text(node: yaml.Node | None) -> str | None:
    """A scalar node's value, or None."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def entries(node: yaml.Node | None) -> list:
    """A sequence's items or a mapping's (key, value) pairs; empty for anything else."""
    return node.value if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) else []


def env_names(node: yaml.Node | None) -> frozenset[str]:
    """The shell-valid variable names of an `env:` mapping."""
    names = (text(key) for key, _ in entries(node)) if isinstance(node, yaml.MappingNode) else ()
    return frozenset(name for name in names if name and NAME.fullmatch(name))


def shell_command(shell: str | None) -> str | None:
    """The command GitHub runs a script with for `shell`, or None unless it is bash or sh."""
    command = SHELL_COMMANDS.get(shell, shell) if shell else UNSPECIFIED_SHELL
    words = command.split()
    return command if words and PurePosixPath(words[0]).name in ("bash", "sh") else None


def steps(root: yaml.Node | None) -> Iterator[tuple[yaml.Node, str | None, frozenset[str]]]:
    """Each step of a workflow or composite action, with its inherited shell and env names."""
    if child(root, "runs") is not None:
        for step in entries(child(root, "runs", "steps")):
            yield step, None, frozenset()
        return
    workflow_shell = text(child(root, "defaults", "run", "shell"))
    for _, job in entries(child(root, "jobs")):
        runs_on = child(job, "runs-on")
        runner_shell = "pwsh" if runs_on and "windows" in yaml.serialize(runs_on).lower() else None
        shell = text(child(job, "defaults", "run", "shell")) or workflow_shell or runner_shell
        env = env_names(child(root, "env")) | env_names(child(job, "env"))
        for step in entries(child(job, "steps")):
            yield step, shell, env


def locate(node: yaml.ScalarNode, lines: list[str]) -> tuple[int, int, bool]:
    """(first line, column offset, exact) of a scalar's text in the file's `lines`."""
    mark = node.start_mark
    if node.style not in ("|", ">"):
        return mark.line + 1, mark.column + (node.style is not None), mark.line == node.end_mark.line
    first = mark.line + 2  # block scalars start on the line after the `|` or `>` indicator
    body = node.value.split("\n")
    index = next((i for i, line in enumerate(body) if line.strip()), 0)
    source = lines[first - 1 + index] if first - 1 + index < len(lines) else ""
    if node.style == ">":
        return first, len(source) - len(source.lstrip()), False
    return first, len(source) - len(body[index]), True


def compose(path: str, source: str) -> yaml.Node | None:
    """The YAML node tree of a file's text (None when empty), marks included."""
    try:
        return yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise InputError(f"{where}: malformed YAML: {getattr(error, 'problem', None) or error}") from error


def extract(path: str, source: str) -> list[Block]:
    """The bash/sh `run:` blocks of one workflow or action file's text."""
    lines = source.splitlines()
    blocks = []
    for step, inherited_shell, env in steps(compose(path, source)):
        run = child(step, "run")
        command = shell_command(text(child(step, "shell")) or inherited_shell)
        if isinstance(run, yaml.ScalarNode) and command:
            blocks.append(Block(path, *locate(run, lines), command, run.value,
                                env | env_names(child(step, "env"))))
    written = frozenset(name for block in blocks if "GITHUB_ENV" in block.script
                        for name in ENV_WRITE.findall(block.script))
    return [dataclasses.replace(block, env=block.env | written) for block in blocks]


def sanitize(script: str) -> str:
    """`script` with each `${{ ... }}` replaced by underscores, newlines kept."""
    return EXPRESSION.sub(lambda match: re.sub(r"[^\n]", "_", match.group()), script)


def expression_spans(script: str) -> list[tuple[int, int, int]]:
    """(line, start column, end column) of each line's part of each expression, 1-based, end excluded."""
    spans = []
    for match in EXPRESSION.finditer(script):
        line = script.count("\n", 0, match.start()) + 1
        column = match.start() - script.rfind("\n", 0, match.start())
        for offset, part in enumerate(match.group().split("\n")):
            start = column if offset == 0 else 1
            spans.append((line + offset, start, start + len(part)))
    return spans


def script_file(block: Block) -> str:
    """The file shellcheck reads for `block`: header, sanitized script, trailer."""
    words = block.command.split()
    shebang = "#!/usr/bin/env bash" if PurePosixPath(words[0]).name == "bash" else "#!/bin/sh"
    flags = [word for word in words[1:] if word != "{0}" and not word.startswith("--")]
    lines = [shebang, f"# shellcheck enable=check-unassigned-uppercase # GitHub runs: {block.command}",
             sanitize(block.script).removesuffix("\n")]
    if flags:
        lines.append(f"set {' '.join(flags)}")
    lines.append("export " + " ".join(sorted(GITHUB_DEFAULT_ENV | block.env)))
    return "\n".join(lines) + "\n"


def from_expression(block: Block, comment: dict) -> bool:
    """Whether a shellcheck comment on `block` is about an expression's placeholder, not the script."""
    first = (comment["line"] - HEADER_LINES, comment["column"])
    last = (comment["endLine"] - HEADER_LINES, comment["endColumn"])
    spans = expression_spans(block.script)
    if comment["code"] in CONSTANT_CODES:
        return any(first[0] <= line <= last[0] for line, _, _ in spans)
    if comment["code"] in NAME_CODES:
        return any(first < (line, end) and (line, start) < last for line, start, end in spans)
    return False


def report(block: Block, comment: dict) -> Finding:
    """A shellcheck comment on `block`'s generated file, placed in the YAML file."""
    last = block.script.removesuffix("\n").count("\n")  # the trailer's findings go to the last line
    offset = min(max(comment["line"] - HEADER_LINES - 1, 0), last)
    if block.exact:
        line, column = block.line + offset, block.column + comment["column"]
    else:
        line, column = block.line, block.column + 1
    return Finding(block.path, line, column, comment["code"], comment["message"])


def run_shellcheck(scripts: list[str]) -> list[dict]:
    """Shellcheck's json1 comments on `scripts`, in one run; each comment's `file` is `<index>.sh`."""
    with tempfile.TemporaryDirectory(prefix="run-blocks-") as tmp:
        names = [f"{index}.sh" for index in range(len(scripts))]
        for name, script in zip(names, scripts):
            Path(tmp, name).write_text(script, encoding="utf-8")
        try:
            result = subprocess.run([*SHELLCHECK, *names], cwd=tmp, capture_output=True, text=True,
                                    check=False)
        except OSError as error:
            raise InputError(f"cannot run shellcheck: {error}") from error
    if result.returncode not in (0, 1):
        raise InputError(f"shellcheck failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)["comments"]


def findings(blocks: list[Block]) -> list[Finding]:
    """Shellcheck's findings on `blocks`, placed in their YAML files, in file and line order."""
    comments = run_shellcheck([script_file(block) for block in blocks]) if blocks else []
    pairs = ((blocks[int(comment["file"].removesuffix(".sh"))], comment) for comment in comments)
    return sorted(report(block, comment) for block, comment in pairs if not from_expression(block, comment))


def load(path: str) -> list[Block]:
    """The bash/sh `run:` blocks of the file at `path`."""
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from error
    return extract(path, source)


def default_files() -> list[str]:
    """The workflows, templates and actions under the current directory."""
    return sorted(path for pattern in DEFAULT_GLOBS for path in glob.glob(pattern))


def main(argv: list[str] | None = None) -> int:
    """Lint the files named in `argv` (default: the usual folders); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("files", nargs="*", help="workflow, template or action files")
    files = parser.parse_args(argv).files or default_files()
    blocks, status = [], 0
    for path in files:
        try:
            blocks += load(path)
        except InputError as error:
            print(error, file=sys.stderr)
            status = 2
    try:
        found = findings(blocks)
    except InputError as error:
        print(error, file=sys.stderr)
        return 2
    for finding in found:
        print(finding)
    print(f"{len(blocks)} run block(s) in {len(files)} file(s), {len(found)} finding(s)", file=sys.stderr)
    return status or (1 if found else 0)


if __name__ == "__main__":
    sys.exit(main())
