"""The GitHub REST stand-in: routes and JSON shapes, paging, auth, injected failures, state file."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from testing.fixtures import TEST_REPO, TEST_TOKEN, github_http, seeded_github_state

from mlops_ci.local.github import server as github_module
from mlops_ci.local.github.state import COMMENT_BODY_LIMIT, GitHubState, ref_pattern_matches
from testing import github as stand_in
from testing.github import GitHubStandIn

REPO = f"/repos/{TEST_REPO}"
PROTECTION = {
    "required_status_checks": {
        "strict": True,
        "checks": [{"context": "policy / branch-policy"}],
    },
    "enforce_admins": True,
    "required_pull_request_reviews": {"required_approving_review_count": 1, "dismiss_stale_reviews": True},
    "restrictions": None,
    "required_linear_history": True,
    "allow_force_pushes": False,
}
RULESET = {
    "name": "main",
    "target": "branch",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "rules": [
        {"type": "deletion"},
        {"type": "pull_request", "parameters": {  # GitHub's schema requires all five
            "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": False, "require_last_push_approval": False,
            "required_review_thread_resolution": False}},
    ],
}


@pytest.fixture(name="repo")
def fixture_repo(github_api: GitHubStandIn):
    """The seeded repository's state."""
    return github_api.state.repo(TEST_REPO)


@pytest.fixture(name="pull")
def fixture_pull(repo):
    """An open pull request develop -> main."""
    return repo.add_pull("develop", "main", title="Release 1", body="notes")


def error_message(response: httpx.Response) -> str:
    """The ``message`` of a GitHub error response."""
    return response.json()["message"]


def saved_comments(state_file: Path) -> list[str]:
    """Comment bodies on the test repository in a state file."""
    return [comment.body for comment in GitHubState.load(state_file).repo(TEST_REPO).comments.values()]


# -- repository, branches ----------------------------------------------------------------------------


def test_repository_shape(github_client):
    response = github_client.get(REPO)
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == TEST_REPO and body["name"] == "digits"
    assert body["default_branch"] == "main"
    assert (body["owner"]["login"], body["owner"]["type"]) == ("acme", "Organization")
    assert body["permissions"] == {"admin": True, "push": True, "pull": True}
    assert response.headers["x-ratelimit-limit"] == "5000"


def test_branch_shape_and_unknown_branch(github_client, repo):
    sha = repo.add_branch("feature/PROJ-1-x")
    body = github_client.get(f"{REPO}/branches/feature/PROJ-1-x").json()
    assert body["name"] == "feature/PROJ-1-x" and body["commit"]["sha"] == sha and body["protected"] is False
    assert body["protection_url"].endswith("/branches/feature/PROJ-1-x/protection")
    missing = github_client.get(f"{REPO}/branches/nope")
    assert (missing.status_code, error_message(missing)) == (404, "Branch not found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/repos/acme/unknown"), ("POST", REPO), ("GET", f"{REPO}/pulls/99")],
)
def test_unknown_things_are_404(github_client, method, path):
    response = github_client.request(method, path)
    assert (response.status_code, error_message(response)) == (404, "Not Found")


def test_repository_lookup_ignores_case(github_client):
    assert github_client.get("/repos/ACME/Digits").json()["full_name"] == TEST_REPO


# -- branch protection -------------------------------------------------------------------------------


def test_protection_put_then_get_has_githubs_get_shape(github_client, repo):
    url = f"{REPO}/branches/main/protection"
    missing = github_client.get(url)
    assert (missing.status_code, error_message(missing)) == (404, "Branch not protected")
    put = github_client.put(url, json=PROTECTION)
    assert put.status_code == 200
    body = github_client.get(url).json()
    assert put.json() == body
    assert body["url"].endswith(url)
    assert body["enforce_admins"] == {"url": body["url"] + "/enforce_admins", "enabled": True}
    assert body["required_linear_history"] == {"enabled": True}
    assert body["allow_force_pushes"] == {"enabled": False}
    assert body["required_status_checks"]["contexts"] == ["policy / branch-policy"]
    assert body["required_status_checks"]["checks"] == [{"context": "policy / branch-policy", "app_id": None}]
    assert body["required_status_checks"]["strict"] is True
    reviews = body["required_pull_request_reviews"]
    assert reviews["required_approving_review_count"] == 1 and reviews["dismiss_stale_reviews"] is True
    assert reviews["url"].endswith("/protection/required_pull_request_reviews")
    assert "restrictions" not in body  # PUT as null: absent from GET
    assert repo.protection["main"] == PROTECTION  # the state keeps what was PUT
    assert github_client.get(f"{REPO}/branches/main").json()["protected"] is True


