"""`mlops-ci drift`: statistics checked by hand and against scipy; known-drift and no-drift samples
(seeded numpy tables and Pillow images) through the CLI; Prometheus output checked by promtool."""

from __future__ import annotations

import importlib.util
import io
import json
import math
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from mlops_ci.cli import main
from mlops_ci.monitoring.drift import (PSI_FLOOR, Thresholds, compare_categorical, compare_numeric, image_features,
                            psi_from_shares, quantile_psi)
from testing.drift import N, sample

def drift(tmp_path, reference, current, *args):
    out = tmp_path / "drift.json"
    code = main(["drift", "--reference", str(reference), "--current", str(current), "--json", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else None


def features(report):
    return {row["feature"]: row for row in report["features"]}


@pytest.fixture(name="config")
def fixture_config(tmp_path):
    path = tmp_path / "mlops-ci.yml"
    path.write_text("drift:\n  ignore: [request_id]\n")
    return path


# --- the statistics ---------------------------------------------------------------------------------

def test_psi_by_hand():
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
    assert psi_from_shares(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(
        0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi_from_shares(np.array([0.3, 0.7]), np.array([0.3, 0.7])) == 0


def test_quantile_psi_bins_on_the_reference_quantiles():
    reference = np.arange(100, dtype=float)  # quartile edges 24.75, 49.5, 74.25
    current = np.concatenate([np.arange(50), np.arange(50)]).astype(float)  # all in the lower two bins
    expected = 2 * 0.25 * math.log(0.5 / 0.25) + 2 * (PSI_FLOOR - 0.25) * math.log(PSI_FLOOR / 0.25)
    assert quantile_psi(reference, current, bins=4) == pytest.approx(expected)
    assert quantile_psi(reference, reference, bins=10) == 0
    # Tied quantiles merge bins instead of making empty ones: a constant reference is one edge.
    assert quantile_psi(np.zeros(50), np.zeros(80), bins=10) == 0


def test_numeric_comparison_matches_scipy_and_the_mean_variance_method():
    rng = np.random.default_rng(3)
    reference, current = rng.normal(0, 1, 500), rng.normal(0.3, 2, 400)
    result = compare_numeric("x", reference, current, Thresholds())
    ks = stats.ks_2samp(reference, current)
    assert (result.statistic, result.p_value) == (pytest.approx(ks.statistic), pytest.approx(ks.pvalue))
    assert result.mean_shift == pytest.approx((current.mean() - reference.mean()) / reference.std(ddof=1))
    assert result.variance_ratio == pytest.approx(current.var(ddof=1) / reference.var(ddof=1))
    assert result.drifted and any("variance ratio" in reason for reason in result.reasons)


def test_categorical_comparison_matches_scipy():
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    current = pd.Series(["a"] * 20 + ["b"] * 30 + ["c"] * 45 + ["d"] * 5)
    result = compare_categorical("x", reference, current, Thresholds())
    chi2 = stats.chi2_contingency([[50, 30, 20, 0], [20, 30, 45, 5]])
    assert (result.statistic, result.p_value) == (pytest.approx(chi2.statistic), pytest.approx(chi2.pvalue))
    expected_psi = psi_from_shares(np.array([.5, .3, .2, 0]), np.array([.2, .3, .45, .05]))
    assert result.psi == pytest.approx(expected_psi) and result.drifted
    single = compare_categorical("x", pd.Series(["a"] * 5), pd.Series(["a"] * 9), Thresholds())
    assert (single.p_value, single.psi, single.drifted) == (1.0, 0.0, False)


def test_a_significant_but_tiny_change_is_not_drift():
    # With 200k rows a 0.02 sd shift is significant, but far below every effect threshold.
    rng = np.random.default_rng(5)
    result = compare_numeric("x", rng.normal(0, 1, 200_000), rng.normal(0.02, 1, 200_000), Thresholds())
    assert result.p_value < 0.01 and not result.drifted


def test_a_constant_feature_that_changes_drifts():
    result = compare_numeric("width", np.full(100, 8.0), np.full(100, 16.0), Thresholds())
    assert result.mean_shift == math.inf and result.variance_ratio == 1.0 and result.drifted


# --- tables through the CLI -------------------------------------------------------------------------

def test_no_drift_between_two_samples_of_one_distribution(tmp_path, config):
    sample(1).assign(timestamp=pd.date_range("2024-01-01", periods=N, freq="min").astype(str)).to_csv(
        tmp_path / "ref.csv", index=False)
    sample(2).assign(timestamp=pd.date_range("2024-06-01", periods=N, freq="min").astype(str)).to_parquet(
        tmp_path / "cur.parquet")
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.parquet", "--config", str(config))
    assert code == 0 and report["drift"] is False and report["drifted_features"] == []
    assert report["identifiers"] == ["timestamp"]  # every value new: not a feature
    assert set(features(report)) == {"amount", "channel"}
    assert features(report)["amount"]["test"] == "ks" and features(report)["channel"]["test"] == "chi2"


def test_known_drift_is_detected_with_exit_1(tmp_path, config, capsys):
    sample(1).to_csv(tmp_path / "ref.csv", index=False)
    sample(2, shift=8, shares=(0.2, 0.3, 0.5)).to_json(tmp_path / "cur.jsonl", orient="records", lines=True)
    prometheus = tmp_path / "drift.prom"
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.jsonl", "--config", str(config),
                         "--prometheus", str(prometheus))
    assert code == 1 and report["drift"] is True
    assert sorted(report["drifted_features"]) == ["amount", "channel"]
    amount = features(report)["amount"]
    assert amount["mean_shift"] == pytest.approx(0.8, abs=0.1) and amount["psi"] > 0.2
    text = prometheus.read_text()
    assert 'mlops_ci_drift_psi{feature="amount"} ' in text and "mlops_ci_drift_detected 1\n" in text
    assert 'mlops_ci_drift_p_value{feature="channel",test="chi2"} ' in text
    out = capsys.readouterr()
    assert "### drift: ❌ drift detected in 2 feature(s)" in out.out and "drift detected" in out.err


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus) not installed")
def test_prometheus_output_passes_promtool(tmp_path, config):
    reference = sample(1)
    reference["odd \"name\"\\"] = reference["amount"]
    reference.to_csv(tmp_path / "ref.csv", index=False)
    current = sample(2, scale=3)
    current["odd \"name\"\\"] = current["amount"]
    current.to_csv(tmp_path / "cur.csv", index=False)
    prometheus = tmp_path / "drift.prom"
    assert drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config),
                 "--prometheus", str(prometheus))[0] == 1
    text = prometheus.read_text()
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert 'feature="odd \\"name\\"\\\\"' in text


