"""`mlops-ci policy`: the git-flow rules for pull requests and branch names.

`policy check` tells whether a pull request may merge: its source branch is one the target accepts
(main takes develop, develop takes feature/*, hotfix/*, bugfix/*), its head branch is named
<type>/<task-name>, and its title or description links a work item (#123, PROJ-123, AB#123 or an
issue URL). `policy branch-name` checks just names (a pre-commit hook: no NAME = the current branch).

Rules come from the `policy:` section of .github/mlops-ci.yml when it exists (or --config FILE);
the defaults are the SOP's. Exit 0 allowed, 1 a rule was violated (each listed with its fix),
2 a usage or config error. Branch names and PR text are data: never run, escaped where echoed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from mlops_ci import config
from mlops_ci.config.sections import Policy, TargetRule
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.clients.github import GitHubClient, repo_path
from mlops_ci.core.text import md_escape, show

# What branch protection enforces; shown in the job summary, not checked here (reviews are not in
# the pull_request payload).
APPROVALS_NOTE = "enforced by branch protection (1 required)"

WORK_ITEM_EXAMPLES = "#123, PROJ-123, AB#123 or the issue URL"

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_TASK_CHAR = re.compile(r"[A-Za-z0-9._-]")
_GLOB_CHARS = frozenset("*?[")
PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Violation:
    """A broken rule: its id, what is wrong, and how to fix it."""

    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.message}; {self.fix}"


@dataclass(frozen=True)
class RuleResult:
    """One rule's outcome for the job summary: pass, fail (with its violation) or skip."""

    rule: str
    outcome: str
    detail: str
    violation: Violation | None = None


# --- the rules ----------------------------------------------------------------------------------

def _is_glob(pattern: str) -> bool:
    return any(char in _GLOB_CHARS for char in pattern)


def _accepts(rule: TargetRule, head: str) -> bool:
    return rule.sources is None or any(fnmatchcase(head, source) for source in rule.sources)


def _join(items: tuple[str, ...] | list[str], last: str = "or") -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _name_example(policy: Policy) -> str:
    return f"{policy.branch_name.types[0]}/<task-name>"


def _check_source(policy: Policy, base: str, head: str) -> RuleResult:
    rule_id = "source-branch"
    rule = policy.rule_for(base)
    if rule is None:
        return RuleResult(rule_id, SKIP, f"no rule for target {show(base)}: any source branch is allowed")
    if _accepts(rule, head):
        return RuleResult(rule_id, PASS, f"{show(base)} accepts pull requests from {show(head)}")
    assert rule.sources is not None  # _accepts is true for any-source rules
    shown_base = base if base == rule.target else show(base)  # an exact target name is the config's
    if not rule.sources:
        message = f"{shown_base} accepts no pull requests"
    else:
        message = f"{shown_base} accepts pull requests only from {_join(rule.sources)}"
    # A branch the head may go into instead (exact target names only).
    elsewhere = [other.target for other in policy.targets
                 if other.target != base and not _is_glob(other.target) and other.sources is not None
                 and _accepts(other, head)]
    if elsewhere:
        fix = f"open this PR against {_join(elsewhere)}"
        if base == "main" and not policy.allow_hotfix_to_main and fnmatchcase(head, "hotfix/*"):
            fix += " (a repo that merges hotfixes straight into main sets policy.allow_hotfix_to_main: true)"
    elif rule.sources:
        fix = f"open the PR from a branch matching {_join(rule.sources)}"
        if any(source.split("/", 1)[0] in policy.branch_name.types for source in rule.sources):
            fix += f" (rename this one: git branch -m {_name_example(policy)})"
    else:
        fix = "open this PR against another branch"
    return RuleResult(rule_id, FAIL, message, Violation(rule_id, message, fix))


