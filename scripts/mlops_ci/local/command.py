"""`mlops-ci local EVENT`: run a project repo's workflows here, as GitHub would for that event.

The run happens in a clean clone of the repository at the event's commit, through the real workflow
and action YAML of the mlops-ci checkout given by --source (this one by default), with act in host
mode and no network: mlops-ci references map to the checkout, third-party actions to shims.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from mlops_ci.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.local import act, console, envs, events, git, refs

EVENTS = ("pull_request", "push", "schedule", "workflow_dispatch")


def default_source() -> Path | None:
    """The mlops-ci checkout this package was installed from (editable installs), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / ".github" / "workflows").is_dir() and (root / "actions").is_dir() else None


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


def build_event(args: argparse.Namespace, repo: Path, slug: str) -> tuple[dict[str, Any], str, str]:
    """The event payload, plus the branch and commit the run checks out."""
    if args.event == "pull_request":
        if not args.head or not args.base:
            raise MlopsCiError("pull_request needs --head BRANCH and --base BRANCH")
        head_sha, base_sha = git.rev_parse(repo, args.head), git.rev_parse(repo, args.base)
        body = _read_text(args.body_file) if args.body_file else ""
        payload = events.pull_request_event(
            slug=slug, number=args.pr_number, head=args.head, head_sha=head_sha, base=args.base,
            base_sha=base_sha, title=args.title or f"Merge {args.head} into {args.base}", body=body,
            action=args.action, author_association=args.author_association, fork_owner=args.fork_owner,
            fork_deleted=args.fork_deleted)
        return payload, args.head, head_sha
    branch = args.branch or git.current_branch(repo)
    sha = git.rev_parse(repo, branch)
    if args.event == "push":
        parent = git.git(repo, "rev-list", "--max-count=1", "--skip=1", sha) or "0" * 40
        payload = events.push_event(slug=slug, branch=branch, before=parent,
                                    head_commit=git.commit_info(repo, sha))
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


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci local`."""
    repo = Path(args.repo).resolve()
    if not (repo / ".git").exists():
        raise MlopsCiError("not a git repository", where=str(repo))
    source = Path(args.source).resolve() if args.source else default_source()
    if source is None or not (source / ".github" / "workflows").is_dir():
        raise MlopsCiError("no mlops-ci source tree: pass --source DIR (a checkout of mlops-ci)")
    if source != default_source():
        # Steps run this environment's mlops-ci: it must be the code of the workflows under test.
        raise MlopsCiError(f"the running mlops-ci is not installed from {source}: "
                           f"run `pip install -e {source}` first", where="--source")
    slug = args.repository or git.repository_slug(repo) or f"local/{repo.name}"

    payload, branch, sha = build_event(args, repo, slug)
    out = Path(args.out).resolve() if args.out else Path(tempfile.mkdtemp(prefix="mlops-ci-local-"))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=out))
    try:
        if args.in_place:
            workdir = repo
        else:
            workdir = work / repo.name
            git.clone_at(repo, workdir, branch, sha, slug)
        workflows = workdir / (args.workflow or ".github/workflows")
        caller_files = [workflows] if workflows.is_file() else refs.workflow_files(workflows)
        if not caller_files:
            raise MlopsCiError("no workflow files", where=str(workflows))
        # act copies a local repository whole for every action it loads: give it only the files git
        # would track (uncommitted edits included, a virtual environment left out).
        snapshot = git.copy_visible_files(source, work / "mlops-ci")
        mapping = refs.local_repository_map(caller_files + refs.source_files(snapshot), snapshot,
                                            args.source_repo)
        returncode, jobs = _run_act(args, payload, workdir, mapping, work, out)
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
    return EXIT_REFUSED if act.failed(returncode, jobs) else EXIT_OK


def _run_act(args: argparse.Namespace, payload: dict[str, Any], workdir: Path, mapping: dict[str, Path],
             work: Path, out: Path) -> tuple[int, dict[str, act.JobResult]]:
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
                "MLOPS_CI_LOCAL_ARTIFACTS": str(artifacts), "GITHUB_API_URL": args.github_api_url}
    if args.mlflow_tracking_uri:
        step_env["MLFLOW_TRACKING_URI"] = args.mlflow_tracking_uri
    step_env.update(_pairs(args.env, "--env"))
    for name, values in (("secrets", _pairs(args.secret, "--secret", from_env=True)),
                         ("vars", _pairs(args.var, "--var")), ("env", step_env)):
        files[name].write_text(act.dotenv(values), encoding="utf-8")
        files[name].chmod(0o600)
    command = act.act_command(event_name=args.event, event_path=files["event.json"], workdir=workdir,
                              mapping=mapping, files=files, workflow=args.workflow, job=args.job)
    env = dict(os.environ)
    # Steps run on the host: `python` and `mlops-ci` must be this environment's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for leaked in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS"):
        env.pop(leaked, None)  # only what the run is given may reach its steps
    return act.run_act(command, env=env, log_path=out / "act.jsonl", timeout=args.timeout,
                       on_entry=console.step_printer(args.verbose))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci local` to the CLI."""
    parser = subparsers.add_parser(
        "local", help="run a repo's workflows on this machine (act, host mode, offline)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("event", choices=EVENTS, help="the event to simulate")
    parser.add_argument("--repo", default=".", help="the project repository (default: .)")
    event = parser.add_argument_group("event")
    event.add_argument("--head", help="pull_request: the PR's head branch")
    event.add_argument("--base", help="pull_request: the PR's base branch")
    event.add_argument("--pr-number", type=int, default=1, help="pull_request: PR number (default 1)")
    event.add_argument("--title", help="pull_request: PR title")
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
    event.add_argument("--repository", help="OWNER/NAME (default: from the origin remote)")
    what = parser.add_argument_group("what runs")
    what.add_argument("-W", "--workflow", help="one workflow file, relative to the repo")
    what.add_argument("-j", "--job", help="one job id")
    what.add_argument("--source", help="the mlops-ci checkout `org/mlops-ci@REF` maps to (default: this one)")
    what.add_argument("--source-repo", default="mlops-ci",
                      help="mlops-ci's repository name in callers' `uses:` (default mlops-ci)")
    what.add_argument("--in-place", action="store_true",
                      help="run on the working tree as it is instead of a clean clone at the event's commit")
    given = parser.add_argument_group("what the run is given")
    given.add_argument("--secret", action="append", default=[], metavar="NAME[=VALUE]",
                       help="a secret; a bare NAME takes the value from the environment (repeatable)")
    given.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                       help="a configuration variable, `vars.NAME` (repeatable)")
    given.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                       help="an environment variable for every step (repeatable)")
    given.add_argument("--github-api-url", default=os.environ.get("GITHUB_API_URL", "https://api.github.com"),
                       help="GITHUB_API_URL for the steps (default: $GITHUB_API_URL or api.github.com)")
    given.add_argument("--mlflow-tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                       help="MLFLOW_TRACKING_URI for the steps (default: $MLFLOW_TRACKING_URI)")
    given.add_argument("--env-cache", default=envs.default_cache(os.environ, Path.home()),
                       help="where the venvs that requirement files install into are kept, one per file's "
                            "hash (default: $MLOPS_CI_ENV_CACHE or ~/.cache/mlops-ci/envs)")
    output = parser.add_argument_group("output")
    output.add_argument("--out", help="folder for the log, job summaries, artifacts and result.json "
                                      "(default: a new temporary folder)")
    output.add_argument("--keep-workdir", action="store_true", help="keep the clone the run used")
    output.add_argument("--timeout", type=float, default=1800, help="seconds before act is stopped")
    output.add_argument("-v", "--verbose", action="store_true", help="print the steps' output too")
    parser.set_defaults(handler=run)
