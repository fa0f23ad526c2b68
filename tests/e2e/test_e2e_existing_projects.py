"""End to end, "Use it in an existing project" (docs/users/existing-project.md) on three DVC projects
of our own in the shapes of public ones (issue 23): the walkthrough's commands, read from that page
and run line by line, with nothing else of ours in the project. Before the walkthrough, each project
is as a team has it: committed on main, a git origin and a DVC remote (folders here), trained once
with its dvc.lock committed and its outputs pushed. Each step's wall time is printed (never
asserted on)."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_ci.core.proc import git
from testing.story import PROJECTS, Story, shell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WALKTHROUGH = Path(__file__).resolve().parents[2] / "docs" / "users" / "existing-project.md"
CHANGE_A_PARAM = "# change a param"


@dataclass(frozen=True)
class Project:
    """One project's part of the story: its param change and what its report must show."""

    name: str
    change: str                    # the shell command that changes one param
    param: str                     # that param, as the report names it
    metrics: tuple[str, ...]       # metric names of its own, as the report's table shows them


CASES = [
    Project("dvclive-eval", "sed -i 's/epochs: 8/epochs: 10/' params.yaml", "train.epochs",
            ("avg\\_prec", "roc\\_auc", "accuracy")),
    Project("vision-segments", "sed -i 's/epochs: 25/epochs: 30/' params.yaml", "train.epochs",
            ("accuracy", "loss")),
    Project("plain-metrics", "sed -i 's/n_estimators: 40/n_estimators: 60/' config/model.yaml",
            "model.n_estimators", ("rmse", "mae", "r2")),
]


def walkthrough_commands() -> list[str]:
    """The command lines of the page's walkthrough block, comments kept (the marker line is one)."""
    text = WALKTHROUGH.read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:.*?-->\n```bash\n(.*?)```", text, re.S)
    assert block, f"{WALKTHROUGH}: no walkthrough block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def existing_repository(work: Path, name: str) -> Path:
    """The project as its team has it before mlops-ci: committed on main, an origin and a DVC remote,
    trained once, dvc.lock committed and the outputs pushed."""
    project = work / name
    shutil.copytree(PROJECTS / name, project)
    shell("git init --quiet --initial-branch=main && dvc init --quiet && git add --all"
          " && git commit --quiet -m 'The project as the team keeps it'", project)
    shell(f"git init --quiet --bare {work / 'origin.git'} && git remote add origin {work / 'origin.git'}"
          f" && dvc remote add -d storage {work / 'dvc-remote'}"
          " && dvc repro --quiet && dvc push --quiet && git add --all"
          " && git commit --quiet -m 'Train once, the outputs pushed' && git push --quiet -u origin main",
          project)
    assert not git(project, "status", "--porcelain")
    return project


def play(story: Story, project: Project) -> dict[str, str]:
    """Each walkthrough line in the project, the project's param change after the marker comment;
    the output of each command line by the line. `local pr open|merge` keep their results under the
    story's out folder (numbered by step)."""
    printed = {}
    for line in walkthrough_commands():
        command = line.split("  #", 1)[0].strip()
        if command.startswith("#"):
            if command.startswith(CHANGE_A_PARAM):
                story.step(f"change {project.param}", project.change)
            continue
        words = command.split()
        keep = f" --out {story.out / f'{len(story.times) + 1:02d}'}" \
            if words[:3] == ["mlops-ci", "local", "pr"] and words[3] in ("open", "merge") else ""
        printed[command] = story.step(command, command + keep)
    return printed


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_walkthrough_on_a_project_no_file_of_ours_was_in(case, tmp_path, monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "GITHUB_API_URL", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # `local pr` starts and uses its own stand-ins
    started = time.monotonic()
    project = existing_repository(tmp_path, case.name)
    before = set(git(project, "ls-files").splitlines())
    story = Story(project, tmp_path / "runs")
    story.times["the team's repository: committed, trained once, pushed"] = time.monotonic() - started

    printed = play(story, case)

    [init] = [output for command, output in printed.items() if command.startswith("mlops-ci init")
              and "--dry-run" not in command]
    written = set(re.findall(r"^(?:created|merged) +(\S+)", init, re.MULTILINE))
    assert ".github/mlops-ci.yml" in written and ".github/workflows/mlops-ci-pull-request.yml" in written
    assert not (set(re.findall(r"^\S+ +(\S+)", init, re.MULTILINE)) & {"src", "tests", "requirements.txt"})
    # No file of ours but what init wrote: main, after the release, holds the team's files and those.
    assert set(git(project, "ls-tree", "-r", "--name-only", "main").splitlines()) - before == written
    assert "ok   model:" in printed["mlops-ci doctor"], printed["mlops-ci doctor"]

    [comment] = story.github().comments_on(1)
    assert "## 📊 Model report" in comment.body
    assert f"`{case.param}`" in comment.body, comment.body
    for name in case.metrics:
        assert name in comment.body, (name, comment.body)
    model = re.search(r"^  name: (\S+)", (project / ".github" / "mlops-ci.yml").read_text(encoding="utf-8"),
                      re.MULTILINE).group(1)
    client = story.registry()
    [trained] = client.search_model_versions(f"name = '{model}'")
    assert trained.tags["mlops_ci.pr"] == "1"
    champion = client.get_model_version_by_alias(model, "champion")
    assert champion.version == trained.version and champion.tags["mlops_ci.pr.2"] == "true"
    assert "mlops-ci promotion: ✅ promoted" in printed["mlops-ci local pr merge 2"]

    print(f"\n{case.name}\n| step | wall time |\n|---|---|")
    print("\n".join(f"| {title} | {seconds:.1f} s |" for title, seconds in story.times.items()))
