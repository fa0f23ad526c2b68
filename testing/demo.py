"""The demo (`python -m testing.demo`, run by `dev/demo.sh`): the whole PR → merge → promote story,
played locally on the bundled example.

It makes a scratch project repository from the example and our caller templates, gives it a DVC
remote, and plays the story with the very commands a user types: `mlops-ci local pr open` for a
feature PR into develop, for a PR that breaks the branch policy and for a develop PR into main, then
`local pr approve` and `local pr merge` (the merge into main is pushed and promotes). Each run starts
the project's local GitHub, and an MLflow server when a job needs one, and stops them after. It ends
with a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlops_ci import cli
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.local import pulls
from mlops_ci.project.templates import default_source
from mlops_ci.clients.mlflow import Registry
from mlops_ci.registry.tags import PR_TAG
from testing import project

SLUG = "acme/digits"
FEATURE = "feature/PROJ-101-tune-learning-rate"
# A dead MLflow server fails a step in seconds instead of minutes of client retries.
RUN_OPTIONS = ("--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=2", "--env", "MLFLOW_HTTP_REQUEST_TIMEOUT=20")


@dataclass
class Outcome:
    """One played step: what ran, what we expected, what happened."""

    title: str
    expected: int
    code: int
    seconds: float
    jobs: list[dict] = field(default_factory=list)

    @property
    def as_expected(self) -> bool:
        """The step ended the way the story says it should (a refusal can be the point)."""
        return self.code == self.expected


class Story:
    """The scratch repository and the outcomes so far."""

    def __init__(self, out: Path, repo: Path) -> None:
        self.out = out
        self.repo = repo
        self.folder = repo / pulls.FOLDER
        self.outcomes: list[Outcome] = []

    def step(self, title: str, expected: int, *local_args: str) -> Outcome:
        """Run `mlops-ci local ARGS --repo PROJECT`, as the user would, and record how it went."""
        print(f"\n=== {title}\n$ mlops-ci local {' '.join(local_args)}", flush=True)
        runs = self.folder / "runs"
        before = set(runs.glob("*"))
        started = time.monotonic()
        code = cli.main(["local", *local_args, "--repo", str(self.repo)])
        seconds = time.monotonic() - started
        jobs = [job for run in sorted(set(runs.glob("*")) - before) if (run / "result.json").exists()
                for job in json.loads((run / "result.json").read_text(encoding="utf-8"))["jobs"]]
        outcome = Outcome(title, expected, code, seconds, jobs)
        self.outcomes.append(outcome)
        return outcome

    def open_pr(self, title: str, expected: int, head: str, base: str, pr_title: str, *options: str) -> None:
        """`mlops-ci local pr open`: the developer opens a PR, and its workflows run."""
        body = self.out / "pr-body.md"
        body.write_text("Changes the learning rate; see the work item in the title.", encoding="utf-8")
        self.step(title, expected, "pr", "open", "--head", head, "--base", base, "--title", pr_title,
                  "--body-file", str(body), *options, *RUN_OPTIONS)


def play(story: Story) -> None:
    """The story, step by step. Each later feature adds what it shows to these steps."""
    params = story.repo / "params.yaml"
    tuned = params.read_text(encoding="utf-8").replace("lr: 0.01", "lr: 0.02")
    project.commit_change(story.repo, FEATURE, "params.yaml", tuned,
                          "PROJ-101: raise the learning rate", start="develop")
    story.open_pr("Feature PR into develop", EXIT_OK, FEATURE, "develop", "PROJ-101: tune the learning rate")
    # Only its policy job runs: the refusal is the point, and lint-test would pass as in step 1.
    story.open_pr("The same branch straight into main (the policy must refuse it)", EXIT_REFUSED,
                  FEATURE, "main", "PROJ-101: tune the learning rate", "--job", "policy")
    story.step("A reviewer approves PR 1", EXIT_OK, "pr", "approve", "1")
    story.step("PR 1 merged into develop (no workflow runs on a push to develop)", EXIT_OK,
               "pr", "merge", "1", *RUN_OPTIONS)
    # The release PR's pipeline is the one PR 1 trained: its version is reused, nothing trains.
    story.open_pr("Release PR: develop into main", EXIT_OK, "develop", "main", "Release PROJ-101")
    story.step("A reviewer approves PR 3", EXIT_OK, "pr", "approve", "3")
    story.step("PR 3 merged and pushed to main: the version reviewed in PRs 1 and 3 is promoted to champion",
               EXIT_OK, "pr", "merge", "3", *RUN_OPTIONS)


def registered_versions(mlflow_uri: str) -> list[tuple[str, str, str, list[str], list[str]]]:
    """(model, version, the PR that trained it, the PRs it was trained or reused for, aliases) of every
    registered model version, oldest first."""
    rows = []
    with Registry(mlflow_uri, action="the demo's summary") as registry:
        for model in registry.models():
            aliases: dict[str, list[str]] = {}
            for alias, version in model.aliases.items():
                aliases.setdefault(str(version), []).append(alias)
            for version in registry.versions(model.name):
                tags = version.tags or {}
                reviewed = sorted((tag.removeprefix(f"{PR_TAG}.") for tag in tags
                                   if tag.startswith(f"{PR_TAG}.")), key=lambda pr: (len(pr), pr))
                rows.append((model.name, str(version.version), tags.get(PR_TAG, ""), reviewed,
                             aliases.get(str(version.version), [])))
    return rows


def summary(story: Story) -> str:
    """The closing summary (Markdown): each step and job with its result and time, where to look."""
    lines = ["# mlops-ci demo", "", "| step | job | result | time |", "|---|---|---|---|"]
    for outcome in story.outcomes:
        mark = "as expected" if outcome.as_expected else f"UNEXPECTED (exit {outcome.code})"
        lines.append(f"| {outcome.title} | | {mark} | {outcome.seconds:.1f} s |")
        lines += [f"| | `{job['name']}` | {job['result']} | {job['seconds']:.1f} s |" for job in outcome.jobs]
    remote = pulls.load_state(story.folder).repo(SLUG)
    comments = story.out / "comments"
    comments.mkdir(exist_ok=True)
    lines += ["", "## The reviewer's PR comments", ""]
    for number in remote.pulls:
        for comment in remote.comments_on(number):
            path = comments / f"pr-{number}-comment-{comment.id}.md"
            path.write_text(comment.body, encoding="utf-8")
            lines.append(f"- PR #{number}: `{path}`")
    if not any(remote.comments_on(number) for number in remote.pulls):
        lines.append("- none")
    versions = registered_versions(f"sqlite:///{story.folder / 'mlflow' / 'mlflow.db'}")
    champions = [f"**`models:/{name}@champion`** is version {version} (trained for PR #{pr}, reviewed in "
                 f"{', '.join(f'#{number}' for number in reviewed)})"
                 for name, version, pr, reviewed, aliases in versions if "champion" in aliases]
    lines += ["", "## Model registry", "", *(champions or ["No champion: nothing was promoted."]), "",
              "| model | version | trained for PR | reviewed in PRs | aliases |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {version} | #{pr} | {', '.join(f'#{number}' for number in reviewed)} | "
              f"{', '.join(aliases) or '-'} |" for name, version, pr, reviewed, aliases in versions]
    lines += ["", f"- project repository: `{story.repo}`",
              f"- its local GitHub state (PRs, reviews, comments): `{story.folder / pulls.STATE_FILE}`",
              f"- its MLflow data (a server ran during each run that needed it): `{story.folder / 'mlflow'}`",
              f"- runs (logs, job summaries, artifacts, comments): `{story.folder / 'runs'}`"]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Play the story into `args.out`."""
    source = default_source()
    if source is None:
        raise MlopsCiError("the demo needs an mlops-ci checkout installed with `pip install -e`")
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("GITHUB_API_URL", "MLFLOW_TRACKING_URI"):
        os.environ.pop(name, None)  # the story uses the project's local GitHub and MLflow, nothing else
    repo = project.make_project_repo(out / "project", source, slug=SLUG)
    print("=== Preparing the project: data in the DVC remote, develop trained once", flush=True)
    project.seed_dvc_remote(repo, out / "dvc-remote")
    story = Story(out, repo)
    play(story)
    text = summary(story)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"summary: {out / 'summary.md'}")
    return EXIT_OK if all(outcome.as_expected for outcome in story.outcomes) else EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    """`python -m testing.demo [--out DIR]`: an error is one line and its exit code, as in the CLI."""
    parser = argparse.ArgumentParser(prog="python -m testing.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".work/demo", help="folder for everything the demo makes "
                                                            "(emptied first; default: .work/demo)")
    try:
        return run(parser.parse_args(argv))
    except MlopsCiError as error:
        gha.report("error", str(error))
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
