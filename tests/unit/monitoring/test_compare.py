"""`mlops-ci compare`: the statistics against hand-checked numbers, published examples and scipy /
scikit-learn; the decision through the CLI on seeded prediction logs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import precision_score, recall_score

from mlops_ci.cli import main
from mlops_ci.monitoring.compare import (classification_metrics, decide, mcnemar_exact, sample_size_means,
                              sample_size_proportions, two_proportion_ztest, wilson_interval)

# --- the statistics ---------------------------------------------------------------------------------


def test_two_proportion_z_test_by_hand_and_against_the_chi_square_test():
    # 80/100 vs 90/100: pooled p = 0.85, se = sqrt(0.85 * 0.15 * (1/100 + 1/100)) = 0.0504975
    z, p_value = two_proportion_ztest(80, 100, 90, 100)
    assert z == pytest.approx(0.1 / math.sqrt(0.85 * 0.15 * 0.02)) and z == pytest.approx(1.980295, abs=1e-6)
    assert p_value == pytest.approx(0.047670, abs=1e-6)
    # The pooled z-test is the 2x2 chi-square test without continuity correction: chi2 = z^2, same p.
    chi2 = stats.chi2_contingency([[80, 20], [90, 10]], correction=False)
    assert z ** 2 == pytest.approx(chi2.statistic) and p_value == pytest.approx(chi2.pvalue)
    assert two_proportion_ztest(100, 100, 50, 50) == (0.0, 1.0)  # no variance at all


def test_wilson_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857, example 81/263: 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_mcnemar_exact_by_hand():
    # 1 vs 9 discordant pairs: 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * 11 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(0, 0) == 1.0


def test_sample_sizes_by_hand():
    # (1.959964 * sqrt(2 * .85 * .15) + 0.841621 * sqrt(.8 * .2 + .9 * .1))^2 / 0.1^2 = 198.96
    assert sample_size_proportions(0.8, 0.9, 0.05) == 199
    # (1.959964 + 0.841621)^2 * (20^2 + 20^2) / 10^2 = 62.79; two values at mean +- 20/sqrt(2) have sd 20
    spread = 20 / math.sqrt(2)
    control, treatment = pd.Series([100 - spread, 100 + spread]), pd.Series([110 - spread, 110 + spread])
    assert treatment.std() == pytest.approx(20)
    assert sample_size_means(control, treatment, 0.05) == 63
    assert sample_size_proportions(0.8, 0.8, 0.05) is None and sample_size_means(control, control, 0.05) is None


def test_macro_precision_and_recall_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300)
    predictions = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 5, 300))  # 4 never a label
    metrics = classification_metrics(pd.DataFrame({"label": labels, "prediction": predictions}), 0.95)
    assert metrics["macro_precision"] == pytest.approx(precision_score(labels, predictions, average="macro",
                                                                       zero_division=0))
    assert metrics["macro_recall"] == pytest.approx(recall_score(labels, predictions, average="macro",
                                                                 zero_division=0))
    assert metrics["accuracy"] == pytest.approx((labels == predictions).mean())


def test_decision_rules():
    better = {"test": "a", "p_value": 0.001, "treatment": "better", "rows": 500}
    worse = {"test": "b", "p_value": 0.002, "treatment": "worse", "rows": 500}
    same = {"test": "c", "p_value": 0.5, "treatment": "same", "rows": 500}
    assert decide([better, same])[0] == "promote"
    assert decide([better, worse]) == ("rollback", ["b: worse (p=0.002)"])
    assert decide([same]) == ("hold", ["no significant difference yet"])
    assert decide([{**worse, "decides": False}])[0] == "hold"
    assert decide([{**worse, "rows": 12}]) == ("hold", ["b: 12 rows in an arm, 30 needed"])
    assert decide([{**worse, "rows": 12}, better])[0] == "promote"


# --- prediction logs through the CLI ----------------------------------------------------------------

def log(seed: int, n: int, accuracy: float, latency: float, paired: bool = False) -> pd.DataFrame:
    """A classification log: `accuracy` of the rows right, latency ~ lognormal around `latency` ms."""
    rng = np.random.default_rng(seed)
    labels = np.random.default_rng(99).integers(0, 10, n) if paired else rng.integers(0, 10, n)
    right = rng.random(n) < accuracy
    predictions = np.where(right, labels, (labels + rng.integers(1, 10, n)) % 10)
    frame = pd.DataFrame({"label": labels, "prediction": predictions,
                          "latency": rng.lognormal(math.log(latency), 0.3, n)})
    if paired:
        frame.insert(0, "request_id", [f"r{index}" for index in range(n)])
    return frame


def compare(tmp_path, control, treatment, *args, suffix=".csv"):
    paths = []
    for name, frame in (("control", control), ("treatment", treatment)):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".jsonl":
            frame.to_json(path, orient="records", lines=True)
        else:
            frame.to_csv(path, index=False)
        paths.append(path)
    out = tmp_path / "compare.json"
    code = main(["compare", "--control", str(paths[0]), "--treatment", str(paths[1]), "--json", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else None


def by_test(report):
    return {test["test"]: test for test in report["tests"]}


def test_a_better_treatment_is_promoted(tmp_path, capsys):
    code, report = compare(tmp_path, log(1, 2000, 0.80, 50), log(2, 2000, 0.86, 50))
    assert code == 0 and report["decision"] == "promote" and report["task"] == "classification"
    z_test = by_test(report)["two_proportion_z"]
    control, treatment = report["metrics"]["control"], report["metrics"]["treatment"]
    expected = two_proportion_ztest(control["correct"], 2000, treatment["correct"], 2000)
    assert (z_test["statistic"], z_test["p_value"]) == pytest.approx(expected)
    assert z_test["treatment"] == "better" and z_test["min_n_per_arm"] > 0
    assert control["accuracy_ci"][0] < control["accuracy"] < control["accuracy_ci"][1]
    assert set(control["latency"]) == {"n", "mean", "p50", "p95", "p99"}
    assert control["latency"]["p50"] < control["latency"]["p95"] < control["latency"]["p99"]
    # Same latency distribution; this seed's test is "significant" (p = 0.044) but the medians differ
    # by under 5%: not a reason to roll back.
    mann = by_test(report)["mann_whitney_u_latency"]
    assert mann["p_value"] < 0.05 and abs(mann["p50_change"]) < 0.05 and mann["treatment"] == "same"
    assert "### compare: ✅ promote" in capsys.readouterr().out


def test_a_slower_treatment_is_rolled_back_even_when_as_accurate(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "outputs"))
    code, report = compare(tmp_path, log(1, 800, 0.85, 50), log(2, 800, 0.85, 65), suffix=".jsonl")
    assert code == 1 and report["decision"] == "rollback"
    mann = by_test(report)["mann_whitney_u_latency"]
    assert mann["treatment"] == "worse" and mann["prob_treatment_slower"] > 0.5
    control = pd.read_json(tmp_path / "control.jsonl", lines=True)["latency"]
    treatment = pd.read_json(tmp_path / "treatment.jsonl", lines=True)["latency"]
    assert mann["p_value"] == pytest.approx(stats.mannwhitneyu(treatment, control).pvalue)
    welch = by_test(report)["welch_t_latency"]
    assert welch["p_value"] == pytest.approx(stats.ttest_ind(treatment, control, equal_var=False).pvalue)
    assert "decision<<" in (tmp_path / "outputs").read_text() and "rollback" in (tmp_path / "outputs").read_text()


def test_paired_logs_use_mcnemar(tmp_path):
    control, treatment = log(1, 600, 0.80, 50, paired=True), log(2, 600, 0.80, 50, paired=True)
    treatment = treatment.sample(frac=1, random_state=1)  # order doesn't matter: pairs by request_id
    code, report = compare(tmp_path, control, treatment)
    mcnemar = by_test(report)["mcnemar_exact"]
    merged = control.merge(treatment, on="request_id", suffixes=("_c", "_t"))
    only_c = int(((merged.label_c == merged.prediction_c) & (merged.label_t != merged.prediction_t)).sum())
    only_t = int(((merged.label_t == merged.prediction_t) & (merged.label_c != merged.prediction_c)).sum())
    assert (mcnemar["only_control_right"], mcnemar["only_treatment_right"], mcnemar["rows"]) == (only_c, only_t, 600)
    assert mcnemar["p_value"] == pytest.approx(stats.binomtest(only_t, only_c + only_t).pvalue)
    assert code == 0 and report["decision"] == "hold"
    worse = treatment.copy()
    worse["prediction"] = (worse["label"] + 1) % 10  # every answer wrong
    code, report = compare(tmp_path, control, worse)
    assert code == 1 and report["decision"] == "rollback" and "mcnemar_exact" in report["reasons"][0]
    # A request scored twice by one variant: no pairing, the unpaired test instead.
    code, report = compare(tmp_path, control, pd.concat([worse, worse.head(1)]))
    assert code == 1 and "two_proportion_z" in by_test(report)


def test_regression_logs_are_detected_and_compared_on_absolute_errors(tmp_path):
    rng = np.random.default_rng(4)
    labels = rng.normal(50, 10, 500)
    control = pd.DataFrame({"label": labels, "prediction": labels + rng.normal(0, 2, 500)})
    treatment = pd.DataFrame({"label": labels, "prediction": labels + rng.normal(0, 4, 500)})
    code, report = compare(tmp_path, control, treatment)
    assert report["task"] == "regression" and code == 1 and report["decision"] == "rollback"
    errors = (control.prediction - control.label)
    assert report["metrics"]["control"]["rmse"] == pytest.approx(math.sqrt((errors ** 2).mean()))
    assert report["metrics"]["control"]["mae"] == pytest.approx(errors.abs().mean())
    test = by_test(report)["welch_t_abs_error"]
    assert test["treatment"] == "worse"
    assert test["p_value"] == pytest.approx(stats.ttest_ind((treatment.prediction - treatment.label).abs(),
                                                            errors.abs(), equal_var=False).pvalue)
    assert compare(tmp_path, treatment, control)[1]["decision"] == "promote"


def test_few_labels_decide_nothing_but_latency_still_can(tmp_path):
    control, treatment = log(1, 200, 0.9, 50), log(2, 200, 0.1, 50)
    treatment.loc[20:, "label"] = np.nan  # ground truth not in yet: latency still counts
    code, report = compare(tmp_path, control, treatment, "--task", "classification")
    assert code == 0 and report["decision"] == "hold"
    assert report["reasons"] == ["no significant difference yet", "two_proportion_z: 20 rows in an arm, 30 needed"]
    assert report["metrics"]["treatment"]["n"] == 20 and report["metrics"]["treatment"]["latency"]["n"] == 200
    slower = log(2, 200, 0.1, 80)
    slower.loc[20:, "label"] = np.nan
    code, report = compare(tmp_path, control, slower, "--task", "classification")
    assert code == 1 and report["reasons"][0].startswith("mann_whitney_u_latency: worse")


def test_bad_input_exits_2(tmp_path, capsys):
    good = log(1, 50, 0.8, 50)
    good.to_csv(tmp_path / "good.csv", index=False)
    good.drop(columns="prediction").to_csv(tmp_path / "no-prediction.csv", index=False)
    good.assign(latency="fast").to_csv(tmp_path / "bad-latency.csv", index=False)
    good.assign(label=np.nan).to_csv(tmp_path / "unlabelled.csv", index=False)
    for treatment, args, words in (("no-prediction.csv", (), "missing column(s) prediction"),
                                   ("bad-latency.csv", (), "latency: not a number"),
                                   ("unlabelled.csv", (), "no row with both label and prediction"),
                                   ("good.csv", ("--alpha", "1.5"), "--alpha 1.5"),
                                   ("missing.jsonl", (), "no such file")):
        code = main(["compare", "--control", str(tmp_path / "good.csv"), "--treatment", str(tmp_path / treatment),
                     *args])
        assert code == 2 and words in capsys.readouterr().err, words
