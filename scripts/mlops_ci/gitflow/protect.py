"""`mlops-ci protect`: make a repository's branch protection match branch-protection.json.

The file maps each long-lived branch to exactly the body of GitHub's
`PUT /repos/{owner}/{repo}/branches/{branch}/protection`, so an admin can also apply it with GitHub's
own API. It is validated against schemas/branch-protection.schema.json when loaded.

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
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from mlops_ci.config.validate import load_schema, schema_error
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.clients.github import GitHubClient, GitHubError, repo_path
from mlops_ci.core.text import md_escape

DEFAULT_CONFIG = Path("branch-protection.json")
SCHEMA_PATH = Path(__file__).resolve().parent / "branch-protection.schema.json"
CLASSIC, RULESETS = "classic", "rulesets"
ENFORCEMENTS = ("active", "evaluate", "disabled")
RULESET_NAME = "mlops-ci branch protection"
ANY_APP = -1  # a required check's app_id: any app may provide it
NOT_PROTECTED = "Branch not protected"  # GitHub's 404 message for an unprotected branch
# GitHub's id of the repository "Admin" role, for ruleset bypass actors.
ADMIN_ROLE_ID = 5
FLAGS = ("required_linear_history", "allow_force_pushes", "allow_deletions", "block_creations",
         "required_conversation_resolution", "lock_branch", "allow_fork_syncing")
REVIEW_FLAGS = ("dismiss_stale_reviews", "require_code_owner_reviews", "require_last_push_approval")
ACTOR_KINDS = (("users", "login"), ("teams", "slug"), ("apps", "slug"))
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Config:
    """branch-protection.json: branch -> PUT body, in file order."""

    path: str
    branches: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """One setting that differs: its dotted path, the current value and the desired one."""

    path: str
    current: Any
    desired: Any

    def __str__(self) -> str:
        return f"{self.path}: {render(self.current)} -> {render(self.desired)}"


@dataclass
class BranchPlan:
    """One branch: what to send to make it match, and what differs now."""

    branch: str
    body: dict[str, Any]  # the PUT body (classic) or the ruleset body (rulesets)
    changes: list[Change]
    ruleset_id: int | None = None  # rulesets: the existing ruleset, None = to be created
    ruleset_name: str | None = None

    @property
    def in_sync(self) -> bool:
        """Whether nothing differs."""
        return not self.changes


@dataclass
class Target:
    """Where and how: the repository, the mode and (rulesets) the enforcement."""

    repo: str
    mode: str = CLASSIC
    enforcement: str = "active"
    config: str = str(DEFAULT_CONFIG)
    plans: list[BranchPlan] = field(default_factory=list)


# --- the config file ----------------------------------------------------------------------------

def _special(error: jsonschema.ValidationError) -> str | None:
    """This schema's own words for the two problems its jsonschema message would not explain."""
    if error.validator == "oneOf":  # required_status_checks: checks or contexts
        return "set `checks` or the deprecated `contexts`, exactly one of them (GitHub answers 422 to both)"
    if list(error.absolute_path) == ["branches"] and error.validator in ("pattern", "minLength", "maxLength"):
        # propertyNames
        return f"not a branch name: {error.instance!r} (no wildcards, spaces or '~^:?*[\\')"
    return None


def validate_config(document: Any, where: str) -> None:
    """Check a parsed branch-protection.json against its schema: MlopsCiError naming the JSON path."""
    problem = schema_error(load_schema(SCHEMA_PATH), document, where, special=_special, quote=json.dumps)
    if problem is not None:
        raise problem


