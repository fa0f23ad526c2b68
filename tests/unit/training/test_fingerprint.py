"""mlops_ci.fingerprint: what changes a pipeline's fingerprint and what does not."""

from __future__ import annotations

import textwrap

import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.training.fingerprint import fingerprint
from testing.pipeline import resolved_stages as resolved

DVC_YAML = textwrap.dedent("""\
    stages:
      prepare:
        cmd: python prepare.py
        deps: [prepare.py, data/raw/]
        params: [seed, prepare]
        outs: [data/processed]
      train:
        cmd: python train.py
        deps: [train.py, data/processed, data/processed/extra]
        params:
          - train.lr
          - other.yaml:
              - depth
          - whole.yaml:
        outs: [model.txt]
        metrics: [{metrics.json: {cache: true}}]
""")
FILES = {
    "dvc.yaml": DVC_YAML,
    "params.yaml": "seed: 1\nprepare: {size: 8}\ntrain: {lr: 0.01, epochs: 3}\nunused: 5\n",
    "other.yaml": "depth: 2\nwidth: 9\n",
    "whole.yaml": "a: 1\n",
    "data/raw.dvc": "outs:\n- md5: aaa.dir\n  size: 10\n  path: raw\n",
}
OBJECTS = {"prepare.py": "blob-prepare-1", "train.py": "blob-train-1", "README.md": "blob-readme-1"}


def digest(files: dict[str, str] | None = None, objects: dict[str, str] | None = None) -> str:
    files, objects = {**FILES, **(files or {})}, {**OBJECTS, **(objects or {})}
    return fingerprint(resolved(files["dvc.yaml"]), files.get, objects.get)


def test_same_inputs_same_fingerprint():
    assert digest() == digest()
    assert len(digest()) == 64


@pytest.mark.parametrize("change", [
    {"files": {"params.yaml": FILES["params.yaml"].replace("unused: 5", "unused: 6")}},
    {"files": {"params.yaml": FILES["params.yaml"].replace("epochs: 3", "epochs: 4")}},  # train.lr only
    {"files": {"other.yaml": "depth: 2\nwidth: 10\n"}},
    {"objects": {"README.md": "blob-readme-2"}},
    {"files": {"dvc.yaml": "# a comment\n" + DVC_YAML}},
    {"files": {"dvc.lock": "anything"}},
], ids=["unused-param", "undeclared-key", "undeclared-key-other-file", "readme", "dvc-yaml-comment", "lock"])
def test_what_no_stage_uses_leaves_it_alone(change):
    assert digest(**change) == digest()


@pytest.mark.parametrize("change", [
    {"objects": {"train.py": "blob-train-2"}},
    {"files": {"dvc.yaml": DVC_YAML.replace("python train.py", "python train.py --fast")}},
    {"files": {"data/raw.dvc": FILES["data/raw.dvc"].replace("aaa.dir", "bbb.dir")}},
    {"files": {"params.yaml": FILES["params.yaml"].replace("lr: 0.01", "lr: 0.02")}},
    {"files": {"params.yaml": FILES["params.yaml"].replace("size: 8", "size: 9")}},
    {"files": {"other.yaml": "depth: 3\nwidth: 9\n"}},
    {"files": {"whole.yaml": "a: 1\nb: 2\n"}},
    {"objects": {"prepare.py": ""}},
], ids=["dep", "cmd", "data", "param", "param-section", "param-other-file", "whole-params-file", "dep-gone"])
def test_what_a_stage_uses_changes_it(change):
    assert digest(**change) != digest()


def test_outputs_of_other_stages_are_covered_by_their_inputs():
    # data/processed (and anything under it) comes from prepare: git and DVC are never asked about it.
    asked = []
    fingerprint(resolved(DVC_YAML), lambda path: asked.append(path) or FILES.get(path), OBJECTS.get)
    assert not any(path.startswith("data/processed") for path in asked)


