"""Who the champion is, and how it moves: shared by `promote`, `rollback` and `canary promote`/`abort`.

Racing promotions agree without a lock: the champion is the passed version merged last
(mlops_ci.merged_at, then the highest number), and every writer re-reads the alias after moving it
(converge), so the last writer leaves the right champion.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from mlops_ci.clients.mlflow import Registry
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.registry import seal
from mlops_ci.registry.tags import (COPIED_FROM_TAG, MERGED_AT_TAG, PASSED, PROMOTED_AT_TAG, PROMOTED_BY_TAG,
                                    PROMOTION_RUN_URL_TAG, RUN_URL_TAG, VALIDATION_STATUS_TAG, version_tags)

CONVERGE_ROUNDS = 5


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds (orders racing promotions)."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def actor() -> str:
    """Who promotes: the GitHub actor inside Actions, else the local user."""
    return os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def merge_time(version: Any) -> datetime:
    """When the version's PR was merged (its mlops_ci.merged_at tag); the epoch when unknown."""
    try:
        moment = datetime.fromisoformat((version.tags or {}).get(MERGED_AT_TAG, ""))
    except ValueError:
        return datetime.fromtimestamp(0, timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def newest_merge(versions: Sequence[Any]) -> str | None:
    """The version merged last (then the highest number) among `versions`; None when empty."""
    if not versions:
        return None
    return str(max(versions, key=lambda version: (merge_time(version), int(version.version))).version)


def converge(registry: Registry, model: str, alias: str) -> str | None:
    """Point `alias` at the passed version merged last and check it stayed there (another promotion
    may race this one; each re-reads after writing, so the last writer leaves the right champion).
    A passed verdict counts only when its seal verifies (registry.seal): a forged one is ignored."""
    for _ in range(CONVERGE_ROUNDS):
        passed = registry.versions_tagged(model, VALIDATION_STATUS_TAG, PASSED)
        target = newest_merge([version for version in passed if seal.trusted(version)])
        current = registry.alias_version(model, alias)
        if target is None or current == target:
            return current
        registry.set_alias(model, alias, target)
    raise MlopsCiError(f"{model}@{alias} kept moving under concurrent promotions: rerun", where=registry.uri)


def promotion_tags() -> dict[str, str]:
    """promoted_at, promoted_by and, inside Actions, the workflow run that promoted."""
    tags = {PROMOTED_AT_TAG: now(), PROMOTED_BY_TAG: actor()}
    run_url = version_tags(dict(os.environ), None).get(RUN_URL_TAG)
    return {**tags, PROMOTION_RUN_URL_TAG: run_url} if run_url else tags


def crown(registry: Registry, name: str, number: str, alias: str, record: dict[str, str]) -> str | None:
    """Record `record` (a passed verdict: status, reason, previous champion, merged_at) on version
    `number`, converge `alias` on the passed version merged last and, when that is `number`, stamp the
    promotion (promoted_at, promoted_by, run URL); the alias's version afterwards. The verdict is
    sealed in the same write (with a key: registry.seal)."""
    version = registry.version(name, number)
    registry.set_tags(name, number, {**record, **seal.sealed(version, {**(version.tags or {}), **record})})
    champion = converge(registry, name, alias)
    if champion == number:
        registry.set_tags(name, number, promotion_tags())
    return champion


def copy_champion(registry: Registry, model: str, alias: str, destination: str) -> tuple[str, str]:
    """Make `destination`@alias a copy of `model`@alias as it is now (read last, so that of racing
    promotions the last writer copies the final champion); each version is copied once.
    (champion version, copy version)."""
    champion = str(registry.alias_version(model, alias))
    source = f"{model}/{champion}"
    copies = registry.versions_tagged(destination, COPIED_FROM_TAG, source)
    copy = copies[-1] if copies else registry.copy_version(model, champion, destination)
    if not copies:
        registry.set_tags(destination, str(copy.version), {COPIED_FROM_TAG: source})
    if registry.alias_version(destination, alias) != str(copy.version):
        registry.set_alias(destination, alias, str(copy.version))
    return champion, str(copy.version)
