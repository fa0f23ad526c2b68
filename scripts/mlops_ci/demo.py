"""`mlops-ci demo`: the whole PR → merge → promote story, played locally on the bundled example.

It starts the embedded stack (an MLflow server with sqlite on 127.0.0.1 and the GitHub API stand-in),
makes a scratch project repository from the example and our caller templates, and plays the story
through `mlops-ci local`: a feature PR into develop, a PR that breaks the branch policy, a develop PR
into main, and the merge pushed to main. It ends with a summary and stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_ci import cli
from mlops_ci.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.local.command import default_source
from mlops_ci.local.git import git
from mlops_ci.registry import PR_TAG
from mlops_ci.sandbox import project
from mlops_ci.sandbox.github_state import GitHubState
from mlops_ci.sandbox.services import mlflow_server

if TYPE_CHECKING:
    from mlops_ci.sandbox.github import GitHubStandIn

SLUG = "acme/digits"
TOKEN = "demo-token"
FEATURE = "feature/PROJ-101-tune-learning-rate"


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
    """The scratch repository, the stack it talks to, and the outcomes so far."""

    def __init__(self, out: Path, repo: Path, github: "GitHubStandIn", mlflow_url: str) -> None:
        self.out = out
        self.repo = repo
        self.github = github
        self.mlflow_url = mlflow_url
        self.outcomes: list[Outcome] = []

    def open_pr(self, head: str, base: str, title: str, body: str) -> int:
        """Open a PR in the stand-in, as the developer would on GitHub; its number."""
        remote = self.github.state.repo(SLUG)
        for branch in (head, base):
            remote.add_branch(branch, git(self.repo, "rev-parse", branch))
        return remote.add_pull(head, base, title=title, body=body, user="data-scientist").number

    def merge_pr(self, number: int) -> str:
        """Merge a PR with a merge commit, locally and in the stand-in; the merge commit."""
        pull = self.github.state.repo(SLUG).pull(number)
        sha = project.merge(self.repo, pull.head_ref, pull.base_ref, f"Merge pull request #{number}")
        self.github.state.repo(SLUG).merge_pull(number, sha)
        return sha

    def run(self, title: str, expected: int, *local_args: str) -> Outcome:
        """Run `mlops-ci local ...` for one step and record how it went."""
        print(f"\n=== {title}", flush=True)
        out = self.out / "runs" / f"{len(self.outcomes) + 1:02d}"
        started = time.monotonic()
        code = cli.main(["local", *local_args, "--repo", str(self.repo), "--repository", SLUG,
                         "--out", str(out), "--github-api-url", self.github.url,
                         "--var", f"MLFLOW_TRACKING_URI={self.mlflow_url}", "--secret", "GITHUB_TOKEN",
                         "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=2",
                         "--env", "MLFLOW_HTTP_REQUEST_TIMEOUT=20"])
        result = out / "result.json"
        jobs = json.loads(result.read_text(encoding="utf-8"))["jobs"] if result.exists() else []
        outcome = Outcome(title, expected, code, time.monotonic() - started, jobs)
        self.outcomes.append(outcome)
        return outcome

    def pull_request(self, title: str, expected: int, head: str, base: str, pr_title: str,
                     *local_args: str) -> Outcome:
        """Open a PR and run the pull_request workflows for it (`local_args`: e.g. one job only)."""
        body = "Changes the learning rate; see the work item in the title."
        number = self.open_pr(head, base, pr_title, body)
        body_file = self.out / f"pr-{number}.md"
        body_file.write_text(body, encoding="utf-8")
        return self.run(title, expected, "pull_request", "--head", head, "--base", base,
                        "--pr-number", str(number), "--title", pr_title, "--body-file", str(body_file),
                        *local_args)


def play(story: Story) -> None:
    """The story, step by step. Each later feature adds what it shows to these steps."""
    params = story.repo / "params.yaml"
    tuned = params.read_text(encoding="utf-8").replace("lr: 0.01", "lr: 0.02")
    project.commit_change(story.repo, FEATURE, "params.yaml", tuned,
                          "PROJ-101: raise the learning rate", start="develop")
    story.pull_request("Feature PR into develop", EXIT_OK, FEATURE, "develop",
                       "PROJ-101: tune the learning rate")
    # Only its policy job runs: the refusal is the point, and lint-test would pass as in step 1.
    story.pull_request("The same branch straight into main (the policy must refuse it)", EXIT_REFUSED,
                       FEATURE, "main", "PROJ-101: tune the learning rate", "--job", "policy")
    story.merge_pr(1)
    # The release PR's pipeline is the one PR 1 trained: its version is reused, nothing trains.
    story.pull_request("Release PR: develop into main", EXIT_OK, "develop", "main", "Release PROJ-101")
    story.merge_pr(3)
    story.run("Merge pushed to main: the version reviewed in PRs 1 and 3 is promoted to champion", EXIT_OK,
              "push", "--branch", "main")


def registered_versions(mlflow_url: str) -> list[tuple[str, str, str, list[str], list[str]]]:
    """(model, version, the PR that trained it, the PRs it was trained or reused for, aliases) of every
    registered model version, oldest first."""
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel  # ~1 s import

    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    rows = []
    for model in client.search_registered_models():
        aliases: dict[str, list[str]] = {}
        for alias, version in model.aliases.items():
            aliases.setdefault(str(version), []).append(alias)
        for version in sorted(client.search_model_versions(f"name = '{model.name}'"),
                              key=lambda v: int(v.version)):
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
    remote = story.github.state.repo(SLUG)
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
    versions = registered_versions(story.mlflow_url)
    champions = [f"**`models:/{name}@champion`** is version {version} (trained for PR #{pr}, reviewed in "
                 f"{', '.join(f'#{number}' for number in reviewed)})"
                 for name, version, pr, reviewed, aliases in versions if "champion" in aliases]
    lines += ["", "## Model registry", "", *(champions or ["No champion: nothing was promoted."]), "",
              "| model | version | trained for PR | reviewed in PRs | aliases |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {version} | #{pr} | {', '.join(f'#{number}' for number in reviewed)} | "
              f"{', '.join(aliases) or '-'} |" for name, version, pr, reviewed, aliases in versions]
    lines += ["", f"- project repository: `{story.repo}`",
              f"- GitHub stand-in state (PRs, comments): `{story.out / 'github-state.json'}`",
              f"- MLflow server (stopped now; its database stays): `{story.out / 'mlflow'}`",
              f"- runs (logs, job summaries, artifacts): `{story.out / 'runs'}`"]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci demo`."""
    source = default_source()
    if source is None:
        raise MlopsCiError("the demo needs an mlops-ci checkout installed with `pip install -e`")
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # The stand-in needs the `sandbox` extra (pytest-httpserver): imported here so that every other
    # command works from a plain `pip install mlops-ci`.
    from mlops_ci.sandbox.github import GitHubStandIn  # pylint: disable=import-outside-toplevel

    state = GitHubState()
    state.add_repo(SLUG, branches=["develop"])
    os.environ["GITHUB_TOKEN"] = TOKEN  # handed to the runs as a secret, never on a command line
    with ExitStack() as stack:
        server = stack.enter_context(mlflow_server(out / "mlflow"))
        github = stack.enter_context(GitHubStandIn(state, token=TOKEN, state_file=out / "github-state.json"))
        repo = project.make_project_repo(out / "project", source, slug=SLUG)
        print("=== Preparing the project: data in the DVC remote, develop trained once", flush=True)
        project.seed_dvc_remote(repo, out / "dvc-remote")
        story = Story(out, repo, github, server.url)
        play(story)
        text = summary(story)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"summary: {out / 'summary.md'}")
    return EXIT_OK if all(outcome.as_expected for outcome in story.outcomes) else EXIT_REFUSED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci demo` to the CLI."""
    parser = subparsers.add_parser("demo", help="play the PR → merge → promote story locally on the example",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".work/demo", help="folder for everything the demo makes "
                                                            "(emptied first; default: .work/demo)")
    parser.set_defaults(handler=run)
