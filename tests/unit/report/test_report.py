"""`mlops-ci report`: parsing DVC's JSON, comparing, rendering, fitting, and the command end to end.

The canned JSON below is real `dvc ... --json` output (DVC 3.67) of the example project: develop
against a feature branch that doubles train.lr and changes data/raw (trimmed to a few rows).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from mlops_ci.config.sections import ReportConfig
from mlops_ci.report import command as report
from mlops_ci.report import compare
from mlops_ci.report import data as report_data
from mlops_ci.report import dvc as report_dvc
from mlops_ci.report import markdown as report_markdown
from mlops_ci.report import plots as report_plots
from mlops_ci.report import records
from mlops_ci.report import render as report_render
from mlops_ci.report import sources
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.training.experiments import Experiment
from mlops_ci.registry.metric_names import HIGHER, INFO, LOWER, configured_direction
from mlops_ci.core import markers, proc
from mlops_ci.core.proc import git
from testing.report import commit_all, run_in_venv

ROOT = Path(__file__).resolve().parents[3]

METRICS_DIFF = {"metrics.json": {
    "f1": {"old": 0.969264, "new": 0.980464, "diff": 0.011199999999999988},
    "precision": {"old": 0.970084, "new": 0.981269, "diff": 0.011185},
    "accuracy": {"old": 0.969359, "new": 0.980392, "diff": 0.01103300000000007},
    "recall": {"old": 0.969206, "new": 0.980476, "diff": 0.011270000000000002}}}
# `--all` with a metric added (val_loss, nested.a), one removed (recall), text and booleans.
METRICS_DIFF_MIXED = {"metrics.json": {
    "nested.a": {"old": None, "new": 1}, "name": {"old": None, "new": "abc"},
    "recall": {"old": 0.969206, "new": None}, "val_loss": {"old": 0.61, "new": 0.5, "diff": -0.11},
    "accuracy": {"old": 0.969359, "new": 0.98, "diff": 0.010641000000000012},
    "precision": {"old": 0.970084, "new": 0.9, "diff": -0.07008399999999992}, "flag": {"old": None, "new": True},
    "f1": {"old": 0.969264, "new": 0.969264, "diff": 0.0}}}
PARAMS_DIFF = {"params.yaml": {"train.lr": {"old": 0.01, "new": 0.02, "diff": 0.01}}}
# `dvc diff develop HEAD` with the DVC cache present: directories' files listed.
DATA_DIFF = {
    "added": [{"path": "data/raw/0/new_0.png"}],
    "deleted": [{"path": "data/raw/3/0091.png"}, {"path": "data/raw/3/0231.png"}, {"path": "data/raw/3/0301.png"}],
    "modified": [{"path": "data/processed/"}, {"path": "data/processed/quality.json"},
                 {"path": "data/processed/test.npz"}, {"path": "data/processed/train.npz"}, {"path": "data/raw/"},
                 {"path": "eval/predictions.csv"}, {"path": "metrics.json"}, {"path": "models/model.pt"}],
    "renamed": []}
# The same in a fresh clone without the DVC cache (a hosted runner): directories without their files.
DATA_DIFF_WITHOUT_CACHE = {
    "added": [], "deleted": [], "renamed": [],
    "modified": [{"path": "data/processed/"}, {"path": "data/raw/"}, {"path": "eval/predictions.csv"},
                 {"path": "metrics.json"}, {"path": "models/model.pt"}]}
# The .dvc and dvc.lock files of both revisions (trimmed), as `git show REV:PATH` prints them.
TRACKED = {
    "base": {"data/raw.dvc": "outs:\n- md5: d6139d383f1f72c781e5465b0bc900d8.dir\n  size: 251580\n  nfiles: 1797\n"
                             "  hash: md5\n  path: raw\n",
             "dvc.lock": "schema: '2.0'\nstages:\n  prepare:\n    outs:\n    - path: data/processed\n"
                         "      md5: 1a.dir\n      size: 900100\n      nfiles: 3\n"
                         "  train:\n    outs:\n    - path: models/model.pt\n      md5: 2b\n      size: 4000\n"},
    "new": {"data/raw.dvc": "outs:\n- md5: 5f4d2ea4e5da2bd1ca1ad34dd3f6c4bf.dir\n  size: 250320\n  nfiles: 1790\n"
                            "  hash: md5\n  path: raw\n",
            "dvc.lock": "schema: '2.0'\nstages:\n  prepare:\n    outs:\n    - path: data/processed\n"
                        "      md5: 3c.dir\n      size: 899200\n      nfiles: 3\n"
                        "  train:\n    outs:\n    - path: models/model.pt\n      md5: 4d\n      size: 4000\n"}}
OUTS = {side: report_data.parse_tracked(files) for side, files in TRACKED.items()}
PLOTS_ERRORS = {"errors": [
    {"name": "training_curve", "rev": "workspace", "source": "plots/training_curve.csv", "type": "FileNotFoundError",
     "msg": "[Errno 2] No storage files available: 'plots/training_curve.csv'"},
    {"name": "training_curve", "rev": "develop", "source": "plots/training_curve.csv", "type": "FileNotFoundError",
     "msg": "[Errno 2] No storage files available: 'plots/training_curve.csv'"}]}
PLOTS_DIFF = json.loads(r"""
{"data": {
 "training_curve": [
  {"type": "vega", "revisions": ["workspace", "develop"], "content": {
   "data": {"values": [
    {"epoch": "1", "train_loss": "1.122519", "val_accuracy": "0.866197", "dvc_inferred_y_value": "1.122519", "rev": "workspace", "field": "train_loss"},
    {"epoch": "2", "train_loss": "0.300526", "val_accuracy": "0.908451", "dvc_inferred_y_value": "0.300526", "rev": "workspace", "field": "train_loss"},
    {"epoch": "3", "train_loss": "0.164903", "val_accuracy": "0.957746", "dvc_inferred_y_value": "0.164903", "rev": "workspace", "field": "train_loss"},
    {"epoch": "1", "train_loss": "1.122519", "val_accuracy": "0.866197", "dvc_inferred_y_value": "0.866197", "rev": "workspace", "field": "val_accuracy"},
    {"epoch": "2", "train_loss": "0.300526", "val_accuracy": "0.908451", "dvc_inferred_y_value": "0.908451", "rev": "workspace", "field": "val_accuracy"},
    {"epoch": "3", "train_loss": "0.164903", "val_accuracy": "0.957746", "dvc_inferred_y_value": "0.957746", "rev": "workspace", "field": "val_accuracy"},
    {"epoch": "1", "train_loss": "1.569613", "val_accuracy": "0.888112", "dvc_inferred_y_value": "1.569613", "rev": "develop", "field": "train_loss"},
    {"epoch": "2", "train_loss": "0.47139", "val_accuracy": "0.909091", "dvc_inferred_y_value": "0.47139", "rev": "develop", "field": "train_loss"},
    {"epoch": "3", "train_loss": "0.241646", "val_accuracy": "0.958042", "dvc_inferred_y_value": "0.241646", "rev": "develop", "field": "train_loss"},
    {"epoch": "1", "train_loss": "1.569613", "val_accuracy": "0.888112", "dvc_inferred_y_value": "0.888112", "rev": "develop", "field": "val_accuracy"},
    {"epoch": "2", "train_loss": "0.47139", "val_accuracy": "0.909091", "dvc_inferred_y_value": "0.909091", "rev": "develop", "field": "val_accuracy"},
    {"epoch": "3", "train_loss": "0.241646", "val_accuracy": "0.958042", "dvc_inferred_y_value": "0.958042", "rev": "develop", "field": "val_accuracy"}
   ]},
   "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": {"text": "Training curve",
   "anchor": "middle"}, "width": 300, "height": 300, "params": [{"name": "smooth", "value": 0.001,
   "bind": {"input": "range", "min": 0.001, "max": 1, "step": 0.001}}],
   "encoding": {"x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
   "color": {"field": "rev", "scale": {"domain": ["workspace", "develop"], "range": ["#945dd6",
   "#13adc7"]}}, "strokeDash": {"field": "field", "scale": {"domain": ["train_loss", "val_accuracy"],
   "range": [[1, 0], [8, 8]]}, "legend": {"symbolFillColor": "transparent",
   "symbolStrokeColor": "grey"}}}, "layer": [{"layer": [{"params": [{"name": "grid", "select": "interval",
   "bind": "scales"}], "mark": "line"}, {"transform": [{"filter": {"param": "hover", "empty": false}}],
   "mark": "point"}], "encoding": {"y": {"field": "dvc_inferred_y_value", "type": "quantitative",
   "title": "y", "scale": {"zero": false}}, "color": {"field": "rev", "type": "nominal"}},
   "transform": [{"loess": "dvc_inferred_y_value", "on": "epoch", "groupby": ["rev", "field"],
   "bandwidth": {"signal": "smooth"}}]}, {"mark": {"type": "line", "opacity": 0.2},
   "encoding": {"x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
   "y": {"field": "dvc_inferred_y_value", "type": "quantitative", "title": "y", "scale": {"zero": false}},
   "color": {"field": "rev", "type": "nominal"}}}, {"mark": {"type": "circle", "size": 10},
   "encoding": {"x": {"aggregate": "max", "field": "epoch", "type": "quantitative", "title": "epoch"},
   "y": {"aggregate": {"argmax": "epoch"}, "field": "dvc_inferred_y_value", "type": "quantitative",
   "title": "y", "scale": {"zero": false}}, "color": {"field": "rev",
   "type": "nominal"}}}, {"transform": [{"calculate": "datum.rev + '::' + datum.field",
   "as": "pivot_field"}, {"pivot": "pivot_field", "op": "mean", "value": "dvc_inferred_y_value",
   "groupby": ["epoch"]}], "mark": {"type": "rule", "tooltip": {"content": "data"}, "stroke": "grey"},
   "encoding": {"opacity": {"condition": {"value": 0.3, "param": "hover", "empty": false}, "value": 0}},
   "params": [{"name": "hover", "select": {"type": "point", "fields": ["epoch"], "nearest": true,
   "on": "mouseover", "clear": "mouseout"}}]}]
  }}
 ],
 "confusion_matrix": [
  {"type": "vega", "revisions": ["workspace", "develop"], "content": {
   "data": {"values": [
    {"actual": "0", "predicted": "0", "rev": "workspace"},
    {"actual": "0", "predicted": "0", "rev": "workspace"},
    {"actual": "1", "predicted": "1", "rev": "workspace"},
    {"actual": "1", "predicted": "1", "rev": "workspace"},
    {"actual": "2", "predicted": "2", "rev": "workspace"},
    {"actual": "2", "predicted": "2", "rev": "workspace"},
    {"actual": "2", "predicted": "1", "rev": "workspace"},
    {"actual": "0", "predicted": "0", "rev": "develop"},
    {"actual": "0", "predicted": "0", "rev": "develop"},
    {"actual": "1", "predicted": "1", "rev": "develop"},
    {"actual": "1", "predicted": "1", "rev": "develop"},
    {"actual": "2", "predicted": "2", "rev": "develop"},
    {"actual": "2", "predicted": "2", "rev": "develop"},
    {"actual": "2", "predicted": "1", "rev": "develop"}
   ]},
   "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
   "title": {"text": "Confusion matrix (test set)", "anchor": "middle"},
   "facet": {"column": {"field": "rev", "sort": []}, "row": {}}, "params": [{"name": "showValues",
   "bind": {"input": "checkbox"}}], "spec": {"transform": [{"aggregate": [{"op": "count",
   "as": "xy_count"}], "groupby": ["actual", "predicted"]}, {"impute": "xy_count", "groupby": ["rev",
   "actual"], "key": "predicted", "value": 0}, {"impute": "xy_count", "groupby": ["rev", "predicted"],
   "key": "actual", "value": 0}, {"joinaggregate": [{"op": "max", "field": "xy_count",
   "as": "max_count"}], "groupby": []}, {"calculate": "datum.xy_count / datum.max_count",
   "as": "percent_of_max"}], "encoding": {"x": {"field": "predicted", "type": "nominal",
   "sort": "ascending", "title": "predicted"}, "y": {"field": "actual", "type": "nominal",
   "sort": "ascending", "title": "actual"}}, "layer": [{"mark": "rect", "width": 300, "height": 300,
   "encoding": {"color": {"field": "xy_count", "type": "quantitative", "title": "",
   "scale": {"domainMin": 0, "nice": true}}}}, {"selection": {"label": {"type": "single",
   "on": "mouseover", "encodings": ["x", "y"], "empty": "none", "clear": "mouseout"}}, "mark": "rect",
   "encoding": {"tooltip": [{"field": "predicted", "type": "nominal"}, {"field": "actual",
   "type": "nominal"}, {"field": "xy_count", "type": "quantitative"}],
   "opacity": {"condition": {"selection": "label", "value": 1},
   "value": 0}}}, {"transform": [{"filter": {"selection": "label"}}], "layer": [{"mark": {"type": "rect",
   "color": "lightpink"}}]}, {"mark": "text", "encoding": {"text": {"condition": {"param": "showValues",
   "field": "xy_count", "type": "quantitative"}},
   "color": {"condition": {"test": "datum.percent_of_max > 0.5", "value": "white"}, "value": "black"}}}]}
  }}
 ],
 "per_class_f1": [
  {"type": "vega", "revisions": ["workspace", "develop"], "content": {
   "data": {"values": [
    {"class": "0", "precision": "1.0", "recall": "1.0", "f1": "1.0", "rev": "workspace"},
    {"class": "1", "precision": "0.970588", "recall": "0.916667", "f1": "0.942857", "rev": "workspace"},
    {"class": "2", "precision": "1.0", "recall": "0.971429", "f1": "0.985507", "rev": "workspace"},
    {"class": "0", "precision": "0.972973", "recall": "1.0", "f1": "0.986301", "rev": "develop"},
    {"class": "1", "precision": "0.918919", "recall": "0.944444", "f1": "0.931507", "rev": "develop"},
    {"class": "2", "precision": "1.0", "recall": "0.971429", "f1": "0.985507", "rev": "develop"}
   ]},
   "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
   "title": {"text": "Per-class F1 (test set)", "anchor": "middle"}, "width": 300, "height": 300,
   "mark": {"type": "bar"}, "params": [{"name": "grid", "select": "interval", "bind": "scales"}],
   "encoding": {"x": {"field": "f1", "type": "quantitative", "title": "f1", "scale": {"zero": false}},
   "y": {"field": "class", "type": "nominal", "title": "class"}, "yOffset": {"field": "rev", "sort": []},
   "color": {"field": "rev", "scale": {"domain": ["workspace", "develop"], "range": ["#945dd6",
   "#13adc7"]}}, "column": {}}
  }}
 ],
 "plots/confusion_matrix.png": [
  {"type": "image", "revisions": ["workspace"], "url": "/tmp/rs/po/workspace_plots_confusion_matrix.png"},
  {"type": "image", "revisions": ["develop"], "url": "/tmp/rs/po/develop_plots_confusion_matrix.png"}
 ],
 "plots/per_class.png": [
  {"type": "image", "revisions": ["workspace"], "url": "/tmp/rs/po/workspace_plots_per_class.png"},
  {"type": "image", "revisions": ["develop"], "url": "/tmp/rs/po/develop_plots_per_class.png"}
 ],
 "plots/training_curve.png": [
  {"type": "image", "revisions": ["workspace"], "url": "/tmp/rs/po/workspace_plots_training_curve.png"},
  {"type": "image", "revisions": ["develop"], "url": "/tmp/rs/po/develop_plots_training_curve.png"}
 ]
}}""")


# --- helpers ------------------------------------------------------------------------------------

def canned_dvc(metrics=None, plots=None) -> dict:
    return {"metrics": METRICS_DIFF if metrics is None else metrics, "params": PARAMS_DIFF, "data": DATA_DIFF,
            "plots": PLOTS_DIFF if plots is None else plots, "outs": OUTS}


def table_problems(markdown: str) -> list[str]:
    """Tables that are not whole: a header without its separator, or a row with another cell count."""
    problems = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("|"):
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].startswith("|"):
            index += 1
        table = lines[start:index]
        cells = [len(re.split(r"(?<!\\)\|", line)) - 2 for line in table]
        if len(table) < 2 or not re.fullmatch(r"\|(:?-+:?\|)+", table[1]) or len(set(cells)) != 1:
            problems.append("\n".join(table[:3]))
    return problems


def synthetic_dvc(metrics: int = 500, plots: int = 20, points: int = 1000, files: int = 3000) -> dict:
    """DVC JSON in the real shapes, large: `metrics` metrics, `plots` plots (curves, confusion
    matrices, per-class bars, in turn), `files` changed data files, 300 changed params."""
    metrics_diff = {"metrics.json": {f"holdout/segment_{i:03d}/accuracy": {
        "old": 0.5 + i / 2000, "new": 0.5 + i / 2000 + (i % 7 - 3) / 1000} for i in range(metrics)}}
    params_diff = {"params.yaml": {f"group.param_{i}": {"old": i, "new": i + 1} for i in range(300)}}
    data_diff = {"added": [{"path": f"data/raw/{i % 10}/{i:05d}.png"} for i in range(files)],
                 "modified": [{"path": "data/raw/"}], "deleted": [], "renamed": [], "not in cache": []}
    curve = PLOTS_DIFF["data"]["training_curve"][0]
    confusion = PLOTS_DIFF["data"]["confusion_matrix"][0]
    bars = PLOTS_DIFF["data"]["per_class_f1"][0]
    data = {}
    for index in range(plots):
        kind = index % 3
        if kind == 0:
            values = [{"step": str(step), "dvc_inferred_y_value": str(1 / (step + 1) + offset), "rev": rev,
                       "field": "loss"} for rev, offset in (("workspace", 0.0), ("develop", 0.01))
                      for step in range(points)]
            spec = {**curve["content"], "data": {"values": values}}
            spec["encoding"] = {**spec["encoding"], "x": {"field": "step", "type": "quantitative"}}
            data[f"curve_{index}"] = [{**curve, "content": spec}]
        elif kind == 1:
            values = [{"actual": str(a), "predicted": str((a + shift) % 10), "rev": rev}
                      for rev in ("workspace", "develop") for a in range(10) for shift in (0, 0, 0, 1)]
            data[f"confusion_{index}"] = [{**confusion, "content": {**confusion["content"],
                                                                     "data": {"values": values}}}]
        else:
            values = [{"class": str(c), "precision": "0.9", "recall": str(0.8 + c / 100), "f1": "0.85", "rev": rev}
                      for rev in ("workspace", "develop") for c in range(10)]
            data[f"bars_{index}"] = [{**bars, "content": {**bars["content"], "data": {"values": values}}}]
    return {"metrics": metrics_diff, "params": params_diff, "data": data_diff, "plots": {"data": data}}


def champion(**metrics) -> records.Champion:
    return records.Champion("ok", "digits", "champion", "3", "run1", metrics)


# --- DVC JSON -> records ------------------------------------------------------------------------

def test_parse_metrics_diff():
    rows = report_dvc.parse_metrics_diff(METRICS_DIFF_MIXED | {"bad.json": "oops"})
    assert [row.name for row in rows] == ["accuracy", "f1", "flag", "name", "nested.a", "precision", "recall",
                                          "val_loss"]
    by_name = {row.name: row for row in rows}
    assert (by_name["recall"].base, by_name["recall"].new, by_name["recall"].change) == (0.969206, None, None)
    assert by_name["accuracy"].change == 0.010641
    assert by_name["nested.a"].change is None and by_name["flag"].change is None


def test_parse_params_diff():
    rows = report_dvc.parse_params_diff(PARAMS_DIFF | {"other.yaml": {"a": {"old": 1, "new": 1}, "b": {"old": None,
                                                                                                  "new": "x"}}})
    assert rows == [records.ParamRow("other.yaml", "b", None, "x"), records.ParamRow("params.yaml", "train.lr", 0.01,
                                                                                   0.02)]


def test_parse_tracked_dvc_files_and_lock_files():
    assert OUTS["base"] == {
        "data/raw": {"source": "data", "md5": "d6139d383f1f72c781e5465b0bc900d8.dir", "nfiles": 1797,
                     "size": 251580},
        "data/processed": {"source": "output", "md5": "1a.dir", "nfiles": 3, "size": 900100},
        "models/model.pt": {"source": "output", "md5": "2b", "nfiles": None, "size": 4000}}
    nested = report_data.parse_tracked({"sub/dvc.lock": "train:\n  outs:\n  - path: ../out/m.bin\n    md5: 9\n",
                                   "sub/x.dvc": "outs:\n- md5: 8\n  path: x\n", "bad.dvc": "outs: [oops\n",
                                   "empty.dvc": ""})
    assert nested == {"out/m.bin": {"source": "output", "md5": "9", "nfiles": None, "size": None},
                      "sub/x": {"source": "data", "md5": "8", "nfiles": None, "size": None}}


def test_parse_data_diff_groups_per_tracked_path():
    groups = report_data.parse_data_diff(DATA_DIFF, OUTS)
    assert [(group.path, group.source, group.is_dir, group.status) for group in groups] == [
        ("data/raw", "data", True, "modified"), ("data/processed", "output", True, "modified"),
        ("eval/predictions.csv", "output", False, "modified"), ("metrics.json", "output", False, "modified"),
        ("models/model.pt", "output", False, "modified")]
    assert groups[0].counts() == {"added": 1, "deleted": 3}
    assert groups[0].files[0] == ("added", "data/raw/0/new_0.png")
    assert groups[1].counts() == {"modified": 3}


def test_parse_data_diff_without_the_cache_keeps_statuses_and_counts():
    groups = report_data.parse_data_diff(DATA_DIFF_WITHOUT_CACHE, OUTS)
    assert [(group.path, group.source, group.status, group.files, group.nfiles, group.size)
            for group in groups[:2]] == [
        ("data/raw", "data", "modified", (), (1797, 1790), (251580, 250320)),
        ("data/processed", "output", "modified", (), (3, 3), (900100, 899200))]
    assert groups[-1].size == (4000, 4000) and not groups[-1].is_dir


def test_parse_data_diff_renames_and_directories_known_only_from_the_records():
    renamed = {"renamed": [{"path": {"old": "data/raw/a.png", "new": "data/raw/b.png"}}],
               "modified": [{"path": "data/raw/"}]}
    groups = report_data.parse_data_diff(renamed)
    assert groups[0].files == (("renamed", "data/raw/a.png -> data/raw/b.png"),)
    # A directory added in a revision whose listing is not in the cache: no trailing slash needed.
    added = report_data.parse_data_diff({"added": [{"path": "data/new"}]},
                                   {"new": {"data/new": {"source": "data", "md5": "7.dir", "nfiles": 2}}})
    assert [(group.is_dir, group.source, group.status, group.nfiles) for group in added] == [
        (True, "data", "added", (None, 2))]


def test_parse_plots_diff_real_shapes():
    plots, notes = report_dvc.parse_plots_diff(PLOTS_DIFF)
    assert notes == []
    kinds = [(plot.kind, plot.name) for plot in plots]
    assert kinds == [("curve", "training_curve"), ("curve", "training_curve"), ("confusion", "confusion_matrix"),
                     ("table", "per_class_f1"), ("image", "plots/confusion_matrix.png"),
                     ("image", "plots/per_class.png"), ("image", "plots/training_curve.png")]
    loss, accuracy = plots[0], plots[1]
    assert (loss.title, loss.x, loss.y) == ("Training curve", "epoch", "train_loss")
    assert [(series.rev, series.role) for series in loss.series] == [("develop", "base"), ("workspace", "new")]
    assert loss.series[1].points == ((1.0, 1.122519), (2.0, 0.300526), (3.0, 0.164903))
    assert accuracy.y == "val_accuracy"
    confusion = plots[2]
    assert (confusion.actual, confusion.predicted, confusion.labels) == ("actual", "predicted", ("0", "1", "2"))
    assert confusion.counts["new"][("2", "1")] == 1 and confusion.counts["base"][("0", "0")] == 2
    table = plots[3]
    assert (table.key, table.columns) == ("class", ("precision", "recall", "f1"))
    assert table.rows["new"]["0"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert plots[4].revisions == ("workspace", "develop")


def test_a_revision_wide_plots_error_names_no_plot():
    # Real `dvc plots diff --json` output when the workspace's dvc.yaml cannot be read.
    errors = {"errors": [{"rev": "workspace", "type": "YAMLSyntaxError",
                          "msg": "unable to read: 'dvc.yaml', YAML file structure is corrupted"}]}
    assert report_dvc.parse_plots_diff(errors)[1] == [
        "dvc plots: unable to read: 'dvc.yaml', YAML file structure is corrupted (workspace)"]


def test_confusion_with_actual_on_x_is_not_swapped():
    item = copy.deepcopy(PLOTS_DIFF["data"]["confusion_matrix"][0])
    item["content"]["spec"]["encoding"] = {"x": {"field": "actual", "type": "nominal"},
                                           "y": {"field": "predicted", "type": "nominal"}}
    [plot] = report_dvc.parse_plots_diff({"data": {"cm": [item]}})[0]
    assert (plot.actual, plot.predicted) == ("actual", "predicted")
    matrix = report.to_json(report.build_report("develop", {"plots": {"data": {"cm": [item]}}}))["plots"][0]
    assert matrix["matrices"]["new"] == [[2, 0, 0], [0, 2, 0], [0, 1, 2]]   # rows actual: one 2 taken for 1
    assert report_dvc.confusion_axes("pred", "label") == ("label", "pred")
    assert report_dvc.confusion_axes("a", "b") == ("b", "a")


def test_plots_errors_without_rev_or_message_print_no_none():
    _, notes = report_dvc.parse_plots_diff({"errors": [{"name": "cm", "type": "DefinitionError"}, {"rev": "develop"}]})
    assert notes == ["dvc plots: cm: DefinitionError", "dvc plots: could not be loaded (develop)"]


def test_parse_plots_diff_errors_and_odd_plots():
    plots, notes = report_dvc.parse_plots_diff(PLOTS_ERRORS)
    assert plots == []
    assert notes == ["dvc plots: plots/training_curve.csv: [Errno 2] No storage files available: "
                     "'plots/training_curve.csv' (workspace, develop)"]
    odd = {"data": {"empty": [{"type": "vega", "content": {"title": "Nothing", "data": {"values": []}}}],
                    "nan": [{"type": "vega", "content": {"encoding": {"x": {"field": "x", "type": "quantitative"},
                                                                      "y": {"field": "y", "type": "quantitative"}},
                                                         "data": {"values": [{"x": "a", "y": "nan"}]}}}],
                    "junk": "not a list", "items": ["x", {"type": "vega", "content": "x"}]}}
    plots, _ = report_dvc.parse_plots_diff(odd)
    assert [(plot.kind, plot.title) for plot in plots] == [("other", "Nothing"), ("other", "nan")]


# --- comparisons --------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, lower, expected", [
    (0.9, 0.95, False, "better"), (0.9, 0.85, False, "worse"), (0.5, 0.4, True, "better"),
    (0.5, 0.6, True, "worse"), (0.9, 0.90004, False, "same"), (1, 2, False, "better"),
    (None, 0.9, False, None), (0.9, "x", False, None), (True, False, False, None), (float("nan"), 1.0, False, None),
])
def test_outcome(old, new, lower, expected):
    assert compare.outcome(old, new, lower, 4) == expected


@pytest.mark.parametrize("outcomes, result", [
    (["better", "better", None], "better"), (["worse", "same"], "worse"), (["better", "worse"], "mixed"),
    (["same", "same"], "unchanged"), ([None], "n/a"), ([], "n/a"),
])
def test_verdict(outcomes, result):
    assert compare.verdict(outcomes).result == result


def test_compare_against_base_and_champion():
    rows = report_dvc.parse_metrics_diff(METRICS_DIFF_MIXED)
    metrics, vs_base, vs_champion = compare.compare(rows, champion(accuracy=0.99, precision=0.5, val_loss=0.4),
                                                   ReportConfig())
    by_name = {row.name: row for row in metrics}
    assert by_name["val_loss"].lower_is_better and by_name["val_loss"].vs_base == "better"
    assert (by_name["precision"].vs_base, by_name["f1"].vs_base) == ("worse", "same")
    assert (vs_base.result, vs_base.better, vs_base.worse, vs_base.same) == ("mixed", 2, 1, 1)
    assert (by_name["accuracy"].vs_champion, by_name["precision"].vs_champion) == ("worse", "better")
    assert (vs_champion.result, vs_champion.better, vs_champion.worse) == ("mixed", 1, 2)
    assert by_name["accuracy"].champion_change == -0.01
    _, _, unavailable = compare.compare(rows, records.Champion("unavailable", message="down"), ReportConfig())
    assert (unavailable.result, unavailable.reason) == ("unavailable", "down")


# Two metrics files with a metric in both (the case): a release 9 points worse than the champion.
TWO_FILES = {"metrics/eval.json": {"accuracy": {"old": 0.9, "new": 0.81}, "loss": {"old": 0.3, "new": 0.3}},
             "metrics/train.json": {"accuracy": {"old": 0.95, "new": 0.97}}}


def test_champion_column_matches_mlflow_keys_per_file():
    rows = report_dvc.parse_metrics_diff(TWO_FILES)
    metrics, _, vs_champion = compare.compare(rows, champion(**{"eval.accuracy": 0.9, "train.accuracy": 0.96,
                                                               "eval.loss": 0.3}), ReportConfig())
    by_key = {row.key: row for row in metrics}
    assert sorted(by_key) == ["eval.accuracy", "eval.loss", "train.accuracy"]
    assert (by_key["eval.accuracy"].champion, by_key["eval.accuracy"].vs_champion) == (0.9, "worse")
    assert (by_key["train.accuracy"].champion, by_key["train.accuracy"].vs_champion) == (0.96, "better")
    assert (vs_champion.result, vs_champion.better, vs_champion.worse, vs_champion.same) == ("mixed", 1, 1, 1)
    # A champion that logged bare names (one value for both rows) is not matched to either row.
    _, _, flat = compare.compare(rows, champion(accuracy=0.9, loss=0.3), ReportConfig())
    assert flat.result == "n/a" and "<file stem>.<key>" in flat.reason


def test_one_metrics_file_keeps_bare_mlflow_keys():
    metrics, _, vs_champion = compare.compare(report_dvc.parse_metrics_diff(METRICS_DIFF), champion(accuracy=0.99),
                                             ReportConfig())
    assert {row.key for row in metrics} == {"accuracy", "f1", "precision", "recall"}
    assert (vs_champion.result, vs_champion.compared) == ("worse", 1)


@pytest.mark.parametrize("name, config, direction", [
    ("feature_importance.age", ReportConfig(), INFO), ("train_time_s", ReportConfig(), INFO),
    ("n_samples", ReportConfig(), INFO), ("eval.n_errors", ReportConfig(), INFO),
    ("train_loss", ReportConfig(), LOWER), ("accuracy", ReportConfig(), HIGHER),
    ("epochs", ReportConfig(informational=("epochs",)), INFO),
    ("step", ReportConfig(), INFO), ("dvclive/metrics.step", ReportConfig(), INFO), ("epoch", ReportConfig(), INFO),
    ("step_accuracy", ReportConfig(), HIGHER), ("stepwise_loss", ReportConfig(), LOWER),
    ("count_ratio", ReportConfig(higher_is_better=("count_*",)), HIGHER),
    ("loss", ReportConfig(informational=("eval.*",)), LOWER),
])
def test_informational_direction(name, config, direction):
    assert configured_direction(config, name) == direction


def test_informational_metrics_show_the_change_but_are_never_judged():
    diff = {"metrics.json": {"accuracy": {"old": 0.9, "new": 0.91},
                             "feature_importance.age": {"old": 0.4, "new": 0.2},
                             "epochs": {"old": 10, "new": 12}}}
    item = report.build_report("develop", {"metrics": diff}, champion=champion(**{"feature_importance.age": 0.5}),
                               config=ReportConfig(informational=("epochs",)))
    by_name = {row.name: row for row in item.metrics}
    assert by_name["feature_importance.age"].informational and by_name["epochs"].informational
    assert (by_name["feature_importance.age"].vs_base, by_name["feature_importance.age"].vs_champion) == \
        ("noted", "noted")
    assert (item.vs_base.result, item.vs_base.compared) == ("better", 1)
    assert item.vs_champion.result == "n/a"
    markdown, _ = report_render.render(item)
    importance = next(line for line in markdown.splitlines() if "importance" in line)
    assert "▼ -0.2000 (-50.00%) |" in importance and "✅" not in importance and "⚠️" not in importance
    assert "ℹ️ informational" in markdown
    document = report.to_json(item)
    assert [row["better"] for row in document["metrics"] if row["informational"]] == [None, None]


def test_an_importance_bar_plot_going_down_is_no_regression():
    table = records.ClassTable("importance", "Feature importance", "feature", ("importance",),
                              {"new": {"age": {"importance": 0.2}}, "base": {"age": {"importance": 0.4}}})
    item = report.build_report("develop", {})
    [plot] = compare.with_directions([table], ReportConfig())
    full, _ = report_plots.class_table_levels(item, plot)
    assert "0.2000 (▼-0.2000)" in full and "⚠️" not in full


def test_mlflow_links():
    links = sources.mlflow_links("http://mlflow:5000/", experiment_id="1", run_id="abc", model="my model",
                                version="3")
    assert links == {"mlflow_run": "http://mlflow:5000/#/experiments/1/runs/abc",
                     "model_version": "http://mlflow:5000/#/models/my%20model/versions/3"}
    assert sources.mlflow_links("https://user:secret@mlflow.example:8443/", model="m", version="1") == {
        "mlflow_run": None, "model_version": "https://mlflow.example:8443/#/models/m/versions/1"}
    assert sources.mlflow_links("sqlite:///m.db", run_id="abc", experiment_id="1") == {"mlflow_run": None,
                                                                                      "model_version": None}


# --- rendering ----------------------------------------------------------------------------------

def canned_report(**kwargs) -> records.Report:
    return report.build_report("develop", canned_dvc(kwargs.pop("metrics", None)),
                               commit="a" * 40, base_commit="b" * 40, **kwargs)


def test_markdown_of_the_canned_report():
    markdown, dropped = report_render.render(canned_report(links={"workflow_run": "https://ci/run/1",
                                                                  "artifacts": "https://ci/run/1#artifacts"}))
    assert dropped == []
    assert markdown.startswith("## 📊 Model report\n\n✅ **Better** than base `develop` "
                               "(all 4 metrics better) · ❔ Champion: n/a\n")
    assert "| accuracy | 0.9694 | 0.9804 | ▲ +0.0110 (+1.14%) ✅ | n/a |" in markdown
    assert "| `train.lr` | `0.01` | `0.02` |" in markdown
    assert "| `data/raw` (data) | 1 added, 3 deleted · 1,797 → 1,790 files, 251.6 kB → 250.3 kB |" in markdown
    assert "Pipeline outputs modified: `eval/predictions.csv`, `metrics.json`, `models/model.pt`." in markdown
    assert "Files under <code>data/raw</code>: 4 changed (listed from the DVC cache)" in markdown
    assert "listed only where the DVC cache" not in markdown
    assert markdown.count("```mermaid") == 2
    assert "    line [1.123, 0.3005, 0.1649]" in markdown
    assert "train\\_loss at epoch 3: 0.2416 → 0.1649, ▼ -0.0767 (-31.76%) ✅" in markdown
    assert "| **2** | · | 1 | **2** |" in markdown
    assert "[download them from the workflow artifacts](https://ci/run/1#artifacts)" in markdown
    assert markdown.rstrip().endswith(f"commit {'a' * 40} · base develop ({'b' * 40})</sub>")
    assert table_problems(markdown) == []


def test_markdown_directions_and_champion_marks():
    markdown, _ = report_render.render(canned_report(metrics=METRICS_DIFF_MIXED,
                                                     champion=champion(accuracy=0.99, val_loss=0.4)))
    assert "⚖️ **Mixed** against base `develop` (2 better, 1 worse, 1 unchanged) · " in markdown
    assert "⚠️ **Worse** than champion `digits@champion` v3 (both metrics worse)" in markdown
    assert "| Metric | Base `develop` | This PR | Change | Champion v3 |" in markdown
    assert "| val\\_loss ↓ | 0.6100 | 0.5000 | ▼ -0.1100 (-18.03%) ✅ | 0.4000 ⚠️ |" in markdown
    assert "| precision | 0.9701 | 0.9000 | ▼ -0.0701 (-7.22%) ⚠️ | — |" in markdown
    assert "| f1 | 0.9693 | 0.9693 | = | — |" in markdown
    assert "| recall | 0.9692 | — | removed | — |" in markdown
    assert "| nested.a | — | 1 | 🆕 new | — |" in markdown
    assert "| flag | — | true | 🆕 new | — |" in markdown


@pytest.mark.parametrize("status, text", [
    ("none", "🏁 No champion yet (`digits@champion` not found)"),
    ("unavailable", "⚠️ Champion **unavailable** (MLflow could not be reached)"),
])
def test_markdown_without_a_champion(status, text):
    markdown, _ = report_render.render(canned_report(champion=records.Champion(status, "digits", message="why")))
    assert text in markdown
    assert markdown.count(f"| {'unavailable' if status == 'unavailable' else 'n/a'} |") == 4


def test_verdict_phrases():
    base = records.Verdict("better", 1)
    item = canned_report()
    assert report_markdown._phrase(base, "x", False) == "better than x (the one metric better)"
    assert report_markdown._phrase(records.Verdict("n/a", reason="nothing"), "x", True) == \
        "❔ **No comparison** with x: nothing"
    assert report_markdown.verdict_text(item) == "better than develop (all 4 metrics better); champion: n/a"
    assert report_markdown.verdict_text(canned_report(champion=records.Champion("none", "m", message="x"))).endswith(
        "; no champion yet (m@champion not found)")
    assert report_markdown.verdict_text(canned_report(champion=records.Champion("unavailable", "m"))).endswith(
        "; champion unavailable (MLflow could not be reached)")


def test_numbers():
    assert [report_markdown.number(value, 4) for value in (None, True, 3, 0.5, 1e-6, float("nan"), "a|b", [1])] == [
        "—", "true", "3", "0.5000", "1e-06", "nan", "a\\|b", "\\[1\\]"]
    assert [report_markdown.signed(value, 2) for value in (3, 0.5, -0.001)] == ["+3", "+0.50", "-0.001"]
    assert report_markdown.change_cell("a", "b", None, None, 4) == "changed"
    assert report_markdown.change_cell("a", "a", None, None, 4) == "—"
    assert report_markdown.change_cell(0, 1, 1, "better", 4) == "▲ +1 ✅"
    assert report_markdown.code("a`b|c") == "a\\`b\\|c" and report_markdown.code("a|b") == "`a\\|b`"


def curve(points_new, points_base, name="loss") -> records.CurvePlot:
    return records.CurvePlot("c", "Curve", "step", name, (
        records.Series("develop", "base", tuple(points_base)), records.Series("workspace", "new", tuple(points_new))),
        lower_is_better=True)


def test_curves_are_downsampled_and_plain_decimals():
    points = [(float(step), 1e-5 * (1000 - step)) for step in range(1000)]
    item = report.build_report("develop", {}, config=ReportConfig(max_points=30))
    full, coarse, summary = report_plots.curve_levels(item, curve(points, points))
    lines = re.findall(r"    line \[(.*)\]", full)
    assert len(lines) == 2 and all(len(line.split(", ")) == 30 for line in lines)
    assert lines[0].startswith("0.01, ") and lines[0].endswith(", 0.00001")
    assert "e-" not in full[full.index("```mermaid"):full.rindex("```")]
    assert re.search(r'x-axis "step" \["0", "34", ', full)
    assert len(re.findall(r"    line \[(.*)\]", coarse)[0].split(", ")) == report_plots.COARSE_POINTS
    assert "```" not in summary and "loss at step 999: 0.0000 → 0.0000 (=)" not in summary
    assert report_plots.sample(5, 1) == [4] and report_plots.sample(3, 10) == [0, 1, 2]


def test_curves_with_different_x_get_one_chart_each():
    item = report.build_report("develop", {})
    full, _, summary = report_plots.curve_levels(item, curve([(1, 0.5), (2, 0.4), (3, 0.3)], [(1, 0.6), (2, 0.5)]))
    assert full.count("```mermaid") == 2 and "Curve: loss (this PR)" in full and "Curve: loss (develop)" in full
    assert summary.endswith("loss at the end: 0.5000 → 0.3000, ▼ -0.2000 (-40.00%) ✅\n")
    only_new = records.CurvePlot("c", "Curve", "step", "acc", (records.Series("workspace", "new", ((1, 0.5),)),))
    assert "acc at step 1: 0.5000 (this PR only)" in report_plots.curve_levels(item, only_new)[2]
    empty = records.CurvePlot("c", "Curve", "step", "acc", (records.Series("workspace", "new", ()),))
    assert "_No points._" in report_plots.curve_levels(item, empty)[0]


def test_untrusted_text_cannot_break_out():
    item = report.build_report("develop", {}, links={"workflow_run": "https://ci/run (1)", "artifacts": None})
    hostile = records.CurvePlot("c", 'Evil ```\n"title"', "x`", "y|z", (records.Series("workspace", "new", ((1, 2),)),))
    full = report_plots.curve_levels(item, hostile)[0]
    assert full.count("```") == 2 and 'title "Evil \'\'\' \'title\': y|z"' in full
    assert "[workflow run](https://ci/run%20%281%29)" in report_render.links_block(item)


def test_wide_confusion_matrix_lists_top_confusions():
    labels = tuple(str(index) for index in range(30))
    new = {(label, label): 5 for label in labels} | {("1", "7"): 4, ("2", "3"): 1}
    plot = records.ConfusionPlot("cm", "CM", "actual", "predicted", labels, {"new": new, "base": {("1", "7"): 1}})
    full, summary = report_plots.confusion_levels(report.build_report("develop", {}), plot)
    assert "Most frequent confusions (30 classes):" in full and "| 1 | 7 | 4 | 1 |" in full
    assert summary.endswith("Misclassified: 5 of 155 (3.23%) · base `develop`: 1 of 1 ✅\n")
    base_only = records.ConfusionPlot("cm", "CM", "a", "p", ("x",), {"base": {("x", "x"): 2}})
    assert "(base `develop` only)" in report_plots.confusion_levels(report.build_report("develop", {}), base_only)[1]


def test_class_table_of_one_revision():
    plot = records.ClassTable("pc", "Per class", "class", ("f1",), {"base": {"0": {"f1": 0.5}}}, (False,))
    full, note = report_plots.class_table_levels(report.build_report("develop", {}), plot)
    assert "_Base `develop` only._" in full and "| 0 | 0.5000 |" in full
    assert "_1 rows: table left out" in note


def test_other_plots_warnings_and_data_caps():
    groups = tuple(report_data.DataGroup(f"dir{index}", True, files=(("added", f"dir{index}/a"),) * 3)
                   for index in range(report_markdown.MAX_DATA_GROUPS + 2))
    item = records.Report("develop", (), records.Verdict("n/a", reason="none"), records.Verdict("n/a", reason="x"),
                         records.Champion("n/a", message="x"), config=ReportConfig(max_files=2), data=groups,
                         plots=(records.OtherPlot("weird", "Weird"), records.ImagePlot("a.png", ("workspace",))),
                         warnings=tuple(f"w{index}" for index in range(12)))
    markdown, _ = report_render.render(item)
    assert "_No metrics: `dvc metrics diff` found none" in markdown
    assert "_… and 2 more paths (in the JSON report)._" in markdown
    assert markdown.count("- … and 1 more (in the JSON report)") == report_markdown.MAX_DATA_GROUPS
    assert "Not drawn here: `weird`." in markdown and "in the workflow artifacts." in markdown
    assert "> … and 2 more warnings (in the job log)" in markdown and "> ⚠️ w9" in markdown
    assert "❔ **No comparison** with base `develop`: none" in markdown


# --- fitting to GitHub's limit ------------------------------------------------------------------

def test_500_metrics_and_20_plots_fit_with_whole_tables():
    started = time.perf_counter()
    item = report.build_report("develop", synthetic_dvc(), champion=champion(
        **{f"holdout/segment_{i:03d}/accuracy": 0.6 for i in range(500)}))
    markdown, dropped = report_render.render(item)
    document = report.to_json(item)
    elapsed = time.perf_counter() - started
    print(f"\nreport build with 500 metrics and 20 plots (1000 points each): {elapsed * 1000:.0f} ms, "
          f"{report_markdown.size(markdown):,} characters, dropped: {dropped}")
    assert report_markdown.size(markdown) <= markers.COMMENT_LIMIT
    assert report_markdown.size(markdown) <= ReportConfig().max_chars
    assert dropped and dropped[0] == "plot point detail"
    assert "> ✂️ **Shortened** to stay under GitHub's 65,536-character comment limit: left out plot point " \
           "detail" in markdown
    assert table_problems(markdown) == []
    assert markdown.count("```") % 2 == 0
    assert markdown.startswith("## 📊 Model report\n\n⚖️ **Mixed**")
    assert markdown.rstrip().endswith("</sub>")
    assert len(document["metrics"]) == 500 and len(document["plots"]) == 20
    assert elapsed < 5


def test_fit_drops_stages_in_order_and_keeps_the_metrics_table():
    item = report.build_report("develop", synthetic_dvc(metrics=40, plots=6, points=100, files=50),
                               config=ReportConfig(max_chars=6000))
    markdown, dropped = report_render.render(item)
    assert dropped == [stage for stage in report_render.STAGES if stage in dropped]
    assert "params" in dropped and "experiment table" not in dropped   # this report has no experiments
    assert "experiment table" not in markdown
    assert "| holdout/segment\\_000/accuracy |" in markdown and report_markdown.size(markdown) <= 6000
    assert table_problems(markdown) == []
    full, nothing_dropped = report_render.render(replace_config(item, max_chars=markers.COMMENT_LIMIT))
    assert nothing_dropped == [] and "Shortened" not in full


def test_a_report_at_the_largest_max_chars_still_posts_with_its_marker():
    item = report.build_report("develop", synthetic_dvc(), config=ReportConfig(max_chars=markers.BODY_LIMIT))
    markdown, dropped = report_render.render(item)
    assert dropped and report_markdown.size(markdown) > markers.BODY_LIMIT - 2000
    assert len(markers.with_marker(markdown, "k" * markers.MAX_KEY)) <= markers.COMMENT_LIMIT


def replace_config(item: records.Report, **changes) -> records.Report:
    from dataclasses import replace   # pylint: disable=import-outside-toplevel
    return replace(item, config=replace(item.config, **changes))


def test_last_resort_keeps_a_whole_but_shorter_metrics_table():
    item = report.build_report("develop", synthetic_dvc(metrics=3000, plots=0, files=0))
    markdown, dropped = report_render.render(item)
    assert dropped[-1] == "metric rows" and report_markdown.size(markdown) <= item.config.max_chars
    assert re.search(r"_\d+ more metric\(s\) not shown \(all are in the JSON report\)\._", markdown)
    assert table_problems(markdown) == []
    tiny, _ = report_render.render(replace_config(item, max_chars=1000))
    assert "Model report" in tiny   # nothing fits: the shortest version, still whole


# --- JSON ---------------------------------------------------------------------------------------

def test_json_shape():
    document = report.to_json(canned_report(metrics=METRICS_DIFF_MIXED, champion=champion(accuracy=0.99),
                                            links={"workflow_run": "https://ci/1"}))
    assert set(document) == {"verdict", "metrics", "params", "data", "plots", "champion", "links", "warnings",
                             "base", "commit", "experiments", "code_quality"}
    assert document["verdict"]["base"] == {"result": "mixed", "better": 2, "worse": 1, "unchanged": 1,
                                           "compared": 4, "reason": None}
    assert document["verdict"]["champion"]["result"] == "worse"
    accuracy = next(row for row in document["metrics"] if row["name"] == "accuracy")
    assert accuracy == {"path": "metrics.json", "name": "accuracy", "base": 0.969359, "new": 0.98, "change": 0.010641,
                        "champion": 0.99, "better": True, "champion_change": -0.01, "better_than_champion": False,
                        "lower_is_better": False, "mlflow_key": "accuracy", "informational": False}
    recall = next(row for row in document["metrics"] if row["name"] == "recall")
    assert (recall["new"], recall["change"], recall["better"]) == (None, None, None)
    assert document["params"] == [{"path": "params.yaml", "name": "train.lr", "base": 0.01, "new": 0.02}]
    assert document["data"][0] == {"path": "data/raw", "source": "data", "status": "modified", "added": 1,
                                   "modified": 0, "deleted": 3, "renamed": 0,
                                   "nfiles": {"base": 1797, "new": 1790}, "size": {"base": 251580, "new": 250320},
                                   "files": [{"path": "data/raw/0/new_0.png", "change": "added"},
                                             {"path": "data/raw/3/0091.png", "change": "deleted"},
                                             {"path": "data/raw/3/0231.png", "change": "deleted"},
                                             {"path": "data/raw/3/0301.png", "change": "deleted"}]}
    kinds = [plot["kind"] for plot in document["plots"]]
    assert kinds == ["curve", "curve", "confusion", "table", "image", "image", "image"]
    assert document["plots"][0]["series"][1]["points"][0] == [1.0, 1.122519]
    assert document["plots"][2]["matrices"]["new"] == [[2, 0, 0], [0, 2, 0], [0, 1, 2]]
    assert document["plots"][3]["rows"]["base"]["0"]["precision"] == 0.972973
    assert document["plots"][4] == {"kind": "image", "name": "plots/confusion_matrix.png",
                                    "revisions": ["workspace", "develop"]}
    assert document["links"] == {"workflow_run": "https://ci/1"}
    assert document["base"] == {"rev": "develop", "commit": "b" * 40} and document["commit"] == "a" * 40
    json.dumps(document, allow_nan=False)
    other = report._plot_json(records.OtherPlot("x", "X"))
    assert other == {"kind": "other", "name": "x", "title": "X"}


# --- parallel experiments ---------------------------------------------------------------------

def experiment(name: str, lr: str, **metrics: float) -> Experiment:
    return Experiment(name, {"train.lr": lr},
                             {("metrics.json", metric): value for metric, value in metrics.items()}, f"run-{name}")


def test_experiments_table_beside_the_prs_own_training():
    item = canned_report(metrics=METRICS_DIFF_MIXED,
                         experiments=(experiment("fast", "0.05", accuracy=0.99, val_loss=0.7, extra=1.0),
                                      experiment("slow", "0.001", accuracy=0.95, val_loss=0.4)))
    markdown, dropped = report_render.render(item)
    assert dropped == []
    block = markdown[markdown.index("### Experiments"):]
    assert "| Run | Params set | accuracy | val\\_loss ↓ |" in block
    assert "| **this PR** | its own params | 0.9800 | 0.5000 |" in block
    assert "| fast | `train.lr=0.05` | **0.9900** | 0.7000 |" in block
    assert "| slow | `train.lr=0.001` | 0.9500 | **0.4000** |" in block
    assert "1 more metric(s) in the JSON report" in block
    assert table_problems(markdown) == []
    document = report.to_json(item)
    assert document["experiments"][0] == {
        "name": "fast", "params": {"train.lr": "0.05"}, "run_id": "run-fast",
        "metrics": [{"path": "metrics.json", "name": "accuracy", "value": 0.99},
                    {"path": "metrics.json", "name": "val_loss", "value": 0.7},
                    {"path": "metrics.json", "name": "extra", "value": 1.0}]}
    informational = report_markdown.experiments_block(replace_config(item, informational=("accuracy",)))
    assert "| Run | Params set | accuracy ℹ️ | val\\_loss ↓ |" in informational
    assert "| fast | `train.lr=0.05` | 0.9900 | 0.7000 |" in informational   # no best of an informational value
    short = report_markdown.experiments_block(item, full=False)
    assert short == "### Experiments\n\n_2 experiment(s) ran: compared in the JSON report._\n"
    assert report_markdown.experiments_block(canned_report()) == ""


# --- the edges: dvc, MLflow ---------------------------------------------------------------------

def test_dvc_command_falls_back_to_the_module(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert proc.dvc_command() == [sys.executable, "-m", "dvc"]
    monkeypatch.setattr(proc, "find_spec", lambda name: None)
    with pytest.raises(MlopsCiError, match="dvc is not installed"):
        proc.dvc_command()


@pytest.mark.usefixtures("venv_path")
def test_run_dvc_failures(tmp_path, monkeypatch):
    with pytest.raises(MlopsCiError, match="dvc metrics diff failed: [^E]"):
        proc.run_dvc(tmp_path, "metrics", "diff", "HEAD")
    fake = tmp_path / "fake-dvc"
    fake.write_text("#!/bin/sh\necho 'WARNING: something failed' >&2\necho not-json\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(proc, "dvc_command", lambda: [str(fake)])
    with pytest.raises(MlopsCiError, match="dvc plots diff failed: WARNING: something failed"):
        proc.run_dvc(tmp_path, "plots", "diff")
    fake.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    with pytest.raises(MlopsCiError, match="dvc diff HEAD failed: exit code 3"):
        proc.run_dvc(tmp_path, "diff", "HEAD")
    monkeypatch.setattr(proc, "dvc_command", lambda: [str(tmp_path / "missing")])
    with pytest.raises(MlopsCiError, match="cannot run dvc"):
        proc.run_dvc(tmp_path, "diff", "HEAD")
    fake.write_text("#!/bin/sh\nsleep 5\n", encoding="utf-8")
    monkeypatch.setattr(proc, "dvc_command", lambda: [str(fake)])
    monkeypatch.setattr(proc, "DVC_TIMEOUT", 0.1)
    with pytest.raises(MlopsCiError, match="took longer than"):
        proc.run_dvc(tmp_path, "diff", "HEAD")


def test_mlflow_not_asked_without_uri_or_model():
    assert sources.fetch_mlflow(None, "m", "champion", None)[0].message == "MLFLOW_TRACKING_URI is not set"
    assert sources.fetch_mlflow("http://x", None, "champion", None)[0].message == "no --model given"


def test_mlflow_unreachable_degrades(monkeypatch, unused_port):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    champion_, experiment, warnings = sources.fetch_mlflow(f"http://127.0.0.1:{unused_port}", "m", "champion", "r1")
    assert champion_.status == "unavailable" and experiment is None
    assert warnings and warnings[0].startswith("champion m@champion: MLflow unavailable: ")


def test_mlflow_package_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    champion_, _, warnings = sources.fetch_mlflow("http://x", "m", "champion", None)
    assert champion_.status == "unavailable" and "not installed" in warnings[0]


@pytest.fixture(name="unused_port")
def fixture_unused_port() -> int:
    import socket   # pylint: disable=import-outside-toplevel
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- end to end on the example project ----------------------------------------------------------

@pytest.mark.usefixtures("venv_path")
def test_report_end_to_end(project, tmp_path, monkeypatch, capsys):
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    out, data = tmp_path / "out" / "report.md", tmp_path / "report.json"
    code = main(["report", "--base", "develop", "--repo", str(project), "--out", str(out), "--json", str(data),
                 "--run-url", "https://github.com/acme/digits/actions/runs/7",
                 "--artifacts-url", "https://github.com/acme/digits/actions/runs/7#artifacts"])
    stdout = capsys.readouterr().out
    assert code == 0
    markdown = out.read_text(encoding="utf-8")
    assert "report: " in stdout and f"characters in {out}" in stdout
    assert re.search(r"^\| accuracy \| 0\.\d{4} \| 0\.\d{4} \| [▲▼=]", markdown, re.MULTILINE)
    assert "| `train.lr` | `0.01` | `0.02` |" in markdown
    assert "| `data/raw` (data) | 1 added, 8 deleted · 1,797 → 1,790 files, " in markdown
    assert markdown.count("```mermaid\n") == 2 and "xychart-beta" in markdown
    assert "#### Confusion matrix (test set)" in markdown and "#### Per-class F1 (test set)" in markdown
    assert "[workflow run](https://github.com/acme/digits/actions/runs/7)" in markdown
    head = git(project, "rev-parse", "HEAD")
    assert f"commit {head} · base develop ({git(project, 'rev-parse', 'develop')})" in markdown
    assert table_problems(markdown) == []
    document = json.loads(data.read_text(encoding="utf-8"))
    accuracy = next(row for row in document["metrics"] if row["name"] == "accuracy")
    assert all(isinstance(accuracy[key], float) for key in ("base", "new", "change"))
    assert accuracy["champion"] is None and document["verdict"]["champion"]["result"] == "n/a"
    assert document["params"] == [{"path": "params.yaml", "name": "train.lr", "base": 0.01, "new": 0.02}]
    assert {plot["kind"] for plot in document["plots"]} == {"curve", "confusion", "table", "image"}
    assert summary.read_text(encoding="utf-8").strip() == markdown.strip()
    assert "verdict<<" in outputs.read_text(encoding="utf-8")
    assert not (project / "dvc_plots").exists()
    print(markdown)


@pytest.mark.usefixtures("venv_path")
def test_report_with_mlflow_down(project, unused_port, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{unused_port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    code = main(["report", "--base", "develop", "--repo", str(project), "--model", "digits"])
    captured = capsys.readouterr()
    assert code == 0
    assert "⚠️ Champion **unavailable** (MLflow could not be reached)" in captured.out
    assert "warning: champion digits@champion: MLflow unavailable:" in captured.err


@pytest.mark.usefixtures("venv_path")
def test_bad_base_rev_is_one_line(project, capsys):
    code = main(["report", "--base", "no-such-branch", "--repo", str(project)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "base revision 'no-such-branch' not found" in err


@pytest.mark.usefixtures("venv_path")
def test_not_a_dvc_repository(tmp_path, capsys):
    assert main(["report", "--base", "main", "--repo", str(tmp_path)]) == 2
    assert "not a DVC repository" in capsys.readouterr().err
    assert main(["report", "--base", "main", "--repo", str(tmp_path / "missing")]) == 2
    assert "no such directory" in capsys.readouterr().err


@pytest.mark.usefixtures("venv_path")
def test_a_failing_dvc_command_is_reported(tmp_path, capsys):
    repo = tmp_path / "broken"
    repo.mkdir()
    git(repo, "init", "--quiet")
    run_in_venv(repo, "dvc", "init", "--quiet")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "x")
    # Committed: `dvc diff` reads the two revisions, not the workspace.
    (repo / "dvc.yaml").write_text("stages: [oops\n", encoding="utf-8")
    git(repo, "add", "dvc.yaml")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "broken")
    assert main(["report", "--base", "HEAD~1", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "dvc diff HEAD~1 failed: './dvc.yaml' is invalid" in err and "(Expected ',' or ']'" in err


@pytest.mark.usefixtures("venv_path")
def test_unwritable_output(project, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "collect_dvc", lambda repo, base: (canned_dvc(), []))
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["report", "--base", "develop", "--repo", str(project), "--out", str(blocker / "x.md")]) == 2


# --- the Data section on small DVC repositories: two revisions, with and without the cache -------

def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")


@pytest.fixture(name="data_repo", scope="module")
def fixture_data_repo(tmp_path_factory) -> Path:
    """main: data/raw (4 files), data/keep (2), data/one.txt tracked by .dvc files, a stage copying
    data/raw to out/. Branch change: in data/raw one file modified, one deleted, one added;
    data/one.txt removed, data/extra (2 files) added, data/keep untouched; reproduced. Branch param:
    params.yaml only. Everything committed, so the cache holds every revision's data."""
    repo = tmp_path_factory.mktemp("data") / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.com")
    run_in_venv(repo, "dvc", "init", "--quiet")
    _write(repo, {**{f"data/raw/f{index}.txt": f"{index}\n" for index in range(1, 5)},
                  "data/keep/a.txt": "a\n", "data/keep/b.txt": "b\n", "data/one.txt": "one\n",
                  "params.yaml": "lr: 1\n",
                  "dvc.yaml": "stages:\n  copy:\n    cmd: rm -rf out && cp -r data/raw out\n    deps: [data/raw]\n"
                              "    params: [lr]\n    outs: [out]\n"})
    run_in_venv(repo, "dvc", "add", "--quiet", "data/raw", "data/keep", "data/one.txt")
    run_in_venv(repo, "dvc", "repro", "--quiet")
    commit_all(repo, "base")
    git(repo, "checkout", "--quiet", "-b", "change")
    _write(repo, {"data/raw/f1.txt": "changed\n", "data/raw/f5.txt": "new\n", "data/extra/x.txt": "x\n",
                  "data/extra/y.txt": "y\n"})
    (repo / "data" / "raw" / "f2.txt").unlink()
    run_in_venv(repo, "dvc", "remove", "--quiet", "data/one.txt.dvc")
    run_in_venv(repo, "dvc", "add", "--quiet", "data/raw", "data/extra")
    run_in_venv(repo, "dvc", "repro", "--quiet")
    commit_all(repo, "change data")
    git(repo, "checkout", "--quiet", "-b", "param", "main")
    run_in_venv(repo, "dvc", "checkout", "--quiet")
    _write(repo, {"params.yaml": "lr: 2\n"})
    commit_all(repo, "change a param")
    git(repo, "checkout", "--quiet", "change")
    run_in_venv(repo, "dvc", "checkout", "--quiet")
    return repo


