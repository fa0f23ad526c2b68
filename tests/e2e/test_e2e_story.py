"""End to end, the whole story on a freshly scaffolded project with a model of its own (issue 15).

`mlops-ci init` makes the project; a random forest on scikit-learn's wine data replaces the
scaffold's model (nested params, metrics in two files, a confusion-matrix plot: the files under
tests/projects/wine-forest/, copied over the scaffold as a team would edit it); develop and main are
seeded as init prints. Then, through `mlops-ci local pr ...` only, as docs/users/tutorial.md tells:
a feature PR into develop that changes a param (trains, comments), a docs-only PR (no training),
both merged, the release PR develop -> main (reuses the version, no training), merged: the push to
main makes the version trained for the feature PR the champion. Each step's wall time is printed
(never asserted on)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from mlops_ci.core.proc import git
from testing.story import PROJECTS, Story, shell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NAME = "wine-forest"
FEATURE = "feature/PROJ-1-more-trees"
DOCS = "feature/PROJ-2-readme"


def make_wine_project(work: Path) -> Path:
    """`mlops-ci init` a project, swap in the wine random forest, connect a git origin and a DVC
    remote (folders here), and seed develop and main with the steps init prints."""
    printed = shell(f"python -m mlops_ci init {NAME} --org acme --ref v1", work)
    seed_steps = [line.strip() for line in printed.splitlines() if line.startswith("  ")]
    assert seed_steps, printed
    project = work / NAME
    shutil.copytree(PROJECTS / NAME, project, dirs_exist_ok=True)
    shell("git switch --quiet develop && git add --all"
          " && git commit --quiet -m 'PROJ-0: a random forest on the wine data'", project)
    shell(f"git init --quiet --bare {work / 'origin.git'} && git remote add origin {work / 'origin.git'}"
          f" && dvc remote add -d storage {work / 'dvc-remote'}", project)
    shell("\n".join(seed_steps), project)
    assert not git(project, "status", "--porcelain"), "the seeded project has nothing left to commit"
    assert git(project, "rev-parse", "main") == git(project, "rev-parse", "develop")
    return project


def test_the_whole_story_on_a_scaffolded_project_with_its_own_model(tmp_path, monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "GITHUB_API_URL", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # `local pr` starts and uses its own stand-ins
    started = time.monotonic()
    project = make_wine_project(tmp_path)
    story = Story(project, tmp_path / "runs")
    story.times["init, swap in the model, seed develop and main"] = time.monotonic() - started

    # 1. A feature PR into develop that changes a nested param: it trains, and the comment reports
    # the metrics of both files and the param change.
    shell(f"git switch --quiet -c {FEATURE} develop && sed -i 's/n_estimators: 30/n_estimators: 60/' params.yaml"
          " && git commit --quiet -am 'PROJ-1: more trees'", project)
    printed = story.pr("PR #1 opened (feature -> develop, trains)", "open", "--head", FEATURE, "--base", "develop",
                       "--title", "'PROJ-1: more trees'")
    assert f"PR #1: {FEATURE} -> develop" in printed
    jobs = story.jobs()
    assert {name: jobs[name]["result"] for name in ("branch-policy", "lint-test", "plan", "train", "report")} \
        == dict.fromkeys(("branch-policy", "lint-test", "plan", "train", "report"), "success"), jobs
    assert "param changed: train.forest.n_estimators" in jobs["plan"]["summary"]
    [comment] = story.github().comments_on(1)
    assert "## 📊 Model report" in comment.body and comment.body.strip() in printed
    for name in ("accuracy", "f1_macro", "fit_time_seconds", "n_trees"):  # eval/metrics.json, eval/timing.json
        assert name.replace("_", "\\_") in comment.body, name  # Markdown-escaped in the table
    assert "`train.forest.n_estimators` | `30` | `60`" in comment.body
    # The lint-test job's figures, passed on by the caller template (code-quality input).
    assert "### Code quality" in comment.body and "| pylint score, whole code (/10) |" in comment.body
    [trained] = story.registry().search_model_versions(f"name = '{NAME}'")
    assert trained.tags["mlops_ci.pr"] == "1"

    # 2. A docs-only PR into develop: checked, never trained, no version, no report.
    shell(f"git switch --quiet -c {DOCS} develop && echo 'How to run the wine model.' >> README.md"
          " && git commit --quiet -am 'PROJ-2: document the model'", project)
    printed = story.pr("PR #2 opened (docs only, no training)", "open", "--head", DOCS, "--base", "develop",
                       "--title", "'PROJ-2: document the model'")
    assert f"PR #2: {DOCS} -> develop" in printed
    jobs = story.jobs()
    assert jobs["plan"]["result"] == "success" and "skipped" in jobs["plan"]["summary"], jobs["plan"]
    assert jobs.get("train", {}).get("result", "skipped") == "skipped", jobs
    assert [version.version for version in story.registry().search_model_versions(f"name = '{NAME}'")] \
        == [trained.version]
    assert not story.github().comments_on(2)

    # 3. Both approved and merged into develop.
    for number in (1, 2):
        story.pr(f"PR #{number} approved", "approve", str(number))
        story.pr(f"PR #{number} merged into develop", "merge", str(number))
    assert all(story.github().pull(number).merged_at for number in (1, 2))
    # Promotion is for pushes to main only (the promote template's `branches:`), whatever act does.
    assert not story.registry().get_registered_model(NAME).aliases, "promoted on a merge into develop"

    # 4. The release PR develop -> main: the pipeline PR 1 trained, so its version is reused.
    printed = story.pr("PR #3 opened (release develop -> main, reuses)", "open", "--head", "develop",
                       "--base", "main", "--title", "'Release PROJ-1, PROJ-2'")
    assert "PR #3: develop -> main" in printed
    jobs = story.jobs()
    assert jobs.get("train", {}).get("result", "skipped") == "skipped" and jobs["report"]["result"] == "success"
    assert "already trained" in jobs["plan"]["summary"], jobs["plan"]["summary"]
    [release] = story.github().comments_on(3)
    assert "train.forest.n_estimators" in release.body and trained.run_id in release.body

    # 5. Merged: the push to main promotes the version reviewed in PRs 1 and 3.
    story.pr("PR #3 approved", "approve", "3")
    printed = story.pr("PR #3 merged into main (promotes)", "merge", "3")
    assert story.jobs()["promote"]["result"] == "success", story.jobs()
    assert "mlops-ci promotion: ✅ promoted" in printed
    client = story.registry()
    champion = client.get_model_version_by_alias(NAME, "champion")
    assert champion.version == trained.version and champion.tags["mlops_ci.pr.3"] == "true"
    assert len(client.search_model_versions(f"name = '{NAME}'")) == 1, "one version for one model"
    assert git(project, "log", "-1", "--format=%s", "main").startswith("Merge pull request #3")

    assert "## 📊 Model report" in story.pr("PR #1 shown", "show", "1")

    print("\n| step | wall time |\n|---|---|")
    print("\n".join(f"| {title} | {seconds:.1f} s |" for title, seconds in story.times.items()))