def branch_name_problems(policy: Policy, name: str) -> list[str]:
    """What is wrong with a work-branch name (<type>/<task-name>); empty when it is fine."""
    types = _join(policy.branch_name.types)
    if not name:
        return ["the name is empty"]
    problems = []
    limit = policy.branch_name.max_length
    if len(name) > limit:
        problems.append(f"it is {len(name)} characters long, at most {limit} are allowed")
    kind, slash, task = name.partition("/")
    if not slash:
        return problems + [f"it has no type: name it <type>/<task-name>, type one of {types}"]
    if kind not in policy.branch_name.types:
        problems.append(f"type {show(kind)} is not one of {types}")
    if name.endswith("/"):
        problems.append("it ends with '/'")
    if "//" in name or not kind:
        problems.append("it has an empty segment")
    elif "/" in task.rstrip("/"):
        problems.append("the task name holds '/' (one level only: <type>/<task-name>)")
    if not task.strip("/"):
        problems.append(f"it has no task name after {show(kind + '/')}")
        return problems
    first = task.lstrip("/")[0]
    if not first.isascii() or not first.isalnum():
        problems.append("the task name must start with a letter or a digit")
    bad = sorted({char for char in task if char != "/" and not _TASK_CHAR.fullmatch(char)})
    if bad:
        problems.append("the task name may hold only letters, digits, '.', '_' and '-', not "
                        + " ".join(show(char) for char in bad[:10]))
    if ".." in name or name.endswith((".", ".lock")):
        problems.append("git does not allow '..' or a name ending in '.' or '.lock'")
    return problems


def check_branch_name(policy: Policy, name: str) -> Violation | None:
    """A Violation when `name` is not a valid work-branch name."""
    problems = branch_name_problems(policy, name)
    if not problems:
        return None
    message = f"branch name {show(name)}: {'; '.join(problems)}"
    if name in ("main", "develop"):
        fix = f"main and develop change only through pull requests: work on a branch " \
              f"(git switch -c {_name_example(policy)})"
    else:
        fix = f"rename the branch to <type>/<task-name>, type one of {_join(policy.branch_name.types)}, " \
              f"e.g. {policy.branch_name.types[0]}/PROJ-123-add-augmentation (git branch -m NEW-NAME)"
    return Violation("branch-name", message, fix)


def _check_name(policy: Policy, base: str, head: str) -> RuleResult:
    rule_id = "branch-name"
    rule = policy.rule_for(base)
    # The name rule applies to the work branches a target takes (develop by default: feature/*...),
    # not to branches a target names outright (develop into main).
    if rule is None or rule.sources is None or head in rule.sources or not any(
            source.split("/", 1)[0] in policy.branch_name.types for source in rule.sources):
        return RuleResult(rule_id, SKIP, f"not checked for {show(head)} into {show(base)}")
    violation = check_branch_name(policy, head)
    if violation is None:
        return RuleResult(rule_id, PASS, f"{show(head)} is <type>/<task-name>")
    return RuleResult(rule_id, FAIL, violation.message, violation)


def find_work_item(policy: Policy, title: str, body: str) -> tuple[str, str] | None:
    """The first work-item reference: (where, text), where is "title" or "description"."""
    body = _HTML_COMMENT.sub("", body)  # PR template hints such as <!-- e.g. PROJ-123 --> do not count
    for where, text in (("title", title), ("description", body)):
        for pattern in policy.work_item.patterns:
            match = pattern.search(text)
            if match:
                return where, match.group(0)
    return None


def _check_work_item(policy: Policy, base: str, title: str, body: str) -> RuleResult:
    rule_id = "work-item"
    rule = policy.rule_for(base)
    required = policy.work_item.required
    if rule is not None and rule.require_work_item is not None:
        required = rule.require_work_item
    if not required:
        return RuleResult(rule_id, SKIP, f"not required for pull requests into {show(base)}")
    found = find_work_item(policy, title, body)
    if found:
        return RuleResult(rule_id, PASS, f"{show(found[1])} in the {found[0]}")
    message = "the PR title and description link no work item"
    if policy.work_item.custom:
        fix = f"add a reference matching policy.work_item.patterns ({policy.source}) to the title or " \
              "description"
    else:
        fix = f"add the ticket to the title or description: {WORK_ITEM_EXAMPLES}"
    return RuleResult(rule_id, FAIL, message, Violation(rule_id, message, fix))


def evaluate(policy: Policy, base: str, head: str, title: str = "",
             body: str | None = "") -> list[RuleResult]:
    """Every rule's result for a pull request from `head` into `base`."""
    return [_check_source(policy, base, head), _check_name(policy, base, head),
            _check_work_item(policy, base, title or "", body or "")]


