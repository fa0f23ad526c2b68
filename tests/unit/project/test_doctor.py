"""`mlops-ci doctor` on small git + DVC repositories: every check passing, each failing alone, the exit
codes. The DVC remote is a local folder; the MLflow check only meets a closed port here (a live server:
tests/integration/project/test_doctor_mlflow.py)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from mlops_ci.project.doctor import FAIL, OK, SKIP, check_mlflow, check_params, check_remote, doctor
from mlops_ci.training import flavors
from mlops_ci.training.pipeline import Declared, declared
from testing.pipeline import fixture_venv_path  # noqa: F401  # pylint: disable=unused-import

# A templated pipeline: `vars` and `${}` are resolved by DVC's loader before doctor reads it.
DVC_YAML = textwrap.dedent("""\
    vars:
      - model_dir: models
    stages:
      train:
        cmd: python train.py
        deps:
          - train.py
        params:
          - train.seed
          - search.yaml:
              - depth
        outs:
          - ${model_dir}/model.pkl
        metrics:
          - eval/metrics.json:
              cache: false
""")
TRAIN_PY = textwrap.dedent("""\
    import json, os, pickle
    os.makedirs("models", exist_ok=True)
    os.makedirs("eval", exist_ok=True)
    pickle.dump({"weights": [1, 2]}, open("models/model.pkl", "wb"))
    json.dump({"accuracy": 0.5}, open("eval/metrics.json", "w"))
""")
FILES = {
    "dvc.yaml": DVC_YAML,
    "train.py": TRAIN_PY,
    "params.yaml": "train:\n  seed: 1\n",
    "search.yaml": "depth: 3\n",
    "requirements.txt": "numpy==1.26.4\n",
    ".github/mlops-ci.yml": "model:\n  name: scorer\n  path: models/model.pkl\n  flavor: sklearn\n",
}
ALL_OK = [OK, OK, OK, OK, OK, SKIP]


def dvc(repo: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(name="trained", scope="module")
def fixture_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose pipeline ran and whose outputs are pushed to a local-folder remote."""
    root = tmp_path_factory.mktemp("doctor")
    repo = root / "repo"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "init", "--quiet")
    dvc(repo, "init", "--quiet")
    dvc(repo, "remote", "add", "--default", "storage", str(root / "remote"))
    dvc(repo, "repro", "--quiet")
    dvc(repo, "push", "--quiet")
    return repo


@pytest.fixture(name="repo")
def fixture_repo(trained: Path, tmp_path: Path, venv_path: None) -> Path:  # pylint: disable=unused-argument
    """A fresh copy of the trained repository (same remote), the venv's dvc first on PATH."""
    return Path(shutil.copytree(trained, tmp_path / "repo", symlinks=True))


def statuses(repo: Path, **options) -> dict[str, str]:
    return {check.name: check.status for check in doctor(repo, **options)}