def load_config(path: str | Path) -> Config:
    """Read and validate branch-protection.json; every problem is an MlopsCiError (exit 2)."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise MlopsCiError("no such config file (pass --config FILE)", where=where) from error
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise MlopsCiError(f"cannot read the config: {reason}", where=where) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise MlopsCiError(f"malformed JSON: {error.msg}", where=where, line=error.lineno) from error
    validate_config(document, where)
    return Config(where, dict(document["branches"]))


# --- classic protection: one shape for GET and PUT ------------------------------------------------

def _enabled(value: Any) -> bool:
    """A GET flag `{"enabled": true}` or a PUT boolean (null: false)."""
    return bool(value.get("enabled")) if isinstance(value, dict) else bool(value)


def _names(items: Any, key: str) -> list[str]:
    """Logins or slugs from PUT strings or GET objects, sorted."""
    return sorted(item.get(key, "") if isinstance(item, dict) else str(item) for item in items or [])


def _actors(value: Any, *, empty_is_none: bool) -> dict[str, list[str]] | None:
    if value is None:
        return None
    actors = {kind: _names(value.get(kind), key) for kind, key in ACTOR_KINDS}
    return None if empty_is_none and not any(actors.values()) else actors


def _checks(section: dict[str, Any]) -> list[dict[str, Any]]:
    """Required checks from `checks` and the deprecated `contexts`, one per context, sorted.

    An app left out (PUT: GitHub picks the app that last reported) is None; GitHub's GET answers
    `"app_id": null` for a check any app may provide, which is `-1` in a PUT body.
    """
    found: dict[str, Any] = {}
    for check in section.get("checks") or []:
        any_app = "app_id" in check and check["app_id"] is None
        found.setdefault(check["context"], ANY_APP if any_app else check.get("app_id"))
    for context in section.get("contexts") or []:
        found.setdefault(context, None)
    return [{"context": context, "app_id": app} for context, app in sorted(found.items())]


def normalise(protection: dict[str, Any] | None) -> dict[str, Any]:
    """Branch protection in canonical PUT shape, from a PUT body or GitHub's GET answer.

    GET wraps booleans as `{"enabled": true}`, lists users and teams as objects, adds `url` fields
    and leaves disabled sections out; None (`Branch not protected`) is the unprotected state. The
    result: the four sections (null when off), every flag as a boolean, status checks merged into a
    sorted `checks` list, logins and slugs sorted.
    """
    protection = protection or {}
    checks = protection.get("required_status_checks")
    reviews = protection.get("required_pull_request_reviews")
    canonical: dict[str, Any] = {
        "required_status_checks": None if checks is None else {
            "strict": bool(checks.get("strict")), "checks": _checks(checks)},
        "enforce_admins": _enabled(protection.get("enforce_admins")),
        "required_pull_request_reviews": None if reviews is None else {
            "required_approving_review_count": int(reviews.get("required_approving_review_count", 1)),
            **{flag: bool(reviews.get(flag)) for flag in REVIEW_FLAGS},
            "dismissal_restrictions": _actors(reviews.get("dismissal_restrictions"), empty_is_none=True),
            "bypass_pull_request_allowances": _actors(reviews.get("bypass_pull_request_allowances"),
                                                      empty_is_none=True)},
        "restrictions": _actors(protection.get("restrictions"), empty_is_none=False),
    }
    canonical.update({flag: _enabled(protection.get(flag)) for flag in FLAGS})
    return canonical


def _align_checks(desired: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """`current` with the app of a check dropped where the desired check names none (any app)."""
    wanted, actual = desired.get("required_status_checks"), current.get("required_status_checks")
    if not wanted or not actual:
        return current
    free = {check["context"] for check in wanted["checks"] if check["app_id"] is None}
    aligned = [{"context": check["context"], "app_id": None if check["context"] in free else check["app_id"]}
               for check in actual["checks"]]
    return {**current, "required_status_checks": {**actual, "checks": aligned}}


def diff(desired: Any, current: Any, path: str = "") -> list[Change]:
    """The settings that differ, as dotted paths; dicts are compared key by key, other values whole."""
    if isinstance(desired, dict) and isinstance(current, dict):
        changes = []
        for key in [*desired, *(key for key in current if key not in desired)]:
            changes += diff(desired.get(key), current.get(key), f"{path}.{key}" if path else key)
        return changes
    return [] if desired == current else [Change(path, current, desired)]


def diff_protection(desired_body: dict[str, Any], current: dict[str, Any] | None) -> list[Change]:
    """What differs between a PUT body and the current protection (GET answer, None: unprotected)."""
    desired = normalise(desired_body)
    return diff(desired, _align_checks(desired, normalise(current)))


# --- rulesets -------------------------------------------------------------------------------------

def ruleset_name(branch: str) -> str:
    """The name of the ruleset managed for `branch`."""
    return f"{RULESET_NAME} ({branch})"


def untranslatable(body: dict[str, Any]) -> list[str]:
    """Settings of a PUT body a repository ruleset cannot express by name (it needs actor ids)."""
    reviews = body.get("required_pull_request_reviews") or {}
    problems = ["restrictions"] if body.get("restrictions") is not None else []
    problems += [f"required_pull_request_reviews.{key}" for key in ("dismissal_restrictions",
                                                                   "bypass_pull_request_allowances")
                 if _actors(reviews.get(key), empty_is_none=True) is not None]
    if body.get("allow_fork_syncing") and not body.get("lock_branch"):
        problems.append("allow_fork_syncing (without lock_branch)")
    return problems


def to_ruleset(branch: str, body: dict[str, Any], enforcement: str = "active") -> dict[str, Any]:
    """The repository ruleset (POST/PUT body) that enforces a classic PUT body on `branch`.

    deletion / non_fast_forward unless allowed; creation, update (lock_branch, fork syncing as
    update_allows_fetch_and_merge), required_linear_history when set; pull_request from the review
    settings plus required_review_thread_resolution (conversation resolution); required_status_checks
    with the strict policy; enforce_admins false = repository admins may bypass.
    """
    rules: list[dict[str, Any]] = []
    if not body.get("allow_deletions"):
        rules.append({"type": "deletion"})
    if not body.get("allow_force_pushes"):
        rules.append({"type": "non_fast_forward"})
    if body.get("block_creations"):
        rules.append({"type": "creation"})
    if body.get("lock_branch"):
        rules.append({"type": "update",
                      "parameters": {"update_allows_fetch_and_merge": bool(body.get("allow_fork_syncing"))}})
    if body.get("required_linear_history"):
        rules.append({"type": "required_linear_history"})
    reviews = body.get("required_pull_request_reviews")
    if reviews is not None or body.get("required_conversation_resolution"):
        reviews = reviews or {"required_approving_review_count": 0}
        rules.append({"type": "pull_request", "parameters": {
            "required_approving_review_count": int(reviews.get("required_approving_review_count", 1)),
            "dismiss_stale_reviews_on_push": bool(reviews.get("dismiss_stale_reviews")),
            "require_code_owner_review": bool(reviews.get("require_code_owner_reviews")),
            "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
            "required_review_thread_resolution": bool(body.get("required_conversation_resolution"))}})
    checks = body.get("required_status_checks")
    if checks is not None:
        listed = [{"context": check["context"]} | ({"integration_id": check["app_id"]}
                                                   if (check["app_id"] or -1) > 0 else {})
                  for check in _checks(checks)]
        rules.append({"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": bool(checks.get("strict")),
            "required_status_checks": listed}})
    bypass = [] if _enabled(body.get("enforce_admins")) else [
        {"actor_id": ADMIN_ROLE_ID, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    return {"name": ruleset_name(branch), "target": "branch", "enforcement": enforcement,
            "conditions": {"ref_name": {"include": [f"refs/heads/{branch}"], "exclude": []}},
            "bypass_actors": bypass, "rules": rules}


def normalise_ruleset(ruleset: dict[str, Any] | None) -> dict[str, Any]:
    """A ruleset (GET answer or POST body; None: absent) in canonical shape: rules keyed by type,
    a parameterless rule as true, conditions and bypass actors sorted."""
    ruleset = ruleset or {}
    ref_name = (ruleset.get("conditions") or {}).get("ref_name") or {}
    actors = sorted(({key: actor.get(key) for key in ("actor_id", "actor_type", "bypass_mode")}
                     for actor in ruleset.get("bypass_actors") or []), key=json.dumps)
    return {
        "enforcement": ruleset.get("enforcement"),
        "target": ruleset.get("target"),
        "conditions": {"ref_name": {"include": sorted(ref_name.get("include") or []),
                                    "exclude": sorted(ref_name.get("exclude") or [])}} if ruleset else None,
        "bypass_actors": actors,
        "rules": {rule["type"]: rule.get("parameters") or True for rule in ruleset.get("rules") or []},
    }


def _project(desired: Any, current: Any) -> Any:
    """`current` reduced to the keys `desired` sets (GitHub adds parameters with defaults)."""
    if isinstance(desired, dict) and isinstance(current, dict):
        return {key: _project(desired[key], value) for key, value in current.items() if key in desired}
    if isinstance(desired, list) and isinstance(current, list) and desired and \
            all(isinstance(item, dict) for item in desired + current):
        keys = set().union(*desired)
        return [{key: value for key, value in item.items() if key in keys} for item in current]
    return current


def bypass_hidden(current: dict[str, Any] | None) -> bool:
    """Whether GitHub left a ruleset's `bypass_actors` out: it shows them only to callers who may edit
    the ruleset, so a read-only token cannot compare them."""
    return current is not None and "bypass_actors" not in current


def diff_ruleset(desired_body: dict[str, Any], current: dict[str, Any] | None) -> list[Change]:
    """What differs between the wanted ruleset and the current one (None: none exists yet); bypass
    actors hidden from the token are not compared."""
    desired, actual = normalise_ruleset(desired_body), normalise_ruleset(current)
    if bypass_hidden(current):
        desired["bypass_actors"] = actual["bypass_actors"]
    rules = {rule_type: _project(params, actual["rules"][rule_type]) if rule_type in actual["rules"]
             else None for rule_type, params in desired["rules"].items()}
    rules.update({rule_type: params for rule_type, params in actual["rules"].items()
                  if rule_type not in desired["rules"]})
    return diff(desired, {**actual, "rules": rules})


# --- output ---------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A value for display: a check with no app is just its name, null entries of a dict dropped."""
    if isinstance(value, dict):
        if set(value) <= {"context", "app_id"} and value.get("app_id") is None and "context" in value:
            return value["context"]
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def render(value: Any) -> str:
    """A setting's value on one line: JSON, a bare string unquoted."""
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value), ensure_ascii=False)


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