def test_protection_get_shape_of_contexts_restrictions_and_dismissal(github_client):
    body = {
        "required_status_checks": {"strict": False, "contexts": ["ci"]},
        "enforce_admins": None,
        "required_pull_request_reviews": {"dismissal_restrictions": {"users": ["octocat"], "teams": ["ml"]}},
        "restrictions": {"users": ["octocat"], "teams": ["ml"], "apps": []},
    }
    got = github_client.put(f"{REPO}/branches/develop/protection", json=body).json()
    assert got["required_status_checks"]["checks"] == [{"context": "ci", "app_id": None}]
    assert got["enforce_admins"]["enabled"] is False
    assert got["restrictions"]["users"][0]["login"] == "octocat"
    assert [(team["slug"], team["name"]) for team in got["restrictions"]["teams"]] == [("ml", "ml")]
    dismissal = got["required_pull_request_reviews"]["dismissal_restrictions"]
    assert [user["login"] for user in dismissal["users"]] == ["octocat"]


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (["restrictions"], 'Invalid request.\n\n"restrictions" wasn\'t supplied.'),
        (
            ["enforce_admins", "restrictions"],
            'Invalid request.\n\n"enforce_admins", "restrictions" weren\'t supplied.',
        ),
    ],
)
def test_protection_put_requires_the_four_keys(github_client, repo, drop, message):
    body = {key: value for key, value in PROTECTION.items() if key not in drop}
    response = github_client.put(f"{REPO}/branches/main/protection", json=body)
    assert response.status_code == 422
    assert response.json() == {
        "message": message,
        "documentation_url": github_module.DOCS_URL,
        "status": "422",
    }
    assert not repo.protection


def test_protection_put_with_both_contexts_and_checks_is_rejected(github_client, repo):
    """The description allows both; GitHub answers 422 (go-github #2276, allstar #155)."""
    checks = {**PROTECTION["required_status_checks"], "contexts": []}
    response = github_client.put(f"{REPO}/branches/main/protection",
                                 json={**PROTECTION, "required_status_checks": checks})
    assert response.status_code == 422
    assert error_message(response).startswith("Invalid request.")
    assert not repo.protection


def test_protection_errors_and_delete(github_client, github_api):
    assert github_client.put(f"{REPO}/branches/nope/protection", json=PROTECTION).status_code == 404
    assert github_client.put(f"{REPO}/branches/main/protection", content=b"not json").status_code == 400
    github_api.state.add_repo("octocat/personal", organization=False)
    restricted = {**PROTECTION, "restrictions": {"users": [], "teams": []}}
    personal = github_client.put("/repos/octocat/personal/branches/main/protection", json=restricted)
    assert personal.status_code == 422 and "organization" in error_message(personal)
    url = f"{REPO}/branches/main/protection"
    assert github_client.put(url, json=PROTECTION).status_code == 200
    assert github_client.delete(url).status_code == 204
    assert github_client.get(url).status_code == 404
    assert github_client.delete(url).status_code == 404


# -- rulesets ----------------------------------------------------------------------------------------


def test_ruleset_lifecycle(github_client):
    created = github_client.post(f"{REPO}/rulesets", json=RULESET)
    assert created.status_code == 201
    ruleset = created.json()
    assert ruleset["rules"] == RULESET["rules"] and ruleset["source"] == TEST_REPO
    listed = github_client.get(f"{REPO}/rulesets").json()
    assert [(item["id"], item["name"]) for item in listed] == [(ruleset["id"], "main")]
    assert "rules" not in listed[0]  # the list returns summaries
    url = f"{REPO}/rulesets/{ruleset['id']}"
    assert github_client.get(url).json() == ruleset
    updated = github_client.put(url, json={"enforcement": "evaluate"}).json()
    assert updated["enforcement"] == "evaluate" and updated["rules"] == RULESET["rules"]
    assert github_client.delete(url).status_code == 204
    assert github_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x"}, 'Invalid request.\n\n"enforcement" wasn\'t supplied.'),
        (
            {"name": "x", "enforcement": "on"},
            'Invalid request.\n\nFor \'properties/enforcement\', "on" is not a member of '
            '["disabled", "active", "evaluate"].',
        ),
    ],
)
def test_ruleset_validation(github_client, body, message):
    response = github_client.post(f"{REPO}/rulesets", json=body)
    assert (response.status_code, error_message(response)) == (422, message)


