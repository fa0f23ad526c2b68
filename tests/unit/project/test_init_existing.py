"""`mlops-ci init` in an existing repository: only mlops-ci's files, filled from what the repository
has; the pre-commit config merged; never a scaffold file, a commit or a branch; --dry-run writes
nothing and a rerun changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlops_ci.cli import main
from mlops_ci.config import load as load_config
from mlops_ci.core.proc import git
from mlops_ci.project import existing
from mlops_ci.training.flavors import flavor_of_file

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted(f".github/workflows/{path.name}" for path in (ROOT / "workflows-templates").glob("*.yml"))
MLOPS_CI_FILES = {*WORKFLOWS, ".github/mlops-ci.yml", ".github/pull_request_template.md",
                  ".pre-commit-config.yaml"}
IDENTITY = ("-c", "user.name=Team", "-c", "user.email=team@example.com")
PIPELINE = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train.lr]
    outs: [{model}]
    metrics: [{{eval/metrics.json: {{cache: false}}}}]
"""
PRE_COMMIT = """\
# The team's own hooks.
repos:
  # formatting first
  - repo: https://github.com/psf/black
    rev: 24.1.0
    hooks:
      - id: black   # the line length is in pyproject.toml
"""


def make_repo(root: Path, files: dict[str, str], *, branch: str = "main") -> Path:
    """A repository with one commit of `files`."""
    root.mkdir(parents=True)
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    git(root, "init", "--quiet", f"--initial-branch={branch}")
    git(root, "add", "--all")
    git(root, *IDENTITY, "commit", "--quiet", "--message", "our project")
    return root


def project(tmp_path: Path, model: str = "models/model.pkl", **files: str) -> Path:
    pipeline = {"dvc.yaml": PIPELINE.format(model=model), "train.py": "print(1)\n",
                "params.yaml": "train:\n  lr: 0.1\n"}
    return make_repo(tmp_path / "churn", {**pipeline, **files})


def init(root: Path, *extra: str) -> int:
    return main(["init", str(root), "--org", "acme", "--ref", "v1", *extra])


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] != ".git"}


def test_a_pickled_model_is_registered_as_sklearn_and_only_our_files_are_written(tmp_path, capsys):
    root = project(tmp_path, "models/model.pkl")
    before, head = snapshot(root), git(root, "rev-parse", "HEAD")
    assert init(root) == 0
    after = snapshot(root)
    assert set(after) - set(before) == MLOPS_CI_FILES
    assert {path: text for path, text in after.items() if path in before} == before
    config = load_config(str(root / ".github" / "mlops-ci.yml"))
    model = config.model
    assert (model.name, model.path, model.flavor) == ("churn", "models/model.pkl", "sklearn")
    assert config.quality.mode == "new-code"
    text = (root / ".github" / "mlops-ci.yml").read_text()
    assert "metrics files: eval/metrics.json" in text and "params files: params.yaml" in text
    # No commit, no branch: the team reviews and commits.
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "branch", "--format=%(refname:short)") == "main"
    out = capsys.readouterr().out
    assert "nothing committed" in out and "1. Create develop from main and push it" in out


def test_an_onnx_out_is_the_onnx_flavor(tmp_path):
    root = project(tmp_path, "export/net.onnx")
    assert init(root) == 0
    model = load_config(str(root / ".github" / "mlops-ci.yml")).model
    assert (model.path, model.flavor) == ("export/net.onnx", "onnx")


def test_without_a_model_out_the_section_is_left_to_fill_in(tmp_path, capsys):
    root = project(tmp_path, "data/features.csv")
    assert init(root) == 0
    text = (root / ".github" / "mlops-ci.yml").read_text()
    assert load_config(str(root / ".github" / "mlops-ci.yml")).model is None
    assert "# model:\n#   name: churn\n" in text and "No model file among dvc.yaml's outs" in text
    assert "Fill in the model section of .github/mlops-ci.yml" in capsys.readouterr().out


def test_foreach_and_vars_are_resolved_as_dvc_resolves_them(tmp_path):
    pipeline = """\
vars:
  - folder: models
stages:
  train:
    foreach: [small, large]
    do:
      cmd: python train.py ${item}
      params: [train.lr]
      outs: ["${folder}/${item}.joblib"]
      metrics: ["eval/${item}.json"]
"""
    root = make_repo(tmp_path / "churn", {"dvc.yaml": pipeline, "params.yaml": "train:\n  lr: 0.1\n"})
    assert init(root) == 0
    text = (root / ".github" / "mlops-ci.yml").read_text()
    model = load_config(str(root / ".github" / "mlops-ci.yml")).model
    assert (model.path, model.flavor) == ("models/small.joblib", "sklearn")
    assert "Other model outs in dvc.yaml: models/large.joblib (sklearn)" in text
    assert "metrics files: eval/small.json, eval/large.json" in text


