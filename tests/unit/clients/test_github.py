"""The shared GitHub REST client: headers, paging, retries, rate limits, errors, Enterprise URLs."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import json
import socket

import httpx
import pytest
from testing.fixtures import TEST_REPO, TEST_TOKEN

from mlops_ci import __version__
from mlops_ci.clients import github as gh
from mlops_ci.cli import main
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.clients.github import GitHubClient, GitHubError, repo_path
from mlops_ci.local.github.server import error_body

COMMENTS = r"/repos/acme/digits/issues/\d+/comments"


@pytest.fixture(name="waits")
def fixture_waits() -> list[float]:
    """The waits a client asked for (none really happen)."""
    return []


@pytest.fixture(name="client")
def fixture_client(github_api, waits):
    with GitHubClient(github_api.url, TEST_TOKEN, sleep=waits.append) as client:
        yield client


@pytest.fixture(name="repo")
def fixture_repo(github_api):
    return github_api.state.repo(TEST_REPO)


def mock_client(handler, base_url="https://ghe.example.com/api/v3", **options) -> GitHubClient:
    """A client whose requests `handler(request) -> httpx.Response` answers (no socket)."""
    options.setdefault("sleep", lambda seconds: None)
    return GitHubClient(base_url, TEST_TOKEN, transport=httpx.MockTransport(handler), **options)


# -- headers, paths, paging --------------------------------------------------------------------------


def test_sends_token_api_version_and_user_agent(client, github_api):
    assert client.get(repo_path(TEST_REPO))["full_name"] == TEST_REPO
    headers = {key.lower(): value for key, value in github_api.requests[-1].headers.items()}
    assert headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"] == f"mlops-ci/{__version__}"


def test_paginate_follows_link_headers_across_250_items(client, github_api, repo):
    pull = repo.add_pull("develop", "main")
    for index in range(250):
        repo.add_comment(pull.number, f"comment {index}")
    comments = client.paginate(repo_path(TEST_REPO, "issues", pull.number, "comments"))
    assert [comment["body"] for comment in comments] == [f"comment {index}" for index in range(250)]
    pages = [record for record in github_api.requests if record.path.endswith("/comments")]
    assert [(record.query["per_page"], record.query.get("page", "1")) for record in pages] == \
        [("100", "1"), ("100", "2"), ("100", "3")]


def test_paginate_an_empty_list_is_one_request(client, github_api):
    assert not client.paginate(repo_path(TEST_REPO, "rulesets"))
    assert len(github_api.requests) == 1


def test_paginate_a_list_inside_an_object_and_stops_on_a_repeated_link():
    def answer(request: httpx.Request) -> httpx.Response:
        link = f'<{request.url}>; rel="next"'  # a broken server pointing at the same page
        return httpx.Response(200, json={"total_count": 2, "workflow_runs": [1, 2]}, headers={"Link": link})

    with mock_client(answer) as client:
        assert client.paginate("/repos/acme/digits/actions/runs", key="workflow_runs") == [1, 2]
        assert not client.paginate("/repos/acme/digits/actions/runs", key="missing")


def test_paginate_rejects_an_object():
    with mock_client(lambda request: httpx.Response(200, json={"message": "hi"})) as client:
        with pytest.raises(GitHubError, match="expected a JSON list"):
            client.paginate("/repos/acme/digits/rulesets")


def test_enterprise_server_paths_are_joined_below_api_v3():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[3])
        nxt = "https://ghe.example.com/api/v3/repositories/1/rulesets?per_page=100&page=2"
        return httpx.Response(200, json=[1, 2], headers={"Link": f'<{nxt}>; rel="next"'})

    with mock_client(answer, base_url="https://ghe.example.com/api/v3/") as client:
        assert client.paginate(repo_path(TEST_REPO, "rulesets")) == [1, 2, 3]
        client.get("repos/acme/digits")
    assert seen == ["https://ghe.example.com/api/v3/repos/acme/digits/rulesets?per_page=100",
                    "https://ghe.example.com/api/v3/repositories/1/rulesets?per_page=100&page=2",
                    "https://ghe.example.com/api/v3/repos/acme/digits"]


def test_api_url_and_token_come_from_the_environment():
    env = {"GITHUB_API_URL": "https://ghe.example.com/api/v3/", "GH_TOKEN": " gh-token "}
    assert gh.api_url_from_env(env) == "https://ghe.example.com/api/v3"
    assert gh.api_url_from_env({}) == "https://api.github.com"
    assert gh.token_from_env(env) == "gh-token"
    assert gh.token_from_env({"GITHUB_TOKEN": "first", "GH_TOKEN": "second"}) == "first"
    client = GitHubClient.from_env(env)
    assert client.base_url == "https://ghe.example.com/api/v3"
    client.close()
    with pytest.raises(MlopsCiError, match="GITHUB_API_URL: not an http"):
        gh.api_url_from_env({"GITHUB_API_URL": "ghe.example.com"})


@pytest.mark.parametrize("env", [{}, {"GITHUB_TOKEN": "", "GH_TOKEN": "  "}])
def test_missing_token_is_an_input_error_naming_both_variables(env):
    with pytest.raises(MlopsCiError) as raised:
        GitHubClient.from_env(env)
    assert raised.value.exit_code == 2
    assert "GITHUB_TOKEN or GH_TOKEN" in str(raised.value)


def test_missing_token_through_the_cli_exits_2(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "branch-protection.json").write_text(json.dumps({"branches": {"main": {
        "required_status_checks": None, "enforce_admins": True, "required_pull_request_reviews": None,
        "restrictions": None}}}))
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["protect", "plan", "--repo", TEST_REPO]) == 2
    assert "no GitHub token: set GITHUB_TOKEN or GH_TOKEN" in capsys.readouterr().err


def test_repo_path_quotes_each_part():
    assert repo_path("acme/digits", "branches", "feature/x y", "protection") == \
        "/repos/acme/digits/branches/feature%2Fx%20y/protection"
    assert repo_path("acme/digits", "issues", 7) == "/repos/acme/digits/issues/7"
    for bad in ("acme", "/digits", "acme/", "acme/digits/x"):
        with pytest.raises(MlopsCiError, match="OWNER/NAME"):
            repo_path(bad)


def test_write_methods_and_empty_answers(client, github_api, repo):
    pull = repo.add_pull("develop", "main")
    created = client.post(repo_path(TEST_REPO, "issues", pull.number, "comments"), json={"body": "one"})
    path = repo_path(TEST_REPO, "issues", "comments", created["id"])
    assert client.patch(path, json={"body": "two"})["body"] == "two"
    assert client.delete(path) is None  # 204
    assert [record.method for record in github_api.writes()] == ["POST", "PATCH", "DELETE"]
    assert not repo.comments


def test_a_non_json_answer_is_returned_as_text():
    with mock_client(lambda request: httpx.Response(200, text="plain")) as client:
        assert client.get("/zen") == "plain"


# -- retries -----------------------------------------------------------------------------------------


def test_server_errors_are_retried_with_backoff(client, github_api, waits):
    github_api.inject("GET", "/repos/acme/digits", 502, times=2)
    assert client.get(repo_path(TEST_REPO))["name"] == "digits"
    assert waits == [1, 2]
    assert [record.status for record in github_api.requests] == [502, 502, 200]


def test_server_errors_exhausted_raise(client, github_api, waits):
    github_api.inject("GET", "/repos/acme/digits", 503, times=3)
    with pytest.raises(GitHubError) as raised:
        client.get(repo_path(TEST_REPO))
    assert raised.value.status == 503 and len(github_api.requests) == 3 and waits == [1, 2]
    assert str(raised.value) == ("GitHub API GET /repos/acme/digits: 503 Service Unavailable: "
                                 "gave up after 3 tries")


def test_a_put_is_retried_after_a_server_error(client, github_api, repo):
    github_api.inject("PUT", r".*/protection", 500)
    body = {"required_status_checks": None, "enforce_admins": True, "required_pull_request_reviews": None,
            "restrictions": None}
    client.put(repo_path(TEST_REPO, "branches", "main", "protection"), json=body)
    assert len(github_api.writes()) == 2 and repo.protection["main"] == body


def test_a_post_is_not_repeated_after_a_server_error(client, github_api, repo, waits):
    pull = repo.add_pull("develop", "main")
    github_api.inject("POST", COMMENTS, 502)
    with pytest.raises(GitHubError, match="not retried: the request may have been applied") as raised:
        client.post(repo_path(TEST_REPO, "issues", pull.number, "comments"), json={"body": "once"})
    assert raised.value.status == 502
    assert len(github_api.writes()) == 1 and not waits and not repo.comments


def test_an_idempotent_post_may_be_retried(client, github_api, repo):
    pull = repo.add_pull("develop", "main")
    github_api.inject("POST", COMMENTS, 502)
    client.post(repo_path(TEST_REPO, "issues", pull.number, "comments"), json={"body": "x"}, idempotent=True)
    assert len(github_api.writes()) == 2 and len(repo.comments) == 1


def test_a_post_is_retried_after_a_rate_limit(client, github_api, repo, waits):
    pull = repo.add_pull("develop", "main")
    github_api.rate_limit("POST", COMMENTS, retry_after=3)
    client.post(repo_path(TEST_REPO, "issues", pull.number, "comments"), json={"body": "once"})
    assert waits == [3] and len(github_api.writes()) == 2
    assert [comment.body for comment in repo.comments.values()] == ["once"]


def test_connection_failures_are_retried_then_reported(waits):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with GitHubClient(f"http://127.0.0.1:{port}", TEST_TOKEN, sleep=waits.append) as client:
        with pytest.raises(GitHubError, match="cannot reach http://127.0.0.1") as raised:
            client.post("/repos/acme/digits/issues", json={"title": "x"})  # never sent: safe to retry
    assert raised.value.status is None and waits == [1, 2]


def test_a_read_timeout_is_retried_for_idempotent_requests_only():
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1 or request.method == "POST":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"ok": True})

    with mock_client(answer) as client:
        assert client.put("/repos/acme/digits/rulesets/1", json={}) == {"ok": True}
        with pytest.raises(GitHubError, match="ReadTimeout: timed out .not retried"):
            client.post("/repos/acme/digits/rulesets", json={})
    assert calls == ["PUT", "PUT", "POST"]


def test_a_read_timeout_exhausted_raises():
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("", request=request)

    with mock_client(answer, tries=2) as client:
        with pytest.raises(GitHubError, match="RemoteProtocolError: no answer"):
            client.get("/repos/acme/digits")


# -- rate limits -------------------------------------------------------------------------------------


def test_retry_after_is_honoured(client, github_api, waits):
    github_api.rate_limit("GET", "/repos/acme/digits", retry_after=42)
    assert client.get(repo_path(TEST_REPO))["name"] == "digits"
    assert waits == [42]


def test_a_429_retry_after_is_honoured(client, github_api, waits):
    github_api.rate_limit("GET", "/repos/acme/digits", status=429, retry_after=2)
    client.get(repo_path(TEST_REPO))
    assert waits == [2]


def test_the_rate_limit_reset_is_honoured(client, github_api, waits):
    github_api.rate_limit("GET", "/repos/acme/digits", reset_in=30)
    client.get(repo_path(TEST_REPO))
    assert len(waits) == 1 and 29 <= waits[0] <= 32


def test_the_reset_uses_the_injected_clock(github_api):
    waits: list[float] = []
    github_api.rate_limit("GET", "/repos/acme/digits", reset_in=100)
    with GitHubClient(github_api.url, TEST_TOKEN, sleep=waits.append, clock=lambda: 0) as client:
        with pytest.raises(GitHubError, match=r"rate limited for \d+ s, longer than the 300 s"):
            client.get(repo_path(TEST_REPO))
    assert not waits


def test_a_secondary_limit_without_headers_backs_off_from_a_minute(client, github_api, waits):
    body = error_body(403, "You have exceeded a secondary rate limit. Please wait a few minutes.")
    github_api.inject("GET", "/repos/acme/digits", 403, times=2, body=body)
    client.get(repo_path(TEST_REPO))
    assert waits == [60, 120]


def test_an_http_date_retry_after_falls_back_to_backoff():
    answers = iter([httpx.Response(429, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT",
                                                 "x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon"}),
                    httpx.Response(200, json={})])
    waits: list[float] = []
    with mock_client(lambda request: next(answers), sleep=waits.append) as client:
        client.get("/repos/acme/digits")
    assert waits == [60]


def test_a_wait_longer_than_the_cap_is_an_error_at_once(client, github_api, waits):
    github_api.rate_limit("GET", "/repos/acme/digits", retry_after=3600)
    with pytest.raises(GitHubError, match="rate limited for 3600 s, longer than the 300 s") as raised:
        client.get(repo_path(TEST_REPO))
    assert raised.value.status == 403 and not waits


def test_the_cap_is_configurable(github_api):
    waits: list[float] = []
    github_api.rate_limit("GET", "/repos/acme/digits", retry_after=3600)
    with GitHubClient(github_api.url, TEST_TOKEN, sleep=waits.append, max_wait=7200) as client:
        client.get(repo_path(TEST_REPO))
    assert waits == [3600]


def test_still_rate_limited_after_every_try(client, github_api, waits):
    github_api.rate_limit("GET", "/repos/acme/digits", retry_after=1, times=3)
    with pytest.raises(GitHubError, match="still rate limited after 3 tries"):
        client.get(repo_path(TEST_REPO))
    assert waits == [1, 1]


# -- errors --------------------------------------------------------------------------------------------


def test_a_404_carries_githubs_message(client):
    with pytest.raises(GitHubError) as raised:
        client.get(repo_path(TEST_REPO, "branches", "main", "protection"))
    error = raised.value
    assert (error.status, error.github_message, error.method) == (404, "Branch not protected", "GET")
    assert str(error) == "GitHub API GET /repos/acme/digits/branches/main/protection: 404 Branch not protected"
    assert error.exit_code == 2


def test_a_422_lists_githubs_errors(client, repo):
    repo.create_ruleset({"name": "taken", "enforcement": "active"})
    with pytest.raises(GitHubError) as raised:
        client.post(repo_path(TEST_REPO, "rulesets"), json={"name": "taken", "enforcement": "active"})
    assert raised.value.status == 422
    assert raised.value.errors == [{"resource": "Ruleset", "code": "custom", "field": "name",
                                    "message": "Name must be unique"}]
    assert str(raised.value).endswith("422 Validation Failed (Name must be unique)")


def test_a_422_without_messages_names_resource_field_and_code(client):
    with pytest.raises(GitHubError, match=r'Invalid request. "restrictions" wasn\'t supplied.$'):
        client.put(repo_path(TEST_REPO, "branches", "main", "protection"),
                   json={"required_status_checks": None, "enforce_admins": True,
                         "required_pull_request_reviews": None})
    detail = {"resource": "Issue", "field": "title", "code": "missing_field"}
    assert gh._error_detail(detail) == "Issue title missing_field"  # pylint: disable=protected-access
    assert gh._error_detail("plain") == "plain"  # pylint: disable=protected-access


def test_a_401_says_to_check_the_token(github_api):
    with GitHubClient(github_api.url, "wrong") as client:
        with pytest.raises(GitHubError, match="401 Bad credentials: check the token in GITHUB_TOKEN or GH"):
            client.get(repo_path(TEST_REPO))


def test_a_403_says_admin_rights_are_needed(github_api):
    github_api.state.add_token("reader", admin=False)
    with GitHubClient(github_api.url, "reader") as client:
        with pytest.raises(GitHubError) as raised:
            client.put(repo_path(TEST_REPO, "branches", "main", "protection"), json={})
    assert raised.value.status == 403
    assert "Resource not accessible by integration: the token lacks a permission" in str(raised.value)
    assert "admin rights" in str(raised.value)
    assert len(github_api.writes()) == 1


def test_an_error_without_a_json_body_uses_the_reason():
    with mock_client(lambda request: httpx.Response(418, text="teapot")) as client:
        with pytest.raises(GitHubError, match="418 I'm a teapot$"):
            client.get("/repos/acme/digits")


def test_the_default_sleep_is_time_sleep():
    gh._default_sleep(0)  # pylint: disable=protected-access


def test_create_once_finds_what_a_failed_post_created(client, github_api, repo):
    """A POST whose answer was lost (502 after GitHub acted) is looked up, not sent twice."""
    issues = f"/repos/{repo.full_name}/issues"

    looks: list[int] = []

    def find():
        looks.append(1)
        if len(looks) == 1:  # before the POST: not there yet
            repo.create_issue({"title": "drift"}, "octocat")  # what GitHub will do before its 502
            return None
        return next((issue for issue in client.paginate(issues) if issue["title"] == "drift"), None)

    github_api.inject("POST", issues, 502)
    issue, created = client.create_once(issues, {"title": "drift"}, find)
    assert created and issue["number"] == 1 and len(repo.issues) == 1 and len(looks) == 2
    assert client.create_once(issues, {"title": "drift"}, find) == (issue, False)
    github_api.inject("POST", issues, 422)
    with pytest.raises(gh.GitHubError, match="422"):
        client.create_once(issues, {"title": "other"}, lambda: None)
