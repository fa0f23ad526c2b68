"""Which workflows an event starts, as GitHub decides it: act does not apply the `branches` filters.

GitHub runs a workflow on `push` only when the pushed branch passes its `branches` / `branches-ignore`
filter, and on `pull_request` only when the PR's base branch does and its activity type is among
`types` (default opened, synchronize, reopened). act runs every workflow that names the event, so
`mlops-ci local push --branch develop` would promote from develop: the runner asks here first.
Pure functions of the workflow text; `paths` filters are not read (such a workflow runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlops_ci.local.github.state import ref_pattern_matches

FILTERED = ("push", "pull_request")
DEFAULT_PR_TYPES = ("opened", "synchronize", "reopened")


def triggers(workflow: Any) -> dict[str, Any]:
    """A parsed workflow's `on:` as a dict event -> its configuration (None when it has none)."""
    if not isinstance(workflow, dict):
        return {}
    found = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(found, str):
        return {found: None}
    if isinstance(found, list):
        return dict.fromkeys(found)
    return found if isinstance(found, dict) else {}


def branch_passes(config: dict[str, Any], branch: str) -> bool:
    """Whether `branch` passes a trigger's `branches` (later `!pattern`s exclude again) or
    `branches-ignore` filter; with only `tags` filters, no branch passes (as on GitHub)."""
    def matches(pattern: str) -> bool:
        return ref_pattern_matches(pattern, branch, "")

    if "branches" in config:
        passed = False
        for pattern in config["branches"] or []:
            pattern = str(pattern)
            if pattern.startswith("!"):
                passed = passed and not matches(pattern[1:])
            else:
                passed = passed or matches(pattern)
        return passed
    if "branches-ignore" in config:
        return not any(matches(str(pattern)) for pattern in config["branches-ignore"] or [])
    return not ("tags" in config or "tags-ignore" in config)


def starts(workflow: Any, event: str, branch: str | None, action: str | None = None) -> bool:
    """Whether `event` on `branch` (a PR's base; `action`, its activity type) starts `workflow`."""
    found = triggers(workflow)
    if event not in found:
        return False
    config = found[event] if isinstance(found[event], dict) else {}
    if event not in FILTERED:
        return True
    if event == "pull_request" and action and action not in config.get("types", DEFAULT_PR_TYPES):
        return False
    return branch is None or branch_passes(config, branch)


def sort_out(files: list[Path], event: str, branch: str | None,
             action: str | None = None) -> tuple[list[Path], list[Path]]:
    """(the workflow files `event` starts, those that name it yet would not start: act would run them
    anyway). A reusable workflow (`workflow_call`) is never left out: other workflows may call it."""
    started, left_out = [], []
    for path in files:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = triggers(workflow)
        if event not in found:
            continue
        if starts(workflow, event, branch, action):
            started.append(path)
        elif "workflow_call" not in found:
            left_out.append(path)
    return started, left_out