def test_ruleset_rule_without_type_lists_what_each_rule_kind_misses(github_client):
    """A rule is one of GitHub's rule kinds: the 422 says none matched, then each kind's complaint."""
    body = {"name": "x", "enforcement": "active", "rules": [{"parameters": {}}]}
    response = github_client.post(f"{REPO}/rulesets", json=body)
    lines = error_message(response).split("\n")
    assert response.status_code == 422
    assert lines[:3] == ["Invalid request.", "", 'No subschema in "oneOf" matched.']
    assert lines[3] == '"type" wasn\'t supplied.'
    assert '"update_allows_fetch_and_merge" wasn\'t supplied.' in lines


def test_ruleset_bypass_actors_are_shown_to_admins_only(github_client, github_api):
    actors = [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    created = github_client.post(f"{REPO}/rulesets", json={**RULESET, "bypass_actors": actors})
    ruleset_id = created.json()["id"]
    assert github_client.get(f"{REPO}/rulesets/{ruleset_id}").json()["bypass_actors"] == actors
    github_api.state.add_token("reader", read_only=True, admin=False)
    with github_http(github_api, "reader") as client:
        seen = client.get(f"{REPO}/rulesets/{ruleset_id}").json()
    assert "bypass_actors" not in seen and seen["rules"] == RULESET["rules"]


def test_ruleset_names_are_unique(github_client):
    assert github_client.post(f"{REPO}/rulesets", json=RULESET).status_code == 201
    duplicate = github_client.post(f"{REPO}/rulesets", json=RULESET)
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["message"] == "Name must be unique"


def test_rules_for_branch_come_from_active_rulesets_only(github_client):
    ruleset_id = github_client.post(f"{REPO}/rulesets", json=RULESET).json()["id"]
    evaluate = {**RULESET, "name": "dry-run", "enforcement": "evaluate", "rules": [{"type": "creation"}]}
    github_client.post(f"{REPO}/rulesets", json=evaluate)
    rules = github_client.get(f"{REPO}/rules/branches/main").json()
    assert [rule["type"] for rule in rules] == ["deletion", "pull_request"]
    assert rules[1]["parameters"] == RULESET["rules"][1]["parameters"]
    assert {rule["ruleset_id"] for rule in rules} == {ruleset_id}
    assert rules[0]["ruleset_source"] == TEST_REPO
    assert github_client.get(f"{REPO}/rules/branches/develop").json() == []
    assert github_client.get(f"{REPO}/rules/branches/no-such-branch").status_code == 200


@pytest.mark.parametrize(
    ("pattern", "ref", "expected"),
    [
        ("~ALL", "refs/heads/anything/at/all", True),
        ("~DEFAULT_BRANCH", "refs/heads/main", True),
        ("~DEFAULT_BRANCH", "refs/heads/develop", False),
        ("refs/heads/release/*", "refs/heads/release/1.0", True),
        ("refs/heads/release/*", "refs/heads/release/1/hotfix", False),
        ("refs/heads/release/**", "refs/heads/release/1/hotfix", True),
        ("refs/heads/v?", "refs/heads/v1", True),
    ],
)
def test_ref_patterns(pattern, ref, expected):
    assert ref_pattern_matches(pattern, ref, "main") is expected


def test_excluded_branches_get_no_rules(github_client):
    ref_name = {"include": ["~ALL"], "exclude": ["refs/heads/develop"]}
    ruleset = {**RULESET, "conditions": {"ref_name": ref_name}}
    github_client.post(f"{REPO}/rulesets", json=ruleset)
    assert len(github_client.get(f"{REPO}/rules/branches/feature/x").json()) == 2
    assert github_client.get(f"{REPO}/rules/branches/develop").json() == []


# -- pull requests, reviews, commits -----------------------------------------------------------------


def test_pull_request_shape(github_client, pull):
    body = github_client.get(f"{REPO}/pulls/{pull.number}").json()
    assert (body["number"], body["title"], body["body"]) == (pull.number, "Release 1", "notes")
    assert body["state"] == "open"
    assert body["head"]["ref"] == "develop" and body["head"]["sha"] == pull.head_sha
    assert body["base"]["ref"] == "main" and body["base"]["repo"]["full_name"] == TEST_REPO
    assert body["head"]["repo"]["full_name"] == TEST_REPO and body["head"]["repo"]["fork"] is False
    assert body["head"]["label"] == "acme:develop"
    assert body["merged"] is False and body["merged_at"] is None and body["user"]["login"] == "octocat"


def test_fork_pull_request_head_repo(github_client, repo):
    fork = repo.add_pull("patch-1", "develop", head_repo="mallory/digits", user="mallory")
    body = github_client.get(f"{REPO}/pulls/{fork.number}").json()
    assert body["head"]["repo"]["full_name"] == "mallory/digits" and body["head"]["repo"]["fork"] is True
    assert body["head"]["label"] == "mallory:patch-1"
    assert "patch-1" not in repo.branches


def test_list_pulls_filters(github_client, repo, pull):
    merged = repo.add_pull("feature/a", "develop", state="closed", merged_at="2026-01-01T00:00:00Z")

    def numbers(**params):
        return [item["number"] for item in github_client.get(f"{REPO}/pulls", params=params).json()]

    assert numbers() == [pull.number]
    assert numbers(state="all") == [pull.number, merged.number]
    assert numbers(state="all", head="acme:feature/a") == [merged.number]
    assert numbers(state="all", base="main") == [pull.number]


def test_commit_pulls_finds_merged_and_head_commits(github_client, repo, pull):
    merged = repo.add_pull(
        "release/1", "main", state="closed", merged_at="2026-01-01T00:00:00Z", merge_commit_sha="f" * 40
    )
    by_merge = github_client.get(f"{REPO}/commits/{'f' * 40}/pulls").json()
    assert [(item["number"], item["merged_at"], item["base"]["ref"]) for item in by_merge] == [
        (merged.number, "2026-01-01T00:00:00Z", "main")
    ]
    assert by_merge[0]["merge_commit_sha"] == "f" * 40 and by_merge[0]["merged"] is True
    by_head = github_client.get(f"{REPO}/commits/{pull.head_sha}/pulls").json()
    assert [item["number"] for item in by_head] == [pull.number]
    assert github_client.get(f"{REPO}/commits/{'0' * 40}/pulls").json() == []


def test_reviews(github_client, repo, pull):
    repo.add_review(pull.number, "alice", "CHANGES_REQUESTED", "fix it")
    repo.add_review(pull.number, "bob")
    reviews = github_client.get(f"{REPO}/pulls/{pull.number}/reviews").json()
    assert [(r["user"]["login"], r["state"]) for r in reviews] == [
        ("alice", "CHANGES_REQUESTED"),
        ("bob", "APPROVED"),
    ]
    assert reviews[0]["commit_id"] == pull.head_sha and reviews[0]["body"] == "fix it"
    assert github_client.get(f"{REPO}/pulls/99/reviews").status_code == 404


# -- comments ----------------------------------------------------------------------------------------


def test_comment_create_get_update_delete(github_client, repo, pull):
    created = github_client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "## Report"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["body"] == "## Report" and comment["user"]["login"] == "github-actions[bot]"
    assert comment["user"]["type"] == "Bot"
    url = f"{REPO}/issues/comments/{comment['id']}"
    assert comment["url"].endswith(url) and comment["issue_url"].endswith(f"/issues/{pull.number}")
    assert github_client.get(url).json() == comment
    patched = github_client.patch(url, json={"body": "## Report v2"})
    assert patched.status_code == 200 and patched.json()["body"] == "## Report v2"
    assert [c.body for c in repo.comments_on(pull.number)] == ["## Report v2"]
    assert github_client.delete(url).status_code == 204
    assert github_client.get(url).status_code == 404
    assert repo.comments_on(pull.number) == []


def test_comment_errors(github_client, pull):
    assert github_client.post(f"{REPO}/issues/99/comments", json={"body": "x"}).status_code == 404
    assert github_client.patch(f"{REPO}/issues/comments/99", json={"body": "x"}).status_code == 404
    no_body = github_client.post(f"{REPO}/issues/{pull.number}/comments", json={})
    assert no_body.status_code == 422
    assert error_message(no_body) == 'Invalid request.\n\n"body" wasn\'t supplied.'
    not_text = github_client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": 5})
    assert not_text.status_code == 422
    not_json = github_client.post(f"{REPO}/issues/{pull.number}/comments", content=b"[1, 2]")
    assert (not_json.status_code, error_message(not_json)) == (400, "Problems parsing JSON")


def test_comment_body_limit(github_client, repo, pull):
    url = f"{REPO}/issues/{pull.number}/comments"
    assert github_client.post(url, json={"body": "x" * COMMENT_BODY_LIMIT}).status_code == 201
    too_long = github_client.post(url, json={"body": "x" * (COMMENT_BODY_LIMIT + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["message"] == "Validation Failed"
    assert too_long.json()["errors"] == [
        {
            "resource": "IssueComment",
            "code": "custom",
            "field": "body",
            "message": "body is too long (maximum is 65536 characters)",
        }
    ]
    comment_id = repo.comments_on(pull.number)[0].id
    patch = github_client.patch(f"{REPO}/issues/comments/{comment_id}", json={"body": "y" * 70_000})
    assert patch.status_code == 422
    assert len(repo.comments_on(pull.number)) == 1


# -- pagination --------------------------------------------------------------------------------------


@pytest.fixture(name="many_comments")
def fixture_many_comments(repo, pull):
    """250 comments on ``pull``; returns their ids."""
    return [repo.add_comment(pull.number, f"comment {i}").id for i in range(250)]


def test_comment_pages_and_link_headers(github_client, pull, many_comments):
    url = f"{REPO}/issues/{pull.number}/comments"
    first = github_client.get(url, params={"per_page": 100})
    assert [c["id"] for c in first.json()] == many_comments[:100]
    assert first.links["next"]["url"].endswith(f"{url}?per_page=100&page=2")
    assert first.links["last"]["url"].endswith(f"{url}?per_page=100&page=3")
    assert set(first.links) == {"next", "last"}
    last = github_client.get(url, params={"per_page": 100, "page": 3})
    assert [c["id"] for c in last.json()] == many_comments[200:]
    assert set(last.links) == {"first", "prev"}
    assert last.links["prev"]["url"].endswith("page=2")
    beyond = github_client.get(url, params={"per_page": 100, "page": 4})
    assert beyond.json() == []


def test_following_links_returns_every_comment_in_order(github_client, pull, many_comments):
    url, ids, pages = f"{REPO}/issues/{pull.number}/comments?per_page=100", [], 0
    while url:
        response = github_client.get(url)
        ids += [c["id"] for c in response.json()]
        url, pages = response.links.get("next", {}).get("url"), pages + 1
    assert ids == many_comments and pages == 3


@pytest.mark.parametrize(
    ("params", "size", "last_page"),
    [
        ({}, 30, 9),
        ({"per_page": 500}, 100, 3),
        ({"per_page": "x", "page": "y"}, 30, 9),
        ({"per_page": 0}, 1, 250),
    ],
)
@pytest.mark.usefixtures("many_comments")
def test_per_page_default_and_bounds(github_client, pull, params, size, last_page):
    response = github_client.get(f"{REPO}/issues/{pull.number}/comments", params=params)
    assert len(response.json()) == size
    assert response.links["last"]["url"].endswith(f"page={last_page}")


def test_single_page_has_no_link_header(github_client, pull):
    response = github_client.get(f"{REPO}/issues/{pull.number}/comments")
    assert response.json() == [] and "link" not in response.headers


# -- auth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Requires authentication"),
        ({"Authorization": "Basic dXNlcg=="}, "Requires authentication"),
        ({"Authorization": "Bearer wrong"}, "Bad credentials"),
    ],
)
def test_unauthenticated_requests_get_401(github_api, headers, message):
    response = httpx.get(f"{github_api.url}{REPO}", headers=headers)
    assert (response.status_code, error_message(response)) == (401, message)


def test_token_scheme_is_accepted(github_api):
    response = httpx.get(f"{github_api.url}{REPO}", headers={"Authorization": f"token {TEST_TOKEN}"})
    assert response.status_code == 200


def test_read_only_token_cannot_write(github_api, pull):
    github_api.state.add_token("fork-token", read_only=True)
    with github_http(github_api, "fork-token") as client:
        assert client.get(f"{REPO}/pulls/{pull.number}").status_code == 200
        assert client.get(REPO).json()["permissions"]["push"] is False
        for method, path in [
            ("POST", f"{REPO}/issues/{pull.number}/comments"),
            ("POST", f"{REPO}/issues"),
            ("PUT", f"{REPO}/branches/main/protection"),
        ]:
            response = client.request(method, path, json={"body": "x", "title": "x"})
            assert response.status_code == 403
            assert error_message(response) == "Resource not accessible by integration"
    assert github_api.state.repo(TEST_REPO).comments == {}


def test_non_admin_token_cannot_manage_protection_or_rulesets(github_api, pull):
    github_api.state.add_token("writer", login="ci-bot", admin=False)
    with github_http(github_api, "writer") as client:
        assert client.put(f"{REPO}/branches/main/protection", json=PROTECTION).status_code == 403
        hidden = client.get(f"{REPO}/branches/main/protection")  # GitHub answers 404, not 403
        assert (hidden.status_code, error_message(hidden)) == (404, "Not Found")
        assert client.post(f"{REPO}/rulesets", json=RULESET).status_code == 403
        assert client.get(f"{REPO}/rulesets").status_code == 200
        assert client.get(f"{REPO}/rules/branches/main").status_code == 200
        comment = client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "hi"})
        user = comment.json()["user"]
        assert comment.status_code == 201
        assert (user["login"], user["type"]) == ("ci-bot", "User")
        assert user["html_url"] == "https://github.com/ci-bot"