def test_our_hooks_join_the_teams_pre_commit_config_and_a_rerun_changes_nothing(tmp_path, capsys):
    root = project(tmp_path, **{".pre-commit-config.yaml": PRE_COMMIT})
    assert init(root) == 0
    assert "merged   .pre-commit-config.yaml" in capsys.readouterr().out
    merged = (root / ".pre-commit-config.yaml").read_text()
    assert merged.startswith(PRE_COMMIT.splitlines()[0] + "\n")
    assert all(line in merged.splitlines() for line in PRE_COMMIT.splitlines()), merged
    document = yaml.safe_load(merged)
    assert [hook["id"] for repo in document["repos"] for hook in repo["hooks"]] == [
        "black", "mlops-ci-deps", "mlops-ci-branch-name"]
    assert document["default_install_hook_types"] == ["pre-commit", "pre-push"]
    before = snapshot(root)
    assert init(root) == 0
    assert "kept     .pre-commit-config.yaml (has our hooks)" in capsys.readouterr().out
    assert snapshot(root) == before


def test_a_local_repo_of_the_team_gets_only_the_hooks_it_lacks():
    ours = (ROOT / "scripts/mlops_ci/project/scaffold/dot-pre-commit-config.yaml").read_text()
    theirs = ("default_install_hook_types: [pre-commit, pre-push]\nrepos:\n- repo: local\n  hooks:\n"
              "  - id: mlops-ci-deps\n    name: ours, tuned\n    entry: mlops-ci deps check\n"
              "    language: system\n")
    merged = yaml.safe_load(existing.merged_pre_commit(theirs, ours))
    [local] = merged["repos"]
    assert [(hook["id"], hook["name"]) for hook in local["hooks"]] == [
        ("mlops-ci-deps", "ours, tuned"),
        ("mlops-ci-branch-name", "branch name follows the policy (mlops-ci policy branch-name)")]


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    root = project(tmp_path, **{".pre-commit-config.yaml": PRE_COMMIT})
    before = snapshot(root)
    assert init(root, "--dry-run") == 0
    out = capsys.readouterr().out
    assert snapshot(root) == before and git(root, "status", "--porcelain") == ""
    assert "create   .github/mlops-ci.yml" in out and "merge    .pre-commit-config.yaml" in out
    assert "Dry run: nothing written." in out


def test_a_rerun_keeps_everything(tmp_path, capsys):
    root = project(tmp_path)
    assert init(root) == 0
    (root / ".github" / "mlops-ci.yml").write_text("quality:\n  mode: whole\n")
    before = snapshot(root)
    capsys.readouterr()
    assert init(root) == 0
    assert snapshot(root) == before
    assert "0 file(s) created, 0 merged, 10 kept" in capsys.readouterr().out


def test_what_the_repository_has_is_read_and_the_steps_follow_it(tmp_path, capsys):
    root = project(tmp_path, **{"requirements.txt": "numpy==2.4.6\n", ".github/PULL_REQUEST_TEMPLATE.md": "x\n",
                                ".dvc/config": "[core]\n    remote = storage\n['remote \"storage\"']\n"
                                               "    url = s3://bucket/churn\n", ".dvc/tmp/.keep": ""})
    git(root, "branch", "develop")
    git(root, "switch", "--quiet", "-c", "master")
    git(root, "branch", "--quiet", "--delete", "main")
    assert init(root) == 0
    out = capsys.readouterr().out
    assert "kept     .github/PULL_REQUEST_TEMPLATE.md (the repository's PR template)" in out
    assert not (root / ".github" / "pull_request_template.md").exists()
    workflow = (root / ".github" / "workflows" / "mlops-ci-pull-request.yml").read_text()
    assert yaml.safe_load(workflow)[True]["pull_request"]["branches"] == ["master", "develop"]
    assert 'pinned-files: "requirements.txt"' in workflow
    assert "# DVC remote: storage (s3://bucket/churn)" in (root / ".github" / "mlops-ci.yml").read_text()
    steps = re.findall(r"^  (\d)\. (\S+ \S+)", out, re.MULTILINE)
    assert steps == [("1", "Set the"), ("2", "Requirements: pinned"), ("3", "Check the"), ("4", "Add a"),
                     ("5", "Review and"), ("6", "Check what")], out


def test_unpinned_requirements_and_a_missing_remote_are_next_steps(tmp_path, capsys):
    environment = "dependencies:\n  - python=3.11\n"
    root = project(tmp_path, **{"requirements.txt": "numpy\npandas>=2\n", "environment.yml": environment})
    assert init(root) == 0
    out = capsys.readouterr().out
    assert "Pin the requirements: 2 of 3 are not pinned" in out
    assert "requirements.txt:1: numpy: no version" in out and "requirements.txt:2: pandas" in out
    assert "Connect a DVC remote (none is set): dvc init && dvc remote add -d storage" in out
    workflow = (root / ".github" / "workflows" / "mlops-ci-pull-request.yml").read_text()
    assert 'pinned-files: "environment.yml requirements.txt"' in workflow