def test_thresholds_come_from_the_config(tmp_path):
    sample(1).to_csv(tmp_path / "ref.csv", index=False)
    sample(2, shift=8).to_csv(tmp_path / "cur.csv", index=False)
    config = tmp_path / "config.yml"
    config.write_text("drift:\n  ignore: [request_id]\n  min_drifted_features: 2\n")
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config))
    assert code == 0 and report["drifted_features"] == ["amount"] and not report["drift"]
    config.write_text("drift:\n  ignore: [request_id]\n  psi: 5\n  mean_shift: 5\n  variance_ratio: 5\n  bins: 4\n")
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config))
    assert code == 0 and report["thresholds"]["bins"] == 4
    config.write_text("drift:\n  categorical: [request_id]\n")
    _, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config))
    assert features(report)["request_id"]["kind"] == "categorical"


def test_columns_on_one_side_only_are_listed_not_compared(tmp_path, config, capsys):
    reference, current = sample(1), sample(2)
    reference["old"] = 1.0
    current["new"] = "x"
    current["amount"] = np.nan
    reference.to_csv(tmp_path / "ref.csv", index=False)
    current.to_csv(tmp_path / "cur.csv", index=False)
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config))
    assert code == 0 and set(features(report)) == {"channel"}
    assert (report["only_in_reference"], report["only_in_current"], report["no_values"]) == (["old"], ["new"],
                                                                                             ["amount"])
    assert "Not compared, only in the reference: old." in capsys.readouterr().out


# --- image folders ----------------------------------------------------------------------------------

