"""Promotion's verdicts, sealed: a version counts as passed only when the promoting identity said so.

The training jobs run a PR's unreviewed code with an MLflow identity that can write any tag (MLflow's
permissions stop at "may edit this model"), so a `passed` verdict or a `merged_at` on a version
proves nothing by itself. With MLOPS_CI_DECISION_KEY set (a secret of the protected environment that
promote, rollback and canary run in, never of a training job), the verdict promote records is sealed:
mlops_ci.seal is an HMAC-SHA256 over the model, the version, its run and the sealed tags. The champion
is then chosen only among versions whose seal verifies, and rollback restores only such a version:
a verdict forged with the training identity changes nothing. Without the key nothing is sealed or
checked, as before (promote warns).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from mlops_ci.registry.tags import MERGED_AT_TAG, SEAL_TAG, VALIDATION_STATUS_TAG

KEY_VARIABLE = "MLOPS_CI_DECISION_KEY"
SEALED_TAGS = (VALIDATION_STATUS_TAG, MERGED_AT_TAG)


def decision_key() -> bytes | None:
    """The sealing key from the environment; None when it is not set."""
    key = os.environ.get(KEY_VARIABLE, "")
    return key.encode("utf-8") if key else None


def seal(key: bytes, version: Any, tags: Mapping[str, str]) -> str:
    """The seal of `version` (an MLflow ModelVersion) carrying `tags`: bound to its model, number and
    run, so it can't be copied onto another version."""
    payload = json.dumps([version.name, str(version.version), version.run_id or "",
                          {name: tags.get(name, "") for name in SEALED_TAGS}], sort_keys=True)
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def sealed(version: Any, tags: Mapping[str, str]) -> dict[str, str]:
    """{SEAL_TAG: seal} for `version` once it carries `tags`, when a key is set; else {}."""
    key = decision_key()
    return {SEAL_TAG: seal(key, version, tags)} if key else {}


def trusted(version: Any) -> bool:
    """Whether the version's verdict may be believed: its seal verifies, or no key is set."""
    key = decision_key()
    if key is None:
        return True
    tags = dict(version.tags or {})
    return hmac.compare_digest(tags.get(SEAL_TAG, ""), seal(key, version, tags))
