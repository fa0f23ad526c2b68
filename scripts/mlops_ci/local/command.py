"""`mlops-ci local EVENT`: run a project repo's workflows here, as GitHub would for that event.

The run happens in a clean clone of the repository at the event's commit, through the real workflow
and action YAML of the mlops-ci checkout given by --source (this one by default), with act in host
mode and no network: mlops-ci references map to the checkout, third-party actions to shims. A
project's workflow that needs an action with no shim here is skipped, one line each; ours never are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlops_ci.core import proc
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.local import act, console, envs, events, pulls, refs, stack, triggers
from mlops_ci.project.templates import default_source
from mlops_ci.registry import seal
from mlops_ci.local.github.state import Comment, GitHubState, PullRequest, Repository

EVENTS = ("pull_request", "push", "schedule", "workflow_dispatch")


def _pairs(values: list[str], option: str, *, from_env: bool = False) -> dict[str, str]:
    """NAME=VALUE options as a dict; with `from_env`, a bare NAME takes its value from the environment."""
    pairs = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep:
            if not from_env or name not in os.environ:
                raise MlopsCiError(f"{option} {value!r}: expected NAME=VALUE"
                                   + (" or the name of a set environment variable" if from_env else ""))
            text = os.environ[name]
        if not name.isidentifier():
            raise MlopsCiError(f"{option} {value!r}: {name!r} is not a valid name")
        pairs[name] = text
    return pairs


def build_event(args: argparse.Namespace, repo: Path, slug: str,
                body: str = "") -> tuple[dict[str, Any], str, str]:
    """The event payload, plus the branch and commit the run checks out."""
    if args.event == "pull_request":
        if not args.head or not args.base:
            raise MlopsCiError("pull_request needs --head BRANCH and --base BRANCH")
        head_sha, base_sha = proc.rev_parse(repo, args.head), proc.rev_parse(repo, args.base)
        payload = events.pull_request_event(
            slug=slug, number=args.pr_number or 1, head=args.head, head_sha=head_sha, base=args.base,
            base_sha=base_sha, title=args.title or f"Merge {args.head} into {args.base}", body=body,
            action=args.action, author_association=args.author_association, fork_owner=args.fork_owner,
            fork_deleted=args.fork_deleted)
        return payload, args.head, head_sha
    branch = args.branch or proc.current_branch(repo)
    sha = proc.rev_parse(repo, branch)
    if args.event == "push":
        parent = proc.git(repo, "rev-list", "--max-count=1", "--skip=1", sha) or "0" * 40
        payload = events.push_event(slug=slug, branch=branch, before=parent,
                                    head_commit=proc.commit_info(repo, sha))
    elif args.event == "schedule":
        payload = events.schedule_event(slug=slug, cron=args.cron)
    else:
        payload = events.workflow_dispatch_event(slug=slug, branch=branch,
                                                 inputs=_pairs(args.input, "--input"))
    return payload, branch, sha


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot read: {error.strerror}", where=path) from error


def _write_results(out: Path, jobs: dict[str, act.JobResult], event_name: str, returncode: int) -> Path:
    summaries = out / "summaries"
    summaries.mkdir(exist_ok=True)
    for job in jobs.values():
        if job.summary:
            (summaries / (job.name.replace("/", "__") + ".md")).write_text(job.summary, encoding="utf-8")
    result_path = out / "result.json"
    result_path.write_text(json.dumps({
        "event": event_name, "act_exit_code": returncode,
        "jobs": [{"name": job.name, "result": job.result, "seconds": round(job.seconds, 3),
                  "errors": job.errors, "summary": job.summary} for job in jobs.values()],
    }, indent=2) + "\n", encoding="utf-8")
    return result_path


@dataclass
class Project:
    """The repository a command works on, its `owner/name` and its work folder (`<repo>/.mlops-ci`)."""

    repo: Path
    slug: str
    folder: Path


@dataclass
class LocalGitHub:
    """The project's GitHub state and its repository, served to a run by the local GitHub."""

    state: GitHubState
    remote: Repository


def open_project(args: argparse.Namespace) -> Project:
    """The project of `--repo` (a git repository); its slug from --repository, origin or its name."""
    repo = Path(args.repo).resolve()
    if not (repo / ".git").exists():
        raise MlopsCiError("not a git repository", where=str(repo))
    slug = args.repository or proc.repository_slug(repo) or f"local/{repo.name}"
    return Project(repo, slug, pulls.work_folder(repo))


