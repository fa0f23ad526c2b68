"""Caller templates: each is valid, has its properties file, and becomes a project's workflow."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from mlops_ci.project import templates

ROOT = Path(__file__).resolve().parents[3]


def test_instantiate_pins_org_and_ref_and_fills_placeholders():
    text = ("on: {pull_request: {branches: [$default-branch]}}\njobs:\n  a:\n"
            "    uses: org/mlops-ci/.github/workflows/x.yml@v1\n"
            "  b:\n    uses: someone/else/.github/workflows/y.yml@v1\n")
    result = templates.instantiate(text, org="acme", ref="v1.4.0", default_branch="trunk")
    assert "uses: acme/mlops-ci/.github/workflows/x.yml@v1.4.0" in result
    assert "uses: someone/else/.github/workflows/y.yml@v1" in result
    assert "branches: [trunk]" in result


def test_every_template_has_properties_and_parses():
    files = templates.template_files(ROOT)
    assert files
    for template in files:
        properties = json.loads(template.with_suffix(".properties.json").read_text())
        assert properties["name"] and properties["description"]
        workflow = yaml.safe_load(templates.instantiate(template.read_text(), org="acme", ref="v1"))
        assert workflow["permissions"] == {}, f"{template.name}: top-level permissions must be empty"


def test_properties_follow_githubs_format_with_icon_and_categories():
    schema = json.loads((ROOT / "tools" / "schemas" / "workflow-template-properties.schema.json").read_text())
    for template in templates.template_files(ROOT):
        properties = json.loads(template.with_suffix(".properties.json").read_text())
        jsonschema.validate(properties, schema)
        assert properties["iconName"] and properties["categories"], template.name


def _template(name: str) -> dict:
    return yaml.safe_load(templates.instantiate((ROOT / "workflows-templates" / name).read_text(),
                                                org="acme", ref="v1"))


def _reusable(uses: str) -> dict:
    path = uses.split("/", 2)[2].split("@", 1)[0]  # acme/mlops-ci/.github/workflows/x.yml@v1
    return yaml.safe_load((ROOT / path).read_text())


def test_every_template_maps_every_secret_its_reusable_workflow_declares():
    # Secrets are not inherited: one a reusable workflow declares but the caller does not map is
    # silently empty there (e.g. MLflow basic auth, which docs/admins/index.md recommends).
    for template in templates.template_files(ROOT):
        for job_id, job in _template(template.name)["jobs"].items():
            if "uses" not in job:
                continue
            declared = _reusable(job["uses"])[True]["workflow_call"].get("secrets", {})
            assert set(declared) == set(job.get("secrets", {})), f"{template.name}: {job_id}"


def test_a_pr_edit_reruns_only_the_policy_check_and_cancels_no_training():
    workflow = _template("mlops-ci-pull-request.yml")
    assert "edited" in workflow[True]["pull_request"]["types"]
    group = workflow["concurrency"]["group"]
    # The group of an `edited` run differs from a push's: cancel-in-progress never reaches training.
    assert "github.event.action == 'edited'" in group, group
    jobs = workflow["jobs"]
    assert "if" not in jobs["policy"]
    for job_id in ("lint-test", "train"):
        assert jobs[job_id]["if"] == "${{ github.event.action != 'edited' }}", job_id


def test_promotions_rollbacks_and_canary_moves_are_never_queued_behind_a_concurrency_group():
    # GitHub cancels an older *pending* run when a newer one queues in the same group, even with
    # cancel-in-progress: false: a promotion or rollback there could be silently dropped.
    def groups(workflow: dict) -> list:
        return [workflow.get("concurrency")] + [job.get("concurrency") for job in workflow["jobs"].values()]

    for name in ("promote", "rollback", "canary"):
        reusable = yaml.safe_load((ROOT / ".github" / "workflows" / f"{name}.yml").read_text())
        assert not any(groups(reusable)), name
        assert not any(groups(_template(f"mlops-ci-{name}.yml"))), name
    monitor = yaml.safe_load((ROOT / ".github" / "workflows" / "monitor.yml").read_text())
    assert not monitor.get("concurrency") and not monitor["jobs"]["rollback"].get("concurrency")


def test_the_champion_moves_only_inside_a_deployment_environment():
    """promote, rollback and canary jobs (and the monitor's rollback) run in an environment that holds
    the decision key (deployment branch main: docs/admins/security.md); no training workflow gets the
    key; the rollback template names no free-text model."""
    for name, job_id, default in (("promote", "promote", "production"), ("rollback", "rollback", "production"),
                                  ("canary", "canary", "production-auto"),
                                  ("monitor", "rollback", "production-auto")):
        reusable = yaml.safe_load((ROOT / ".github" / "workflows" / f"{name}.yml").read_text())
        assert reusable[True]["workflow_call"]["inputs"]["environment"]["default"] == default, name
        job = reusable["jobs"][job_id]
        assert job["environment"] == "${{ inputs.environment }}", name
        assert job["env"]["MLOPS_CI_DECISION_KEY"] == "${{ secrets.decision-key }}", name
    for name in ("train", "retrain", "lint-test", "branch-policy"):
        assert "decision-key" not in (ROOT / ".github" / "workflows" / f"{name}.yml").read_text(), name
    for name in ("pull-request", "retrain-schedule"):
        assert "DECISION_KEY" not in (ROOT / "workflows-templates" / f"mlops-ci-{name}.yml").read_text(), name
    rollback = _template("mlops-ci-rollback.yml")
    assert "model" not in rollback[True]["workflow_dispatch"]["inputs"]
    assert rollback["jobs"]["rollback"]["with"]["model-name"] == "${{ vars.MLOPS_CI_MODEL_NAME }}"


def test_the_report_job_checks_trust_from_the_event_not_only_from_plans_outputs():
    """plan runs mlops-ci in the PR's checkout; the report job, which gets the secrets and may write
    to the PR, must not open on plan's word alone (a planted module could set its outputs)."""
    report = yaml.safe_load((ROOT / ".github" / "workflows" / "train.yml").read_text())["jobs"]["report"]
    condition = " ".join(report["if"].split())
    assert "needs.plan.outputs.trusted == 'true'" in condition
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    assert ("contains(fromJSON('[\"OWNER\", \"MEMBER\", \"COLLABORATOR\"]'), "
            "github.event.pull_request.author_association)") in condition
