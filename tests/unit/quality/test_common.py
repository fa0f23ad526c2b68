"""What `mlops-ci lint` and `mlops-ci test` share: annotation paths and the annotation cap."""

from __future__ import annotations

from mlops_ci.quality import common
from testing.quality import isolated_folder  # pylint: disable=unused-import  # autouse fixture


def test_display_path_is_relative_to_the_workspace(tmp_path, monkeypatch):
    project = tmp_path / "repo" / "examples" / "proj"
    project.mkdir(parents=True)
    monkeypatch.chdir(project)
    assert common.display_path("src/a.py") == "src/a.py"
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "repo"))
    assert common.display_path("src/a.py") == "examples/proj/src/a.py"
    assert common.display_path(str(project / "t.py")) == "examples/proj/t.py"
    assert common.display_path("/elsewhere/x.py") == "/elsewhere/x.py"


def test_annotations_are_capped_inside_actions(capsys, monkeypatch):
    items = [("warning", f"finding {number}", "a.py", number, "t") for number in range(1, 61)]
    common.annotate(items, "findings")
    assert len(capsys.readouterr().err.splitlines()) == 60  # a terminal gets them all
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    common.annotate(items, "findings")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == common.MAX_ANNOTATIONS + 1
    assert lines[-1] == "::notice::10 more findings not annotated: see the job summary"
