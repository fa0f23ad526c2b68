"""`mlops-ci protect`: make a repository's branch protection match branch-protection.json.

The file maps each long-lived branch to exactly the body of GitHub's
`PUT /repos/{owner}/{repo}/branches/{branch}/protection`, so an admin can also apply it with GitHub's
own API. It is validated against branch-protection.schema.json when loaded.

  plan    print the differences between the file and the repository, change nothing (exit 0)
  apply   make the repository match; an up-to-date repository gets no write request at all
  check   exit 1 when any branch drifted from the file (a scheduled drift job), 0 when in sync

`--mode classic` (default; Enterprise Server too) manages classic branch protection. `--mode rulesets`
translates each branch's settings into one repository ruleset per branch, named
"mlops-ci branch protection (BRANCH)" and found again by that name; `--enforcement evaluate` makes
it a dry run that GitHub only reports on (GitHub Enterprise only).

GitHub offers no transaction across branches. So `apply` reads everything first: the config is
validated, every branch must exist and its current protection must be readable (a token without
admin rights fails here) before the first write. A write that still fails midway (a 5xx after the
retries, a 422) stops the run with exit 2 and names the branches applied and not applied; running
`apply` again converges, since it only writes what differs.
"""

from __future__ import annotations

import argparse
import os
import re

from mlops_ci.clients.github import GitHubClient
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.text import md_escape
from mlops_ci.gitflow.protect.apply import CLASSIC, RULESETS, Target, preflight, write
from mlops_ci.gitflow.protect.config import DEFAULT_CONFIG, Config, load_config

ENFORCEMENTS = ("active", "evaluate", "disabled")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def summary_markdown(command: str, target: Target) -> str:
    """The job summary: a branch | status | differences table."""
    drifted = [plan for plan in target.plans if not plan.in_sync]
    verdict = f"❌ {len(drifted)} of {len(target.plans)} branch(es) differ" if drifted else "✅ in sync"
    lines = [f"### protect {command}: {verdict}", "",
             f"**repository:** {md_escape(target.repo)} · **mode:** {target.mode} · "
             f"**config:** {md_escape(target.config)}", "",
             "| branch | status | differences |", "| --- | --- | --- |"]
    for plan in target.plans:
        status = "✅ in sync" if plan.in_sync else f"❌ {len(plan.changes)} difference(s)"
        details = "; ".join(str(change) for change in plan.changes)
        lines.append(f"| {md_escape(plan.branch)} | {status} | {md_escape(details)} |")
    return "\n".join(lines) + "\n"


def _describe(target: Target) -> str:
    mode = "classic branch protection" if target.mode == CLASSIC else \
        f"rulesets, enforcement {target.enforcement}"
    return f"{target.repo} ({mode}, {target.config})"


def _print_plans(target: Target) -> None:
    for plan in target.plans:
        if plan.in_sync:
            print(f"{plan.branch}: in sync")
            continue
        if target.mode == RULESETS and plan.ruleset_id is None:
            print(f"{plan.branch}: ruleset {plan.ruleset_name!r} does not exist yet")
        for change in plan.changes:
            print(f"{plan.branch}: {change}")


def _summarise(command: str, target: Target) -> None:
    if gha.in_actions():
        gha.append_summary(summary_markdown(command, target))


def run_plan(target: Target, client: GitHubClient, config: Config) -> int:
    """`protect plan`: print the differences; never writes."""
    preflight(client, config, target, need_admin=False)
    _print_plans(target)
    _summarise("plan", target)
    changed = [plan.branch for plan in target.plans if not plan.in_sync]
    if changed:
        print(f"protect plan: {len(changed)} of {len(target.plans)} branch(es) would change: "
              f"{', '.join(changed)} in {_describe(target)}; `mlops-ci protect apply` applies it")
    else:
        print(f"protect plan: in sync, nothing to apply: {_describe(target)}")
    return EXIT_OK