def _clone(repo: Path, target: Path, branch: str, cache: str = "none") -> Path:
    """A clone on `branch` with base `origin/main`, like a hosted runner's checkout: no DVC cache, or
    (`cache`) a copy of the full cache, or of it without the base revision's directory listings."""
    git(target.parent, "clone", "--quiet", "--branch", branch, str(repo), target.name)
    if cache != "none":
        shutil.copytree(repo / ".dvc" / "cache", target / ".dvc" / "cache")
    if cache == "without-base-listings":
        for name in report_data.read_tracked(target, "origin/main"):
            md5 = report_data.read_tracked(target, "origin/main")[name]["md5"]
            if md5.endswith(".dir"):
                (target / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).unlink(missing_ok=True)
    return target


def _data(repo: Path, base: str = "origin/main") -> dict[str, report_data.DataGroup]:
    outputs, _ = sources.collect_dvc(repo, base)
    return {group.path: group for group in report_data.parse_data_diff(outputs["data"], outputs["outs"])}


@pytest.mark.usefixtures("venv_path")
def test_data_with_the_cache_lists_files_and_says_so(data_repo, tmp_path):
    groups = _data(_clone(data_repo, tmp_path / "clone", "change", cache="full"))
    assert {path: (group.source, group.status) for path, group in groups.items()} == {
        "data/raw": ("data", "modified"), "data/extra": ("data", "added"), "data/one.txt": ("data", "deleted"),
        "out": ("output", "modified")}
    assert groups["data/raw"].files == (("modified", "data/raw/f1.txt"), ("deleted", "data/raw/f2.txt"),
                                        ("added", "data/raw/f5.txt"))
    assert groups["data/raw"].nfiles == (4, 4) and groups["data/extra"].nfiles == (None, 2)
    markdown = report_markdown.data_block(records.Report("main", (), records.Verdict("n/a"), records.Verdict("n/a"),
                                                      records.Champion("n/a"), ReportConfig(), data=tuple(groups.values())))
    assert "Files under <code>data/raw</code>: 3 changed (listed from the DVC cache)" in markdown