def test_a_dvc_yaml_that_does_not_parse_is_one_line_and_exit_2(tmp_path, capsys):
    root = make_repo(tmp_path / "churn", {"dvc.yaml": "stages:\n  train: [unclosed\n"})
    assert init(root) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "dvc.yaml" in err
    assert not (root / ".github").exists()


def test_a_pre_commit_config_that_does_not_parse_is_exit_2(tmp_path, capsys):
    root = project(tmp_path, **{".pre-commit-config.yaml": "repos: [unclosed\n"})
    assert init(root) == 2
    assert ".pre-commit-config.yaml: not YAML" in capsys.readouterr().err
    assert not (root / ".github").exists()


def test_a_git_repository_without_dvc_yaml_is_existing_too(tmp_path, capsys):
    root = make_repo(tmp_path / "churn", {"README.md": "# ours\n"})
    assert init(root) == 0
    assert set(snapshot(root)) == {"README.md", *MLOPS_CI_FILES}
    assert "Add the DVC pipeline" in capsys.readouterr().out


@pytest.mark.parametrize(("path", "flavor"), [
    ("models/model.pkl", "sklearn"), ("m.pickle", "sklearn"), ("m.joblib", "sklearn"), ("m.skops", "sklearn"),
    ("net.onnx", "onnx"), ("net.pt", "pytorch"), ("net.pth", "pytorch"), ("net.ptc", "pytorch"),
    ("booster.ubj", "xgboost"), ("m.xgb", "xgboost"), ("models/model.json", "xgboost"),
    ("model.txt", "lightgbm"), ("m.lgb", "lightgbm"),
    ("eval/scores.json", None), ("notes.txt", None), ("models", None), ("data/train.csv", None),
])
def test_a_model_file_is_known_by_its_extension(path, flavor):
    assert flavor_of_file(path) == flavor


def test_the_variables_and_secrets_named_are_the_templates():
    text = "".join(path.read_text() for path in (ROOT / "workflows-templates").glob("*.yml"))
    assert f"vars.{existing.TRACKING_VARIABLE}" in text and f"vars.{existing.STORE_VARIABLE}" in text
    for name in (*existing.STORE_SECRETS, *existing.TRACKING_SECRETS):
        assert f"secrets.{name}" in text, name


def test_an_empty_folder_inside_a_repository_is_a_new_project(tmp_path):
    outer = make_repo(tmp_path / "mono", {"README.md": "# mono\n"})
    (outer / "churn").mkdir()
    assert not existing.is_existing(outer / "churn")
    assert existing.is_existing(outer)


def test_dependency_files_anywhere_are_pinned_and_the_installed_one_is_named(tmp_path):
    root = project(tmp_path, **{"src/requirements.txt": "numpy==2.4.6\n",
                                "deploy/code/requirements.txt": "flask==3.1.1\n"})
    assert init(root) == 0
    workflow = yaml.safe_load((root / ".github" / "workflows" / "mlops-ci-pull-request.yml").read_text())
    lint_test = workflow["jobs"]["lint-test"]["with"]
    # What the mlops-ci-deps hook checks, the job checks too; it installs the first one found.
    assert lint_test["pinned-files"] == "deploy/code/requirements.txt src/requirements.txt"
    assert lint_test["requirements"] == "deploy/code/requirements.txt"


def test_a_root_requirements_txt_is_the_installed_default(tmp_path):
    root = project(tmp_path, **{"requirements.txt": "numpy==2.4.6\n", "src/requirements-dev.txt": "x==1\n"})
    assert init(root) == 0
    workflow = yaml.safe_load((root / ".github" / "workflows" / "mlops-ci-pull-request.yml").read_text())
    assert "requirements" not in workflow["jobs"]["lint-test"]["with"]  # the input's default
    assert workflow["jobs"]["lint-test"]["with"]["pinned-files"] == "requirements.txt src/requirements-dev.txt"


def test_the_dependency_files_are_those_the_scaffolds_hook_checks():
    hooks = yaml.safe_load((ROOT / "scripts/mlops_ci/project/scaffold/dot-pre-commit-config.yaml").read_text())
    [deps] = [hook for repo in hooks["repos"] for hook in repo["hooks"] if hook["id"] == "mlops-ci-deps"]
    assert deps["files"] == existing.DEPENDENCY_FILES.pattern


def test_a_repository_with_tests_is_not_told_to_add_one(tmp_path, capsys):
    assert init(project(tmp_path, **{"tests/test_train.py": "def test_x():\n    pass\n"})) == 0
    assert "Add a first test" not in capsys.readouterr().out