def run_check(target: Target, client: GitHubClient, config: Config) -> int:
    """`protect check`: exit 1 when any branch drifted from the file."""
    preflight(client, config, target, need_admin=False)
    _print_plans(target)
    drifted = [plan for plan in target.plans if not plan.in_sync]
    if gha.in_actions():
        for plan in drifted:
            details = "; ".join(str(change) for change in plan.changes)
            gha.report("error", f"{plan.branch}: drifted from {target.config}: {details}",
                       title="branch protection drift")
    _summarise("check", target)
    if drifted:
        print(f"protect check: {len(drifted)} of {len(target.plans)} branch(es) drifted: "
              f"{', '.join(plan.branch for plan in drifted)} in {_describe(target)}; "
              "`mlops-ci protect apply` restores them")
        return EXIT_REFUSED
    print(f"protect check: in sync: {_describe(target)}")
    return EXIT_OK


def run_apply(target: Target, client: GitHubClient, config: Config) -> int:
    """`protect apply`: pre-flight every branch, then write only the branches that differ."""
    preflight(client, config, target, need_admin=True)
    _print_plans(target)
    pending = [plan for plan in target.plans if not plan.in_sync]
    applied: list[str] = []
    unconfirmed: list[str] = []
    for plan in pending:
        try:
            left = write(client, target, plan)
        except MlopsCiError as error:
            _summarise("apply", target)
            rest = [other.branch for other in pending if other.branch not in applied]
            raise MlopsCiError(
                f"apply stopped at {plan.branch}: {error}; applied: {', '.join(applied) or 'none'}; "
                f"not applied: {', '.join(rest)} (GitHub has no transaction across branches: "
                "run apply again to converge)") from error
        applied.append(plan.branch)
        print(f"{plan.branch}: applied")
        for change in left:
            unconfirmed.append(plan.branch)
            gha.report("warning", f"{plan.branch}: GitHub accepted the settings but reports {change}")
    _summarise("apply", target)
    if unconfirmed:
        print(f"protect apply: GitHub reports different settings on {', '.join(sorted(set(unconfirmed)))} "
              "after the write (a feature the plan or repository type lacks?)")
        return EXIT_REFUSED
    in_sync = len(target.plans) - len(pending)
    print(f"protect apply: {len(applied)} branch(es) updated, {in_sync} already in sync: {_describe(target)}")
    return EXIT_OK


# --- the command line ---------------------------------------------------------------------------

def _target(args: argparse.Namespace) -> Target:
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY", "")
    if not repo:
        raise MlopsCiError("--repo OWNER/NAME is required (outside Actions: no GITHUB_REPOSITORY)")
    if not _REPO.fullmatch(repo):
        raise MlopsCiError(f"--repo: not OWNER/NAME: {repo!r}")
    if args.enforcement is not None and args.mode != RULESETS:
        raise MlopsCiError("--enforcement applies to --mode rulesets only")
    if args.enforcement == "evaluate":
        print("note: --enforcement evaluate is a GitHub Enterprise feature; other plans do not offer it")
    return Target(repo, args.mode, args.enforcement or "active", str(args.config))


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci protect plan|apply|check`."""
    target = _target(args)
    config = load_config(args.config)
    handler = {"plan": run_plan, "apply": run_apply, "check": run_check}[args.protect_command]
    with GitHubClient.from_env() as client:
        return handler(target, client, config)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci protect plan|apply|check` to the CLI."""
    parser = subparsers.add_parser(
        "protect", help="branch protection from branch-protection.json: plan, apply, check drift",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="protect_command", metavar="SUBCOMMAND")
    commands.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", metavar="OWNER/NAME",
                        help="the repository (default: $GITHUB_REPOSITORY); token from GITHUB_TOKEN or "
                             "GH_TOKEN, API from GITHUB_API_URL")
    common.add_argument("--config", metavar="FILE", default=str(DEFAULT_CONFIG),
                        help="desired settings (default: %(default)s)")
    common.add_argument("--mode", choices=(CLASSIC, RULESETS), default=CLASSIC,
                        help="classic branch protection (default; Enterprise Server) or repository rulesets")
    common.add_argument("--enforcement", choices=ENFORCEMENTS,
                        help="rulesets mode: active (default), evaluate (dry run, GitHub only reports; "
                             "GitHub Enterprise only) or disabled")
    for name, text in (("plan", "print what apply would change; change nothing (exit 0)"),
                       ("apply", "make the repository match the file (exit 0; 1 GitHub kept other "
                                 "settings; 2 error)"),
                       ("check", "exit 1 when any branch drifted from the file, 0 when in sync")):
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=run)
