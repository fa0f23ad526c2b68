"""`mlops-ci init`: a new project in the SOP's layout whose pull-request workflow passes; reruns
create only what is missing and never overwrite."""

from __future__ import annotations

import configparser
import json
import os
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
from testing.project import commit_change

ROOT = Path(__file__).resolve().parents[3]
LAYOUT = ("data/processed/.gitkeep", "models/.gitkeep", "tests/test_pipeline.py", "notebooks/README.md",
          "src/train.py", "README.md", ".gitignore", "dvc.yaml", "params.yaml", "requirements.txt",
          "environment.yml", ".pre-commit-config.yaml", ".github/pull_request_template.md",
          ".github/CODEOWNERS", ".github/dependabot.yml", ".github/mlops-ci.yml", "docs/labeling.md",
          ".github/workflows/mlops-ci-pull-request.yml")


def scaffold(directory: Path, *extra: str) -> int:
    return main(["init", str(directory), "--org", "acme", "--ref", "v1.2.0", *extra])


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".git" not in path.relative_to(root).parts[:1]}


@pytest.fixture(name="project")
def fixture_project(tmp_path: Path) -> Path:
    project = tmp_path / "Churn_Model"
    assert scaffold(project) == 0
    return project


def test_scaffold_has_the_layout_branches_and_one_commit(project):
    for relative in LAYOUT:
        assert (project / relative).is_file(), relative
    config = configparser.ConfigParser()
    config.read(project / ".dvc" / "config")
    assert config.getboolean("core", "autostage")
    assert git(project, "branch", "--format=%(refname:short)").split() == ["develop", "main"]
    assert git(project, "rev-list", "--count", "main") == "1"
    assert git(project, "status", "--porcelain") == ""
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["model"] == {"name": "churn-model", "experiment": "churn-model"}
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
    config = load_config(str(project / ".github" / "mlops-ci.yml")).naming
    # The scaffold spells the defaults out.
    assert {kind: pattern.pattern for kind, pattern in config.items()} == naming.DEFAULTS
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert naming.check("model", params["model"]["name"], config) is None
    assert naming.check("experiment", params["model"]["experiment"], config) is None
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


def test_rerun_fills_only_what_is_missing_and_leaves_it_to_commit(project, capsys):
    (project / "docs" / "labeling.md").unlink()
    (project / "README.md").write_text("# Our own README\n")
    capsys.readouterr()
    assert scaffold(project) == 0
    out = capsys.readouterr().out
    assert "created  docs/labeling.md" in out and "kept     README.md (exists)" in out
    assert "not committed" in out
    assert (project / "README.md").read_text() == "# Our own README\n"
    assert "Data-labeling guideline: churn-model" in (project / "docs" / "labeling.md").read_text()


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


@pytest.mark.e2e
def test_pull_request_workflow_of_a_new_project_passes(project, tmp_path, github_api, mlflow_server, monkeypatch):
    """The scaffold's own PR workflow on its first feature branch: policy, quality gate, training
    (logged and registered in MLflow) and the reviewer's report as the PR's comment."""
    branch = "feature/PROJ-1-first-model"
    params = (project / "params.yaml").read_text().replace("C: 1.0", "C: 0.5")
    commit_change(project, branch, "params.yaml", params, "PROJ-1: a first model", start="develop")
    remote = github_api.state.add_repo("acme/churn-model", branches=["develop"])
    remote.add_branch(branch, git(project, "rev-parse", branch))
    number = remote.add_pull(branch, "develop", title="PROJ-1: a first model").number
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    code = main(["local", "pull_request", "--repo", str(project), "--repository", "acme/churn-model",
                 "--head", branch, "--base", "develop", "--title", "PROJ-1: a first model",
                 "--pr-number", str(number), "--job", "train", "--out", str(tmp_path / "out"),
                 "--github-api-url", github_api.url, "--secret", "GITHUB_TOKEN",
                 "--var", f"MLFLOW_TRACKING_URI={mlflow_server.url}"])
    jobs = json.loads((tmp_path / "out" / "result.json").read_text())["jobs"]
    results = {entry["name"].rsplit("/", 1)[-1]: entry["result"] for entry in jobs}
    assert code == 0 and results == {"branch-policy": "success", "lint-test": "success", "plan": "success",
                                     "train": "success", "report": "success", "experiment": "skipped",
                                     "docker-integration": "skipped"}, jobs
    [comment] = remote.comments_on(number)
    assert "## 📊 Model report" in comment.body