def test_a_tracked_folder_inside_a_subfolder():
    dvc_yaml = "stages:\n  s:\n    cmd: c\n    deps: [data/images/cats]\n"
    files = {"data/images.dvc": "outs:\n- md5: x1.dir\n  path: images\n"}
    first = fingerprint(resolved(dvc_yaml), files.get, {}.get)
    files["data/images.dvc"] = files["data/images.dvc"].replace("x1", "x2")
    assert fingerprint(resolved(dvc_yaml), files.get, {}.get) != first


TEMPLATED = textwrap.dedent("""\
    vars:
      - data_dir: data
      - splits: [train, test]
    stages:
      train:
        cmd: python train.py --lr ${train.lr} ${data_dir}/train.csv
        deps: [train.py, "${data_dir}/train.csv"]
        outs: [model.txt]
      evaluate:
        foreach: ${splits}
        do:
          cmd: python evaluate.py ${item}
          deps: [model.txt, "${data_dir}/${item}.csv", evaluate.py]
          params:
            - evaluate.${item}
          metrics: ["metrics/${item}.json"]
""")
TEMPLATED_PARAMS = "train: {lr: 0.01}\nevaluate: {train: {n: 1}, test: {n: 2}}\n"


def templated_digest(dvc_yaml: str = TEMPLATED, params: str = TEMPLATED_PARAMS,
                     objects: dict[str, str] | None = None) -> str:
    objects = {"train.py": "t1", "evaluate.py": "e1", "data/train.csv": "c1", "data/test.csv": "c2",
               **(objects or {})}
    return fingerprint(resolved(dvc_yaml, params), {"params.yaml": params}.get, objects.get)


def test_templated_stages_are_fingerprinted_as_dvc_resolves_them():
    assert templated_digest() == templated_digest()
    asked = []
    fingerprint(resolved(TEMPLATED, TEMPLATED_PARAMS), {}.get, lambda path: asked.append(path))
    # ${data_dir} resolved; model.txt is an output of train, so it is covered by train's inputs.
    assert sorted(asked) == ["data/test.csv", "data/train.csv", "data/train.csv", "evaluate.py", "evaluate.py",
                             "train.py"]


@pytest.mark.parametrize("change", [
    {"params": TEMPLATED_PARAMS.replace("n: 2", "n: 3")},                      # a param of evaluate@test
    {"params": TEMPLATED_PARAMS.replace("lr: 0.01", "lr: 0.02")},               # a vars value in a cmd
    {"dvc_yaml": TEMPLATED.replace("data_dir: data", "data_dir: data2")},       # a vars value in paths
    {"dvc_yaml": TEMPLATED.replace("[train, test]", "[train, test, extra]")},   # a new foreach item
    {"objects": {"data/test.csv": "c3"}},                                       # a templated dep
], ids=["foreach-param", "vars-in-cmd", "vars-in-paths", "foreach-item", "templated-dep"])
def test_what_a_templated_stage_uses_changes_it(change):
    assert templated_digest(**change) != templated_digest()


def test_an_unused_param_of_a_templated_pipeline_leaves_it_alone():
    assert templated_digest(params=TEMPLATED_PARAMS + "unused: 1\n") == templated_digest()


def test_a_stage_wdir_makes_its_paths_relative_to_it():
    dvc_yaml = "stages:\n  s:\n    cmd: c\n    wdir: sub\n    deps: [code.py]\n    params: [lr]\n"
    objects, files = {"sub/code.py": "x1"}, {"sub/params.yaml": "lr: 1\n"}
    first = fingerprint(resolved(dvc_yaml), files.get, objects.get)
    assert fingerprint(resolved(dvc_yaml), files.get, {"sub/code.py": "x2"}.get) != first
    assert fingerprint(resolved(dvc_yaml), {"sub/params.yaml": "lr: 2\n"}.get, objects.get) != first


def test_malformed_dvc_yaml():
    with pytest.raises(MlopsCiError, match="cannot read"):
        resolved("stages: [")


def test_a_plain_pipelines_fingerprint_is_pinned():
    # Registered versions carry this value as a tag: reading dvc.yaml another way must not change it
    # (computed before templated pipelines were fingerprinted), or every project trains once again.
    assert digest() == "ef5288c7b5c12f7bd4d968b0f2cb14f74b711f58e54986ece8f6c0ca848a0bc7"
