"""mlops_ci.local.refs: every `uses:` is mapped to something act can load offline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local import refs

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
    with pytest.raises(MlopsCiError, match="no host-mode shim for evil/thing@main"):
        refs.local_repository_map([workflow], tmp_path, "mlops-ci")


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