@pytest.mark.usefixtures("venv_path")
@pytest.mark.parametrize("cache", ["none", "without-base-listings"])
def test_data_without_the_cache_comes_from_the_two_revisions(data_repo, tmp_path, capsys, cache):
    clone = _clone(data_repo, tmp_path / "clone", "change", cache=cache)
    groups = _data(clone)
    # With the head's listings cached, the added directory's files are known (no base listing needed).
    extra = () if cache == "none" else (("added", "data/extra/x.txt"), ("added", "data/extra/y.txt"))
    assert {path: (group.status, group.files, group.nfiles) for path, group in groups.items()} == {
        "data/raw": ("modified", (), (4, 4)), "data/extra": ("added", extra, (None, 2)),
        "data/one.txt": ("deleted", (), (None, None)), "out": ("modified", (), (4, 4))}
    assert main(["report", "--base", "origin/main", "--repo", str(clone)]) == 0
    markdown = capsys.readouterr().out
    assert "| `data/raw` (data) | modified · 4 files, 8 B → 16 B |" in markdown
    assert f"| `data/extra` (data) | {'2 added' if extra else 'added'} · 2 files, 4 B |" in markdown
    assert "| `data/one.txt` (data) | deleted · 4 B |" in markdown
    assert "data/keep" not in markdown and "<details><summary>Files under <code>data/raw" not in markdown
    assert "listed only where the DVC cache here holds the revisions' directory listings" in markdown


