"""mlops_ci.local.refs: every `uses:` is mapped to something act can load offline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local import refs
from testing.local import CML_WORKFLOWS

WORKFLOW = textwrap.dedent("""\
    on: pull_request
    jobs:
      call:
        uses: acme/mlops-ci/.github/workflows/train.yml@v1
      build:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
          - uses: ./local-action
          - uses: docker://alpine:3
          - uses: acme/mlops-ci/actions/report@v1.2.0
""")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_remote_refs_skip_local_and_docker(tmp_path):
    uses = refs.uses_in_file(write(tmp_path / "w.yml", WORKFLOW))
    assert sorted(ref.key for ref in refs.remote_refs(uses)) == [
        "acme/mlops-ci@v1", "acme/mlops-ci@v1.2.0",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"]


def test_map_sends_our_refs_to_the_source_and_others_to_shims(tmp_path):
    workflow = write(tmp_path / "w.yml", WORKFLOW)
    mapping = refs.local_repository_map([workflow], tmp_path / "src", "mlops-ci")
    assert mapping["acme/mlops-ci@v1"] == tmp_path / "src"
    assert mapping["actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"] == \
        refs.SHIMS_DIR / "actions" / "checkout"


def test_unknown_third_party_action_is_refused_up_front(tmp_path):
    workflow = write(tmp_path / "w.yml", "jobs: {a: {steps: [{uses: evil/thing@main}]}}\n")
    with pytest.raises(MlopsCiError, match=r"can't run offline: evil/thing@main \(no host-mode shim\)"):
        refs.local_repository_map([workflow], tmp_path, "mlops-ci")


CML = CML_WORKFLOWS["cml.yml"]   # a team's CML workflow: setup-cml, setup-dvc, a comment action
DVC_ONLY = "on: pull_request\njobs: {a: {steps: [{uses: iterative/setup-dvc@v1}, {run: dvc --version}]}}\n"
OURS = "on: pull_request\njobs: {train: {uses: acme/mlops-ci/.github/workflows/train.yml@v1}}\n"


@pytest.fixture(name="host_path")
def fixture_host_path(tmp_path):
    """A PATH holding `dvc` and nothing else (as here: dvc is installed, cml is not)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "dvc").write_text("#!/bin/sh\necho 3.0.0\n")
    (tools / "dvc").chmod(0o755)
    return str(tools)


def test_a_project_workflow_that_needs_what_cannot_run_offline_is_skipped_with_why(tmp_path, host_path):
    workflows = tmp_path / ".github" / "workflows"
    files = [write(workflows / "cml.yml", CML), write(workflows / "dvc.yml", DVC_ONLY),
             write(workflows / "ours.yml", OURS)]
    runnable, skipped = refs.sort_offline(files, tmp_path, "mlops-ci", host_path)
    assert runnable == files[1:]
    assert skipped == {files[0]: {"iterative/setup-cml@v2": "cml is not installed here",
                                  "peter-evans/create-or-update-comment@v4": "no host-mode shim"}}
    assert refs.described(skipped[files[0]]) == (
        "iterative/setup-cml@v2 (cml is not installed here), "
        "peter-evans/create-or-update-comment@v4 (no host-mode shim)")


def test_setup_cml_runs_where_cml_is_installed(tmp_path, host_path):
    (Path(host_path) / "cml").symlink_to(Path(host_path) / "dvc")
    workflow = write(tmp_path / "cml.yml", CML.replace("peter-evans/create-or-update-comment@v4",
                                                       "actions/upload-artifact@v4"))
    assert refs.sort_offline([workflow], tmp_path, "mlops-ci", host_path) == ([workflow], {})
    mapping = refs.local_repository_map([workflow], tmp_path, "mlops-ci", host_path)
    assert mapping["iterative/setup-cml@v2"] == refs.SHIMS_DIR / "iterative" / "setup-cml"


def test_setup_dvc_is_skipped_without_dvc(tmp_path):
    workflow = write(tmp_path / "dvc.yml", DVC_ONLY)
    assert refs.sort_offline([workflow], tmp_path, "mlops-ci", str(tmp_path / "empty")) == (
        [], {workflow: {"iterative/setup-dvc@v1": "dvc is not installed here"}})


def test_our_workflow_is_never_skipped_it_is_refused(tmp_path, host_path):
    workflow = write(tmp_path / ".github" / "workflows" / "train.yml",
                     OURS.replace("jobs: {", "jobs: {post: {steps: [{uses: evil/thing@v1}]}, "))
    with pytest.raises(MlopsCiError, match=r"evil/thing@v1 \(no host-mode shim\)") as caught:
        refs.sort_offline([workflow], tmp_path, "mlops-ci", host_path)
    assert caught.value.where == ".github/workflows/train.yml"


def test_what_local_workflows_and_actions_need_counts_for_the_caller(tmp_path, host_path):
    workflows = tmp_path / ".github" / "workflows"
    write(workflows / "shared.yml",
          "on: workflow_call\njobs: {a: {steps: [{uses: ./.github/actions/post}]}}\n")
    write(tmp_path / ".github" / "actions" / "post" / "action.yml",
          "runs: {using: composite, steps: [{uses: evil/thing@v1}, {uses: ./.github/actions/post}]}\n")
    caller = write(workflows / "pr.yml",
                   "on: pull_request\njobs: {call: {uses: ./.github/workflows/shared.yml}}\n")
    assert refs.needed_files(caller, tmp_path) == [
        caller, workflows / "shared.yml", tmp_path / ".github" / "actions" / "post" / "action.yml"]
    assert refs.sort_offline([caller], tmp_path, "mlops-ci", host_path) == (
        [], {caller: {"evil/thing@v1": "no host-mode shim"}})


def test_malformed_yaml_names_file_and_line(tmp_path):
    workflow = write(tmp_path / "w.yml", "jobs:\n  a: [unclosed\n")
    with pytest.raises(MlopsCiError) as caught:
        refs.uses_in_file(workflow)
    assert caught.value.where == str(workflow) and caught.value.line == 3


def test_unreadable_file(tmp_path):
    with pytest.raises(MlopsCiError, match="cannot read"):
        refs.uses_in_file(tmp_path / "missing.yml")


def test_every_shipped_shim_is_a_composite_action():
    shims = sorted(refs.SHIMS_DIR.glob("*/*/action.yml"))
    assert shims, "no shims shipped"
    for shim in shims:
        action = yaml.safe_load(shim.read_text(encoding="utf-8"))
        assert action["runs"]["using"] == "composite" and action["description"], shim
        # act names an unnamed step by its script: the console would print the shim's shell code.
        assert all(step.get("name") for step in action["runs"]["steps"]), shim


def test_every_third_party_action_we_use_has_a_shim():
    source = Path(__file__).resolve().parents[3]
    files = refs.source_files(source) + sorted((source / "workflows-templates").glob("*.yml"))
    refs.local_repository_map(files, source, "mlops-ci")  # raises when one is missing