def test_without_tokens_everything_is_allowed():
    state = GitHubState()
    state.add_repo("acme/open")
    with GitHubStandIn(state, token=None) as github:
        assert httpx.get(f"{github.url}/repos/acme/open").status_code == 200
        assert github.env() == {"GITHUB_API_URL": github.url}


# -- injected failures, request log ------------------------------------------------------------------


def test_injected_failures_come_first_then_normal_behaviour(github_api, github_client, pull):
    url = f"{REPO}/issues/{pull.number}/comments"
    github_api.inject("POST", r"/repos/acme/digits/issues/\d+/comments", 502, times=2)
    statuses = [github_client.post(url, json={"body": "x"}).status_code for _ in range(3)]
    assert statuses == [502, 502, 201]
    assert [r.status for r in github_api.writes()] == [502, 502, 201]
    assert github_api.requests[0].json == {"body": "x"}
    assert len(github_api.state.repo(TEST_REPO).comments) == 1


def test_injected_failure_matches_method_and_full_path(github_api, github_client):
    github_api.inject("*", REPO, 500, body={"message": "boom"}, headers={"x-test": "1"})
    assert github_client.get(f"{REPO}/branches/main").status_code == 200  # not a full match
    response = github_client.get(REPO)
    assert (response.status_code, response.json()) == (500, {"message": "boom"})
    assert response.headers["x-test"] == "1"
    github_api.inject("PATCH", REPO, 500)
    assert github_client.get(REPO).status_code == 200
    assert github_api.app.injected  # the PATCH failure is still queued
    assert error_message(github_client.patch(REPO, json={})) == "Internal Server Error"