def failures(repo: Path, **options) -> dict[str, str]:
    """The failed checks: name -> detail — fix."""
    return {check.name: check.line().split(": ", 1)[1] for check in doctor(repo, **options)
            if check.status == FAIL}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_ready_repository_passes_every_check(repo, capsys):
    assert list(statuses(repo).values()) == ALL_OK
    assert main(["doctor", str(repo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:6]] == ["ok", "ok", "ok", "ok", "ok", "skip"]
    assert lines[2] == ("ok   model: scorer: models/model.pkl is a DVC out, flavor sklearn's library imports "
                        "(`mlops-ci track` loads the file itself after `dvc repro`)")
    assert lines[-1] == "doctor: 6 of 6 check(s) passed or skipped, 0 failed"


def test_the_templated_pipeline_is_read_as_dvc_resolves_it(repo):
    pipeline = declared(repo)
    assert pipeline.outs == ["models/model.pkl", "eval/metrics.json"]
    assert pipeline.params_files == ["params.yaml", "search.yaml"]


@pytest.mark.parametrize("text, reason", [
    ("stages: [\n", "YAML file structure is corrupted"),
    ("stages:\n  train:\n    cmd: x\n    outz: [y]\n", "extra keys not allowed at stages.train.outz"),
    ("stages:\n  train:\n    cmd: ${nope}\n", "Could not find 'nope'"),
    ("stages: {}\n", "it declares no stage"),
])
def test_a_dvc_yaml_that_dvc_cannot_read_fails_alone(repo, text, reason):
    (repo / "dvc.yaml").write_text(text, encoding="utf-8")
    found = failures(repo)
    assert list(found) == ["dvc.yaml"] and reason in found["dvc.yaml"]
    assert statuses(repo)["params"] == SKIP


def test_no_default_remote_fails(repo):
    dvc(repo, "remote", "remove", "storage")
    assert failures(repo) == {"dvc remote": "no default remote: the workflows pull and push data there — fix: "
                                            "dvc remote add --default storage URL (an object store CI can "
                                            "reach), commit .dvc/config"}


def test_a_default_remote_only_in_the_local_config_fails(repo):
    dvc(repo, "remote", "default", "--unset")
    dvc(repo, "remote", "default", "--local", "storage")
    assert "set only outside .dvc/config" in failures(repo)["dvc remote"]


def test_outputs_not_pushed_fail(repo, tmp_path):
    dvc(repo, "remote", "modify", "storage", "url", str(tmp_path / "empty-remote"))
    found = failures(repo)
    assert list(found) == ["dvc remote"]
    assert "output(s) not in storage" in found["dvc remote"] and found["dvc remote"].endswith("fix: dvc push")


def test_a_remote_that_does_not_answer_fails_within_the_timeout(repo):
    with socket.socket() as silent:  # listens, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        dvc(repo, "remote", "modify", "storage", "url", f"http://127.0.0.1:{silent.getsockname()[1]}/dvc")
        check = check_remote(repo, declared(repo), timeout=3)
    assert check.status == FAIL and "took longer than 3 s" in check.detail


def test_a_model_path_that_is_no_out_fails(repo):
    config = FILES[".github/mlops-ci.yml"].replace("model.pkl", "other.pkl")
    (repo / ".github/mlops-ci.yml").write_text(config)
    assert list(failures(repo)) == ["model"]
    assert "model.path models/other.pkl is not an out" in failures(repo)["model"]


def test_no_model_section_fails(repo):
    (repo / ".github/mlops-ci.yml").unlink()
    assert "names no model" in failures(repo)["model"]


def test_a_flavor_whose_package_is_missing_fails(repo, monkeypatch):
    monkeypatch.setitem(flavors.PACKAGES, "sklearn", "no_such_package_for_doctor")
    assert failures(repo) == {"model": "flavor sklearn needs the package no_such_package_for_doctor, not "
                                       "installed here — fix: install the distribution that provides "
                                       "no_such_package_for_doctor and pin it in the requirements"}


@pytest.mark.parametrize("module, verdict", [("def load(path):\n    return path\n", OK),
                                             ("import no_such_module_for_doctor\n", FAIL),
                                             ("load = 3\n", FAIL)])
def test_a_pyfunc_loader_is_imported_from_the_repository(repo, module, verdict):
    (repo / ".github/mlops-ci.yml").write_text(
        "model:\n  name: scorer\n  path: models/model.pkl\n  flavor: pyfunc\n  loader: scorer_loader:load\n")
    (repo / "scorer_loader.py").write_text(module)
    assert statuses(repo)["model"] == verdict
    assert "scorer_loader" not in sys.modules


def test_a_missing_params_file_fails(repo):
    (repo / "search.yaml").unlink()
    assert failures(repo) == {"params": "missing search.yaml, which stages of dvc.yaml read — fix: commit the "
                                        "file, or drop it from the stages' params:"}


def test_unpinned_requirements_fail(repo):
    (repo / "requirements.txt").write_text("numpy>=1.26\n")
    found = failures(repo)
    assert list(found) == ["requirements"]
    assert found["requirements"].startswith("1 of 1 not pinned: numpy (")


def test_no_requirements_file_fails(repo):
    (repo / "requirements.txt").unlink()
    assert list(failures(repo)) == ["requirements"]


def test_mlflow_that_refuses_fails_and_no_uri_is_skipped(repo, monkeypatch):
    uri = f"http://127.0.0.1:{closed_port()}"
    check = check_mlflow(uri, timeout=5)
    assert check.status == FAIL and "Connection refused" in check.detail
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main(["doctor", str(repo)]) == 1
    assert check_mlflow(None).line() == "skip mlflow: no URI given (--mlflow-uri or MLFLOW_TRACKING_URI)"
    assert check_mlflow("sqlite:///mlflow.db").status == SKIP


def test_failures_are_annotated_inside_actions(repo, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (repo / "search.yaml").unlink()
    assert main(["doctor", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "FAIL params: missing search.yaml" in out
    assert "::error title=doctor%3A params::missing search.yaml" in out


def test_exit_2_when_dir_is_no_folder_of_a_git_repository(tmp_path, capsys):
    assert main(["doctor", str(tmp_path / "nowhere")]) == 2
    assert main(["doctor", str(tmp_path)]) == 2
    assert "not in a git repository" in capsys.readouterr().err


def test_a_params_file_a_stage_writes_is_not_missing(tmp_path):
    # dvclive writes results/train/params.yaml, which dvc.yaml's top-level params: then names.
    pipeline = Declared(outs=["results/train", "models/model.pkl"],
                        params_files=["params.yaml", "results/train/params.yaml"])
    (tmp_path / "params.yaml").write_text("lr: 0.1\n")
    assert check_params(tmp_path, pipeline).status == OK
    (tmp_path / "params.yaml").unlink()
    assert check_params(tmp_path, pipeline).detail.startswith("missing params.yaml,")
