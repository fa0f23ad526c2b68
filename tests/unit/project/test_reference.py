"""`mlops-ci reference`: docs/reference/workflows-and-actions.md is generated from the workflow and
action YAML (and docs/users/config.md from the config schema), and the check fails while one (or the
README's link to the reference) is out of date."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlops_ci.project import config_doc, reference
from mlops_ci.cli import main

ROOT = Path(__file__).resolve().parents[3]

WORKFLOW = """\
# Reusable: a test workflow.
# Second line of its description.
name: demo
on:
  workflow_call:
    inputs:
      flag:
        description: A switch | with a pipe.
        type: boolean
        default: false
      empty:
        description: Nothing by default.
        type: string
        default: ""
      needed:
        description: Must be given.
        type: string
        required: true
    secrets:
      token:
        description: The token.
        required: true
    outputs:
      result:
        description: What came out.
        value: ${{ jobs.a.outputs.result }}
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
"""
ACTION = """\
name: mlops-ci thing
description: Does the thing.
inputs:
  level:
    description: How much.
    default: "3"
outputs:
  score:
    description: The score.
    value: ${{ steps.x.outputs.score }}
runs:
  using: composite
  steps: [{run: "true", shell: bash}]
"""


@pytest.fixture(name="checkout")
def fixture_checkout(tmp_path: Path) -> Path:
    """A small mlops-ci-shaped checkout: one reusable workflow, one caller, one action, a README."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "demo.yml").write_text(WORKFLOW)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (tmp_path / "actions" / "thing").mkdir(parents=True)
    (tmp_path / "actions" / "thing" / "action.yml").write_text(ACTION)
    (tmp_path / "README.md").write_text("See [the reference](docs/reference/workflows-and-actions.md).\n")
    return tmp_path


def reference_cmd(checkout: Path, *extra: str) -> int:
    return main(["reference", "--source", str(checkout), *extra])


def test_generated_tables_show_inputs_secrets_outputs(checkout):
    block = reference.generate(checkout)
    assert block.startswith(reference.BEGIN) and block.endswith(reference.END)
    assert "### `demo.yml`" in block and "ci.yml" not in block  # only reusable workflows
    assert "Reusable: a test workflow. Second line of its description." in block
    assert "| `flag` | boolean | no | `false` | A switch \\| with a pipe. |" in block
    assert "| `empty` | string | no | `\"\"` | Nothing by default. |" in block
    assert "| `needed` | string | yes |  | Must be given. |" in block
    assert "| `token` | yes | The token. |" in block
    assert "| `result` | What came out. |" in block
    assert "`uses: org/mlops-ci/actions/thing@v1`: Does the thing." in block
    assert "| `level` | no | `3` | How much. |" in block and "| `score` | The score. |" in block


def test_writes_then_check_passes_and_a_rerun_writes_nothing(checkout, capsys):
    assert reference_cmd(checkout, "--check") == 1  # no file yet
    assert reference_cmd(checkout) == 0
    out = checkout / reference.DEFAULT_OUT
    assert out.read_text().startswith(reference.HEADER)
    assert reference_cmd(checkout, "--check") == 0
    capsys.readouterr()
    assert reference_cmd(checkout) == 0
    assert "is up to date" in capsys.readouterr().out


def test_a_changed_input_makes_the_check_fail_naming_the_file(checkout, capsys):
    assert reference_cmd(checkout) == 0
    out = checkout / reference.DEFAULT_OUT
    out.write_text("# Our intro, kept\n\n" + out.read_text().split("\n\n", 2)[2] + "\nOur footer, kept.\n")
    assert reference_cmd(checkout, "--check") == 0
    action = checkout / "actions" / "thing" / "action.yml"
    action.write_text(action.read_text().replace("How much.", "How much, now."))
    assert reference_cmd(checkout, "--check") == 1
    assert f"{out}: out of date" in capsys.readouterr().err
    assert reference_cmd(checkout) == 0
    text = out.read_text()
    assert "How much, now." in text and text.startswith("# Our intro, kept") and "Our footer, kept." in text


def test_a_stale_config_md_makes_the_check_fail_naming_it(checkout, capsys):
    assert reference_cmd(checkout) == 0
    config_md = checkout / config_doc.CONFIG_DOC
    assert config_md.read_text() == config_doc.markdown()
    config_md.write_text(config_md.read_text().replace("Decimals shown", "Decimals"))
    capsys.readouterr()
    assert reference_cmd(checkout, "--check") == 1
    assert capsys.readouterr().err == \
        f"error: {config_md}: out of date with the config schema: run `mlops-ci reference`\n"
    assert reference_cmd(checkout) == 0 and config_md.read_text() == config_doc.markdown()


def test_readme_must_link_the_reference(checkout, capsys):
    assert reference_cmd(checkout) == 0
    (checkout / "README.md").write_text("No link here.\n")
    capsys.readouterr()
    assert reference_cmd(checkout) == 0
    assert "README.md: does not link docs/reference/workflows-and-actions.md" in capsys.readouterr().err
    assert reference_cmd(checkout, "--check") == 1


def test_out_outside_the_checkout_is_linked_by_name(checkout, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "ref.md"
    (checkout / "README.md").write_text("[ref](ref.md)\n")
    assert reference_cmd(checkout, "--out", str(elsewhere)) == 0
    assert reference_cmd(checkout, "--out", str(elsewhere), "--check") == 0


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda c: (c / "docs" / "reference").mkdir(parents=True)
     or (c / reference.DEFAULT_OUT).write_text("# hand-written\n"),
     "no reference markers"),
    (lambda c: (c / "actions" / "thing" / "action.yml").write_text("name: x\n  bad: [\n"), "malformed YAML"),
    (lambda c: (c / "actions" / "thing" / "action.yml").write_text("- a list\n"), "expected a mapping"),
    (lambda c: shutil.rmtree(c / ".github"), "not an mlops-ci checkout"),
])
def test_input_errors_exit_2(checkout, capsys, setup, expected):
    setup(checkout)
    assert reference_cmd(checkout) == 2
    assert expected in capsys.readouterr().err


def test_this_repository_reference_is_fresh():
    """The freshness gate: docs/reference/workflows-and-actions.md matches our YAML and README.md links it."""
    assert reference_cmd(ROOT, "--check") == 0, \
        "run `mlops-ci reference` and link docs/reference/workflows-and-actions.md from README.md"


def test_every_workflow_and_action_of_this_repository_is_listed():
    block = reference.generate(ROOT)
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        document = yaml.safe_load(path.read_text())
        assert (f"### `{path.name}`" in block) == ("workflow_call" in (document.get(True) or {})), path.name
    for path in sorted(ROOT.glob("actions/*/action.yml")):
        assert f"### `actions/{path.parent.name}`" in block