def check(policy: Policy, base: str, head: str, title: str = "", body: str | None = "") -> list[Violation]:
    """The rules a pull request from `head` into `base` violates; empty = allowed."""
    return [result.violation for result in evaluate(policy, base, head, title, body) if result.violation]


# --- the command line ---------------------------------------------------------------------------

def _event_text(pull: dict[str, Any], key: str, where: str, *, required: bool) -> str:
    parts = key.split(".")
    value: Any = pull
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MlopsCiError(f"pull_request.{key}: expected a{' non-empty' if required else ''} string",
                           where=where)
    return value


def read_event(path: str) -> tuple[str, str, str, str]:
    """(base, head, title, body) of a pull_request event payload; body null = empty."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise MlopsCiError(f"cannot read the event: {error.strerror}", where=path) from error
    except (ValueError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        raise MlopsCiError(f"not a JSON event payload: {getattr(error, 'msg', error)}", where=path,
                           line=line) from error
    pull = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pull, dict):
        raise MlopsCiError("not a pull_request event: no pull_request object", where=path)
    return (_event_text(pull, "base.ref", path, required=True),
            _event_text(pull, "head.ref", path, required=True),
            _event_text(pull, "title", path, required=False),
            _event_text(pull, "body", path, required=False))


def _read_body(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot read the PR description: {error.strerror}", where=path) from error
    except UnicodeDecodeError as error:
        raise MlopsCiError("the PR description is not UTF-8 text", where=path) from error


def _pull_request(args: argparse.Namespace) -> tuple[str, str, str, str]:
    if args.event is not None:
        given = [option for option, value in (("--base", args.base), ("--head", args.head),
                                              ("--title", args.title), ("--body-file", args.body_file))
                 if value is not None]
        if given:
            raise MlopsCiError(f"--event replaces {', '.join(given)}: give one or the other")
        return read_event(args.event)
    if not args.base or not args.head:
        raise MlopsCiError("policy check needs --base BRANCH and --head BRANCH, or --event FILE")
    body = _read_body(args.body_file) if args.body_file is not None else ""
    return args.base, args.head, args.title or "", body


def _emit(violation: Violation) -> None:
    if gha.in_actions():
        gha.report("error", str(violation), title=violation.rule)
    else:
        print(f"error: {violation.rule}: {violation}", file=sys.stderr, flush=True)


_ICONS = {PASS: "✅ pass", FAIL: "❌ fail", SKIP: "➖ skip"}


def review_counts(reviews: list[dict]) -> tuple[int, int]:
    """(approved, changes requested), counting each reviewer's latest decisive review (oldest first in)."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review["user"]["login"]] = review["state"]
    states = list(latest.values())
    return states.count("APPROVED"), states.count("CHANGES_REQUESTED")


def approvals_row(event_path: str | None) -> str:
    """The summary's approvals row: the review state this check can see (with a token), else a note.

    Informational only: branch protection enforces the approval, and a review submitted later does not
    re-run this check.
    """
    if event_path is None or not any(os.environ.get(name) for name in ("GITHUB_TOKEN", "GH_TOKEN")):
        return f"| approvals | ➖ not checked here | {APPROVALS_NOTE} |"
    try:
        payload = json.loads(Path(event_path).read_text(encoding="utf-8"))
        number, repo = payload["pull_request"]["number"], payload["repository"]["full_name"]
        with GitHubClient.from_env(tries=2) as github:
            reviews = github.paginate(repo_path(repo, "pulls", number, "reviews"))
    except (MlopsCiError, KeyError, TypeError) as error:
        return f"| approvals | ➖ unknown | could not read the reviews ({md_escape(str(error))}); {APPROVALS_NOTE} |"
    approved, changes = review_counts(reviews)
    icon = "✅" if approved and not changes else "⏳"
    return f"| approvals | {icon} {approved} approved, {changes} changes requested | {APPROVALS_NOTE} |"