@pytest.mark.usefixtures("venv_path")
def test_a_param_only_pr_shows_no_data_and_the_trained_lock_only_as_outputs(data_repo, tmp_path, capsys):
    clone = _clone(data_repo, tmp_path / "clone", "param")
    assert main(["report", "--base", "origin/main", "--repo", str(clone)]) == 0
    assert "### Data" not in capsys.readouterr().out
    # The train job's dvc.lock (outputs retrained) in the workspace, as the report job has it.
    lock = (clone / "dvc.lock").read_text(encoding="utf-8")
    old = report_data.read_tracked(clone, "HEAD")["out"]["md5"]
    (clone / "dvc.lock").write_text(lock.replace(old, "0123456789abcdef0123456789abcdef.dir"), encoding="utf-8")
    state = git(clone, "status", "--porcelain"), git(clone, "show-ref"), git(clone, "rev-parse", "HEAD")
    assert main(["report", "--base", "origin/main", "--repo", str(clone)]) == 0
    markdown = capsys.readouterr().out
    assert "| `out` | modified · 4 files, 8 B |" in markdown
    assert "(data)" not in markdown and "deleted" not in markdown
    assert (git(clone, "status", "--porcelain"), git(clone, "show-ref"), git(clone, "rev-parse", "HEAD")) == state


def _report_vs_dvc():
    spec = importlib.util.spec_from_file_location("report_vs_dvc", ROOT / "tools" / "report_vs_dvc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.usefixtures("venv_path")
def test_report_vs_dvc_counts_disagreements(data_repo, monkeypatch, capsys):
    tool = _report_vs_dvc()
    assert tool.main([str(data_repo), "main..change", "main..param"]) == 0
    out = capsys.readouterr().out
    assert "  data   data/one.txt: report deleted | dvc deleted" in out
    assert "  param  params.yaml:lr: report 1 -> 2 | dvc 1 -> 2" in out
    assert out.endswith("total: 0 disagreement(s) in 2 pair(s)\n")
    monkeypatch.setattr(tool, "report_data_rows", lambda groups: {"data/keep": "deleted"})
    assert tool.main([str(data_repo), "main..change", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "! data   data/keep: report deleted | dvc -" in out and "  param" not in out
    assert out.endswith("total: 5 disagreement(s) in 1 pair(s)\n")
    assert tool.main([str(data_repo), "main"]) == 2
    assert tool.main([str(data_repo), "main..nope"]) == 2
    assert capsys.readouterr().err.count("error: ") == 2
