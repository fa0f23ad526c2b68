"""Repository rulesets: the one ruleset per branch that enforces a classic PUT body, its canonical
shape, and what differs from GitHub's."""

from __future__ import annotations

import json
from typing import Any

from mlops_ci.gitflow.protect.changes import Change, diff
from mlops_ci.gitflow.protect.classic import actor_names, enabled, required_checks

RULESET_NAME = "mlops-ci branch protection"
# GitHub's id of the repository "Admin" role, for ruleset bypass actors.
ADMIN_ROLE_ID = 5


def ruleset_name(branch: str) -> str:
    """The name of the ruleset managed for `branch`."""
    return f"{RULESET_NAME} ({branch})"


def untranslatable(body: dict[str, Any]) -> list[str]:
    """Settings of a PUT body a repository ruleset cannot express by name (it needs actor ids)."""
    reviews = body.get("required_pull_request_reviews") or {}
    problems = ["restrictions"] if body.get("restrictions") is not None else []
    problems += [f"required_pull_request_reviews.{key}" for key in ("dismissal_restrictions",
                                                                   "bypass_pull_request_allowances")
                 if actor_names(reviews.get(key), empty_is_none=True) is not None]
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
                  for check in required_checks(checks)]
        rules.append({"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": bool(checks.get("strict")),
            "required_status_checks": listed}})
    bypass = [] if enabled(body.get("enforce_admins")) else [
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
