"""`mlops-ci protect plan|apply|check`: config schema, GET/PUT normalising, classic and rulesets modes."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from testing.fixtures import ROOT, TEST_REPO

from mlops_ci.clients import github as gh
from mlops_ci.gitflow.protect import classic, rulesets
from mlops_ci.gitflow.protect.config import SCHEMA_PATH, load_config
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.local.github.server import error_body, protection_json

SHIPPED = ROOT / "branch-protection.json"
PROTECTION_PUT = r"/repos/acme/digits/branches/(main|develop)/protection"
CHECKS = ["lint-test / lint-test", "policy / branch-policy"]


def shipped_body() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))["branches"]["main"]


@pytest.fixture(name="env", autouse=True)
def fixture_env(tmp_path, monkeypatch, github_api) -> list[float]:
    """Point the CLI at the stand-in, outside Actions, in a folder holding the shipped config; the
    client's waits are recorded, not slept."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "branch-protection.json").write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GH_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    recorded: list[float] = []
    monkeypatch.setattr(gh, "_default_sleep", recorded.append)
    return recorded


@pytest.fixture(name="waits")
def fixture_waits(env) -> list[float]:
    """The waits the client asked for."""
    return env


@pytest.fixture(name="repo")
def fixture_repo(github_api):
    return github_api.state.repo(TEST_REPO)



def run(capsys, *argv: str, repo: str | None = TEST_REPO) -> tuple[int, str, str]:
    code = main(["protect", *argv, *(["--repo", repo] if repo else [])])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_config(tmp_path: Path, document, name: str = "custom.json") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


# -- the config file and its schema ------------------------------------------------------------------


def test_the_schema_is_valid_and_the_shipped_file_matches_it():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert (ROOT / document["$schema"]).resolve() == SCHEMA_PATH


def test_the_shipped_file_holds_the_sop_settings():
    config = load_config(SHIPPED)
    assert list(config.branches) == ["main", "develop"]
    for body in config.branches.values():
        assert sorted(check["context"] for check in body["required_status_checks"]["checks"]) == CHECKS
        assert body["required_status_checks"]["strict"] is True
        assert body["required_pull_request_reviews"]["required_approving_review_count"] == 1
        assert body["required_pull_request_reviews"]["dismiss_stale_reviews"] is True
        assert body["enforce_admins"] is True and body["restrictions"] is None
        assert body["required_conversation_resolution"] is True
        assert body["allow_force_pushes"] is False and body["allow_deletions"] is False


def broken(change) -> dict:
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    change(document["branches"]["main"])
    return document


@pytest.mark.parametrize(("document", "message"), [
    (broken(lambda body: body.update(enforce_admin=True)), "branches.main.enforce_admin: unknown key"),
    (broken(lambda body: body.pop("restrictions")), "branches.main: 'restrictions' is a required property"),
    (broken(lambda body: body["required_pull_request_reviews"].update(required_approving_review_count=7)),
     "branches.main.required_pull_request_reviews.required_approving_review_count: 7 is greater than"),
    (broken(lambda body: body["required_status_checks"].update(contexts=[])),
     "branches.main.required_status_checks: set `checks` or the deprecated `contexts`, exactly one of them "
     "(GitHub answers 422 to both)"),
    (broken(lambda body: body.update(enforce_admins="yes")),
     "branches.main.enforce_admins: 'yes' is not of type 'boolean', 'null'"),
    (broken(lambda body: body["required_status_checks"]["checks"].append({"name": "x"})),
     "branches.main.required_status_checks.checks[2].name: unknown key"),
    ({"branches": {"release/*": shipped_body()}}, "branches: not a branch name: 'release/*'"),
    ({"branches": {}}, "branches: {} should be non-empty"),
    ({"branch": {}}, "branch: unknown key (allowed: $schema, branches)"),
    ([], "top level: [] is not of type 'object'"),
])
def test_a_bad_config_is_exit_2_naming_the_json_path(tmp_path, capsys, github_api, document, message):
    path = write_config(tmp_path, document)
    code, _, err = run(capsys, "plan", "--config", path)
    assert code == 2 and f"error: {path}: {message}" in err
    assert not github_api.requests  # nothing is asked before the config is valid


