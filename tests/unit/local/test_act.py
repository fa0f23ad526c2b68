"""mlops_ci.local.act: act's JSON log folds into job results; values never reach argv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local import act


def line(**entry) -> str:
    return json.dumps({"time": "2026-11-26T10:00:00Z", "level": "info", **entry})


def test_log_folds_reusable_workflow_callers_into_their_jobs():
    log = [
        line(job="pr.yml/call", jobID="call", msg="matched"),
        line(job="call/reuse.yml/one", jobID="one", msg="step"),
        line(job="call/reuse.yml/one", jobID="one", command="summary", content="## hi\n"),
        line(job="call/reuse.yml/one", jobID="one", command="error", arg="bad thing"),
        line(job="call/reuse.yml/one", jobID="one", command="error", arg="unused", kvPairs={"file": "a.py", "line": "3"}),
        line(job="call/reuse.yml/one", jobID="one", command="error", arg="no line", kvPairs={"file": "b.py"}),
        line(job="call/reuse.yml/one", jobID="one", jobResult="failure"),
        line(job="pr.yml/alone", jobID="alone", msg="never finished"),
        "not json",
        line(msg="no job"),
    ]
    seen = []
    jobs = act.read_log(log, seen.append)
    assert list(jobs) == ["call/reuse.yml/one", "pr.yml/alone"]
    one = jobs["call/reuse.yml/one"]
    assert (one.result, one.summary) == ("failure", "## hi\n")
    assert one.errors == ["bad thing", "a.py:3: unused", "b.py: no line"]
    assert one.seconds >= 0 and jobs["pr.yml/alone"].result == "unknown"
    assert len(seen) == 9


def test_dotenv_escapes_quotes_newlines_and_backslashes():
    text = act.dotenv({"B": 'say "hi"\nnext \\ end', "A": "plain"})
    assert text == 'A="plain"\nB="say \\"hi\\"\\nnext \\\\ end"\n'


def test_command_maps_labels_and_repositories(tmp_path):
    files = {name: tmp_path / name for name in ("secrets", "vars", "env", "cache")}
    command = act.act_command(event_name="push", event_path=tmp_path / "e.json", workdir=tmp_path,
                              mapping={"org/mlops-ci@v1": tmp_path / "src"}, files=files,
                              workflow=".github/workflows/x.yml", job="build")
    joined = " ".join(command)
    assert "-P gpu=-self-hosted" in joined and "-P self-hosted=-self-hosted" in joined
    assert f"--local-repository org/mlops-ci@v1={tmp_path / 'src'}" in joined
    assert "-W .github/workflows/x.yml" in joined and "-j build" in joined
    assert "--verbose" in command  # act logs skipped jobs at debug level only
    assert f"--secret-file {files['secrets']}" in joined


def test_missing_act_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MlopsCiError, match="act is not installed"):
        act.act_binary()


def test_run_act_stops_a_hung_run(tmp_path):
    script = tmp_path / "hang.sh"
    script.write_text("#!/bin/sh\necho '{\"job\": \"j\", \"msg\": \"start\"}'\nsleep 30\n")
    script.chmod(0o755)
    with pytest.raises(MlopsCiError, match="past the 1 s limit"):
        act.run_act([str(script)], env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "log", timeout=1)
    assert "start" in Path(tmp_path / "log").read_text()


def test_run_act_returns_exit_code_and_jobs(tmp_path):
    script = tmp_path / "ok.sh"
    script.write_text("#!/bin/sh\necho '{\"job\": \"j\", \"jobID\": \"j\", \"jobResult\": \"success\"}'\n")
    script.chmod(0o755)
    code, jobs = act.run_act([str(script)], env={}, log_path=tmp_path / "log", timeout=10)
    assert code == 0 and jobs["j"].result == "success"


def test_skipped_jobs_are_read_and_pass():
    log = [line(job="w.yml/a", jobID="a", jobResult="success"),
           line(level="debug", job="w.yml/b", jobID="b", jobResult="skipped", msg="Skipping job 'b'")]
    jobs = act.read_log(log)
    assert {name: job.result for name, job in jobs.items()} == {"w.yml/a": "success", "w.yml/b": "skipped"}
    assert not act.failed(0, jobs)
    assert act.failed(1, jobs) and act.failed(0, {**jobs, "c": act.JobResult("c", result="failure")})


def test_run_act_leaves_debug_lines_out_but_keeps_skipped_jobs(tmp_path):
    lines = [line(level="debug", job="j", msg="setupEnv => map[SECRET:value]"),
             line(level="debug", job="j", jobID="j", jobResult="skipped", msg="Skipping job 'j'"),
             line(job="k", jobID="k", msg='step said "level":"debug"'),
             line(job="k", jobID="k", jobResult="success")]
    script = tmp_path / "act.sh"
    script.write_text("#!/bin/sh\ncat <<'EOF'\n" + "\n".join(lines) + "\nEOF\n")
    script.chmod(0o755)
    code, jobs = act.run_act([str(script)], env={}, log_path=tmp_path / "log", timeout=10)
    assert code == 0 and {name: job.result for name, job in jobs.items()} == {"j": "skipped", "k": "success"}
    assert (tmp_path / "log").read_text().splitlines() == lines[1:]
