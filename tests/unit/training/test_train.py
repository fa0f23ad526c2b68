"""mlops_ci.train: the plan (does a change touch a pipeline input?) and the run (repro, push, track)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops_ci.training import experiments
from mlops_ci.training import command as train
from mlops_ci.training import experiment, run
from mlops_ci.cli import main
from mlops_ci.clients.mlflow import NotFound
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git
from mlops_ci.training.fingerprint import pipeline_fingerprint
from mlops_ci.training.pipeline import stage_definitions
from testing.pipeline import fixture_pipeline_repo, fixture_venv_path  # noqa: F401  fixtures
from testing.pipeline import resolved_stages

DVC_YAML = textwrap.dedent("""\
    stages:
      prepare:
        cmd: python prepare.py
        deps: [prepare.py, data/raw]
        params: [prepare]
        outs: [data/processed]
      train:
        cmd: python train.py
        deps: [train.py, data/processed]
        params:
          - train.lr
          - other.yaml:
              - depth
        outs: [model.txt]
        metrics: [{metrics.json: {cache: true}}]
        plots: [{plots/curve.csv: {x: epoch, y: loss}}]
""")
PARAMS = "prepare:\n  size: 8\ntrain:\n  lr: 0.01\n  epochs: 3\n"


def test_read_pipeline_collects_deps_and_declared_params():
    pipeline = train.read_pipeline(resolved_stages(DVC_YAML))
    assert pipeline.deps == {"prepare.py", "data/raw", "train.py", "data/processed"}
    assert pipeline.params == {"params.yaml": {"prepare", "train.lr"}, "other.yaml": {"depth"}}


TEMPLATED = textwrap.dedent("""\
    vars:
      - data_dir: data
      - splits: [train, test]
    stages:
      train:
        cmd: python train.py ${data_dir}/train.csv
        deps:
          - ${data_dir}/train.csv
      evaluate:
        foreach: ${splits}
        do:
          cmd: python evaluate.py ${item}
          deps:
            - ${data_dir}/${item}.csv
          params:
            - evaluate.${item}
            - config/eval.yaml:
                - ${item}
      report:
        cmd: python report.py
        wdir: reports
        deps: [report.py]
        params: [title]