def test_secondary_rate_limit_has_retry_after(github_api, github_client, pull):
    github_api.rate_limit("POST", r".*/comments", retry_after=1)
    response = github_client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "x"})
    assert response.status_code == 403 and response.headers["retry-after"] == "1"
    assert "secondary rate limit" in error_message(response)


def test_primary_rate_limit_has_remaining_zero_and_reset(github_api, github_client):
    github_api.rate_limit("GET", REPO, status=429, reset_in=2)
    response = github_client.get(REPO)
    assert response.status_code == 429 and response.headers["x-ratelimit-remaining"] == "0"
    assert 0 < int(response.headers["x-ratelimit-reset"]) - time.time() <= 3
    assert "retry-after" not in response.headers
    assert github_client.get(REPO).headers["x-ratelimit-remaining"] != "0"


def test_request_log(github_api, github_client, pull):
    github_client.get(f"{REPO}/issues/{pull.number}/comments", params={"per_page": 5})
    github_client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "hi"})
    get, post = github_api.requests
    assert (get.method, get.path, get.query, get.json, get.status) == (
        "GET",
        f"{REPO}/issues/{pull.number}/comments",
        {"per_page": "5"},
        None,
        200,
    )
    assert not get.is_write and post.is_write and post.status == 201
    assert post.headers["Authorization"] == f"Bearer {TEST_TOKEN}"


