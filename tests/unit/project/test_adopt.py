"""`mlops-ci adopt`: every reference to mlops-ci in a copy of this repository points at the
organisation's own name and tag; third-party pins are untouched; a rerun changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_ci.project import adopt
from mlops_ci.project import reference
from mlops_ci.cli import main
from mlops_ci.local import refs
from mlops_ci.core.proc import copy_visible_files

ROOT = Path(__file__).resolve().parents[3]
SHA_PIN = re.compile(r"uses:\s*\S+@[0-9a-f]{40}\b.*")


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def sha_pins(root: Path) -> list[str]:
    return sorted(pin for path in [*refs.source_files(root), *(root / "workflows-templates").glob("*.yml")]
                  for pin in SHA_PIN.findall(path.read_text()))


@pytest.fixture(name="copy")
def fixture_copy(tmp_path: Path) -> Path:
    """A copy of this checkout (what git would track), its reference freshly generated."""
    copy = copy_visible_files(ROOT, tmp_path / "copy")
    assert main(["reference", "--source", str(copy)]) == 0
    return copy


@pytest.mark.parametrize(("text", "expected"), [
    ("uses: org/mlops-ci/actions/lint@v1", "uses: acme/ml-ci/actions/lint@v2.0.0"),
    ("uses: org/mlops-ci/.github/workflows/train.yml@v1.3.0-rc.1 # x",
     "uses: acme/ml-ci/.github/workflows/train.yml@v2.0.0 # x"),
    ('"org/mlops-ci/*": ref-pin', '"acme/ml-ci/*": ref-pin'),
    ("repo: https://github.com/org/mlops-ci.git", "repo: https://github.com/acme/ml-ci.git"),
    ("`org/mlops-ci@<ref>` mapped", "`acme/ml-ci@<ref>` mapped"),  # a placeholder ref is prose
    ("uses: acme/ml-ci/actions/lint@v2.0.0", "uses: acme/ml-ci/actions/lint@v2.0.0"),  # already adopted
    # Not references to us: file names, executables, other repositories, SHA pins.
    (".github/mlops-ci.yml and .github/workflows/mlops-ci-pull-request.yml",
     ".github/mlops-ci.yml and .github/workflows/mlops-ci-pull-request.yml"),
    ("$VENV/bin/mlops-ci lint; pip install mlops-ci", "$VENV/bin/mlops-ci lint; pip install mlops-ci"),
    ("uses: org/actions/setup-mlops-ci@v1", "uses: org/actions/setup-mlops-ci@v1"),
    ("uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
     "uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"),
])
def test_rewrite(text, expected):
    pattern = adopt.reference_pattern(("mlops-ci", "ml-ci"), "v2.0.0")
    assert adopt.rewrite(text, pattern, "acme", "ml-ci", "v2.0.0") == expected


def test_dry_run_lists_changes_and_writes_nothing(copy, capsys):
    before = snapshot(copy)
    assert main(["adopt", "--org", "acme", "--ref", "v2.0.0", str(copy)]) == 0
    out = capsys.readouterr().out
    assert ("workflows-templates/mlops-ci-pull-request.yml:23: uses: org/mlops-ci/.github/workflows/"
            "branch-policy.yml@v1 -> uses: acme/mlops-ci/.github/workflows/branch-policy.yml@v2.0.0") in out
    assert "rerun with --write" in out
    assert snapshot(copy) == before


def test_write_adopts_everything_once(copy, capsys):
    pins = sha_pins(copy)
    assert main(["adopt", "--org", "acme", "--name", "ml-ci", "--ref", "v2.0.0", "--write", str(copy)]) == 0
    assert "file(s) changed" in capsys.readouterr().out
    workflows = [*refs.source_files(copy), *(copy / "workflows-templates").glob("*.yml")]
    for path in workflows:
        assert "org/mlops-ci" not in path.read_text(), path
        for value in refs.uses_in_file(path):
            if "ml-ci" in value:
                assert value.startswith("acme/ml-ci/") and value.endswith("@v2.0.0"), (path, value)
    assert '"acme/ml-ci/*": ref-pin' in (copy / "zizmor.yml").read_text()
    assert sha_pins(copy) == pins
    # Our workflows and templates still resolve offline, with the new name as mlops-ci's.
    assert all(path == copy for key, path in refs.local_repository_map(workflows, copy, "ml-ci").items()
               if key.startswith("acme/ml-ci@"))
    # The generated reference follows the adopted names: still fresh.
    current = (copy / reference.DEFAULT_OUT).read_text()
    assert "`uses: acme/ml-ci/actions/lint@v2.0.0`" in current
    assert reference.render(current, reference.generate(copy), str(reference.DEFAULT_OUT)) == current
    # Idempotent: a second run finds nothing to change.
    after = snapshot(copy)
    assert main(["adopt", "--org", "acme", "--name", "ml-ci", "--ref", "v2.0.0", "--write", str(copy)]) == 0
    assert capsys.readouterr().out.strip() == "0 line(s) in 0 file(s) changed"
    assert snapshot(copy) == after


@pytest.mark.parametrize(("args", "expected"), [
    (["--org=-x", "--ref", "v1"], "--org: '-x' is not a valid org"),
    (["--org", "acme", "--name", "a b", "--ref", "v1"], "--name: 'a b' is not a valid name"),
    (["--org", "acme", "--ref", "v1..2"], "--ref: 'v1..2' is not a valid ref"),
])
def test_bad_arguments_exit_2(copy, capsys, args, expected):
    assert main(["adopt", *args, str(copy)]) == 2
    assert expected in capsys.readouterr().err


def test_not_a_checkout_exits_2(tmp_path, capsys):
    assert main(["adopt", "--org", "acme", "--ref", "v1", str(tmp_path)]) == 2
    assert "not an mlops-ci checkout" in capsys.readouterr().err


def test_binary_files_are_skipped(copy):
    (copy / "docs" / "diagram.md").write_bytes(b"\xff\xfe org/mlops-ci@v1")
    changes, texts = adopt.plan(copy, "acme", "mlops-ci", "v2")
    assert copy / "docs" / "diagram.md" not in texts
    assert all(change.path != "docs/diagram.md" for change in changes)
