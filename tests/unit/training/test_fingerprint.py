"""mlops_ci.fingerprint: what changes a pipeline's fingerprint and what does not."""

from __future__ import annotations

import textwrap

import pytest

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.training.fingerprint import NotFingerprintable, fingerprint

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
    return fingerprint(files["dvc.yaml"], files.get, objects.get)


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
    fingerprint(DVC_YAML, lambda path: asked.append(path) or FILES.get(path), OBJECTS.get)
    assert not any(path.startswith("data/processed") for path in asked)


def test_a_tracked_folder_inside_a_subfolder():
    dvc_yaml = "stages:\n  s:\n    cmd: c\n    deps: [data/images/cats]\n"
    files = {"data/images.dvc": "outs:\n- md5: x1.dir\n  path: images\n"}
    first = fingerprint(dvc_yaml, files.get, {}.get)
    files["data/images.dvc"] = files["data/images.dvc"].replace("x1", "x2")
    assert fingerprint(dvc_yaml, files.get, {}.get) != first


@pytest.mark.parametrize("stage", [
    "foreach: [a, b]\n    do:\n      cmd: echo ${item}",
    "cmd: python train.py --lr ${train.lr}",
    "cmd: python train.py\n    wdir: sub",
])
def test_what_it_cannot_follow_is_refused(stage):
    with pytest.raises(NotFingerprintable):
        fingerprint(f"stages:\n  s:\n    {stage}\n", {}.get, {}.get)


def test_malformed_dvc_yaml():
    with pytest.raises(MlopsCiError, match="malformed dvc.yaml"):
        fingerprint("stages: [", {}.get, {}.get)


def test_a_plain_pipelines_fingerprint_is_pinned():
    # Registered versions carry this value as a tag: reading dvc.yaml another way must not change it
    # (computed before templated pipelines were fingerprinted), or every project trains once again.
    assert digest() == "ef5288c7b5c12f7bd4d968b0f2cb14f74b711f58e54986ece8f6c0ca848a0bc7"