# -- workflow dispatch, issues -----------------------------------------------------------------------


def test_workflow_dispatch(github_client, repo):
    repo.add_workflow("promote.yml", inputs=["version"])
    url = f"{REPO}/actions/workflows/promote.yml/dispatches"
    response = github_client.post(url, json={"ref": "main", "inputs": {"version": "3"}})
    assert response.status_code == 204 and response.content == b""
    dispatched = [(d.workflow_id, d.ref, d.inputs) for d in repo.dispatches]
    assert dispatched == [("promote.yml", "main", {"version": "3"})]
    assert github_client.post(url, json={"ref": "refs/heads/develop"}).status_code == 204
    assert repo.dispatches[-1].ref == "develop"
    unknown = github_client.post(url, json={"ref": "nope"})
    assert (unknown.status_code, error_message(unknown)) == (422, "No ref found for: nope")
    assert github_client.post(url, json={}).status_code == 422


def test_workflow_dispatch_needs_a_declared_workflow_and_inputs(github_client, repo):
    missing = github_client.post(f"{REPO}/actions/workflows/nope.yml/dispatches", json={"ref": "main"})
    assert (missing.status_code, error_message(missing)) == (404, "Not Found")
    repo.add_workflow("retrain.yml", inputs=["reason"])
    url = f"{REPO}/actions/workflows/retrain.yml/dispatches"
    extra = github_client.post(url, json={"ref": "main", "inputs": {"reason": "drift", "force": "1"}})
    assert (extra.status_code, error_message(extra)) == (422, 'Unexpected inputs provided: ["force"]')
    assert not repo.dispatches
    assert github_client.post(url, json={"ref": "main", "inputs": {"reason": "drift"}}).status_code == 204


