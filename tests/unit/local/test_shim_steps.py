"""mlops_ci.local.shim_steps: what the checkout and artifact shims do on the host."""

from __future__ import annotations

import pytest

from mlops_ci.local import shim_steps
from mlops_ci.core.proc import git


@pytest.fixture(name="workspace")
def fixture_workspace(tmp_path, monkeypatch):
    workspace = tmp_path / "ws"
    (workspace / "plots").mkdir(parents=True)
    (workspace / "plots" / "a.png").write_bytes(b"png")
    (workspace / "plots" / "skip.tmp").write_text("x")
    (workspace / "metrics.json").write_text("{}")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.setenv("MLOPS_CI_LOCAL_ARTIFACTS", str(tmp_path / "store"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "outputs"))
    return workspace


def test_upload_then_download_round_trip(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("NAME", "report")
    monkeypatch.setenv("PATHS", "plots\nmetrics.json\n!plots/*.tmp\n")
    assert shim_steps.main(["upload"]) == 0
    store = tmp_path / "store" / "report"
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()) == [
        "metrics.json", "plots/a.png"]
    assert "artifact-url<<" in (tmp_path / "outputs").read_text()
    monkeypatch.setenv("DESTINATION", "restored")
    assert shim_steps.main(["download"]) == 0
    assert (workspace / "restored" / "plots" / "a.png").read_bytes() == b"png"


def test_a_folder_alone_is_the_artifact_root(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("NAME", "outputs")
    monkeypatch.setenv("PATHS", "plots/")
    assert shim_steps.main(["upload"]) == 0
    assert (tmp_path / "store" / "outputs" / "a.png").is_file()
    assert shim_steps.artifact_root("plots/*.png", workspace) == (workspace / "plots").resolve()
    assert shim_steps.artifact_root("metrics.json", workspace) == workspace.resolve()


@pytest.mark.parametrize(("level", "code", "shown"), [("warn", 0, "::warning::"), ("error", 1, "::error::"),
                                                      ("ignore", 0, "")])
def test_upload_with_no_files(workspace, monkeypatch, capsys, level, code, shown):
    del workspace
    monkeypatch.setenv("PATHS", "nothing-here/*")
    monkeypatch.setenv("IF_NO_FILES_FOUND", level)
    assert shim_steps.main(["upload"]) == code
    assert shown in capsys.readouterr().out


def test_download_of_a_missing_artifact_fails(workspace, monkeypatch, capsys):
    del workspace
    monkeypatch.setenv("NAME", "never-uploaded")
    assert shim_steps.main(["download"]) == 1
    assert "not found" in capsys.readouterr().out


def test_store_must_be_set(workspace, monkeypatch):
    del workspace
    monkeypatch.delenv("MLOPS_CI_LOCAL_ARTIFACTS")
    monkeypatch.setenv("PATHS", "metrics.json")
    with pytest.raises(SystemExit, match="runs under mlops-ci local"):
        shim_steps.main(["upload"])


def test_checkout_copies_the_clone_and_checks_out_the_ref(project_repo, tmp_path, monkeypatch):
    workspace = tmp_path / "fresh-workspace"
    workspace.mkdir()
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.setenv("MLOPS_CI_LOCAL_REPO", str(project_repo))
    monkeypatch.setenv("REF", "develop")
    assert shim_steps.main(["checkout"]) == 0
    assert (workspace / "params.yaml").is_file()
    assert git(workspace, "rev-parse", "HEAD") == git(project_repo, "rev-parse", "develop")


def test_usage(capsys):
    assert shim_steps.main(["bogus"]) == 2
    assert "usage" in capsys.readouterr().err


@pytest.mark.parametrize(("merge", "expected"), [("true", ["a.json", "b.json"]),
                                                 ("false", ["experiment-0/a.json", "experiment-1/b.json"])])
def test_download_by_pattern(workspace, tmp_path, monkeypatch, merge, expected):
    for index, name in enumerate(("a", "b")):
        (tmp_path / "store" / f"experiment-{index}").mkdir(parents=True)
        (tmp_path / "store" / f"experiment-{index}" / f"{name}.json").write_text("{}")
    (tmp_path / "store" / "train-outputs").mkdir()
    monkeypatch.setenv("PATTERN", "experiment-*")
    monkeypatch.setenv("MERGE_MULTIPLE", merge)
    monkeypatch.setenv("DESTINATION", "found")
    assert shim_steps.main(["download"]) == 0
    found = workspace / "found"
    assert sorted(p.relative_to(found).as_posix() for p in found.rglob("*") if p.is_file()) == expected


def test_a_pattern_matching_nothing_downloads_nothing(workspace, monkeypatch, capsys):
    monkeypatch.setenv("PATTERN", "experiment-*")
    assert shim_steps.main(["download"]) == 0
    assert "0 artifact(s)" in capsys.readouterr().out
    assert not (workspace / "found").exists()


@pytest.fixture(name="tool")
def fixture_tool(tmp_path, monkeypatch):
    """A `dvc` on PATH that says it is 3.48.4."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "dvc").write_text("#!/bin/sh\necho 3.48.4\n")
    (tools / "dvc").chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.setenv("TOOL", "dvc")
    return tools


@pytest.mark.parametrize(("wanted", "warned"), [("latest", False), ("3.48", False), ("v3.48.4", False),
                                                ("3.4", True), ("2", True)])
@pytest.mark.usefixtures("tool")
def test_host_tool_uses_the_host_s_version_and_warns_on_another(monkeypatch, capsys, wanted, warned):
    monkeypatch.setenv("VERSION", wanted)
    assert shim_steps.main(["host-tool"]) == 0
    out = capsys.readouterr().out
    assert "the host's dvc 3.48.4" in out
    assert ("::warning::the host's dvc is 3.48.4, the workflow asks for" in out) == warned, out


@pytest.mark.usefixtures("tool")
def test_host_tool_fails_without_the_tool(monkeypatch, capsys):
    monkeypatch.setenv("TOOL", "cml")
    assert shim_steps.main(["host-tool"]) == 1
    assert "::error::cml is not installed on this machine" in capsys.readouterr().out