""")


def test_read_pipeline_sees_templated_deps_and_params():
    pipeline = train.read_pipeline(resolved_stages(TEMPLATED))
    assert pipeline.deps == {"data/train.csv", "data/test.csv", "reports/report.py"}
    assert pipeline.params == {"params.yaml": {"evaluate.train", "evaluate.test"},
                               "config/eval.yaml": {"train", "test"}, "reports/params.yaml": {"title"}}
    stages = resolved_stages(TEMPLATED)
    assert train.resolved_changes(stages, stages) == []
    changed = resolved_stages(TEMPLATED.replace("[train, test]", "[train, valid]"))
    assert train.resolved_changes(stages, changed) == ["stage changed: evaluate@test",
                                                       "stage changed: evaluate@valid"]


def test_changed_params_only_counts_declared_keys():
    after = PARAMS.replace("lr: 0.01", "lr: 0.02").replace("epochs: 3", "epochs: 4").replace("size: 8", "size: 9")
    assert train.changed_params({"prepare", "train.lr"}, PARAMS, after) == ["prepare.size", "train.lr"]
    assert train.changed_params({"train.lr"}, PARAMS, PARAMS.replace("epochs: 3", "epochs: 5")) == []
    assert train.changed_params({"depth"}, None, "depth: 3\n") == ["depth"]


@pytest.mark.parametrize(("changed", "expected"), [
    (["README.md", "docs/guide.md"], []),
    (["dvc.yaml"], ["dvc.yaml changed"]),
    (["dvc.lock"], ["dvc.lock changed"]),
    (["data/raw.dvc"], ["data changed: data/raw.dvc"]),
    (["train.py"], ["dependency changed: train.py"]),
    (["data/raw/x.png"], ["dependency changed: data/raw/x.png"]),
    (["data/rawer.txt"], []),
])
def test_reasons_to_train(changed, expected):
    pipeline = train.read_pipeline(resolved_stages(DVC_YAML))
    assert train.reasons_to_train(pipeline, changed, {"params.yaml": (PARAMS, PARAMS)}) == expected


def plan_output(repo: Path, tmp_path: Path, monkeypatch, base: str = "develop") -> tuple[int, dict]:
    outputs = tmp_path / "outputs"
    outputs.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code = main(["train", "plan", "--base", base, "--repo", str(repo)])
    text = outputs.read_text()
    return code, {"train": "train<<" in text and "\ntrue\n" in text.split("reasons<<")[0]}


def test_plan_on_a_real_repo(pipeline_repo, tmp_path, monkeypatch, capsys):
    git(pipeline_repo, "checkout", "--quiet", "-b", "feature/x")
    (pipeline_repo / "README.md").write_text("docs only\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "docs")
    code, out = plan_output(pipeline_repo, tmp_path, monkeypatch)
    assert code == 0 and out["train"] is False
    assert "training skipped" in capsys.readouterr().out
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.2\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "lr")
    code, out = plan_output(pipeline_repo, tmp_path, monkeypatch)
    assert code == 0 and out["train"] is True
    assert "param changed: fit.lr" in capsys.readouterr().out


def test_plan_errors(pipeline_repo, tmp_path, capsys):
    assert main(["train", "plan", "--base", "nope", "--repo", str(pipeline_repo)]) == 2
    assert "no base revision 'nope'" in capsys.readouterr().err
    assert main(["train", "plan", "--base", "develop", "--repo", str(tmp_path)]) == 2
    assert "no dvc.yaml" in capsys.readouterr().err


def test_stage_outcomes_from_a_repro_log():
    log = ("Running stage 'prepare':\n> python prepare.py\n"
           "Stage 'train' is cached - skipping run, checking out outputs\n"
           "Stage 'evaluate' didn't change, skipping\n")
    assert run.stage_outcomes(log) == {"prepare": "ran", "train": "restored", "evaluate": "unchanged"}


def test_track_env():
    assert run.track_env({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5"}, "7", Path("o.json")) == {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
        "MLOPS_CI_TRACK_OUTPUT": "o.json", "MLOPS_CI_PR_NUMBER": "7"}


def test_run_without_remote_or_tracking(pipeline_repo, tmp_path, monkeypatch, capsys, venv_path):
    del venv_path
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    export = tmp_path / "export"
    assert main(["train", "run", "--repo", str(pipeline_repo), "--export", str(export)]) == 0
    assert "1 stage(s) ran" in capsys.readouterr().out
    assert "| fit | 🏋️ ran |" in summary.read_text() and "none configured" in summary.read_text()
    assert sorted(p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file()) == [
        "dvc.lock", "metrics.json", "plots/curve.csv"]
    # Nothing changed: the second run executes no stage.
    assert main(["train", "run", "--repo", str(pipeline_repo)]) == 0
    assert "0 stage(s) ran" in capsys.readouterr().out


def test_a_repro_naming_no_stage_says_the_pipeline_was_up_to_date(pipeline_repo, tmp_path, monkeypatch, capsys,
                                                                   venv_path):
    del venv_path
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setattr(run, "reproduce", lambda *args: ({}, True))
    assert main(["train", "run", "--repo", str(pipeline_repo)]) == 0
    assert "train: no stage ran: dvc repro found the pipeline up to date; model" in capsys.readouterr().out
    assert "| stage |" not in summary.read_text() and "No stage ran" in summary.read_text()


@pytest.fixture(name="unchecked_results")
def fixture_unchecked_results(monkeypatch):
    """Track results taken as written: these tests have no MLflow to confirm them (the check has tests
    of its own, below and in tests/integration/training/test_track_server.py)."""
    monkeypatch.setattr(run, "checked_result", lambda text, registering: json.loads(text))


def test_run_with_a_remote_and_a_track_command(pipeline_repo, tmp_path, monkeypatch, capsys, venv_path,
                                               unchecked_results):
    del venv_path, unchecked_results
    subprocess.run(["dvc", "remote", "add", "-d", "storage", str(tmp_path / "remote")], cwd=pipeline_repo,
                   check=True)
    tracker = tmp_path / "track.py"
    tracker.write_text("import json, os\njson.dump({'run_id': 'r1'}, open(os.environ['MLOPS_CI_TRACK_OUTPUT'], 'w'))\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["train", "run", "--repo", str(pipeline_repo), "--track-command",
                 f"{sys.executable} {tracker}", "--pr", "7"]) == 0
    assert "run-id<<" in outputs.read_text() and "r1" in outputs.read_text()
    assert (tmp_path / "remote").is_dir(), "outputs and run-cache pushed"
    capsys.readouterr()


@pytest.mark.parametrize(("script", "message"), [
    ("import sys\nprint('mlflow down', file=sys.stderr)\nsys.exit(1)\n", "the track command failed (exit 1): mlflow down"),
    ("pass\n", "the track command wrote no result"),
])
def test_track_failures_are_one_line(pipeline_repo, tmp_path, monkeypatch, capsys, venv_path, script, message):
    del venv_path
    tracker = tmp_path / "track.py"
    tracker.write_text(script)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert main(["train", "run", "--repo", str(pipeline_repo), "--track-command",
                 f"{sys.executable} {tracker}"]) == 2
    assert message in capsys.readouterr().err


class KnownToMlflow:
    """A stand-in Registry that has run r1 and version 3 of model m, registered from it."""

    uri = "http://mlflow.invalid"

    def __init__(self, *_args, **_kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info):
        return None

    def run_experiment(self, run_id):
        if run_id != "r1":
            raise NotFound(f"reading run {run_id}: RESOURCE_DOES_NOT_EXIST")
        return "0"

    def version(self, name, version):
        if (name, version) != ("m", "3"):
            raise NotFound(f"reading {name} version {version}: RESOURCE_DOES_NOT_EXIST")
        return SimpleNamespace(run_id="r1")


@pytest.mark.parametrize(("result", "registering", "message"), [
    ("not json", True, "the track command's result is not JSON"),
    ('{"model_name": "m"}', True, "the track command's result names no run_id"),
    ('{"run_id": "r1"}', True, "the track command registered no model version"),
    ('{"run_id": "x", "model_name": "m", "model_version": "3"}', True,
     "http://mlflow.invalid: the track command's result names what MLflow does not have: reading run x"),
    ('{"run_id": "r1", "model_name": "m", "model_version": "4"}', True, "does not have: reading m version 4"),
    ('{"run_id": "x"}', False, "does not have: reading run x"),
])
def test_a_track_result_mlflow_cannot_confirm_is_an_error(monkeypatch, result, registering, message):
    monkeypatch.setattr(run, "Registry", KnownToMlflow)
    with pytest.raises(MlopsCiError) as raised:
        run.checked_result(result, registering)
    assert message in str(raised.value)


def test_a_confirmed_track_result_is_returned(monkeypatch):
    monkeypatch.setattr(run, "Registry", KnownToMlflow)
    assert run.checked_result('{"run_id": "r1", "model_name": "m", "model_version": "3"}', True)["run_id"] == "r1"
    assert run.checked_result('{"run_id": "r1"}', False) == {"run_id": "r1"}


def test_failed_repro_is_a_failed_gate(pipeline_repo, monkeypatch, capsys, venv_path):
    del venv_path
    (pipeline_repo / "fit.py").write_text("raise SystemExit('boom')\n")
    assert main(["train", "run", "--repo", str(pipeline_repo)]) == 1
    assert "dvc repro failed" in capsys.readouterr().err
    assert main(["train", "run", "--repo", str(pipeline_repo.parent)]) == 2


def test_gpus_seen(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run.gpus_seen() == []
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA H100, 81559 MiB, 570.1'\n")
    fake.chmod(0o755)
    assert run.gpus_seen() == ["NVIDIA H100, 81559 MiB, 570.1"]


def test_summary_lists_stages_and_the_version():
    text = run.train_summary(["GPU"], {"a": "ran", "b": "restored"}, {"run_id": "r", "model_name": "m",
                                                                         "model_version": "3"}, True)
    assert "| a | 🏋️ ran |" in text and "♻️ restored" in text and "version **3**" in text
    assert json.dumps(text)


def test_parse_sets():
    assert experiment.parse_sets(["fit.lr=0.2 fit.epochs=3", "params.yaml:seed=1"]) == {
        "fit.lr": "0.2", "fit.epochs": "3", "params.yaml:seed": "1"}
    for bad in (["fit.lr"], ["=1"], [" "]):
        with pytest.raises(MlopsCiError, match="--set"):
            experiment.parse_sets(bad)


def test_shown_metrics_keeps_numbers_and_skips_unreadable_files():
    shown = {"": {"data": {"metrics.json": {"data": {"accuracy": 0.9, "per_class": {"0": 0.8},
                                                     "note": "x", "ok": True}},
                           "missing.json": {"error": {"type": "FileNotFoundError"}}}}}
    assert experiment.shown_metrics(shown) == [{"path": "metrics.json", "name": "accuracy", "value": 0.9},
                                          {"path": "metrics.json", "name": "per_class.0", "value": 0.8}]


def test_experiment_runs_with_its_params_and_writes_the_result(pipeline_repo, tmp_path, monkeypatch, capsys,
                                                               venv_path, unchecked_results):
    del venv_path, unchecked_results
    tracker = tmp_path / "track.py"
    tracker.write_text("import json, os\nassert os.environ['MLOPS_CI_REGISTER'] == 'false'\n"
                       "json.dump({'run_id': 'r9'}, open(os.environ['MLOPS_CI_TRACK_OUTPUT'], 'w'))\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["train", "experiment", "--repo", str(pipeline_repo), "--set", "fit.lr=0.25",
                 "--track-command", f"{sys.executable} {tracker}", "--out-dir", str(tmp_path / "results")]) == 0
    [out] = (tmp_path / "results").glob("*.json")
    assert out.name == f"{experiments.slug({'fit.lr': '0.25'})}.json"
    assert "result<<" in outputs.read_text() and str(out.resolve()) in outputs.read_text()
    assert json.loads(out.read_text()) == {
        "name": "fit.lr=0.25", "params": {"fit.lr": "0.25"}, "run_id": "r9", "stages_ran": ["fit"],
        "metrics": [{"path": "metrics.json", "name": "accuracy", "value": 0.75}]}
    assert "experiment `fit.lr=0.25`" in summary.read_text()
    assert "1 stage(s) ran" in capsys.readouterr().out


def test_a_failed_experiment_is_a_failed_gate(pipeline_repo, tmp_path, capsys, venv_path):
    del venv_path
    (pipeline_repo / "fit.py").write_text("raise SystemExit('boom')\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "broken")
    assert main(["train", "experiment", "--repo", str(pipeline_repo), "--set", "fit.lr=0.3",
                 "--track-command", "", "--out-dir", str(tmp_path / "results")]) == 1
    assert "dvc exp run failed" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_naming_problems_of_datasets_the_model_and_the_experiment():
    config = {}  # the config file sets no kind: the defaults
    assert train.naming_problems(["data/raw.dvc", "src/a.py"], "digits-classifier", "digits-classifier",
                                 config) == []
    problems = train.naming_problems(["data/Raw Images.dvc"], "Digits_Model", "Digits V2", config)
    assert len(problems) == 3 and "dataset name 'Raw Images'" in problems[0] and "model name" in problems[1]
    assert "experiment name 'Digits V2' does not follow the naming convention naming.experiment" in problems[2]


def test_the_experiment_name_comes_from_the_environment_else_params_yaml(tmp_path):
    assert train.experiment_name(tmp_path, {}) is None
    (tmp_path / "params.yaml").write_text("fit:\n  lr: 0.1\n")
    assert train.experiment_name(tmp_path, {}) is None
    (tmp_path / "params.yaml").write_text("model:\n  name: digits\n  experiment: Digits_V2\n")
    assert train.experiment_name(tmp_path, {}) == ("Digits_V2", f"{tmp_path / 'params.yaml'} model.experiment")
    assert train.experiment_name(tmp_path, {"MLOPS_CI_EXPERIMENT": "ab"}) == ("ab", "MLOPS_CI_EXPERIMENT")
    (tmp_path / "params.yaml").write_text("model: [unclosed\n")
    with pytest.raises(MlopsCiError, match="cannot read"):
        train.experiment_name(tmp_path, {})


def test_run_and_experiment_refuse_an_experiment_name_before_anything_trains(pipeline_repo, tmp_path, monkeypatch,
                                                                            capsys, venv_path, unchecked_results):
    del venv_path, unchecked_results
    tracked = tmp_path / "tracked"
    tracker = tmp_path / "track.py"
    tracker.write_text(f"import json, os\nopen({str(tracked)!r}, 'w').write(os.environ.get('MLOPS_CI_EXPERIMENT', ''))\n"
                       "json.dump({'run_id': 'r1'}, open(os.environ['MLOPS_CI_TRACK_OUTPUT'], 'w'))\n")
    track = ["--track-command", f"{sys.executable} {tracker}"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.1\nmodel:\n  experiment: Digits_V2\n")
    assert main(["train", "run", "--repo", str(pipeline_repo), *track]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "params.yaml model.experiment: experiment name 'Digits_V2' does not follow " \
        "the naming convention naming.experiment ('[a-z][a-z0-9]*(?:-[a-z0-9]+)*', e.g. 'churn-baseline')" in err
    assert not (pipeline_repo / "model.txt").exists() and not tracked.exists(), "nothing trained or tracked"

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("MLOPS_CI_EXPERIMENT", "digits v2")
    assert main(["train", "experiment", "--repo", str(pipeline_repo), "--set", "fit.lr=0.2", *track,
                 "--out-dir", str(tmp_path / "results")]) == 2
    assert "::error::MLOPS_CI_EXPERIMENT: experiment name 'digits v2'" in capsys.readouterr().out
    assert not tracked.exists() and not (tmp_path / "results").exists()
    monkeypatch.delenv("GITHUB_ACTIONS")

    # The team's own rule, from the commit's .github/mlops-ci.yml; without a track command nothing is
    # created in MLflow, so nothing is checked.
    (pipeline_repo / ".github").mkdir()
    (pipeline_repo / ".github" / "mlops-ci.yml").write_text("naming:\n  experiment: '[a-z]+ v[0-9]+'\n")
    git(pipeline_repo, "add", "--all")
    git(pipeline_repo, "commit", "--quiet", "-m", "our experiment names")
    assert main(["train", "run", "--repo", str(pipeline_repo), *track]) == 0
    assert tracked.read_text() == "digits v2"
    monkeypatch.delenv("MLOPS_CI_EXPERIMENT")
    assert main(["train", "run", "--repo", str(pipeline_repo), *track]) == 2
    assert "naming.experiment ('[a-z]+ v[0-9]+')" in capsys.readouterr().err
    assert main(["train", "run", "--repo", str(pipeline_repo), "--track-command", ""]) == 0


def test_plan_refuses_names_against_the_base_branchs_conventions(pipeline_repo, tmp_path, monkeypatch, capsys):
    (pipeline_repo / ".github").mkdir()
    (pipeline_repo / ".github" / "mlops-ci.yml").write_text("naming:\n  dataset: 'ds_[a-z]+'\n")
    git(pipeline_repo, "add", "--all")
    git(pipeline_repo, "commit", "--quiet", "-m", "conventions")
    git(pipeline_repo, "checkout", "--quiet", "-b", "feature/data")
    (pipeline_repo / "images.dvc").write_text("outs:\n- path: images\n")
    # The PR also tries to loosen the rule: the base branch's rule applies.
    (pipeline_repo / ".github" / "mlops-ci.yml").write_text("naming:\n  dataset: '.*'\n")
    git(pipeline_repo, "add", "--all")
    git(pipeline_repo, "commit", "--quiet", "-m", "new data")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out = plan_output(pipeline_repo, tmp_path, monkeypatch)
    assert code == 1 and out["train"] is False
    assert "dataset name 'images' does not follow the naming convention naming.dataset" in capsys.readouterr().err
    assert "naming conventions" in summary.read_text()
    monkeypatch.setenv("MLOPS_CI_MODEL_NAME", "Bad Name")
    git(pipeline_repo, "rm", "--quiet", "images.dvc")
    git(pipeline_repo, "commit", "--quiet", "-m", "no data")
    assert plan_output(pipeline_repo, tmp_path, monkeypatch)[0] == 1
    assert "model name 'Bad Name'" in capsys.readouterr().err
    monkeypatch.delenv("MLOPS_CI_MODEL_NAME")
    monkeypatch.setenv("MLOPS_CI_EXPERIMENT", "Bad Experiment")
    assert plan_output(pipeline_repo, tmp_path, monkeypatch)[0] == 1
    assert "experiment name 'Bad Experiment'" in capsys.readouterr().err


def test_pipeline_fingerprint_of_a_real_repo(pipeline_repo):
    develop = pipeline_fingerprint(pipeline_repo)
    git(pipeline_repo, "checkout", "--quiet", "-b", "feature/x")
    (pipeline_repo / "README.md").write_text("docs\n")
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.1\nunused: 1\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "docs and an unused param")
    assert pipeline_fingerprint(pipeline_repo) == develop
    (pipeline_repo / "fit.py").write_text((pipeline_repo / "fit.py").read_text() + "# changed\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "code")
    assert pipeline_fingerprint(pipeline_repo) != develop
    assert pipeline_fingerprint(pipeline_repo, "develop") == develop


def test_a_plain_pipelines_fingerprint_is_pinned(pipeline_repo):
    # The tag registered versions carry (computed before templated pipelines were fingerprinted).
    assert pipeline_fingerprint(pipeline_repo) == "48177654ffd5b4677cfd6fe8d8c5a252af507577124618207746fe87e25c3458"


def test_a_templated_pipeline_in_a_subfolder_is_fingerprinted_and_planned(tmp_path):
    # vars from a file (read at the commit, not from the workspace), ${...} paths, a foreach stage.
    project = tmp_path / "repo" / "ml"
    (project / "src").mkdir(parents=True)
    (project / "dvc.yaml").write_text(textwrap.dedent("""\
        vars:
          - config.yaml
        stages:
          evaluate:
            foreach: ${splits}
            do:
              cmd: python src/evaluate.py ${item} --bins ${bins}
              deps:
                - src/evaluate.py
              params:
                - evaluate.${item}
    """))
    (project / "config.yaml").write_text("splits: [train, test]\nbins: 10\n")
    (project / "params.yaml").write_text("evaluate: {train: 1, test: 2}\n")
    (project / "src" / "evaluate.py").write_text("print()\n")
    git(tmp_path / "repo", "init", "--quiet", "--initial-branch=develop")
    git(tmp_path / "repo", "config", "user.email", "t@example.invalid")
    git(tmp_path / "repo", "config", "user.name", "t")
    git(tmp_path / "repo", "add", "--all")
    git(tmp_path / "repo", "commit", "--quiet", "-m", "init")
    develop = pipeline_fingerprint(project)
    assert develop
    git(project, "checkout", "--quiet", "-b", "feature/x")
    (project / "README.md").write_text("docs\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "docs")
    assert pipeline_fingerprint(project) == develop                         # same inputs, another branch
    assert train.plan(project, "develop") == []
    (project / "config.yaml").write_text("splits: [train, test]\nbins: 20\n")
    assert pipeline_fingerprint(project) == develop                         # the commit's, not the workspace's
    git(project, "commit", "--quiet", "-am", "a vars value")
    assert pipeline_fingerprint(project) != develop
    assert train.plan(project, "develop") == ["stage changed: evaluate@test", "stage changed: evaluate@train"]
    git(project, "reset", "--quiet", "--hard", "HEAD~1")
    (project / "params.yaml").write_text("evaluate: {train: 1, test: 3}\n")
    git(project, "commit", "--quiet", "-am", "a param of the foreach stage")
    assert pipeline_fingerprint(project) != develop
    assert train.plan(project, "develop") == ["param changed: evaluate.test"]
    assert pipeline_fingerprint(project, "develop") == develop


def test_our_plain_metrics_project_is_fingerprinted(tmp_path):
    # tests/projects/plain-metrics: top-level vars, ${data_dir} paths, a foreach evaluate stage.
    project = tmp_path / "plain-metrics"
    shutil.copytree(Path(__file__).parents[2] / "projects" / "plain-metrics", project)
    git(project, "init", "--quiet", "--initial-branch=develop")
    git(project, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "add", "--all")
    git(project, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "--quiet", "-m", "init")
    develop = pipeline_fingerprint(project)
    assert len(develop) == 64
    git(project, "checkout", "--quiet", "-b", "main")
    assert pipeline_fingerprint(project) == develop
    assert {"data/train.csv", "data/test.csv"} <= train.read_pipeline(stage_definitions(project, "HEAD")).deps


def test_no_fingerprint_without_git_or_a_committed_dvc_yaml(tmp_path, capsys):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    assert pipeline_fingerprint(tmp_path) == ""
    git(tmp_path, "init", "--quiet")
    assert pipeline_fingerprint(tmp_path) == ""
    assert "no dvc.yaml committed at HEAD" in capsys.readouterr().out


def test_an_unreachable_registry_means_training(pipeline_repo, tmp_path, monkeypatch, capsys):
    git(pipeline_repo, "checkout", "--quiet", "-b", "feature/x")
    (pipeline_repo / "params.yaml").write_text("fit:\n  lr: 0.2\n")
    git(pipeline_repo, "commit", "--quiet", "-am", "lr")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    code, out = plan_output(pipeline_repo, tmp_path, monkeypatch)
    assert code == 0 and out["train"] is True
    assert "training instead" in capsys.readouterr().err
