"""mlops_ci.clients.pushgateway: grouping keys, and `mlops-ci monitor push` against a Pushgateway
stand-in (the group replaced, a refusal named, bad options and an unreachable gateway exit 2)."""

from __future__ import annotations

import base64

import pytest
from werkzeug.wrappers import Response

from mlops_ci.cli import main
from mlops_ci.clients.pushgateway import grouping_path

DRIFT_METRICS = ("# TYPE mlops_ci_drift_detected gauge\nmlops_ci_drift_detected 1\n"
                 "# TYPE mlops_ci_drift_psi gauge\nmlops_ci_drift_psi{feature=\"brightness\"} 0.9\n")


def test_grouping_path_encodes_awkward_values():
    assert grouping_path("mlops-ci-monitor", {"model": "digits"}) == "/metrics/job/mlops-ci-monitor/model/digits"
    encoded = base64.urlsafe_b64encode(b"team/digits").decode()
    assert grouping_path("j", {"model": "team/digits", "env": ""}) == (
        f"/metrics/job/j/model@base64/{encoded}/env@base64/=")
    assert grouping_path("j", {"model": "a b"}) == "/metrics/job/j/model/a%20b"


def test_push_replaces_the_group_with_the_files(httpserver, tmp_path, capsys):
    drift = tmp_path / "drift.prom"
    drift.write_text(DRIFT_METRICS)
    checks = tmp_path / "data-check.prom"
    checks.write_text("mlops_ci_data_check_problems 0")
    httpserver.expect_oneshot_request("/metrics/job/mlops-ci-monitor/model/digits", method="PUT",
                                      data=DRIFT_METRICS + "mlops_ci_data_check_problems 0\n",
                                      headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
                                      ).respond_with_data("", status=200)
    code = main(["monitor", "push", "--url", httpserver.url_for("/"), "--label", "model=digits",
                 str(drift), str(checks)])
    assert code == 0, capsys.readouterr().err
    httpserver.check_assertions()
    assert "pushed 2 file(s) to http://" in capsys.readouterr().out


def test_a_refused_push_names_the_reason(httpserver, tmp_path, capsys):
    bad = tmp_path / "bad.prom"
    bad.write_text("not metrics at all {")
    httpserver.expect_request("/metrics/job/mlops-ci-monitor", method="PUT").respond_with_response(
        Response("text format parsing error in line 1: invalid metric name", status=400))
    assert main(["monitor", "push", "--url", httpserver.url_for("/"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "the Pushgateway answered 400: text format parsing error in line 1" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--url", "pushgateway:9091"], "--url: not an http(s) URL: 'pushgateway:9091'"),
    (["--url", "http://127.0.0.1:9", "--label", "job=x"], "--label: 'job' is not a grouping label name"),
    (["--url", "http://127.0.0.1:9", "--label", "model"], "--label: 'model': expected NAME=VALUE"),
    (["--url", "http://127.0.0.1:9"], "cannot reach the Pushgateway"),
])
def test_push_input_errors_exit_2_with_one_line(tmp_path, args, message, capsys):
    metrics = tmp_path / "m.prom"
    metrics.write_text(DRIFT_METRICS)
    assert main(["monitor", "push", *args, str(metrics)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
