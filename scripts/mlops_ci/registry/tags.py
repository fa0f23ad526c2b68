"""mlops-ci's tags on the MLflow Model Registry: every `mlops_ci.*` name and value, in one place.

A version's story is kept on it as tags, written by `train run`/`train reuse` (who trained it, from
what), `promote` (the gates' verdict, the promotion), `rollback` and `canary abort` (why it was taken
back); a registered model's canary state is kept in model tags (`canary`, read by `serve`). Each
constant is named after its tag: VALIDATION_STATUS_TAG is `mlops_ci.validation_status`.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlops_ci.core.errors import MlopsCiError

TAG_PREFIX = "mlops_ci."
DEFAULT_ALIAS = "champion"       # the alias promote moves, report compares with and serve loads
CHALLENGER_ALIAS = "challenger"  # the canary version, serve's B arm

# What trained a version (`train run`: version_tags).
PR_TAG = f"{TAG_PREFIX}pr"        # the PR that trained it; pr_tag(N) for every PR it was reviewed in
COMMIT_TAG = f"{TAG_PREFIX}commit"
BRANCH_TAG = f"{TAG_PREFIX}branch"
RUN_URL_TAG = f"{TAG_PREFIX}run_url"            # the workflow run that trained it
FINGERPRINT_TAG = f"{TAG_PREFIX}fingerprint"    # its pipeline's fingerprint (training.fingerprint)
DATA_TAG_PREFIX = f"{TAG_PREFIX}data."            # + a .dvc file's path: the data's DVC hash (data_tag)
# On copies made by `promote --copy-to` (they carry the other tags too): the MODEL/VERSION copied.
COPIED_FROM_TAG = f"{TAG_PREFIX}copied_from"

# Promotion's verdict on a version; a rolled-back version is never promoted again.
VALIDATION_STATUS_TAG = f"{TAG_PREFIX}validation_status"
PASSED, FAILED, ROLLED_BACK = "passed", "failed", "rolled_back"
GATES_TAG = f"{TAG_PREFIX}gates"
VALIDATION_REASON_TAG = f"{TAG_PREFIX}validation_reason"
VALIDATED_AT_TAG = f"{TAG_PREFIX}validated_at"
MERGED_AT_TAG = f"{TAG_PREFIX}merged_at"        # orders racing promotions: the last merge is the champion
PREVIOUS_CHAMPION_TAG = f"{TAG_PREFIX}previous_champion"
PROMOTED_AT_TAG = f"{TAG_PREFIX}promoted_at"
PROMOTED_BY_TAG = f"{TAG_PREFIX}promoted_by"
PROMOTION_RUN_URL_TAG = f"{TAG_PREFIX}promotion_run_url"
SEAL_TAG = f"{TAG_PREFIX}seal"                  # promotion's HMAC over the verdict (registry.seal)

# A rollback's record on the version rolled back from (rollback_tags).
ROLLBACK_REASON_TAG = f"{TAG_PREFIX}rollback_reason"
ROLLBACK_TAGS = (ROLLBACK_REASON_TAG, *(f"{TAG_PREFIX}{name}" for name in
                                       ("rolled_back_at", "rolled_back_by", "rolled_back_to")))
# On a version a `rollback --force` restored although it had not passed (or was rolled back): who,
# when, why and its status then. Its validation_status is left as it was.
FORCED_TAG = f"{TAG_PREFIX}forced"

# A running canary, as registered-model tags (registry.canary): it runs while the fraction exists.
CANARY_VERSION_TAG = f"{TAG_PREFIX}canary.version"
CANARY_STARTED_AT_TAG = f"{TAG_PREFIX}canary.started_at"
CANARY_FRACTION_TAG = f"{TAG_PREFIX}canary.fraction"


def pr_tag(pr: str) -> str:
    """The tag (value "true") that every PR a version was trained or reused for puts on it: a version
    reviewed in several PRs (a feature PR, then the release PR) carries one per PR."""
    return f"{PR_TAG}.{pr}"


def data_tag(dvc_file: str) -> str:
    """The tag whose value is the DVC hash of the data that `dvc_file` (e.g. data/raw.dvc) tracks."""
    return f"{DATA_TAG_PREFIX}{dvc_file.removesuffix('.dvc')}"


def version_tags(environ: Mapping[str, str], pr: str | None, digest: str = "") -> dict[str, str]:
    """The tags mlops-ci keeps on every model version it registers (what promotion and the reuse of
    an already trained pipeline look up), from the workflow's environment."""
    tags = {COMMIT_TAG: environ.get("GITHUB_SHA", ""),
            BRANCH_TAG: environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME", ""),
            PR_TAG: pr or "", **({pr_tag(pr): "true"} if pr else {}), FINGERPRINT_TAG: digest}
    if all(environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        tags[RUN_URL_TAG] = (f"{environ['GITHUB_SERVER_URL']}/{environ['GITHUB_REPOSITORY']}"
                             f"/actions/runs/{environ['GITHUB_RUN_ID']}")
    return {name: value for name, value in tags.items() if value}


def rollback_tags(reason: str, to: str, stamp: str, who: str) -> dict[str, str]:
    """The record of a version rolled back (with VALIDATION_STATUS_TAG rolled_back, written in the
    caller's order)."""
    return dict(zip(ROLLBACK_TAGS, (reason, stamp, who, to)))


def rollback_reason(tags: Mapping[str, str] | None) -> str:
    """Why a rolled-back version was rolled back, from its tags."""
    return (tags or {}).get(ROLLBACK_REASON_TAG, "no reason given")


def recorded_reason(text: str) -> str:
    """A --reason as it is recorded on a version: one line, not empty."""
    reason = " ".join(text.split())
    if not reason:
        raise MlopsCiError("--reason: say why (it is recorded on the version)")
    return reason
