"""The GitHub stand-in against GitHub's documented schemas: every route it serves is documented, every
answer matches the documented response, and the request bodies our commands send are valid ones."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from testing.fixtures import TEST_REPO, github_http, seeded_github_state

from mlops_ci.gitflow.protect.config import load_config
from mlops_ci.gitflow.protect.rulesets import to_ruleset
from mlops_ci.local.github import openapi
from mlops_ci.local.github.server import URL_MAP, served_routes
from testing.github import GitHubStandIn

ROOT = Path(__file__).resolve().parents[4]
REPO = f"/repos/{TEST_REPO}"
SHA = "0" * 40
RESTRICTED = {
    "required_status_checks": {"strict": False, "contexts": ["ci"]},
    "enforce_admins": None,
    "required_pull_request_reviews": {"dismissal_restrictions": {"users": ["octocat"], "teams": ["ml"]}},
    "restrictions": {"users": ["octocat"], "teams": ["ml"], "apps": ["deploy-bot"]},
}


def template(response: httpx.Response) -> str:
    """The route template that answered ``response`` (``/repos/<owner>/<repo>/...``)."""
    path, method = response.request.url.path, response.request.method
    if path == "/user":
        return path
    return URL_MAP.bind("localhost").match(path, method=method, return_rule=True)[0].rule


def documented_problems(response: httpx.Response) -> list[str]:
    """Why ``response`` does not match its operation's documented response (none: it does)."""
    body = response.json() if response.content else None
    operation = openapi.operation(response.request.method, template(response))
    return operation.response_errors(response.status_code, body)


def drive_every_route(client: httpx.Client, github: GitHubStandIn) -> list[httpx.Response]:
    """Call every route the stand-in serves, successes and the errors our commands meet."""
    repo = github.state.repo(TEST_REPO)
    pull = repo.add_pull("develop", "main", title="Release 1", body="notes")
    repo.add_review(pull.number, "reviewer", body="looks good")
    repo.merge_pull(repo.add_pull("feature", "develop").number, SHA)
    protection = load_config(ROOT / "branch-protection.json").branches["main"]
    ruleset = to_ruleset("main", protection)
    workflow = sorted(repo.workflows)[0]
    calls: list[tuple[str, str, object]] = [
        ("GET", "/user", None),
        ("GET", REPO, None),
        ("GET", f"{REPO}/branches/main", None),
        ("GET", f"{REPO}/branches/main/protection", None),  # 404 Branch not protected
        ("PUT", f"{REPO}/branches/main/protection", protection),
        ("GET", f"{REPO}/branches/main/protection", None),
        ("GET", f"{REPO}/branches/main", None),
        ("PUT", f"{REPO}/branches/main/protection", {"enforce_admins": True}),  # 422
        ("DELETE", f"{REPO}/branches/main/protection", None),
        ("POST", f"{REPO}/rulesets", ruleset),
        ("POST", f"{REPO}/rulesets", {"name": "x", "enforcement": "on"}),  # 422
        ("GET", f"{REPO}/rulesets", None),
        ("GET", f"{REPO}/rules/branches/main", None),
        ("GET", f"{REPO}/pulls", {"state": "all"}),
        ("GET", f"{REPO}/pulls/{pull.number}", None),
        ("GET", f"{REPO}/pulls/999", None),  # 404
        ("GET", f"{REPO}/pulls/{pull.number}/reviews", None),
        ("POST", f"{REPO}/issues", {"title": "Drift", "body": "text", "labels": ["drift"]}),
        ("GET", f"{REPO}/issues", {"state": "all"}),
        ("GET", f"{REPO}/issues/{pull.number}", None),
        ("POST", f"{REPO}/issues/{pull.number}/comments", {"body": "## Report"}),
        ("GET", f"{REPO}/issues/{pull.number}/comments", None),
        ("GET", f"{REPO}/commits/{SHA}/pulls", None),
        ("POST", f"{REPO}/actions/workflows/{workflow}/dispatches", {"ref": "main"}),
    ]
    responses = []
    for method, path, payload in calls:
        if method == "GET":
            responses.append(client.get(path, params=payload))  # type: ignore[arg-type]
        else:
            responses.append(client.request(method, path, json=payload))
    ruleset_url = f"{REPO}/rulesets/{responses[9].json()['id']}"
    comment_url = f"{REPO}/issues/comments/{responses[20].json()['id']}"
    issue = responses[17].json()["number"]
    responses += [
        client.get(ruleset_url),
        client.put(ruleset_url, json={**ruleset, "enforcement": "evaluate"}),
        client.delete(ruleset_url),
        client.get(f"{REPO}/issues/{issue}"),
        client.get(comment_url),
        client.patch(comment_url, json={"body": "## Report, updated"}),
        client.delete(comment_url),
        # users, teams and apps: the objects GitHub answers for the names PUT
        client.put(f"{REPO}/branches/develop/protection", json=RESTRICTED),
        client.get(f"{REPO}/branches/develop/protection"),
    ]
    return responses


@pytest.fixture(name="responses", scope="module")
def fixture_responses() -> list[httpx.Response]:
    state = seeded_github_state()
    state.add_token("personal-token", "octocat")  # GET /user answers a user's token, 403 to the bot's
    with GitHubStandIn(state) as github, github_http(github) as client:
        with github_http(github, "personal-token") as personal:
            return [personal.get("/user"), *drive_every_route(client, github)]


def test_every_served_route_is_vendored():
    missing = [f"{method} {path}" for method, path in served_routes()
               if openapi.route_key(method, path) not in openapi.operations()]
    assert not missing, "vendor the route's schema: tools/vendor_github_openapi.py"


def test_every_served_route_is_driven(responses):
    driven = {openapi.route_key(r.request.method, template(r)) for r in responses}
    assert driven == {openapi.route_key(method, path) for method, path in served_routes()}


def test_answers_match_the_documented_responses(responses):
    problems = [problem for response in responses for problem in documented_problems(response)]
    assert not problems, "\n".join(problems)


def test_our_request_bodies_are_valid():
    config = load_config(ROOT / "branch-protection.json")
    put = openapi.operation("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection")
    post_ruleset = openapi.operation("POST", "/repos/{owner}/{repo}/rulesets")
    for branch, body in config.branches.items():
        assert put.request_problem(body) is None
        assert post_ruleset.request_problem(to_ruleset(branch, body)) is None


def test_an_invalid_body_gets_422_in_githubs_words(github_client):
    response = github_client.post(f"{REPO}/issues/1/comments", json={"body": 42})
    assert response.status_code == 422
    assert response.json()["message"] == "Invalid request.\n\nFor 'properties/body', 42 is not a string."


def test_vendored_subset_states_its_source():
    info = openapi.subset()["info"]
    assert info["source"] == "npm @octokit/openapi@23.0.2, file generated/api.github.com.json"
    assert info["integrity"].startswith("sha512-") and len(info["file_sha256"]) == 64
    assert set(info["overrides"]) == {"PUT /repos/{owner}/{repo}/branches/{branch}/protection"}
    assert '"nullable":' not in json.dumps(openapi.subset())  # converted to a "null" type


def test_the_drive_meets_the_errors_it_means_to(responses):
    errors = [(r.request.method, r.status_code) for r in responses if r.status_code >= 400]
    assert errors == [("GET", 403), ("GET", 404), ("PUT", 422), ("POST", 422), ("GET", 404)]