# Models a team swaps into the scaffold's train stage, and the dtype each is served (torch's float32).
SWAPPED_MODELS = {
    "random-forest": "from sklearn.ensemble import RandomForestClassifier\n"
                     "model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)\n"
                     "dtype = 'float64'",
    "torch": "import torch\nmodel = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 2))\ndtype = 'float32'",
}
TRACK_AND_LOAD = """\
import json, pickle
import mlflow
from src import prepare, track
from src.common import METRICS_FILE, MODEL_FILE, TEST_FILE, TRAIN_FILE, load_split
prepare.main()
x, y = load_split(TRAIN_FILE)
{train}
MODEL_FILE.write_bytes(pickle.dumps(model))
METRICS_FILE.write_text(json.dumps({{"accuracy": 0.5}}))
assert track.main() == 0
loaded = mlflow.pyfunc.load_model("models:/churn-model/1")
print("predictions:", len(loaded.predict(load_split(TEST_FILE)[0].astype(dtype))))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SWAPPED_MODELS))
def test_track_logs_a_swapped_in_model_that_loads_back(project, kind):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
           "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "PYTHONPATH": str(project)}
    done = subprocess.run([sys.executable, "-c", TRACK_AND_LOAD.format(train=SWAPPED_MODELS[kind])],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "predictions: 150" in done.stdout, done.stdout


@pytest.mark.slow
def test_dvc_stages_the_gitignore_of_a_new_output_folder(project):
    """A team's stage writing to a new folder: `dvc repro` stages dvc.lock and that folder's .gitignore,
    so the seed commit (and every later one) holds what DVC made."""
    stage = {"cmd": "mkdir -p eval && echo 1 > eval/score.txt", "outs": ["eval/score.txt"]}
    stages = {"stages": {"report": stage}}
    (project / "dvc.yaml").write_text(yaml.safe_dump(stages))
    git(project, "add", "dvc.yaml")
    done = subprocess.run([sys.executable, "-m", "dvc", "repro", "--quiet"], cwd=project, capture_output=True,
                          text=True, timeout=300, check=False, env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    assert done.returncode == 0, done.stderr
    assert {"dvc.lock", "eval/.gitignore"} <= set(git(project, "diff", "--cached", "--name-only").split())


@pytest.mark.slow
def test_the_printed_seed_steps_give_the_first_prs_a_base_to_compare_with(tmp_path, capsys):
    """init prints how to seed develop and main; run as printed, a fresh clone's first feature
    branch reads develop's metrics from the DVC remote (no more "failed to load metrics")."""
    project = tmp_path / "churn"
    assert scaffold(project) == 0
    steps = [line.strip() for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert steps and "dvc push" in " ".join(steps)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}

    def shell(command: str, cwd: Path) -> str:
        done = subprocess.run(["bash", "-ec", command], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        return done.stdout + done.stderr

    origin = tmp_path / "origin.git"
    shell(f"git init --quiet --bare {origin} && git remote add origin {origin}"
          f" && python -m dvc remote add -d storage {tmp_path / 'dvc-remote'}", project)
    shell("\n".join(steps), project)
    assert git(project, "rev-parse", "main") == git(project, "rev-parse", "develop")
    assert "dvc.lock" in git(project, "ls-tree", "--name-only", "origin/main")
    clone = tmp_path / "clone"
    shell(f"git clone --quiet --branch develop {origin} {clone}", tmp_path)
    out = shell("git switch --quiet -c feature/PROJ-1-x && dvc metrics diff origin/develop --all --json", clone)
    assert "failed to load" not in out.lower()
    assert json.loads(out.strip().splitlines()[-1])["metrics.json"]["accuracy"]["old"] is not None
