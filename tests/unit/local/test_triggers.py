"""Which workflows an event starts: GitHub's `branches`, `branches-ignore`, `tags` and `types`
filters, which act does not apply."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops_ci.local.triggers import sort_out, starts, triggers


def workflow(on: str) -> dict:
    return yaml.safe_load(f"on: {on}\njobs: {{}}\n")


@pytest.mark.parametrize(("on", "found"), [
    ("push", {"push": None}),
    ("[push, pull_request]", {"push": None, "pull_request": None}),
    ("{push: {branches: [main]}}", {"push": {"branches": ["main"]}}),
])
def test_the_on_key_in_every_shape(on, found):
    assert triggers(workflow(on)) == found
    assert triggers("not a workflow") == {}


@pytest.mark.parametrize(("on", "branch", "started"), [
    ("push", "develop", True),
    ("{push: {branches: [main]}}", "develop", False),
    ("{push: {branches: [main]}}", "main", True),
    ("{push: {branches: ['release/*']}}", "release/1.0", True),
    ("{push: {branches: ['release/*']}}", "release/1.0/hotfix", False),   # `*` stops at a slash
    ("{push: {branches: ['release/**', '!release/**-alpha']}}", "release/1/2-alpha", False),
    ("{push: {branches-ignore: [develop]}}", "develop", False),
    ("{push: {branches-ignore: [develop]}}", "main", True),
    ("{push: {tags: ['v*']}}", "main", False),                          # tags only: no branch push
    ("{pull_request: {branches: [main, develop]}}", "develop", False),  # another event
    ("schedule", "main", False),
])
def test_push_branch_filters(on, branch, started):
    assert starts(workflow(on), "push", branch) is started


@pytest.mark.parametrize(("on", "base", "action", "started"), [
    ("{pull_request: {branches: [main, develop]}}", "develop", "opened", True),
    ("{pull_request: {branches: [main, develop]}}", "feature/x", "opened", False),
    ("pull_request", "feature/x", "edited", False),                       # default types
    ("{pull_request: {types: [edited]}}", "main", "edited", True),
    ("pull_request", "main", "synchronize", True),
])
def test_pull_request_base_and_type_filters(on, base, action, started):
    assert starts(workflow(on), "pull_request", base, action) is started


def test_reusable_workflows_are_never_left_out(tmp_path: Path):
    files = {name: tmp_path / f"{name}.yml" for name in ("promote", "monitor", "shared")}
    files["promote"].write_text("on: {push: {branches: [main]}}\njobs: {}\n")
    files["monitor"].write_text("on: schedule\njobs: {}\n")
    files["shared"].write_text("on: {workflow_call: {}, push: {branches: [main]}}\njobs: {}\n")
    assert sort_out(list(files.values()), "push", "develop") == ([], [files["promote"]])
    assert sort_out(list(files.values()), "push", "main") == ([files["promote"], files["shared"]], [])
