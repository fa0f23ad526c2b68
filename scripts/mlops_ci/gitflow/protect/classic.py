"""Classic branch protection: GitHub's GET answer and a PUT body in one canonical shape, and what
differs between them."""

from __future__ import annotations

from typing import Any

from mlops_ci.gitflow.protect.changes import Change, diff

ANY_APP = -1  # a required check's app_id: any app may provide it
FLAGS = ("required_linear_history", "allow_force_pushes", "allow_deletions", "block_creations",
         "required_conversation_resolution", "lock_branch", "allow_fork_syncing")
REVIEW_FLAGS = ("dismiss_stale_reviews", "require_code_owner_reviews", "require_last_push_approval")
ACTOR_KINDS = (("users", "login"), ("teams", "slug"), ("apps", "slug"))


def enabled(value: Any) -> bool:
    """A GET flag `{"enabled": true}` or a PUT boolean (null: false)."""
    return bool(value.get("enabled")) if isinstance(value, dict) else bool(value)


def _names(items: Any, key: str) -> list[str]:
    """Logins or slugs from PUT strings or GET objects, sorted."""
    return sorted(item.get(key, "") if isinstance(item, dict) else str(item) for item in items or [])


def actor_names(value: Any, *, empty_is_none: bool) -> dict[str, list[str]] | None:
    """Users, teams and apps by login or slug (None: the setting is off, or empty when
    `empty_is_none`)."""
    if value is None:
        return None
    actors = {kind: _names(value.get(kind), key) for kind, key in ACTOR_KINDS}
    return None if empty_is_none and not any(actors.values()) else actors


def required_checks(section: dict[str, Any]) -> list[dict[str, Any]]:
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
            "strict": bool(checks.get("strict")), "checks": required_checks(checks)},
        "enforce_admins": enabled(protection.get("enforce_admins")),
        "required_pull_request_reviews": None if reviews is None else {
            "required_approving_review_count": int(reviews.get("required_approving_review_count", 1)),
            **{flag: bool(reviews.get(flag)) for flag in REVIEW_FLAGS},
            "dismissal_restrictions": actor_names(reviews.get("dismissal_restrictions"), empty_is_none=True),
            "bypass_pull_request_allowances": actor_names(reviews.get("bypass_pull_request_allowances"),
                                                      empty_is_none=True)},
        "restrictions": actor_names(protection.get("restrictions"), empty_is_none=False),
    }
    canonical.update({flag: enabled(protection.get(flag)) for flag in FLAGS})
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



def diff_protection(desired_body: dict[str, Any], current: dict[str, Any] | None) -> list[Change]:
    """What differs between a PUT body and the current protection (GET answer, None: unprotected)."""
    desired = normalise(desired_body)
    return diff(desired, _align_checks(desired, normalise(current)))
