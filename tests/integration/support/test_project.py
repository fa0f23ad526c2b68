"""The scratch project the demo and the end-to-end tests play in: its trained state is made here.

Model and metric hashes in the example's committed dvc.lock depend on the CPU that trained it. The
seeded project must not: it trains on this machine and commits that lock to develop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_ci.core.proc import copy_visible_files, git
from testing.project import EXAMPLE, make_project_repo, seed_dvc_remote

ROOT = Path(__file__).resolve().parents[3]
OTHER_MACHINE = "0123456789abcdef0123456789abcdef"


def lock_with_other_machines_outputs(example: Path) -> None:
    """Rewrite the trained outputs' hashes in dvc.lock, as another CPU's training would leave them."""
    lock_file = example / "dvc.lock"
    lock = yaml.safe_load(lock_file.read_text(encoding="utf-8"))
    for stage in ("train", "evaluate"):
        for out in lock["stages"][stage]["outs"]:
            out["md5"] = OTHER_MACHINE
    lock_file.write_text(yaml.safe_dump(lock, sort_keys=False), encoding="utf-8")


def dvc(repo: Path, *args: str) -> str:
    bin_dir = Path(sys.executable).parent
    return subprocess.run([str(bin_dir / "dvc"), *args], cwd=repo, check=True, capture_output=True,
                          text=True, timeout=300).stdout


@pytest.mark.slow
def test_seeded_project_trains_here_whatever_the_committed_lock_says(tmp_path):
    example = copy_visible_files(ROOT / EXAMPLE, tmp_path / "example")
    lock_with_other_machines_outputs(example)
    repo = make_project_repo(tmp_path / "digits", ROOT, example=example)

    seed_dvc_remote(repo, tmp_path / "dvc-remote")

    assert not git(repo, "status", "--porcelain"), "the training is committed"
    assert git(repo, "rev-parse", "develop") == git(repo, "rev-parse", "main")
    lock = git(repo, "show", "develop:dvc.lock")
    assert OTHER_MACHINE not in lock, "develop records this machine's outputs"
    assert "up to date" in dvc(repo, "status")
    # What the report compares with: develop's metrics load from its lock (here, from the cache).
    assert "accuracy" in json.loads(dvc(repo, "metrics", "show", "--json"))[""]["data"]["metrics.json"]["data"]
