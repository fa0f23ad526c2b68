"""`mlops-ci init`: a new project in the SOP's layout whose pull-request workflow passes; reruns
create only what is missing and never overwrite."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_ci.config import load as load_config
from mlops_ci.project import init
from mlops_ci.training import naming
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git
from testing.scaffold import fixture_project, scaffold  # noqa: F401  fixtures

ROOT = Path(__file__).resolve().parents[3]
LAYOUT = ("data/processed/.gitkeep", "models/.gitkeep", "tests/test_pipeline.py", "notebooks/README.md",
          "src/train.py", "README.md", ".gitignore", "dvc.yaml", "params.yaml", "requirements.txt",
          "environment.yml", ".pre-commit-config.yaml", ".github/pull_request_template.md",
          ".github/CODEOWNERS", ".github/dependabot.yml", ".github/mlops-ci.yml", "docs/labeling.md",
          ".github/workflows/mlops-ci-pull-request.yml")


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".git" not in path.relative_to(root).parts[:1]}


def test_scaffold_has_the_layout_branches_and_one_commit(project):
    for relative in LAYOUT:
        assert (project / relative).is_file(), relative
    config = configparser.ConfigParser()
    config.read(project / ".dvc" / "config")
    assert config.getboolean("core", "autostage")
    assert git(project, "branch", "--format=%(refname:short)").split() == ["develop", "main"]
    assert git(project, "rev-list", "--count", "main") == "1"
    assert git(project, "status", "--porcelain") == ""
    model = load_config(str(project / ".github" / "mlops-ci.yml")).model
    assert (model.name, model.path, model.flavor) == ("churn-model", "models/model.pkl", "sklearn")
    assert "@acme/ml-engineers" in (project / ".github" / "CODEOWNERS").read_text()


def test_workflows_call_the_org_at_the_ref_with_placeholders_filled(project):
    text = (project / ".github" / "workflows" / "mlops-ci-pull-request.yml").read_text()
    assert "uses: acme/mlops-ci/.github/workflows/branch-policy.yml@v1.2.0" in text
    assert "org/mlops-ci" not in text and "$default-branch" not in text
    assert yaml.safe_load(text)[True]["pull_request"]["branches"] == ["main", "develop"]


def test_gitignore_leaves_dvc_data_out(project):
    for path in ("data/raw/images/1.png", "data/processed/train.npz", "models/model.pkl", "metrics.json"):
        assert git(project, "check-ignore", "--no-index", "-q", path) == "", path
    for path in ("data/raw.dvc", "data/processed/.gitkeep", "models/.gitkeep", "dvc.lock"):
        with pytest.raises(MlopsCiError):
            git(project, "check-ignore", "--no-index", "-q", path)


def test_config_and_names_follow_the_naming_conventions(project):
    loaded = load_config(str(project / ".github" / "mlops-ci.yml"))
    config = loaded.naming
    # The scaffold spells the defaults out.
    assert {kind: pattern.pattern for kind, pattern in config.items()} == naming.DEFAULTS
    assert naming.check("model", loaded.model.name, config) is None
    assert naming.check("experiment", loaded.model.name, config) is None
    assert naming.check("dataset", "train.npz", config) is None


def test_dependabot_files_are_valid():
    scaffold_file = ROOT / "scripts" / "mlops_ci" / "project" / "scaffold" / "dot-github" / "dependabot.yml"
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.dependabot",
                           str(ROOT / ".github" / "dependabot.yml"), str(scaffold_file)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ecosystems = {update["package-ecosystem"] for update in yaml.safe_load(scaffold_file.read_text())["updates"]}
    assert ecosystems == {"github-actions", "pip"}


def test_rerun_changes_nothing(project, capsys):
    before, head = snapshot(project), git(project, "rev-parse", "HEAD")
    capsys.readouterr()
    assert scaffold(project) == 0
    out = capsys.readouterr().out
    assert "0 file(s) created" in out and "done" not in out
    assert snapshot(project) == before and git(project, "rev-parse", "HEAD") == head


def test_rerun_adds_back_only_mlops_ci_files_and_leaves_them_to_commit(project, capsys):
    # The project has commits now: a rerun treats it as an existing repository.
    (project / "docs" / "labeling.md").unlink()
    (project / ".github" / "pull_request_template.md").unlink()
    (project / "README.md").write_text("# Our own README\n")
    capsys.readouterr()
    assert scaffold(project) == 0
    out = capsys.readouterr().out
    assert "created  .github/pull_request_template.md" in out and "kept     .github/mlops-ci.yml (exists)" in out
    assert "nothing committed" in out
    assert (project / "README.md").read_text() == "# Our own README\n"
    assert not (project / "docs" / "labeling.md").exists()


def test_dry_run_in_a_new_folder_writes_nothing(tmp_path, capsys):
    assert scaffold(tmp_path / "p", "--dry-run") == 0
    assert "create   src/train.py" in capsys.readouterr().out
    assert not (tmp_path / "p").exists()


def test_existing_project_files_are_kept_and_committed(tmp_path, monkeypatch):
    project = tmp_path / "existing"
    (project / "src").mkdir(parents=True)
    (project / "src" / "train.py").write_text("print('ours')\n")
    (project / "requirements.txt").write_text("numpy==2.4.6\n")
    # No git identity at all: the initial commit still happens, under mlops-ci's name.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    assert scaffold(project, "--name", "churn") == 0
    assert (project / "src" / "train.py").read_text() == "print('ours')\n"
    assert git(project, "show", "main:requirements.txt") == "numpy==2.4.6"
    assert git(project, "log", "-1", "--format=%an") == "mlops-ci init"


@pytest.mark.parametrize(("args", "expected"), [
    (["--org=-bad", "--ref", "v1"], "--org: '-bad' is not a GitHub organisation"),
    (["--org", "acme", "--ref", "v1..2"], "--ref: 'v1..2' is not a git tag"),
    (["--org", "acme", "--ref", "v1", "--name", "Churn_Model"], "does not follow the naming convention"),
    (["--org", "acme", "--ref", "v1", "--source", "/nonexistent"], "no mlops-ci checkout"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, expected):
    assert main(["init", str(tmp_path / "p"), *args]) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_file_as_the_folder_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert scaffold(tmp_path / "file") == 2
    assert "not a folder" in capsys.readouterr().err


def test_dvc_missing_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(init.sys, "executable", "/bin/false")
    assert scaffold(tmp_path / "p") == 2
    assert "dvc init failed" in capsys.readouterr().err


