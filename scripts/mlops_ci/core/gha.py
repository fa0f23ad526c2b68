"""GitHub Actions workflow commands: annotations, job summary, step outputs.

Outside Actions (no GITHUB_ACTIONS=true) annotations fall back to plain `level: message` lines on
stderr and summaries/outputs are skipped, so every command reads well in a terminal too.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path


def in_actions() -> bool:
    """True inside a GitHub Actions (or act) step."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    # The runner's escaping rules for a workflow command's message.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    """Format one `::error::`-style workflow command (level: error, warning or notice)."""
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"


def report(level: str, message: str, *, file: str | None = None, line: int | None = None,
           title: str | None = None) -> None:
    """Tell the user one thing: an annotation inside Actions, a plain line in a terminal."""
    if in_actions():
        print(annotation(level, message, file=file, line=line, title=title), flush=True)
        return
    location = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    print(f"{level}: {location}{message}", file=sys.stderr, flush=True)


def append_summary(markdown: str) -> bool:
    """Append Markdown to the job summary; False when there is no summary file (not in Actions) or
    when a pre-commit hook runs the command: a workflow's pre-commit step would repeat the section
    of the step that made the same check (lint-test's deps check), and its log already says it."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path or os.environ.get("PRE_COMMIT"):
        return False
    with Path(path).open("a", encoding="utf-8") as summary:
        summary.write(markdown.rstrip("\n") + "\n")
    return True


def set_output(name: str, value: str) -> bool:
    """Set a step output (multi-line safe); False outside Actions."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return False
    delimiter = f"ghadelim_{uuid.uuid4().hex}"
    with Path(path).open("a", encoding="utf-8") as outputs:
        outputs.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return True