def test_malformed_json_names_the_line(tmp_path, capsys, waits):
    path = write_config(tmp_path, '{\n  "branches": {\n    "main": [,]\n}')
    code, _, err = run(capsys, "apply", "--config", path)
    assert code == 2 and f"error: {path}:3: malformed JSON: Expecting value" in err and not waits


def test_a_missing_or_unreadable_config(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: no such config file" in err
    (tmp_path / "latin.json").write_bytes(b"\xff\xfe")
    with pytest.raises(MlopsCiError, match="not UTF-8 text"):
        load_config(tmp_path / "latin.json")
    with pytest.raises(MlopsCiError, match="cannot read the config"):
        load_config(tmp_path)


# -- normalising GitHub's GET shape ------------------------------------------------------------------

API = "https://api.github.com/repos/octocat/hello/branches/main/protection"
# GitHub's documented GET answer, abridged only in the user/team/app objects.
REALISTIC_GET = {
    "url": API,
    "required_status_checks": {
        "url": f"{API}/required_status_checks", "strict": True, "enforcement_level": "non_admins",
        "contexts": ["ci/build", "policy / branch-policy"], "contexts_url": f"{API}/required_status_checks/contexts",
        "checks": [{"context": "policy / branch-policy", "app_id": 15368},
                   {"context": "ci/build", "app_id": None}],
    },
    "required_pull_request_reviews": {
        "url": f"{API}/required_pull_request_reviews",
        "dismissal_restrictions": {
            "url": f"{API}/dismissal_restrictions", "users_url": "u", "teams_url": "t",
            "users": [{"login": "octocat", "id": 1, "type": "User"}, {"login": "hubot", "id": 2}],
            "teams": [{"id": 1, "slug": "justice-league", "name": "Justice League"}],
            "apps": [],
        },
        "bypass_pull_request_allowances": {"users": [], "teams": [], "apps": []},
        "dismiss_stale_reviews": True, "require_code_owner_reviews": True,
        "required_approving_review_count": 2, "require_last_push_approval": True,
    },
    "restrictions": {
        "url": f"{API}/restrictions", "users_url": "u", "teams_url": "t", "apps_url": "a",
        "users": [{"login": "octocat", "id": 1}], "teams": [],
        "apps": [{"id": 1, "slug": "octoapp", "owner": {"login": "github"}}],
    },
    "enforce_admins": {"url": f"{API}/enforce_admins", "enabled": True},
    "required_signatures": {"url": f"{API}/required_signatures", "enabled": False},
    "required_linear_history": {"enabled": True},
    "allow_force_pushes": {"enabled": False},
    "allow_deletions": {"enabled": False},
    "block_creations": {"enabled": True},
    "required_conversation_resolution": {"enabled": True},
    "lock_branch": {"enabled": False},
    "allow_fork_syncing": {"enabled": False},
}


def test_normalise_turns_a_realistic_get_into_put_shape():
    assert classic.normalise(REALISTIC_GET) == {
        "required_status_checks": {"strict": True, "checks": [
            {"context": "ci/build", "app_id": -1}, {"context": "policy / branch-policy", "app_id": 15368}]},
        "enforce_admins": True,
        "required_pull_request_reviews": {
            "required_approving_review_count": 2, "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True, "require_last_push_approval": True,
            "dismissal_restrictions": {"users": ["hubot", "octocat"], "teams": ["justice-league"],
                                       "apps": []},
            "bypass_pull_request_allowances": None},
        "restrictions": {"users": ["octocat"], "teams": [], "apps": ["octoapp"]},
        "required_linear_history": True, "allow_force_pushes": False, "allow_deletions": False,
        "block_creations": True, "required_conversation_resolution": True, "lock_branch": False,
        "allow_fork_syncing": False,
    }


def test_normalise_of_a_minimal_get_and_of_nothing_is_the_unprotected_state():
    unprotected = classic.normalise(None)
    assert unprotected == classic.normalise({"url": API, "enforce_admins": {"url": "x", "enabled": False}})
    assert unprotected["required_status_checks"] is None and unprotected["restrictions"] is None
    assert unprotected["enforce_admins"] is False and unprotected["allow_deletions"] is False


def test_a_put_body_and_githubs_get_of_it_are_equal_after_normalising():
    body = shipped_body()
    put, got = classic.normalise(body), classic.normalise(protection_json(API, body))
    # a check sent without an app comes back with app_id null, "any app" (-1); the diff accepts it
    assert {**put, "required_status_checks": None} == {**got, "required_status_checks": None}
    assert {check["app_id"] for check in got["required_status_checks"]["checks"]} == {classic.ANY_APP}
    assert not classic.diff_protection(body, protection_json(API, body))
    legacy = {**body, "required_status_checks": {"strict": True, "contexts": CHECKS}}
    assert not classic.diff_protection(legacy, protection_json(API, body))


def test_a_check_without_an_app_matches_any_app_one_with_an_app_must_match():
    body = shipped_body()
    current = copy.deepcopy(protection_json(API, body))
    for check in current["required_status_checks"]["checks"]:
        check["app_id"] = 15368  # GitHub fills in the app that reported the check
    assert not classic.diff_protection(body, current)
    pinned = copy.deepcopy(body)
    pinned["required_status_checks"]["checks"][0]["app_id"] = 1
    changes = classic.diff_protection(pinned, current)
    assert [change.path for change in changes] == ["required_status_checks.checks"]
    assert "policy / branch-policy" in str(changes[0]) and '"app_id": 1' in str(changes[0])


def test_any_app_is_minus_one_in_a_put_and_null_in_githubs_get():
    body = copy.deepcopy(shipped_body())
    for check in body["required_status_checks"]["checks"]:
        check["app_id"] = -1
    current = copy.deepcopy(protection_json(API, body))
    for check in current["required_status_checks"]["checks"]:
        check["app_id"] = None
    assert not classic.diff_protection(body, current)
    current["required_status_checks"]["checks"][0]["app_id"] = 15368  # pinned to one app: drift
    assert [change.path for change in classic.diff_protection(body, current)] == ["required_status_checks.checks"]


def test_diff_lines_read_path_current_desired():
    current = copy.deepcopy(shipped_body())
    current["required_pull_request_reviews"]["required_approving_review_count"] = 0
    current["required_status_checks"] = None
    lines = [str(change) for change in classic.diff_protection(shipped_body(), current)]
    assert lines == [
        'required_status_checks: null -> {"strict": true, "checks": ["lint-test / lint-test", '
        '"policy / branch-policy"]}',
        "required_pull_request_reviews.required_approving_review_count: 0 -> 1"]


# -- classic: plan, apply, check -----------------------------------------------------------------------


def test_plan_on_an_unprotected_repository_changes_nothing(capsys, github_api):
    code, out, _ = run(capsys, "plan")
    assert code == 0 and not github_api.writes()
    assert "main: enforce_admins: false -> true" in out
    assert "develop: required_conversation_resolution: false -> true" in out
    assert "main: required_pull_request_reviews: null -> {\"required_approving_review_count\": 1" in out
    assert out.splitlines()[-1].startswith("protect plan: 2 of 2 branch(es) would change: main, develop")


def test_apply_then_a_second_apply_sends_no_write(capsys, github_api, repo):
    code, out, _ = run(capsys, "apply")
    assert code == 0 and "main: applied" in out and "develop: applied" in out
    assert [(record.method, record.path) for record in github_api.writes()] == [
        ("PUT", "/repos/acme/digits/branches/main/protection"),
        ("PUT", "/repos/acme/digits/branches/develop/protection")]
    config = load_config(SHIPPED)
    assert repo.protection == config.branches  # exactly GitHub's PUT body, as written
    writes = len(github_api.writes())
    code, out, _ = run(capsys, "apply")
    assert code == 0 and len(github_api.writes()) == writes
    assert "main: in sync" in out and "0 branch(es) updated, 2 already in sync" in out
    code, out, _ = run(capsys, "plan")
    assert code == 0 and "in sync, nothing to apply" in out
    code, out, _ = run(capsys, "check")
    assert code == 0 and "protect check: in sync" in out


def test_apply_writes_only_the_branch_that_differs(capsys, github_api, repo):
    repo.protection["develop"] = copy.deepcopy(shipped_body())
    code, out, _ = run(capsys, "apply")
    assert code == 0 and "1 branch(es) updated, 1 already in sync" in out
    assert [record.path for record in github_api.writes()] == ["/repos/acme/digits/branches/main/protection"]


def test_check_reports_drift_with_exit_1(capsys, repo):
    assert run(capsys, "apply")[0] == 0
    repo.protection["main"]["required_pull_request_reviews"]["required_approving_review_count"] = 0
    repo.protection["develop"]["allow_force_pushes"] = True
    code, out, err = run(capsys, "check")
    assert code == 1 and not err
    assert "main: required_pull_request_reviews.required_approving_review_count: 0 -> 1" in out
    assert "develop: allow_force_pushes: true -> false" in out
    assert "2 of 2 branch(es) drifted: main, develop" in out


def test_check_in_actions_annotates_each_drifted_branch_and_writes_a_summary(capsys, repo, actions):
    repo.protection["develop"] = copy.deepcopy(shipped_body())
    repo.protection["main"] = {**copy.deepcopy(shipped_body()), "enforce_admins": False}
    code, out, _ = run(capsys, "check")
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert annotations == ["::error title=branch protection drift::main: drifted from "
                           "branch-protection.json: enforce_admins: false -> true"]
    summary = actions.read_text(encoding="utf-8")
    assert summary.startswith("### protect check: ❌ 1 of 2 branch(es) differ")
    assert "| main | ❌ 1 difference(s) | enforce\\_admins: false -&gt; true |" in summary
    assert "| develop | ✅ in sync |  |" in summary


def test_plan_in_actions_writes_a_summary(capsys, actions):
    assert run(capsys, "plan")[0] == 0
    assert "### protect plan: ❌ 2 of 2 branch(es) differ" in actions.read_text(encoding="utf-8")


def test_an_unknown_branch_fails_before_any_write(tmp_path, capsys, github_api):
    path = write_config(tmp_path, {"branches": {"main": shipped_body(), "release": shipped_body()}})
    code, _, err = run(capsys, "apply", "--config", path)
    assert code == 2 and not github_api.writes()
    assert f"error: {path}: branch 'release' does not exist in acme/digits" in err


def test_an_unknown_repository(capsys, github_api):
    code, _, err = run(capsys, "plan", repo="acme/nope")
    assert code == 2 and "repository acme/nope not found, or the token cannot see it" in err
    assert len(github_api.requests) == 1


def test_a_token_without_admin_rights_fails_before_any_write(capsys, github_api, monkeypatch):
    github_api.state.add_token("reader-token", admin=False)
    monkeypatch.setenv("GITHUB_TOKEN", "reader-token")
    code, _, err = run(capsys, "apply")
    assert code == 2 and not github_api.writes()
    assert "the token has no admin rights on acme/digits" in err
    for command in ("check", "plan"):  # GitHub hides protection from it with a 404: not drift
        code, out, err = run(capsys, command)
        assert code == 2 and "drift" not in out and len(err.strip().splitlines()) == 1
        assert "cannot read the protection of 'main' in acme/digits (404 Not Found): the token likely " \
               "lacks admin rights" in err


def test_a_403_on_the_write_reports_githubs_message(capsys, github_api):
    denied = error_body(403, "Must have admin rights to Repository.")
    github_api.inject("PUT", PROTECTION_PUT, 403, body=denied)
    code, _, err = run(capsys, "apply")
    assert code == 2 and len(github_api.writes()) == 1
    assert "apply stopped at main: GitHub API PUT /repos/acme/digits/branches/main/protection: " \
           "403 Must have admin rights to Repository." in err
    assert "applied: none; not applied: main, develop" in err


def test_a_422_is_exit_2_with_githubs_message_and_errors(capsys, github_api, repo):
    errors = [{"resource": "ProtectedBranch", "field": "required_status_checks", "code": "invalid",
               "message": "Required status checks must be configured"}]
    github_api.inject("PUT", PROTECTION_PUT, 422, body=error_body(422, "Validation Failed", errors))
    code, _, err = run(capsys, "apply")
    assert code == 2 and not repo.protection
    assert "422 Validation Failed (Required status checks must be configured)" in err


def test_a_failure_midway_names_what_was_applied_and_a_rerun_converges(capsys, github_api, repo, waits):
    github_api.inject("PUT", r"/repos/acme/digits/branches/develop/protection", 502, times=3)
    code, out, err = run(capsys, "apply")
    assert code == 2 and waits == [1, 2]
    assert "main: applied" in out and "develop: applied" not in out
    assert "apply stopped at develop:" in err and "502 Bad Gateway: gave up after 3 tries" in err
    assert "applied: main; not applied: develop (GitHub has no transaction across branches" in err
    assert list(repo.protection) == ["main"]
    before = len(github_api.writes())
    code, out, _ = run(capsys, "apply")
    assert code == 0 and "1 branch(es) updated, 1 already in sync" in out
    assert [record.path for record in github_api.writes()[before:]] == [
        "/repos/acme/digits/branches/develop/protection"]


def test_rate_limits_are_waited_out(capsys, github_api, waits):
    github_api.rate_limit("GET", r"/repos/acme/digits/branches/main/protection", retry_after=7)
    github_api.rate_limit("PUT", r"/repos/acme/digits/branches/develop/protection", reset_in=20)
    code, out, _ = run(capsys, "apply")
    assert code == 0 and "2 branch(es) updated" in out
    assert waits[0] == 7 and 19 <= waits[1] <= 22 and len(waits) == 2


def test_settings_github_does_not_keep_are_reported(capsys, github_api):
    body = protection_json("u", {**shipped_body(), "required_conversation_resolution": False})
    github_api.inject("PUT", PROTECTION_PUT, 200, body=body)
    code, out, err = run(capsys, "apply")
    assert code == 1
    assert "warning: main: GitHub accepted the settings but reports required_conversation_resolution: " \
           "false -> true" in err
    assert "GitHub reports different settings on main after the write" in out


def test_the_repository_defaults_to_github_repository(capsys, monkeypatch):
    code, _, err = run(capsys, "plan", repo=None)
    assert code == 2 and "--repo OWNER/NAME is required" in err
    monkeypatch.setenv("GITHUB_REPOSITORY", TEST_REPO)
    assert run(capsys, "plan", repo=None)[0] == 0
    code, _, err = run(capsys, "plan", repo="not a repo")
    assert code == 2 and "--repo: not OWNER/NAME: 'not a repo'" in err


def test_enforcement_needs_rulesets_mode(capsys):
    code, _, err = run(capsys, "plan", "--enforcement", "evaluate")
    assert code == 2 and "--enforcement applies to --mode rulesets only" in err


# -- rulesets ------------------------------------------------------------------------------------------


def test_to_ruleset_translates_the_shipped_settings():
    ruleset = rulesets.to_ruleset("main", shipped_body(), "evaluate")
    assert ruleset["name"] == "mlops-ci branch protection (main)"
    assert ruleset["enforcement"] == "evaluate" and ruleset["target"] == "branch"
    assert ruleset["conditions"] == {"ref_name": {"include": ["refs/heads/main"], "exclude": []}}
    assert not ruleset["bypass_actors"]
    assert ruleset["rules"] == [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {"type": "pull_request", "parameters": {
            "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": False, "require_last_push_approval": False,
            "required_review_thread_resolution": True}},
        {"type": "required_status_checks", "parameters": {
            "strict_required_status_checks_policy": True,
            "required_status_checks": [{"context": "lint-test / lint-test"},
                                       {"context": "policy / branch-policy"}]}},
    ]


def test_to_ruleset_translates_the_other_flags():
    checks = {"strict": False, "checks": [{"context": "ci", "app_id": 7}]}
    body = {"required_status_checks": checks, "enforce_admins": False, "required_pull_request_reviews": None,
            "restrictions": None, "allow_deletions": True, "allow_force_pushes": True,
            "block_creations": True, "lock_branch": True, "allow_fork_syncing": True, "required_linear_history": True,
            "required_conversation_resolution": True}
    ruleset = rulesets.to_ruleset("develop", body)
    assert ruleset["bypass_actors"] == [
        {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    rules = {rule["type"]: rule.get("parameters") for rule in ruleset["rules"]}
    assert list(rules) == ["creation", "update", "required_linear_history", "pull_request",
                           "required_status_checks"]
    assert rules["update"] == {"update_allows_fetch_and_merge": True}
    assert rules["pull_request"]["required_approving_review_count"] == 0
    assert rules["pull_request"]["required_review_thread_resolution"] is True
    assert rules["required_status_checks"]["required_status_checks"] == [
        {"context": "ci", "integration_id": 7}]


def test_rulesets_plan_apply_and_a_second_apply_without_writes(capsys, github_api, repo):
    code, out, _ = run(capsys, "plan", "--mode", "rulesets")
    assert code == 0 and not github_api.writes()
    assert "main: ruleset 'mlops-ci branch protection (main)' does not exist yet" in out
    assert "main: rules.deletion: null -> true" in out
    assert "develop: enforcement: null -> active" in out
    code, out, _ = run(capsys, "apply", "--mode", "rulesets")
    assert code == 0 and "2 branch(es) updated" in out
    assert [(record.method, record.path) for record in github_api.writes()] == [
        ("POST", "/repos/acme/digits/rulesets"), ("POST", "/repos/acme/digits/rulesets")]
    assert sorted(ruleset.name for ruleset in repo.rulesets.values()) == [
        "mlops-ci branch protection (develop)", "mlops-ci branch protection (main)"]
    assert {rule["type"] for _, rule in repo.rules_for_branch("develop")} == {
        "deletion", "non_fast_forward", "pull_request", "required_status_checks"}
    writes = len(github_api.writes())
    code, out, _ = run(capsys, "apply", "--mode", "rulesets")
    assert code == 0 and len(github_api.writes()) == writes and "2 already in sync" in out
    assert run(capsys, "check", "--mode", "rulesets")[0] == 0


def test_rulesets_evaluate_is_a_dry_run_and_switching_updates_in_place(capsys, github_api, repo):
    code, _, _ = run(capsys, "apply", "--mode", "rulesets", "--enforcement", "evaluate")
    assert code == 0 and {ruleset.enforcement for ruleset in repo.rulesets.values()} == {"evaluate"}
    assert not repo.rules_for_branch("main")  # evaluate: GitHub reports, enforces nothing
    code, out, _ = run(capsys, "check", "--mode", "rulesets")
    assert code == 1 and "main: enforcement: evaluate -> active" in out
    before = len(github_api.writes())
    assert run(capsys, "apply", "--mode", "rulesets")[0] == 0
    assert [(record.method, record.path) for record in github_api.writes()[before:]] == [
        ("PUT", "/repos/acme/digits/rulesets/1"), ("PUT", "/repos/acme/digits/rulesets/2")]
    assert len(repo.rulesets) == 2 and repo.rules_for_branch("main")


def test_rulesets_drift_and_githubs_extra_parameters(capsys, repo):
    assert run(capsys, "apply", "--mode", "rulesets")[0] == 0
    main_ruleset = next(r for r in repo.rulesets.values() if r.name.endswith("(main)"))
    for rule in main_ruleset.rules:  # GitHub adds parameters with defaults: not drift
        if rule["type"] == "pull_request":
            rule["parameters"]["allowed_merge_methods"] = ["merge", "squash", "rebase"]
        if rule["type"] == "required_status_checks":
            rule["parameters"]["do_not_enforce_on_create"] = False
            for check in rule["parameters"]["required_status_checks"]:
                check["integration_id"] = 15368
    assert run(capsys, "check", "--mode", "rulesets")[0] == 0
    main_ruleset.rules = [rule for rule in main_ruleset.rules if rule["type"] != "deletion"]
    main_ruleset.rules.append({"type": "required_signatures"})
    code, out, _ = run(capsys, "check", "--mode", "rulesets")
    assert code == 1
    assert "main: rules.deletion: null -> true" in out
    assert "main: rules.required_signatures: true -> null" in out


def test_rulesets_bypass_actors_hidden_from_a_read_only_token_are_not_drift(capsys, github_api, monkeypatch):
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    for body in document["branches"].values():
        body["enforce_admins"] = False  # admins may bypass: a bypass actor in each ruleset
    Path("branch-protection.json").write_text(json.dumps(document), encoding="utf-8")
    assert run(capsys, "apply", "--mode", "rulesets")[0] == 0
    github_api.state.add_token("reader", read_only=True, admin=False)
    monkeypatch.setenv("GITHUB_TOKEN", "reader")
    code, out, _ = run(capsys, "check", "--mode", "rulesets")
    assert code == 0, out
    assert "main: the token cannot see the ruleset's bypass_actors (only those who may edit it can): " \
           "compared without them" in out


def test_evaluate_says_it_is_an_enterprise_feature(capsys):
    code, out, _ = run(capsys, "plan", "--mode", "rulesets", "--enforcement", "evaluate")
    assert code == 0 and "--enforcement evaluate is a GitHub Enterprise feature" in out


def test_rulesets_of_others_and_of_the_organisation_are_left_alone(capsys, github_api, repo):
    repo.create_ruleset({"name": "team rules", "enforcement": "active", "rules": [{"type": "creation"}]})
    assert run(capsys, "apply", "--mode", "rulesets")[0] == 0
    assert len(repo.rulesets) == 3 and len(github_api.writes()) == 2


def test_a_ruleset_post_is_not_repeated_after_a_server_error(capsys, github_api, repo):
    github_api.inject("POST", r"/repos/acme/digits/rulesets", 502)
    code, _, err = run(capsys, "apply", "--mode", "rulesets")
    assert code == 2 and len(github_api.writes()) == 1 and not repo.rulesets
    assert "not retried: the request may have been applied" in err and "applied: none" in err
    assert run(capsys, "apply", "--mode", "rulesets")[0] == 0
    assert len(repo.rulesets) == 2


def test_settings_a_ruleset_cannot_express_are_refused_before_any_write(tmp_path, capsys, github_api):
    body = {**shipped_body(), "restrictions": {"users": ["octocat"], "teams": []}}
    path = write_config(tmp_path, {"branches": {"main": body}})
    code, _, err = run(capsys, "apply", "--mode", "rulesets", "--config", path)
    assert code == 2 and not github_api.writes()
    assert "not expressible as a repository ruleset: main: restrictions" in err
    assert rulesets.untranslatable({**shipped_body(), "allow_fork_syncing": True}) == [
        "allow_fork_syncing (without lock_branch)"]
    assert rulesets.untranslatable({**shipped_body(), "restrictions": {"users": [], "teams": []}}) == [
        "restrictions"]
    reviews = {"required_approving_review_count": 1, "dismissal_restrictions": {"users": ["octocat"]},
               "bypass_pull_request_allowances": {"users": [], "teams": [], "apps": []}}
    assert rulesets.untranslatable({**shipped_body(), "required_pull_request_reviews": reviews}) == [
        "required_pull_request_reviews.dismissal_restrictions"]


def test_a_ruleset_github_answers_differently_is_reported(capsys, github_api):
    github_api.inject("POST", r"/repos/acme/digits/rulesets", 201, times=2, body={"name": "x", "rules": []})
    code, _, err = run(capsys, "apply", "--mode", "rulesets")
    assert code == 1 and "GitHub accepted the settings but reports enforcement: null -> active" in err


def test_to_ruleset_of_a_bare_body_only_guards_history():
    body = {"required_status_checks": None, "enforce_admins": None, "required_pull_request_reviews": None,
            "restrictions": None}
    rules = rulesets.to_ruleset("main", body)["rules"]
    assert [rule["type"] for rule in rules] == ["deletion", "non_fast_forward"]


def test_a_schema_error_under_a_branch_with_a_slash_quotes_it(tmp_path):
    path = write_config(tmp_path, {"branches": {"release/1.0": {**shipped_body(), "lock_branch": 1}}})
    with pytest.raises(MlopsCiError, match=r'branches\["release/1.0"\].lock_branch: 1 is not of type'):
        load_config(path)