def test_the_seeded_repository_declares_the_templates_dispatchable_workflows(repo):
    assert repo.workflows["mlops-ci-retrain-schedule.yml"] == []
    assert "mlops-ci-pull-request.yml" not in repo.workflows  # no workflow_dispatch trigger


def test_issues_share_numbers_with_pull_requests(github_client, repo, pull):
    created = github_client.post(
        f"{REPO}/issues", json={"title": "Drift", "body": "details", "labels": ["ml", {"name": "ops"}]}
    )
    assert created.status_code == 201
    issue = created.json()
    assert issue["number"] == pull.number + 1
    assert [label["name"] for label in issue["labels"]] == ["ml", "ops"]
    assert repo.issues[issue["number"]].title == "Drift"
    assert github_client.get(f"{REPO}/issues/{issue['number']}").json() == issue
    as_issue = github_client.get(f"{REPO}/issues/{pull.number}").json()
    assert as_issue["pull_request"]["url"].endswith(f"/pulls/{pull.number}")
    comment = github_client.post(f"{REPO}/issues/{issue['number']}/comments", json={"body": "x"})
    assert comment.status_code == 201
    assert github_client.post(f"{REPO}/issues", json={"body": "no title"}).status_code == 422
    assert github_client.get(f"{REPO}/issues/99").status_code == 404


def test_list_issues_filters_by_state_and_labels_and_includes_pull_requests(github_client, repo, pull):
    for title, labels in (("drift", ["retrain", "ml"]), ("other", ["ml"])):
        github_client.post(f"{REPO}/issues", json={"title": title, "labels": labels})
    repo.issues[pull.number + 2].state = "closed"
    listed = github_client.get(f"{REPO}/issues").json()
    assert [(item["title"], "pull_request" in item) for item in listed] == [("drift", False), (pull.title, True)]
    assert [item["title"] for item in github_client.get(f"{REPO}/issues", params={"state": "all"}).json()] == [
        "other", "drift", pull.title]
    retrain = github_client.get(f"{REPO}/issues", params={"labels": "ml,retrain", "state": "all"}).json()
    assert [item["title"] for item in retrain] == ["drift"]


# -- state file and command line ---------------------------------------------------------------------


