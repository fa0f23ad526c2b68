"""`mlops-ci promote` and `rollback`: gate parsing and checks (pure), the promotion config, errors
without a server (tests/integration/training/test_promote_server.py runs them against real ones)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from mlops_ci.training import promote
from mlops_ci.config.sections import ReportConfig
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local.services import free_port
from mlops_ci.training.gates import check_metric_gate, mcnemar_gate, parse_gate
from testing.fixtures import predictions


# --- pure -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, metric, op, value", [
    ("accuracy>=0.9", "threshold", "accuracy", ">=", 0.9),
    (" rmse <= 1.2 ", "threshold", "rmse", "<=", 1.2),
    ("val/f1>5e-1", "threshold", "val/f1", ">", 0.5),
    ("accuracy:no-regress:0.01", "no-regress", "accuracy", "", 0.01),
    ("loss:no-regress", "no-regress", "loss", "", 0.0),
    ("mcnemar", "mcnemar", "", "", 0.05),
    ("mcnemar:0.01", "mcnemar", "", "", 0.01),
])
def test_parse_gate(text, kind, metric, op, value):
    gate = parse_gate(text)
    assert (gate.kind, gate.metric, gate.op, gate.value) == (kind, metric, op, value)


@pytest.mark.parametrize("text", ["accuracy", "accuracy=>0.9", "accuracy>=high", "acc:regress:1",
                                  "mcnemar:2"])
def test_bad_gates_are_usage_errors(text):
    with pytest.raises(MlopsCiError, match="gate"):
        parse_gate(text)


@pytest.mark.parametrize("gate, metrics, champion, lower, status", [
    ("accuracy>=0.9", {"accuracy": 0.95}, None, False, "passed"),
    ("accuracy>=0.9", {"accuracy": 0.85}, None, False, "failed"),
    ("rmse<=1.2", {"rmse": 1.3}, None, True, "failed"),
    ("accuracy>=0.9", {}, None, False, "failed"),
    ("accuracy:no-regress:0.01", {"accuracy": 0.945}, {"accuracy": 0.95}, False, "passed"),
    ("accuracy:no-regress:0.01", {"accuracy": 0.93}, {"accuracy": 0.95}, False, "failed"),
    ("rmse:no-regress:0.1", {"rmse": 1.05}, {"rmse": 1.0}, True, "passed"),
    ("rmse:no-regress", {"rmse": 1.05}, {"rmse": 1.0}, True, "failed"),
    ("accuracy:no-regress", {"accuracy": 0.5}, None, False, "skipped"),
    ("accuracy:no-regress", {"accuracy": 0.5}, {"loss": 1.0}, False, "skipped"),
])
def test_metric_gates(gate, metrics, champion, lower, status):
    result = check_metric_gate(parse_gate(gate), metrics, champion, lower)
    assert result.status == status, result
    if not metrics:
        assert "did not log accuracy" in result.detail


def test_gates_name_mlflow_keys_with_several_metrics_files():
    runs = {"new": {"eval.accuracy": 0.91, "train.accuracy": 0.99, "eval.loss": 0.35},
            "old": {"eval.accuracy": 0.95, "train.accuracy": 0.9, "eval.loss": 0.3}}
    registry = SimpleNamespace(run_metrics=runs.__getitem__)
    gates = [parse_gate(text) for text in ("eval.accuracy>=0.9", "train.accuracy>=0.995",
                                                   "eval.loss:no-regress:0.01", "accuracy>=0.9")]
    results = promote.check_gates(registry, SimpleNamespace(run_id="new"), SimpleNamespace(run_id="old"), gates,
                                  (ReportConfig(), "eval/predictions.csv"))
    assert [result.status for result in results] == ["passed", "failed", "failed", "failed"]
    assert "+0.05" in results[2].detail   # loss: lower is better, by the report's rule on the MLflow key
    assert "(it logged eval.accuracy, train.accuracy: with several metrics files, gates name " \
           "<file stem>.<key>)" in results[3].detail


def test_mcnemar_gate():
    gate = parse_gate("mcnemar:0.05")
    labels = [1] * 40
    good, bad = predictions(labels, [1] * 40), predictions(labels, [1] * 28 + [0] * 12)
    assert mcnemar_gate(gate, bad, good).status == "failed"      # 0 vs 12 discordant pairs
    assert mcnemar_gate(gate, good, bad).status == "passed"
    assert mcnemar_gate(gate, good, good).detail == "no disagreements on the evaluation set"
    slightly = predictions(labels, [1] * 39 + [0])
    assert mcnemar_gate(gate, slightly, good).status == "passed"  # 1 pair is no evidence
    other_set = predictions([2] * 40, [2] * 40)
    assert "not the same evaluation set" in mcnemar_gate(gate, good, other_set).detail
    assert mcnemar_gate(gate, "a,b\n1,2\n", good).status == "skipped"
    assert "this version" in mcnemar_gate(gate, None, good).detail
    assert mcnemar_gate(gate, good, None).status == "skipped"


def test_mcnemar_gate_without_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    labels = [1] * 4
    with pytest.raises(MlopsCiError, match="needs scipy"):
        mcnemar_gate(parse_gate("mcnemar"), predictions(labels, [0] * 4),
                             predictions(labels, labels))


def pull(number, base="main", merged_at="2026-11-26T10:00:00Z", sha=None):
    return {"number": number, "base": {"ref": base}, "merged_at": merged_at, "merge_commit_sha": sha}


def test_pick_merged_pull():
    assert promote.pick_merged_pull([pull(1, merged_at=None), pull(2, base="develop")], "abc", "main") is None
    pulls = [pull(3, merged_at="2026-11-26T12:00:00Z"), pull(4, sha="abc"), pull(5)]
    assert promote.pick_merged_pull(pulls, "abc", "main")["number"] == 4
    assert promote.pick_merged_pull(pulls, "def", "main")["number"] == 3


# --- against MLflow -------------------------------------------------------------------------------

def test_unreachable_mlflow_is_exit_2_naming_the_uri(monkeypatch, mlflow_client_env, capsys):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert main(["promote", "--model", "digits", "--pr", "1"]) == 2
    err = capsys.readouterr().err
    assert uri in err and "not done; nothing was changed" in err
    assert main(["rollback", "--model", "digits", "--reason", "x"]) == 2


def test_pushed_commit_needs_a_repository(monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    assert main(["promote", "--pushed-commit", "a" * 40]) == 2
    assert "no repository" in capsys.readouterr().err
