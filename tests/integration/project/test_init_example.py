"""`mlops-ci init`'s project trained for real: a swapped-in model tracked and loaded back, dvc staging a
new output folder's .gitignore, and the printed seed steps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_ci.core.proc import git
from testing.scaffold import fixture_project, scaffold  # noqa: F401  fixtures


# Models a team swaps into the scaffold's train stage: how it saves one, the flavor it then names in
# .github/mlops-ci.yml, and the dtype the model is served (torch's float32).
SWAPPED_MODELS = {
    "random-forest": ("from sklearn.ensemble import RandomForestClassifier\n"
                      "model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)\n"
                      "MODEL_FILE.write_bytes(pickle.dumps(model))\ndtype = 'float64'", "sklearn"),
    "torch": ("import torch\nmodel = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 2))\n"
              "torch.jit.script(model).save(str(MODEL_FILE))\ndtype = 'float32'", "pytorch"),
}


TRAIN = """\
import json, pickle
from src import prepare
from src.common import METRICS_FILE, MODEL_FILE, TRAIN_FILE, load_split
prepare.main()
x, y = load_split(TRAIN_FILE)
{train}
METRICS_FILE.write_text(json.dumps({{"accuracy": 0.5}}))
"""
LOAD = """\
import mlflow
from src.common import TEST_FILE, load_split
loaded = mlflow.pyfunc.load_model("models:/churn-model/1")
print("predictions:", len(loaded.predict(load_split(TEST_FILE)[0].astype({dtype!r}))))
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SWAPPED_MODELS))
def test_track_logs_a_swapped_in_model_that_loads_back(project, kind):
    """The team trains its own model in the scaffold, names its flavor, and `mlops-ci track` (the
    workflows' default track command) logs and registers it in a form that serves."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}", "PYTHONPATH": str(project)}
    train, flavor = SWAPPED_MODELS[kind]
    config = project / ".github" / "mlops-ci.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("flavor: sklearn", f"flavor: {flavor}"),
                      encoding="utf-8")
    dtype = train.rpartition("dtype = ")[2].strip("'")
    for command in ([sys.executable, "-c", TRAIN.format(train=train)], [sys.executable, "-m", "mlops_ci", "track"],
                    [sys.executable, "-c", LOAD.format(dtype=dtype)]):
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
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
