"""`mlops-ci promote` and `rollback` against real MLflow servers (sqlite and MariaDB): promote, rerun,
refusal, rollback, racing and killed processes, the merged PR's comment."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from mlflow.tracking import MlflowClient

from mlops_ci.training import promote
from mlops_ci.cli import main
from mlops_ci.local.services import free_port

from testing.fixtures import TEST_REPO, TEST_TOKEN, predictions

PREDICTIONS = "eval/predictions.csv"


@pytest.fixture(name="server", params=[pytest.param("sqlite", marks=pytest.mark.services),
                                        pytest.param("mariadb", marks=[pytest.mark.services, pytest.mark.mariadb])])
def fixture_server(request, mlflow_client_env, monkeypatch):
    """The MLflow server of each backend, as MLFLOW_TRACKING_URI."""
    name = "mlflow_server" if request.param == "sqlite" else "mlflow_server_mariadb"
    server = request.getfixturevalue(name)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    return server


class Model:
    """A fresh registered model on the server, and a helper to register versions with metrics."""

    def __init__(self, url: str) -> None:
        self.client = MlflowClient(url, url)
        self.name = f"digits-{uuid.uuid4().hex[:8]}"
        self.client.create_registered_model(self.name)
        self.experiment = self.client.create_experiment(self.name)

    def add(self, accuracy: float | None = 0.9, pr: int | None = None, predicted: str | None = None) -> str:
        run = self.client.create_run(self.experiment)
        if accuracy is not None:
            self.client.log_metric(run.info.run_id, "accuracy", accuracy)
        if predicted is not None:
            self.client.log_text(run.info.run_id, predicted, PREDICTIONS)
        tags = {"mlops_ci.pr": str(pr), "mlops_ci.commit": f"{pr:040x}"} if pr is not None else {}
        return self.client.create_model_version(self.name, f"{run.info.artifact_uri}/model",
                                                run_id=run.info.run_id, tags=tags).version

    def champion(self, alias: str = "champion") -> str | None:
        aliases = self.client.get_registered_model(self.name).aliases
        return str(aliases[alias]) if alias in aliases else None

    def tags(self, number: str) -> dict[str, str]:
        return dict(self.client.get_model_version(self.name, number).tags)


@pytest.fixture(name="model")
def fixture_model(server) -> Model:
    return Model(server.url)


def test_promote_records_and_a_rerun_changes_nothing(model, capsys):
    first, second = model.add(0.90, pr=1), model.add(0.95, pr=2)
    assert main(["promote", "--model", model.name, "--pr", "1", "--gate", "accuracy>=0.8"]) == 0
    assert model.champion() == first
    tags = model.tags(first)
    assert tags["mlops_ci.validation_status"] == "passed" and tags["mlops_ci.previous_champion"] == "none"
    assert tags["mlops_ci.gates"].startswith("passed: accuracy>=0.8 (accuracy = 0.9)")
    assert {"mlops_ci.promoted_at", "mlops_ci.promoted_by", "mlops_ci.merged_at"} <= tags.keys()

    gates = ["--gate", "accuracy:no-regress:0.01", "--gate", "accuracy>=0.9"]
    assert main(["promote", "--model", model.name, "--version", second, *gates]) == 0
    out = capsys.readouterr().out
    assert f"version {second} (PR #2) is now {model.name}@champion (was version {first}); gates: 2 passed" \
        in out
    assert model.champion() == second and model.tags(second)["mlops_ci.previous_champion"] == first

    before = model.tags(second)
    assert main(["promote", "--model", model.name, "--pr", "2", *gates]) == 0
    assert "already" in capsys.readouterr().out
    assert model.tags(second) == before and model.champion() == second


def test_failing_gate_leaves_the_champion_and_says_why(model, capsys):
    champion, weak, untracked = model.add(0.95, pr=1), model.add(0.90, pr=2), model.add(None, pr=3)
    model.client.set_registered_model_alias(model.name, "champion", champion)
    before = model.tags(champion)
    assert main(["promote", "--model", model.name, "--pr", "2", "--gate", "accuracy:no-regress:0.01"]) == 1
    assert "refused: gate accuracy:no-regress:0.01 failed" in capsys.readouterr().err
    assert model.champion() == champion and model.tags(champion) == before
    tags = model.tags(weak)
    assert tags["mlops_ci.validation_status"] == "failed"
    assert tags["mlops_ci.validation_reason"].startswith(
        "gate accuracy:no-regress:0.01 failed: 0.9 vs champion 0.95")
    assert "mlops_ci.promoted_at" not in tags

    assert main(["promote", "--model", model.name, "--version", untracked, "--gate", "accuracy>=0.5"]) == 1
    assert "did not log accuracy" in model.tags(untracked)["mlops_ci.validation_reason"]


def test_rollback_to_the_previous_champion_and_to_a_version(model, capsys):
    versions = [model.add(0.9 + index / 100, pr=index) for index in (1, 2, 3)]
    for number in versions:
        assert main(["promote", "--model", model.name, "--version", number]) == 0
    assert main(["rollback", "--model", model.name, "--reason", "latency regression\nin prod"]) == 0
    out = capsys.readouterr().out
    assert f"{model.name}@champion is version {versions[1]} again (was {versions[2]})" in out
    assert model.champion() == versions[1]
    bad = model.tags(versions[2])
    assert bad["mlops_ci.validation_status"] == "rolled_back"
    assert bad["mlops_ci.rollback_reason"] == "latency regression in prod"
    assert bad["mlops_ci.rolled_back_to"] == versions[1]
    assert model.tags(versions[1])["mlops_ci.previous_champion"] == versions[2]

    # The rolled-back version is not promoted again by a rerun of its promotion.
    assert main(["promote", "--model", model.name, "--version", versions[2]]) == 1
    assert "it was rolled back (latency regression in prod)" in capsys.readouterr().err
    assert model.champion() == versions[1]

    assert main(["rollback", "--model", model.name, "--to", versions[0], "--reason", "audit"]) == 0
    assert model.champion() == versions[0]
    assert main(["rollback", "--model", model.name, "--to", versions[0], "--reason", "again"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert main(["rollback", "--model", model.name, "--to", "99", "--reason", "typo"]) == 2
    assert model.champion() == versions[0]


def test_rollback_restores_only_a_passed_version_unless_forced(model, capsys):
    trained, refused, first, second = (model.add(0.5), model.add(0.6), model.add(0.9, pr=1),
                                       model.add(0.95, pr=2))
    assert main(["promote", "--model", model.name, "--version", refused, "--gate", "accuracy>=0.8"]) == 1
    for number in (first, second):
        assert main(["promote", "--model", model.name, "--version", number]) == 0
    capsys.readouterr()
    before = {number: model.tags(number) for number in (trained, refused, first, second)}
    for target, why in ((trained, "never passed its gates (validation_status: none)"),
                        (refused, "never passed its gates (validation_status: failed)")):
        assert main(["rollback", "--model", model.name, "--to", target, "--reason", "x"]) == 1
        assert f"rollback refused: {model.name} version {target} {why}; pass --force" in capsys.readouterr().err
    assert model.champion() == second
    assert {number: model.tags(number) for number in before} == before   # nothing written

    # A second rollback would restore the version the first one rolled back: refused too.
    assert main(["rollback", "--model", model.name, "--reason", "slow"]) == 0
    assert model.champion() == first
    assert main(["rollback", "--model", model.name, "--reason", "undo"]) == 1
    assert f"version {second} was rolled back (slow)" in capsys.readouterr().err
    assert model.champion() == first

    assert main(["rollback", "--model", model.name, "--to", trained, "--reason", "known good in prod",
                 "--force"]) == 0
    assert f"is version {trained} again (was {first}) (forced: it never passed" in capsys.readouterr().out
    assert model.champion() == trained
    tags = model.tags(trained)
    assert "mlops_ci.validation_status" not in tags    # forcing does not make it passed
    assert tags["mlops_ci.forced"].startswith(f"rollback --force from version {first} by ")
    assert tags["mlops_ci.forced"].endswith(": known good in prod (status then: none)")


@pytest.mark.parametrize("key", ["set", "unset"])
def test_a_verdict_forged_with_the_training_identity_crowns_nothing(model, monkeypatch, capsys, key):
    """A PR's code holds the training identity, which may write any tag: it marks its own weak version
    passed and merged in 2999. With the promoting identity's key, the next real promotion still
    crowns its own version; without it (as before the seal), the forgery wins."""
    if key == "set":
        monkeypatch.setenv("MLOPS_CI_DECISION_KEY", "held by the production environment only")
    else:
        monkeypatch.delenv("MLOPS_CI_DECISION_KEY", raising=False)
    first = model.add(0.95, pr=1)
    assert main(["promote", "--model", model.name, "--pr", "1", "--merged-at", "2026-11-01T10:00:00Z"]) == 0
    forged = model.add(0.10, pr=7)
    for name, value in {"mlops_ci.validation_status": "passed", "mlops_ci.merged_at": "2999-01-01T00:00:00Z",
                        "mlops_ci.seal": model.tags(first).get("mlops_ci.seal", "")}.items():
        model.client.set_model_version_tag(model.name, forged, name, value)
    second = model.add(0.96, pr=2)
    assert main(["promote", "--model", model.name, "--pr", "2", "--merged-at", "2026-12-01T10:00:00Z"]) == 0
    capsys.readouterr()
    if key == "unset":
        assert model.champion() == forged
        return
    assert model.champion() == second and "mlops_ci.seal" in model.tags(second)
    assert main(["rollback", "--model", model.name, "--to", forged, "--reason", "x"]) == 1
    assert f"version {forged} carries a passed verdict without a valid seal" in capsys.readouterr().err
    assert model.champion() == second


def test_rollback_errors(model, capsys):
    assert main(["rollback", "--model", model.name, "--reason", "x"]) == 2
    assert "has no champion: nothing to roll back" in capsys.readouterr().err
    only = model.add(0.9)
    assert main(["promote", "--model", model.name, "--version", only]) == 0
    assert main(["rollback", "--model", model.name, "--reason", "x"]) == 2
    assert "records no previous champion: pass --to VERSION" in capsys.readouterr().err
    assert main(["rollback", "--model", model.name, "--reason", "  "]) == 2


def test_a_promotion_finishing_during_a_rollback_is_not_undone(model, monkeypatch, capsys):
    first, second, newest = (model.add(0.9 + index / 100, pr=index) for index in (1, 2, 3))
    for number in (first, second):
        assert main(["promote", "--model", model.name, "--version", number]) == 0

    def promotion_lands_meanwhile() -> str:   # runs after the rollback read the champion
        MlflowClient().set_registered_model_alias(model.name, "champion", newest)
        return "someone"

    monkeypatch.setattr(promote, "actor", promotion_lands_meanwhile)
    assert main(["rollback", "--model", model.name, "--reason", "slow"]) == 2
    assert f"moved to version {newest} during the rollback" in capsys.readouterr().err
    assert model.champion() == newest
    assert model.tags(second)["mlops_ci.validation_status"] == "rolled_back"


def test_an_older_merge_finishing_late_is_recorded_but_not_promoted(model, capsys):
    older, newer = model.add(0.9, pr=1), model.add(0.9, pr=2)
    assert main(["promote", "--model", model.name, "--pr", "2", "--merged-at", "2026-11-26T12:00:00Z"]) == 0
    assert main(["promote", "--model", model.name, "--pr", "1", "--merged-at", "2026-11-26T11:00:00Z"]) == 0
    assert f"but version {newer} (merged later) stays" in capsys.readouterr().out
    assert model.champion() == newer
    assert model.tags(older)["mlops_ci.validation_status"] == "passed"
    assert "mlops_ci.promoted_at" not in model.tags(older)


def promote_process(model: Model, number: str, merged_at: str, uri: str) -> subprocess.Popen:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return subprocess.Popen([sys.executable, "-m", "mlops_ci", "promote", "--model", model.name, "--version",
                             number, "--merged-at", merged_at, "--gate", "accuracy>=0.5"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_racing_promotions_end_with_the_newer_merge(model, server):
    older, newer = model.add(0.9, pr=1), model.add(0.9, pr=2)
    processes = [promote_process(model, newer, "2026-11-26T12:00:00Z", server.url),
                 promote_process(model, older, "2026-11-26T11:00:00Z", server.url)]
    for process in processes:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output
    assert model.champion() == newer
    for number in (older, newer):
        assert model.tags(number)["mlops_ci.validation_status"] == "passed"


class StallingProxy(ThreadingHTTPServer):
    """A proxy in front of MLflow that forwards every request but stalls the first whose path ends
    with `stall` (e.g. the alias write), so that the test can kill the client at that moment."""

    def __init__(self, upstream: str, stall: str) -> None:
        self.upstream, self.stall = upstream, stall
        self.reached, self.release = threading.Event(), threading.Event()
        super().__init__(("127.0.0.1", free_port()), _ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: StallingProxy

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0].endswith(self.server.stall) and not self.server.reached.is_set():
            self.server.reached.set()
            self.server.release.wait(60)
            self.send_error(503)
            return
        answer = httpx.request(self.command, self.server.upstream + self.path, content=body, timeout=30,
                               headers={"Content-Type": self.headers.get("Content-Type", "application/json")})
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, *_args) -> None:
        pass


@pytest.mark.parametrize("stall", ["/model-versions/set-tag", "/registered-models/alias"])
def test_a_process_killed_mid_run_leaves_the_champion_and_a_rerun_converges(model, server, stall):
    champion, candidate = model.add(0.9, pr=1), model.add(0.95, pr=2)
    model.client.set_registered_model_alias(model.name, "champion", champion)
    before = {number: model.tags(number) for number in (champion, candidate)}
    proxy = StallingProxy(server.url, stall)
    try:
        process = promote_process(model, candidate, "2026-11-26T12:00:00Z", proxy.url)
        assert proxy.reached.wait(120), process.communicate(timeout=10)[0]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        proxy.release.set()
        proxy.shutdown()
        proxy.server_close()
    assert model.champion() == champion
    assert model.tags(champion) == before[champion]
    if stall.endswith("set-tag"):   # killed at its first write: the registry is exactly as it was
        assert model.tags(candidate) == before[candidate]
    assert "mlops_ci.promoted_at" not in model.tags(candidate)

    rerun = promote_process(model, candidate, "2026-11-26T12:00:00Z", server.url)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    assert model.champion() == candidate and "mlops_ci.promoted_at" in model.tags(candidate)


def test_mcnemar_gate_against_the_champion(model, capsys):
    labels = [3] * 30
    champion = model.add(0.95, predicted=predictions(labels, labels))
    model.client.set_registered_model_alias(model.name, "champion", champion)
    worse = model.add(0.95, predicted=predictions(labels, [3] * 20 + [4] * 10))
    no_predictions = model.add(0.95)
    assert main(["promote", "--model", model.name, "--version", worse, "--gate", "mcnemar"]) == 1
    assert "only the champion on 10" in capsys.readouterr().err
    assert main(["promote", "--model", model.name, "--version", no_predictions, "--gate", "mcnemar"]) == 0
    assert "skipped: mcnemar (this version logged no" in model.tags(no_predictions)["mlops_ci.gates"]


def test_copy_to_a_production_model(model, capsys):
    unique_pr = uuid.uuid4().int % 10**9   # other tests' models on this server carry small PR numbers
    first = model.add(0.9, pr=unique_pr)
    prod = f"{model.name}-prod"
    for _ in range(2):
        assert main(["promote", "--model", model.name, "--version", first, "--copy-to", prod]) == 0
    assert f"{prod}@champion is version 1, a copy of {model.name} version {first}" in capsys.readouterr().out
    copies = model.client.search_model_versions(f"name = '{prod}'")
    assert len(copies) == 1 and copies[0].tags["mlops_ci.copied_from"] == f"{model.name}/{first}"
    assert model.client.get_registered_model(prod).aliases == {"champion": "1"}
    # The copy carries the PR tag too; looking the PR up without --model still finds one model.
    assert main(["promote", "--pr", str(unique_pr)]) == 0


def test_missing_things(model, capsys):
    assert main(["promote", "--model", f"{model.name}-nope", "--pr", "1"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["promote", "--model", model.name, "--pr", "41"]) == 1
    assert f"no version of {model.name} carries pr 41: nothing to promote" in capsys.readouterr().out
    assert main(["promote", "--model", model.name, "--commit", "f" * 40, "--missing-ok"]) == 0
    assert main(["promote", "--version", "1"]) == 2
    assert main(["promote", "--model", model.name, "--version", "1", "--gate", "accuracy=>1"]) == 2
    assert main(["promote", "--model", model.name, "--version", "99"]) == 2
    assert model.champion() is None


def test_versions_of_several_models_need_model(model, capsys):
    other = Model(model.client.tracking_uri)
    model.add(0.9, pr=12345), other.add(0.9, pr=12345)
    assert main(["promote", "--pr", "12345"]) == 2
    assert "versions of several models carry mlops_ci.pr=12345" in capsys.readouterr().err


def test_pushed_commit_finds_the_merged_pr(model, github_api, actions, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", TEST_REPO)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    repo = github_api.state.repo(TEST_REPO)
    number = repo.add_pull("develop", "main", title="Release").number
    merged = repo.merge_pull(number, "a" * 40)
    candidate = model.add(0.97, pr=number)
    body = tmp_path / "body.md"
    args = ["promote", "--model", model.name, "--pushed-commit", "a" * 40, "--body-file", str(body),
            "--gate", "accuracy>=0.9"]
    assert main(args) == 0
    assert model.champion() == candidate
    tags = model.tags(candidate)
    assert tags["mlops_ci.merged_at"] == merged.merged_at and tags["mlops_ci.promoted_by"] == "octocat"
    text = body.read_text()
    assert "mlops-ci promotion: ✅ promoted" in text and f"models:/{model.name}@champion" in text
    assert "| `accuracy>=0.9` | ✅ passed | accuracy = 0.97 |" in text
    assert text in actions.read_text()
    written = outputs.read_text()
    assert f"models:/{model.name}@champion" in written and f"\n{candidate}\n" in written

    # A push that no merged PR explains, and a PR without a version: nothing to promote, exit 0.
    assert main([*args[:4], "b" * 40, "--missing-ok"]) == 0
    assert "no PR merged into main as commit bbbbbbbbbbbb: nothing to promote" in capsys.readouterr().out
    other = repo.add_pull("hotfix/x", "main").number
    repo.merge_pull(other, "c" * 40)
    assert main([*args[:4], "c" * 40, "--missing-ok", "--body-file", str(body)]) == 0
    assert f"carries pr {other}" in body.read_text() and "nothing to promote" in body.read_text()
    assert model.champion() == candidate


def test_the_merged_pr_gets_the_comment_when_its_version_was_trained_for_an_earlier_pr(
        model, github_api, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", TEST_REPO)
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    repo = github_api.state.repo(TEST_REPO)
    feature = repo.add_pull("feature/PROJ-1-x", "develop").number
    release = repo.add_pull("develop", "main", title="Release").number
    repo.merge_pull(release, "d" * 40)
    candidate = model.add(0.97, pr=feature)
    model.client.set_model_version_tag(model.name, candidate, f"mlops_ci.pr.{release}", "true")
    assert main(["promote", "--model", model.name, "--pushed-commit", "d" * 40]) == 0
    assert model.champion() == candidate
    assert re.search(rf"^pr-number<<(\S+)\n{release}\n\1$", outputs.read_text(), re.M)


def test_a_run_killed_after_the_alias_moved_is_finished_by_the_rerun(model, capsys):
    number = model.add(0.9, pr=1)
    model.client.set_model_version_tag(model.name, number, "mlops_ci.validation_status", "passed")
    model.client.set_registered_model_alias(model.name, "champion", number)
    assert main(["promote", "--model", model.name, "--version", number]) == 0
    assert "is already" in capsys.readouterr().out
    assert "mlops_ci.promoted_at" in model.tags(number)
