"""The Terraform examples under docs/admins/terraform are formatted and valid (where Terraform and the
AWS provider are installed: offline, from a local plugin mirror)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "admins" / "terraform"
PLUGIN_DIR = Path(os.environ.get("MLOPS_CI_TF_PLUGIN_DIR", "/opt/tf-plugins"))

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None or not PLUGIN_DIR.is_dir(),
                                reason="terraform or its provider mirror is not installed")


def terraform(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(["terraform", *args], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_examples_are_formatted_and_valid(tmp_path):
    for path in EXAMPLES.glob("*.tf"):
        shutil.copy(path, tmp_path / path.name)
    formatted = terraform(tmp_path, "fmt", "-check", "-diff")
    assert formatted.returncode == 0, formatted.stdout
    init = terraform(tmp_path, "init", "-backend=false", "-input=false", f"-plugin-dir={PLUGIN_DIR}")
    assert init.returncode == 0, init.stderr
    valid = terraform(tmp_path, "validate", "-no-color")
    assert valid.returncode == 0 and "The configuration is valid" in valid.stdout, valid.stdout + valid.stderr