def test_state_round_trips_through_json(github_client, github_api, repo, pull):
    repo.add_review(pull.number, "alice")
    github_client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "x"})
    github_client.post(f"{REPO}/rulesets", json=RULESET)
    github_client.put(f"{REPO}/branches/main/protection", json=PROTECTION)
    github_client.post(f"{REPO}/actions/workflows/ci.yml/dispatches", json={"ref": "main"})
    github_client.post(f"{REPO}/issues", json={"title": "t"})
    restored = GitHubState.from_dict(json.loads(json.dumps(github_api.state.to_dict())))
    assert restored == github_api.state


def test_state_file_is_written_at_start_after_writes_and_at_stop(tmp_path):
    state_file = tmp_path / "state.json"
    github = GitHubStandIn(seeded_github_state(), state_file=state_file).start()
    try:
        assert GitHubState.load(state_file).repo(TEST_REPO).comments == {}
        pull = github.state.repo(TEST_REPO).add_pull("develop")
        with github_http(github) as client:
            client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "## Report"})
            assert saved_comments(state_file) == ["## Report"]
            client.get(REPO)
        github.state.repo(TEST_REPO).add_branch("late")
    finally:
        github.stop()
    assert "late" in GitHubState.load(state_file).repo(TEST_REPO).branches


def test_main_serves_until_stopped(tmp_path, capsys):
    state_file, stop = tmp_path / "state.json", threading.Event()
    args = ["--state-file", str(state_file), "--repo", TEST_REPO, "--branch", "develop", "--non-admin"]
    server = threading.Thread(target=stand_in.main, args=(args, stop))
    server.start()
    try:
        output, deadline = "", time.monotonic() + 10
        while "\n" not in output:
            assert time.monotonic() < deadline, "main() printed no URL"
            time.sleep(0.05)
            output += capsys.readouterr().out
        url = output.split("\n")[0].removeprefix("GITHUB_API_URL=")
        headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
        assert httpx.post(f"{url}{REPO}/rulesets", json=RULESET, headers=headers).status_code == 403
        assert httpx.post(f"{url}{REPO}/issues", json={"title": "t"}, headers=headers).status_code == 201
    finally:
        stop.set()
        server.join(timeout=10)
    assert not server.is_alive()
    state = GitHubState.load(state_file)
    assert set(state.repo(TEST_REPO).branches) == {"main", "develop"}
    assert [issue.title for issue in state.repo(TEST_REPO).issues.values()] == ["t"]


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The next stdout line of ``process``, or fail after ``timeout`` seconds."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no output within {timeout} s"
    return process.stdout.readline().strip()


def test_command_line_entry_point_dumps_state_and_stops_on_sigterm(tmp_path):
    seed, state_file = tmp_path / "seed.json", tmp_path / "state.json"
    seeded = seeded_github_state()
    seeded.repo(TEST_REPO).add_pull("develop")
    seeded.dump(seed)
    env = dict(os.environ)
    command = [sys.executable, "-m", "testing.github", "--port", "0", "--seed", str(seed)]
    with subprocess.Popen(
        [*command, "--state-file", str(state_file), "--token", "cli-token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as process:
        try:
            url = read_line(process, timeout=20).removeprefix("GITHUB_API_URL=")
            headers = {"Authorization": "token cli-token"}
            comment = {"body": "from act"}
            response = httpx.post(f"{url}{REPO}/issues/1/comments", json=comment, headers=headers)
            assert response.status_code == 201
            assert saved_comments(state_file) == ["from act"]
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
    final = GitHubState.load(state_file)
    assert set(final.tokens) == {TEST_TOKEN, "cli-token"}


def test_module_docstring_example_runs():
    with GitHubStandIn() as github:
        repo = github.state.add_repo("acme/digits", branches=["develop"])
        pull = repo.add_pull("develop", "main")
        github.inject("POST", r"/repos/.*/comments", 502, times=2)
        with github_http(github) as client:
            codes = [
                client.post(f"{REPO}/issues/{pull.number}/comments", json={"body": "## Report"}).status_code
                for _ in range(3)
            ]
        assert codes == [502, 502, 201]
        assert repo.comments_on(pull.number)[-1].body.startswith("## Report")
        assert github.env()["GITHUB_TOKEN"] == "test-token"