def local_github(project: Project) -> LocalGitHub:
    """The project's GitHub state, its branches where the user's repository has them now."""
    state = pulls.load_state(project.folder)
    return LocalGitHub(state, pulls.synced_repo(state, project.slug, pulls.branch_heads(project.repo)))


def _checked_source(args: argparse.Namespace) -> Path:
    source = Path(args.source).resolve() if args.source else default_source()
    if source is None or not (source / ".github" / "workflows").is_dir():
        raise MlopsCiError("no mlops-ci source tree: pass --source DIR (a checkout of mlops-ci)")
    if source != default_source():
        # Steps run this environment's mlops-ci: it must be the code of the workflows under test.
        raise MlopsCiError(f"the running mlops-ci is not installed from {source}: "
                           f"run `pip install -e {source}` first", where="--source")
    return source


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci local EVENT`: against --github-api-url when given, else the local GitHub."""
    project = open_project(args)
    if args.github_api_url:
        body = _read_text(args.body_file) if args.body_file else ""
        return execute(args, project, build_event(args, project.repo, project.slug, body), args.event)
    github = local_github(project)
    if args.event != "pull_request":
        return execute(args, project, build_event(args, project.repo, project.slug), args.event, github)
    if not args.head or not args.base:
        raise MlopsCiError("pull_request needs --head BRANCH and --base BRANCH")
    title, body = _new_pull_text(args, project)
    pull = pulls.record_pull(github.remote, args.head, args.base, number=args.pr_number, title=title,
                             body=body)
    return run_pull(args, project, github, pull, args.action)


def _new_pull_text(args: argparse.Namespace, project: Project) -> tuple[str, str]:
    """Title and body of a PR about to be recorded (--title, else the head's last commit subject;
    --body-file), once --head and --base are known to exist."""
    for branch in (args.head, args.base):
        proc.rev_parse(project.repo, branch)
    body = _read_text(args.body_file) if args.body_file else ""
    return args.title or pulls.default_title(project.repo, args.head), body


def run_pull(args: argparse.Namespace, project: Project, github: LocalGitHub, pull: PullRequest,
             action: str) -> int:
    """Run the pull_request workflows for a PR of the local GitHub (`action`: opened, synchronize...)."""
    print(f"PR #{pull.number}: {pull.head_ref} -> {pull.base_ref}", flush=True)
    args.event, args.head, args.base, args.pr_number, args.title, args.action = (
        "pull_request", pull.head_ref, pull.base_ref, pull.number, pull.title, action)
    event = build_event(args, project.repo, project.slug, pull.body or "")
    return execute(args, project, event, f"pr-{pull.number}-{action}", github)


def execute(args: argparse.Namespace, project: Project, event: tuple[dict[str, Any], str, str], what: str,
            github: LocalGitHub | None = None) -> int:
    """Run the event's workflows; with `github`, the local GitHub serves them (and MLflow is started
    when a workflow to run reads vars.MLFLOW_TRACKING_URI and none is given) and its state (a PR just
    opened, the branches) is saved once the run is sure to start: a refusal records nothing. Prints
    the results and the comments the run posted; the run's exit code."""
    payload, branch, sha = event
    out = Path(args.out).resolve() if args.out else pulls.next_run_folder(project.folder, what)
    new_out = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=out))
    before = pulls.comment_snapshot(github.remote) if github else {}
    target = args.base if args.event == "pull_request" else branch
    try:
        try:
            workdir, caller_files, mapping = _prepare(args, project, (branch, sha), work,
                                                      (target, payload.get("action")))
        except MlopsCiError:
            if new_out and not args.keep_workdir:
                shutil.rmtree(out, ignore_errors=True)  # nothing ran: no run folder either
            raise
        if github is not None:
            pulls.save_state(project.folder, github.state)
        if not caller_files:
            print(f"no workflow runs on {args.event} to {target} here: nothing to do")
            return EXIT_OK
        with _given(args, project, github, caller_files) as given:
            returncode, jobs = _run_act(args, payload, workdir, mapping, work, out, given)
    finally:
        if not args.keep_workdir:
            shutil.rmtree(work, ignore_errors=True)

    if not jobs:
        if returncode != 0 and "Could not find any stages to run" not in (out / "act.jsonl").read_text():
            raise MlopsCiError(f"act failed before running a job (exit {returncode}); log: {out / 'act.jsonl'}")
        print(f"no workflow runs on {args.event} here: nothing to do")
        return EXIT_OK
    result_path = _write_results(out, jobs, args.event, returncode)
    print(console.results_table(jobs))
    print(f"results: {result_path}")
    if github is not None:
        _print_comments(pulls.new_comments(github.remote, before), out / "comments")
    return EXIT_REFUSED if act.failed(returncode, jobs) else EXIT_OK


def _prepare(args: argparse.Namespace, project: Project, commit: tuple[str, str], work: Path,
             trigger: tuple[str, str | None]) -> tuple[Path, list[Path], dict[str, Path]]:
    """The folder the run works in (a clean clone at `commit`, branch and SHA, unless --in-place), the
    workflow files the event (`trigger`: the branch it filters on, the PR's action) starts that can run
    offline, and act's `--local-repository` mapping onto a snapshot of the mlops-ci source."""
    source = _checked_source(args)
    if args.in_place:
        workdir = project.repo
    else:
        workdir = work / project.repo.name
        proc.clone_at(project.repo, workdir, *commit, project.slug)
    workflows = workdir / (args.workflow or ".github/workflows")
    caller_files = [workflows] if workflows.is_file() else refs.workflow_files(workflows)
    if not caller_files:
        raise MlopsCiError("no workflow files", where=str(workflows))
    started, also_run = _started(args, caller_files, *trigger)
    runnable = _offline(args, workdir, started + also_run)
    # act copies a local repository whole for every action it loads: give it only the files git
    # would track (uncommitted edits included, a virtual environment left out).
    snapshot = proc.copy_visible_files(source, work / "mlops-ci")
    needed = [path for workflow in runnable for path in refs.needed_files(workflow, workdir)]
    mapping = refs.local_repository_map(needed + refs.source_files(snapshot), snapshot, args.source_repo,
                                        _steps_path())
    return workdir, [path for path in started if path in runnable], mapping


def _started(args: argparse.Namespace, caller_files: list[Path], branch: str,
             action: str | None) -> tuple[list[Path], list[Path]]:
    """(the workflow files the event starts on GitHub, those act runs besides). act applies no
    `branches` or `types` filter: in the run's clone, the files that name the event but would not
    start are removed before act runs; --in-place, act runs them too."""
    started, left_out = triggers.sort_out(caller_files, args.event, branch, action)
    for path in left_out:
        if args.in_place:
            print(f"--in-place: act runs {path.name} too, which GitHub would not start here", file=sys.stderr)
        else:
            path.unlink()
    return started, left_out if args.in_place else []


def _offline(args: argparse.Namespace, workdir: Path, workflows: list[Path]) -> list[Path]:
    """The workflows act can run offline. The others are removed from the run's clone, one line each
    (an error when the user named the workflow, or --in-place, where act would run it anyway)."""
    runnable, skipped = refs.sort_offline(workflows, workdir, args.source_repo, _steps_path())
    for path, missing in skipped.items():
        name = path.relative_to(workdir)
        if args.workflow or args.in_place:
            raise MlopsCiError(f"can't run offline: {refs.described(missing)}"
                               + ("; without --in-place the workflow is skipped" if args.in_place else ""),
                               where=str(name))
        path.unlink()
        print(f"skipped {name}: can't run offline: {refs.described(missing)}", flush=True)
    return runnable


def _steps_path() -> str:
    """The PATH the steps run with: this environment's `python` and `mlops-ci` (and its tools) first."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _print_comments(comments: list[Comment], folder: Path) -> None:
    for comment, path in zip(comments, pulls.write_comments(comments, folder)):
        print(f"\n--- comment on #{comment.issue_number} by {comment.user} ({path}) ---")
        print(comment.body.rstrip())


@contextmanager
def _given(args: argparse.Namespace, project: Project, github: LocalGitHub | None,
           caller_files: list[Path]) -> Iterator[Given]:
    """What the run gets from the local GitHub and MLflow, started here and stopped on exit."""
    with ExitStack() as services:
        given = Given(api_url=args.github_api_url or "")
        if github is not None:
            named = {secret.partition("=")[0] for secret in args.secret}
            if "GITHUB_TOKEN" in named:
                print("note: --secret GITHUB_TOKEN is not used: the local GitHub gives the run a token of "
                      "its own (name a GitHub with --github-api-url to use yours)", flush=True)
            given.api_url, given.secrets["GITHUB_TOKEN"] = services.enter_context(
                stack.local_github(project.folder, github.state))
            if seal.KEY_VARIABLE not in named:
                given.secrets[seal.KEY_VARIABLE] = stack.decision_key(project.folder)
            if (not args.mlflow_tracking_uri and stack.MLFLOW_VARIABLE not in _pairs(args.var, "--var")
                    and stack.wants_mlflow(caller_files, args.job)):
                given.variables[stack.MLFLOW_VARIABLE] = services.enter_context(
                    stack.local_mlflow(project.folder))
        yield given


@dataclass
class Given:
    """What a run is given on top of the command's options: by the local GitHub and MLflow."""

    api_url: str
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)


def _run_act(  # pylint: disable=too-many-arguments,too-many-positional-arguments  # the run's parts
        args: argparse.Namespace, payload: dict[str, Any], workdir: Path, mapping: dict[str, Path],
        work: Path, out: Path, given: Given) -> tuple[int, dict[str, act.JobResult]]:
    files = {name: work / name for name in ("event.json", "secrets", "vars", "env", "cache")}
    files["event.json"].write_text(json.dumps(payload, indent=2), encoding="utf-8")
    artifacts = out / "artifacts"
    artifacts.mkdir(exist_ok=True)
    # MLOPS_CI_PREINSTALLED: actions/setup-mlops-ci skips its install, the runner's environment
    # already holds this very source (checked in run()). MLOPS_CI_ENV_CACHE: where actions/setup-env
    # keeps the venvs it installs requirements into (mlops_ci.local.envs), RUN_DIR_VARIABLE where it
    # installs requirements given by path for this run only (`work` is removed afterwards).
    step_env = {"MLOPS_CI_LOCAL": "true", "MLOPS_CI_PREINSTALLED": "true", "MLOPS_CI_LOCAL_REPO": str(workdir),
                envs.CACHE_VARIABLE: str(Path(args.env_cache).resolve()), envs.RUN_DIR_VARIABLE: str(work),
                "MLOPS_CI_LOCAL_ARTIFACTS": str(artifacts), "GITHUB_API_URL": given.api_url}
    if args.mlflow_tracking_uri:
        step_env["MLFLOW_TRACKING_URI"] = args.mlflow_tracking_uri
    step_env.update(_pairs(args.env, "--env"))
    for name, values in (("secrets", {**_pairs(args.secret, "--secret", from_env=True), **given.secrets}),
                         ("vars", {**_pairs(args.var, "--var"), **given.variables}), ("env", step_env)):
        files[name].write_text(act.dotenv(values), encoding="utf-8")
        files[name].chmod(0o600)
    command = act.act_command(event_name=args.event, event_path=files["event.json"], workdir=workdir,
                              mapping=mapping, files=files, workflow=args.workflow, job=args.job)
    env = dict(os.environ)
    # Steps run on the host: `python` and `mlops-ci` must be this environment's.
    env["PATH"] = _steps_path()
    for leaked in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS"):
        env.pop(leaked, None)  # only what the run is given may reach its steps
    return act.run_act(command, env=env, log_path=out / "act.jsonl", timeout=args.timeout,
                       on_entry=console.step_printer(args.verbose))


def pr_open(args: argparse.Namespace) -> int:
    """`mlops-ci local pr open`: record a new PR in the local GitHub and run its workflows."""
    project = open_project(args)
    github = local_github(project)
    pull = pulls.open_pull(github.remote, args.head, args.base, *_new_pull_text(args, project))
    return run_pull(args, project, github, pull, "opened")


def pr_sync(args: argparse.Namespace) -> int:
    """`mlops-ci local pr sync N`: the head got new commits; run the PR's workflows again."""
    project = open_project(args)
    github = local_github(project)
    pull = pulls.pull_of(github.remote, args.number, must_be_open=True)
    return run_pull(args, project, github, pull, "synchronize")


def pr_approve(args: argparse.Namespace) -> int:
    """`mlops-ci local pr approve N`: record an approving review (nothing runs, as on GitHub)."""
    project = open_project(args)
    github = local_github(project)
    pulls.approve(github.remote, args.number, args.user)
    pulls.save_state(project.folder, github.state)
    print(f"PR #{args.number}: approved by {args.user}")
    return EXIT_OK


def pr_merge(args: argparse.Namespace) -> int:
    """`mlops-ci local pr merge N`: merge in the user's repository, record it, run the base's push."""
    project = open_project(args)
    github = local_github(project)
    pull = pulls.pull_of(github.remote, args.number, must_be_open=True)
    sha = pulls.merge_in_repo(project.repo, pull)
    github.remote.merge_pull(pull.number, sha)
    pulls.save_state(project.folder, github.state)
    print(f"PR #{pull.number}: merged {pull.head_ref} into {pull.base_ref} as {sha[:12]}", flush=True)
    args.event, args.branch = "push", pull.base_ref
    return execute(args, project, build_event(args, project.repo, project.slug),
                   f"pr-{pull.number}-merged-push-{pull.base_ref}", github)


def pr_list(args: argparse.Namespace) -> int:
    """`mlops-ci local pr list`: the local GitHub's pull requests."""
    print(pulls.pull_rows(local_github(open_project(args)).remote))
    return EXIT_OK


def pr_show(args: argparse.Namespace) -> int:
    """`mlops-ci local pr show N`: a pull request and its comments."""
    project = open_project(args)
    remote = local_github(project).remote
    pull = pulls.pull_of(remote, args.number)
    print(pulls.pull_row(remote, pull))
    comments = remote.comments_on(pull.number)
    _print_comments(comments, project.folder / "comments")
    if not comments:
        print("no comments yet")
    return EXIT_OK


def _project_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--repo", default=".", help="the project repository (default: .)")
    parent.add_argument("--repository",
                        help="OWNER/NAME (default: from the origin remote, else local/DIRNAME)")
    return parent


def _run_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    what = parent.add_argument_group("what runs")
    what.add_argument("-W", "--workflow", help="one workflow file, relative to the repo")
    what.add_argument("-j", "--job", help="one job id")
    what.add_argument("--source", help="the mlops-ci checkout `org/mlops-ci@REF` maps to (default: this one)")
    what.add_argument("--source-repo", default="mlops-ci",
                      help="mlops-ci's repository name in callers' `uses:` (default mlops-ci)")
    what.add_argument("--in-place", action="store_true",
                      help="run on the working tree as it is instead of a clean clone at the event's commit")
    given = parent.add_argument_group("what the run is given")
    given.add_argument("--secret", action="append", default=[], metavar="NAME[=VALUE]",
                       help="a secret; a bare NAME takes the value from the environment (repeatable)")
    given.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                       help="a configuration variable, `vars.NAME` (repeatable)")
    given.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                       help="an environment variable for every step (repeatable)")
    given.add_argument("--mlflow-tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                       help="MLFLOW_TRACKING_URI for the steps (default: $MLFLOW_TRACKING_URI; with the "
                            "local GitHub and neither this nor --var MLFLOW_TRACKING_URI, an MLflow server "
                            "is started for the run, its data in .mlops-ci/mlflow)")
    given.add_argument("--env-cache", default=envs.default_cache(os.environ, Path.home()),
                       help="where the venvs that requirement files install into are kept, one per file's "
                            "hash (default: $MLOPS_CI_ENV_CACHE or ~/.cache/mlops-ci/envs)")
    output = parent.add_argument_group("output")
    output.add_argument("--out", help="folder for the log, job summaries, artifacts, comments and "
                                      "result.json "
                                      "(default: .mlops-ci/runs/NNN-WHAT in the project)")
    output.add_argument("--keep-workdir", action="store_true", help="keep the clone the run used")
    output.add_argument("--timeout", type=float, default=1800, help="seconds before act is stopped")
    output.add_argument("-v", "--verbose", action="store_true", help="print the steps' output too")
    return parent


def _event_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    event = parent.add_argument_group("event")
    event.add_argument("--head", help="pull_request: the PR's head branch")
    event.add_argument("--base", help="pull_request: the PR's base branch")
    event.add_argument("--pr-number", type=int,
                       help="pull_request: PR number (default: with the local GitHub, the open PR "
                            "head -> base "
                            "or a new one; else 1)")
    event.add_argument("--title", help="pull_request: PR title (default: the head's last commit subject)")
    event.add_argument("--body-file", help="pull_request: file holding the PR description")
    event.add_argument("--action", default="opened", help="pull_request: activity type (default opened)")
    event.add_argument("--fork-owner", help="pull_request: the head lives in this owner's fork")
    event.add_argument("--fork-deleted", action="store_true",
                       help="pull_request: the head's repository is gone (GitHub sends head.repo: null)")
    event.add_argument("--author-association", default="MEMBER", type=str.upper,
                       help="pull_request: the PR author's association (OWNER, MEMBER, COLLABORATOR, "
                            "CONTRIBUTOR, NONE...; default MEMBER)")
    event.add_argument("--branch", help="push/schedule/workflow_dispatch: branch (default: current)")
    event.add_argument("--cron", default="0 3 * * *", help="schedule: the cron expression that fired")
    event.add_argument("--input", action="append", default=[], metavar="NAME=VALUE",
                       help="workflow_dispatch: an input (repeatable)")
    event.add_argument("--github-api-url", default=os.environ.get("GITHUB_API_URL"),
                       help="GITHUB_API_URL for the steps: a real GitHub or GHES (default: $GITHUB_API_URL; "
                            "unset, the project's local GitHub is started for the run)")
    return parent


# What `local pr open|sync|merge` leave at their defaults: the event options of a PR of the local GitHub.
_PR_EVENT_DEFAULTS = {"action": "opened", "author_association": "MEMBER", "fork_owner": None,
                      "fork_deleted": False, "cron": "", "input": [], "branch": None, "github_api_url": None,
                      "pr_number": None}


def _register_pr(local: argparse._SubParsersAction, project: argparse.ArgumentParser,
                 run_options: argparse.ArgumentParser) -> None:
    parser = local.add_parser(
        "pr", help="open, sync, approve, merge, list, show pull requests of the project's local GitHub",
        description="Pull requests of the project's local GitHub (state in <repo>/.mlops-ci/): each step "
                    "runs "
                    "the workflows GitHub would run for it, offline, and prints the comments they post.")
    commands = parser.add_subparsers(dest="pr_command", metavar="COMMAND")
    commands.required = True
    number = argparse.ArgumentParser(add_help=False)
    number.add_argument("number", type=int, help="the PR number")

    opened = commands.add_parser("open", parents=[project, run_options],
                                 help="open a PR and run its workflows")
    opened.add_argument("--head", required=True, help="the PR's head branch")
    opened.add_argument("--base", required=True, help="the PR's base branch")
    opened.add_argument("--title", help="default: the head's last commit subject")
    opened.add_argument("--body-file", help="file holding the PR description")
    opened.set_defaults(handler=pr_open, **_PR_EVENT_DEFAULTS)
    commands.add_parser("sync", parents=[number, project, run_options],
                        help="the head got new commits: run the PR's workflows again (synchronize)"
                        ).set_defaults(handler=pr_sync, **_PR_EVENT_DEFAULTS)
    approve = commands.add_parser("approve", parents=[number, project], help="record an approving review")
    approve.add_argument("--user", default="reviewer", help="the reviewer's login (default reviewer)")
    approve.set_defaults(handler=pr_approve)
    commands.add_parser("merge", parents=[number, project, run_options],
                        help="merge into the base in your repository (merge commit), then run the base's push"
                        ).set_defaults(handler=pr_merge, **_PR_EVENT_DEFAULTS)
    commands.add_parser("list", parents=[project], help="the PRs: number, head -> base, state, comments"
                        ).set_defaults(handler=pr_list)
    commands.add_parser("show", parents=[number, project], help="a PR and its comments"
                        ).set_defaults(handler=pr_show)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci local` to the CLI."""
    parser = subparsers.add_parser(
        "local", help="run a repo's workflows on this machine (act, host mode, offline)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="event", metavar="EVENT")
    commands.required = True
    project, run_options, event_options = _project_options(), _run_options(), _event_options()
    for name in EVENTS:
        commands.add_parser(name, parents=[project, event_options, run_options],
                          help=f"run the workflows GitHub runs on {name}").set_defaults(handler=run)
    _register_pr(commands, project, run_options)