def image_folder(root, seed, count=60, brightness=0, size=8, mode="L"):
    rng = np.random.default_rng(seed)
    for index in range(count):
        label = root / str(index % 3)
        label.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(rng.normal(100 + brightness, 30, (size, size)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).convert(mode).save(label / f"{index:03d}.png")
    return root


def test_image_folders_no_drift_then_brightness_and_size_drift(tmp_path):
    reference = image_folder(tmp_path / "ref", seed=1)
    same = image_folder(tmp_path / "same", seed=2)
    (same / "0" / "broken.png").write_bytes(b"not a png")  # skipped: data-check's business
    code, report = drift(tmp_path, reference, same)
    assert code == 0, report["drifted_features"]
    assert {"brightness", "contrast", "width", "height", "channels", "emb_00", "emb_15"} <= set(features(report))
    assert len([name for name in features(report) if name.startswith("emb_")]) == 16
    assert report["skipped_files"] == {"reference": 0, "current": 1}
    brighter = image_folder(tmp_path / "bright", seed=3, brightness=60)
    code, report = drift(tmp_path, reference, brighter)
    assert code == 1 and "brightness" in report["drifted_features"]
    bigger = image_folder(tmp_path / "big", seed=4, size=16, mode="RGB")
    code, report = drift(tmp_path, reference, bigger)
    assert code == 1 and {"width", "height", "channels"} <= set(report["drifted_features"])
    assert features(report)["width"]["mean_shift"] is None  # infinite: JSON has no infinity


def test_image_features_by_hand(tmp_path):
    root = tmp_path / "one"
    root.mkdir()
    pixels = np.zeros((8, 8), np.uint8)
    pixels[:4, :4] = 255  # the top-left quarter white
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    (root / "a.png").write_bytes(buffer.getvalue())
    frame, skipped = image_features(root)
    row = frame.iloc[0]
    assert skipped == 0 and row["brightness"] == pytest.approx(255 / 4) and row["channels"] == 1
    assert row["contrast"] == pytest.approx(np.std(pixels.astype(float)))
    embedding = [row[f"emb_{index:02d}"] for index in range(16)]
    assert embedding == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_html_is_evidently_s_report_of_the_same_tables(tmp_path):
    sample(1).to_csv(tmp_path / "ref.csv", index=False)
    sample(2, shift=8).to_csv(tmp_path / "cur.csv", index=False)
    html = tmp_path / "drift.html"
    code, report = drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--html", str(html))
    assert code == 1 and "amount" in report["drifted_features"]
    text = html.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<!DOCTYPE html>")
    # Evidently's own verdict per column, in the JSON the page renders.
    verdict = re.search(r'"column_name": "amount".*?"data_drift": "(\w+)"', text, re.S)
    assert verdict and verdict.group(1) == "Detected"
    assert '"label": "Drifted Columns"' in text


# --- exit 2 -----------------------------------------------------------------------------------------

def test_errors_exit_2(tmp_path, capsys, monkeypatch):
    sample(1).to_csv(tmp_path / "ref.csv", index=False)
    pd.DataFrame({"other": [1, 2]}).to_csv(tmp_path / "other.csv", index=False)
    pd.DataFrame({"amount": []}).to_csv(tmp_path / "empty.csv", index=False)
    (tmp_path / "no-images").mkdir()
    cases = [(("--current", tmp_path / "other.csv"), "no feature to compare"),
             (("--current", tmp_path / "missing.csv"), "no such file"),
             (("--current", tmp_path / "empty.csv"), "no rows"),
             (("--current", tmp_path / "no-images"), "no readable image"),
             (("--current", tmp_path / "ref.csv", "--html", tmp_path / "r.html"), "--html needs Evidently"),
             (("--current", tmp_path / "ref.csv", "--prometheus", tmp_path), "cannot write: Is a directory")]
    find_spec = importlib.util.find_spec  # Evidently is in our environment: hide it
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "evidently"
                        else find_spec(name, *a))
    for args, words in cases:
        code = main(["drift", "--reference", str(tmp_path / "ref.csv"), *map(str, args)])
        assert code == 2 and words in capsys.readouterr().err, words


def test_inside_actions_outputs_say_drift(tmp_path, config, monkeypatch):
    sample(1).to_csv(tmp_path / "ref.csv", index=False)
    sample(2, scale=3).to_csv(tmp_path / "cur.csv", index=False)
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    assert drift(tmp_path, tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", str(config))[0] == 1
    text = outputs.read_text()
    assert "drift<<" in text and "\ntrue\n" in text and "\namount\n" in text
    assert "| amount | numeric |" in (tmp_path / "summary.md").read_text()


# --- the composite actions, end to end through act ------------------------------------------------