def summary_markdown(policy: Policy, base: str, head: str, results: list[RuleResult],
                     approvals: str | None = None) -> str:
    """The job summary: base/head, then a rule | result | detail table. Untrusted text is escaped."""
    failed = [result for result in results if result.outcome == FAIL]
    verdict = f"❌ {len(failed)} rule(s) violated" if failed else "✅ allowed"
    lines = [f"### branch-policy: {verdict}", "",
             f"**base:** {md_escape(show(base))} ← **head:** {md_escape(show(head))}  ",
             f"**config:** {md_escape(policy.source or 'built-in defaults')}", "",
             "| rule | result | detail |", "| --- | --- | --- |"]
    for result in results:
        detail = str(result.violation) if result.violation else result.detail
        lines.append(f"| {result.rule} | {_ICONS[result.outcome]} | {md_escape(detail)} |")
    lines.append(approvals or approvals_row(None))
    return "\n".join(lines) + "\n"


def run_check(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci policy check`."""
    base, head, title, body = _pull_request(args)
    policy = config.load(args.config).policy
    results = evaluate(policy, base, head, title, body)
    violations = [result.violation for result in results if result.violation]
    for violation in violations:
        _emit(violation)
    if gha.in_actions():
        gha.append_summary(summary_markdown(policy, base, head, results, approvals_row(args.event)))
    pr = f"{show(head)} -> {show(base)}"
    if violations:
        print(f"policy: pull request {pr} refused: {len(violations)} rule(s) violated")
        return EXIT_REFUSED
    print(f"policy: pull request {pr} allowed")
    return EXIT_OK


def current_branch() -> str | None:
    """The checked-out branch of the repository here; None when HEAD is detached."""
    try:
        done = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], capture_output=True,
                              text=True, check=False, timeout=60)
    except FileNotFoundError as error:
        raise MlopsCiError("git is not installed") from error
    if done.returncode == 1 and not done.stderr.strip():
        return None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"git exited with {done.returncode}"])[-1]
        raise MlopsCiError(f"cannot read the current branch: {detail}")
    return done.stdout.strip()


def run_branch_name(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci policy branch-name`."""
    policy = config.load(args.config).policy
    names = args.names
    if not names:
        branch = current_branch()
        if branch is None:
            print("policy: HEAD is detached (no branch to check)")
            return EXIT_OK
        names = [branch]
    bad = 0
    for name in names:
        violation = check_branch_name(policy, name)
        if violation is not None:
            bad += 1
            _emit(violation)
    if bad:
        print(f"policy: {bad} of {len(names)} branch name(s) refused")
        return EXIT_REFUSED
    print(f"policy: {len(names)} branch name(s) ok")
    return EXIT_OK


CONFIG_HELP = f"policy file (default: {config.DEFAULT_PATH} when it exists, else the built-in defaults)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci policy check` and `mlops-ci policy branch-name` to the CLI."""
    parser = subparsers.add_parser(
        "policy", help="git-flow rules: allowed PR branches, branch names, linked work items",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    commands.required = True

    check_parser = commands.add_parser(
        "check", help="check a pull request (exit 0 allowed, 1 refused, 2 usage/config error)",
        description="Check a pull request against the branch policy: --base and --head (with --title "
                    "and --body-file), or --event with a pull_request event payload.")
    check_parser.add_argument("--base", metavar="BRANCH", help="the branch the PR merges into")
    check_parser.add_argument("--head", metavar="BRANCH", help="the PR's source branch")
    check_parser.add_argument("--title", metavar="TEXT", help="the PR title")
    check_parser.add_argument("--body-file", metavar="FILE", help="a file holding the PR description")
    check_parser.add_argument("--event", metavar="FILE",
                              help="a pull_request event payload ($GITHUB_EVENT_PATH) instead of the above")
    check_parser.add_argument("--config", metavar="FILE",
                              help=CONFIG_HELP)
    check_parser.set_defaults(handler=run_check)

    names_parser = commands.add_parser(
        "branch-name", help="check branch names (<type>/<task-name>); no NAME = the current branch",
        description="Check work-branch names: <type>/<task-name>. With no NAME, the current git branch "
                    "(a pre-commit hook); a detached HEAD passes.")
    names_parser.add_argument("names", nargs="*", metavar="NAME", help="branch names to check")
    names_parser.add_argument("--config", metavar="FILE",
                              help=CONFIG_HELP)
    names_parser.set_defaults(handler=run_branch_name)