# --- GitHub: read everything, then write ------------------------------------------------------------

def _get_or_none(client: GitHubClient, path: str) -> Any:
    try:
        return client.get(path)
    except GitHubError as error:
        if error.status == 404:
            return None
        raise


def _current_protection(client: GitHubClient, repo: str, branch: str) -> dict[str, Any] | None:
    """A branch's protection as GitHub's GET answers it; None when GitHub says it is not protected.

    GitHub answers a token without admin rights 404 too, but `Not Found`: that is a permission
    problem, not an unprotected branch, and must not show as drift.
    """
    try:
        return client.get(repo_path(repo, "branches", branch, "protection"))
    except GitHubError as error:
        if error.status != 404:
            raise
        if error.github_message == NOT_PROTECTED:
            return None
        raise MlopsCiError(f"cannot read the protection of {branch!r} in {repo} "
                           f"(404 {error.github_message}): the token likely lacks admin rights, which "
                           "reading branch protection needs (a repo admin's token, or Administration: "
                           "read)") from error


def _preflight(client: GitHubClient, config: Config, target: Target, *, need_admin: bool) -> None:
    """Read the repository, every branch and its current protection or ruleset; nothing is written."""
    repo = _get_or_none(client, repo_path(target.repo))
    if repo is None:
        raise MlopsCiError(f"repository {target.repo} not found, or the token cannot see it")
    permissions = repo.get("permissions") if isinstance(repo, dict) else None
    if need_admin and isinstance(permissions, dict) and permissions.get("admin") is False:
        raise MlopsCiError(f"the token has no admin rights on {target.repo}: managing branch protection "
                           "needs them (a repo admin's token, or Administration: write)")
    for branch in config.branches:
        if _get_or_none(client, repo_path(target.repo, "branches", branch)) is None:
            raise MlopsCiError(f"branch {branch!r} does not exist in {target.repo}: create it first, "
                               f"or remove it from the config", where=config.path)
    if target.mode == CLASSIC:
        for branch, body in config.branches.items():
            current = _current_protection(client, target.repo, branch)
            target.plans.append(BranchPlan(branch, body, diff_protection(body, current)))
        return
    problems = [f"{branch}: {problem}" for branch, body in config.branches.items()
                for problem in untranslatable(body)]
    if problems:
        raise MlopsCiError(f"not expressible as a repository ruleset: {', '.join(problems)} "
                           "(use --mode classic, or leave them out)", where=config.path)
    listed = client.paginate(repo_path(target.repo, "rulesets"))
    existing = {ruleset.get("name"): ruleset for ruleset in listed
                if ruleset.get("source_type", "Repository") == "Repository"}
    for branch, body in config.branches.items():
        wanted = to_ruleset(branch, body, target.enforcement)
        found = existing.get(wanted["name"])
        current = client.get(repo_path(target.repo, "rulesets", found["id"])) if found else None
        if bypass_hidden(current):
            print(f"{branch}: the token cannot see the ruleset's bypass_actors (only those who may edit it "
                  "can): compared without them")
        target.plans.append(BranchPlan(branch, wanted, diff_ruleset(wanted, current),
                                       found["id"] if found else None, wanted["name"]))


def _write(client: GitHubClient, target: Target, plan: BranchPlan) -> list[Change]:
    """Send one branch's settings; returns what GitHub's answer still reports as different."""
    if target.mode == CLASSIC:
        answer = client.put(repo_path(target.repo, "branches", plan.branch, "protection"), json=plan.body)
        return diff_protection(plan.body, answer if isinstance(answer, dict) else None)
    if plan.ruleset_id is None:
        answer = client.post(repo_path(target.repo, "rulesets"), json=plan.body)
    else:
        answer = client.put(repo_path(target.repo, "rulesets", plan.ruleset_id), json=plan.body)
    return diff_ruleset(plan.body, answer if isinstance(answer, dict) else None)


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
    _preflight(client, config, target, need_admin=False)
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
    _preflight(client, config, target, need_admin=False)
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
    _preflight(client, config, target, need_admin=True)
    _print_plans(target)
    pending = [plan for plan in target.plans if not plan.in_sync]
    applied: list[str] = []
    unconfirmed: list[str] = []
    for plan in pending:
        try:
            left = _write(client, target, plan)
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
