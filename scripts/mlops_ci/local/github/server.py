"""The local GitHub of `mlops-ci local`: a stateful GitHub REST API on a real loopback socket.

Subprocesses and act workflow steps reach it through ``GITHUB_API_URL=<LocalGitHub.url>``. It serves
GitHub's real paths, validates request bodies against GitHub's documented schemas (422 ``Invalid
request.`` as GitHub words it, see :mod:`~mlops_ci.local.github.openapi`), answers in the documented
shapes (:mod:`~mlops_ci.local.github.shapes`), keeps state in a
:class:`~mlops_ci.local.github.state.GitHubState` (seedable and inspectable) and checks tokens::

    with LocalGitHub(state, token=token, state_file=folder / "github-state.json") as github:
        ...  # run the client with GITHUB_API_URL=github.url

The tests' stand-in (``testing.github.GitHubStandIn``) extends it with a request log and queued
failures, through :meth:`GitHubApp.respond`.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import openapi
from .shapes import (
    HTML_URL,
    Call,
    authenticated_user_json,
    comment_json,
    commit_json,
    issue_json,
    protection_json,
    pull_json,
    repo_json,
    review_json,
    ruleset_json,
)
from .state import DEFAULT_LOGIN, ApiError, GitHubState, Repository, Token

__all__ = [
    "ApiError",
    "GitHubApp",
    "GitHubState",
    "LocalGitHub",
    "Repository",
    "protection_json",
]

DOCS_URL = "https://docs.github.com/rest"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RATE_LIMIT = 5000


def error_body(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """GitHub's error JSON."""
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS_URL, "status": str(status)}
    if errors:
        body["errors"] = errors
    return body


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; 204 gets no body."""
    if status == HTTPStatus.NO_CONTENT:
        return Response(status=status, headers=headers)
    content_type = "application/json; charset=utf-8"
    return Response(json.dumps(body), status=status, headers=headers, content_type=content_type)


def paginated(call: Call, items: Sequence[Any]) -> Response:
    """One page of ``items`` (``per_page`` default 30, max 100; ``page`` from 1) with GitHub's ``Link``."""
    per_page = min(max(_int_arg(call.request, "per_page", 30), 1), 100)
    page = max(_int_arg(call.request, "page", 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)

    def link(target: int, rel: str) -> str:
        query = {**call.request.args.to_dict(), "per_page": per_page, "page": target}
        return f'<{call.request.base_url}?{urlencode(query)}>; rel="{rel}"'

    links = [link(page + 1, "next"), link(last, "last")] if page < last else []
    links += [link(1, "first"), link(page - 1, "prev")] if page > 1 else []
    headers = {"Link": ", ".join(links)} if links else None
    return json_response(list(items[(page - 1) * per_page : page * per_page]), headers=headers)


def _int_arg(request: Request, name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


# -- handlers: one per route -----------------------------------------------------------------------


def get_repo(call: Call) -> Response:
    """GET /repos/{o}/{r}"""
    return json_response(repo_json(call))


def get_branch(call: Call, branch: str) -> Response:
    """GET /repos/{o}/{r}/branches/{b}"""
    sha = call.repo.branch_sha(branch)
    url = f"{call.repo_url}/branches/{branch}"
    if branch in call.repo.protection:
        protection = {"enabled": True, **protection_json(f"{url}/protection", call.repo.protection[branch])}
    else:
        protection = {"enabled": False, "required_status_checks": {"enforcement_level": "off", "contexts": [],
                                                                   "checks": []}}
    return json_response(
        {
            "name": branch,
            "commit": commit_json(call, sha),
            "protected": branch in call.repo.protection,
            "protection": protection,
            "protection_url": f"{url}/protection",
            "_links": {"self": url, "html": f"{HTML_URL}/{call.repo.full_name}/tree/{branch}"},
        }
    )


def get_protection(call: Call, branch: str) -> Response:
    """GET /repos/{o}/{r}/branches/{b}/protection"""
    stored = call.repo.protection_of(branch)
    return json_response(protection_json(f"{call.repo_url}/branches/{branch}/protection", stored))


def put_protection(call: Call, branch: str) -> Response:
    """PUT /repos/{o}/{r}/branches/{b}/protection"""
    stored = call.repo.set_protection(branch, call.body())
    return json_response(protection_json(f"{call.repo_url}/branches/{branch}/protection", stored))


def delete_protection(call: Call, branch: str) -> Response:
    """DELETE /repos/{o}/{r}/branches/{b}/protection"""
    call.repo.remove_protection(branch)
    return json_response(None, 204)


def list_rulesets(call: Call) -> Response:
    """GET /repos/{o}/{r}/rulesets"""
    return paginated(call, [ruleset_json(call, r, full=False) for r in call.repo.rulesets.values()])


def create_ruleset(call: Call) -> Response:
    """POST /repos/{o}/{r}/rulesets"""
    return json_response(ruleset_json(call, call.repo.create_ruleset(call.body())), 201)


def get_ruleset(call: Call, ruleset_id: int) -> Response:
    """GET /repos/{o}/{r}/rulesets/{id}"""
    return json_response(ruleset_json(call, call.repo.ruleset(ruleset_id)))


def update_ruleset(call: Call, ruleset_id: int) -> Response:
    """PUT /repos/{o}/{r}/rulesets/{id}"""
    return json_response(ruleset_json(call, call.repo.update_ruleset(ruleset_id, call.body())))


def delete_ruleset(call: Call, ruleset_id: int) -> Response:
    """DELETE /repos/{o}/{r}/rulesets/{id}"""
    call.repo.delete_ruleset(ruleset_id)
    return json_response(None, 204)


def branch_rules(call: Call, branch: str) -> Response:
    """GET /repos/{o}/{r}/rules/branches/{b}: rules of active rulesets that apply to the branch."""
    rules = [
        {
            **rule,
            "ruleset_source_type": "Repository",
            "ruleset_source": call.repo.full_name,
            "ruleset_id": ruleset.id,
        }
        for ruleset, rule in call.repo.rules_for_branch(branch)
    ]
    return paginated(call, rules)


def list_pulls(call: Call) -> Response:
    """GET /repos/{o}/{r}/pulls?state=&head=owner:ref&base="""
    args = call.request.args
    pulls = call.repo.list_pulls(args.get("state", "open"), args.get("head"), args.get("base"))
    return paginated(call, [pull_json(call, pull) for pull in pulls])


def get_pull(call: Call, number: int) -> Response:
    """GET /repos/{o}/{r}/pulls/{n}"""
    return json_response(pull_json(call, call.repo.pull(number)))


def list_reviews(call: Call, number: int) -> Response:
    """GET /repos/{o}/{r}/pulls/{n}/reviews"""
    return paginated(call, [review_json(call, review) for review in call.repo.reviews_of(number)])


def create_issue(call: Call) -> Response:
    """POST /repos/{o}/{r}/issues"""
    return json_response(issue_json(call, call.repo.create_issue(call.body(), call.token.login)), 201)


def list_issues(call: Call) -> Response:
    """GET /repos/{o}/{r}/issues?state=&labels=a,b (pull requests included, as GitHub does)"""
    args = call.request.args
    items = call.repo.list_issues(args.get("state", "open"), args.get("labels"))
    return paginated(call, [issue_json(call, item) for item in items])


def get_issue(call: Call, number: int) -> Response:
    """GET /repos/{o}/{r}/issues/{n}: a pull request is an issue too (with a ``pull_request`` key)."""
    if number in call.repo.pulls:
        return json_response(issue_json(call, call.repo.pulls[number]))
    return json_response(issue_json(call, call.repo.issue(number)))


def list_comments(call: Call, number: int) -> Response:
    """GET /repos/{o}/{r}/issues/{n}/comments?per_page=&page="""
    return paginated(call, [comment_json(call, c) for c in call.repo.comments_on(number)])


def create_comment(call: Call, number: int) -> Response:
    """POST /repos/{o}/{r}/issues/{n}/comments"""
    comment = call.repo.create_comment(number, call.body(), call.token.login)
    return json_response(comment_json(call, comment), 201)


def get_comment(call: Call, comment_id: int) -> Response:
    """GET /repos/{o}/{r}/issues/comments/{id}"""
    return json_response(comment_json(call, call.repo.comment(comment_id)))


def update_comment(call: Call, comment_id: int) -> Response:
    """PATCH /repos/{o}/{r}/issues/comments/{id}"""
    return json_response(comment_json(call, call.repo.update_comment(comment_id, call.body())))


def delete_comment(call: Call, comment_id: int) -> Response:
    """DELETE /repos/{o}/{r}/issues/comments/{id}"""
    call.repo.delete_comment(comment_id)
    return json_response(None, 204)


def commit_pulls(call: Call, sha: str) -> Response:
    """GET /repos/{o}/{r}/commits/{sha}/pulls"""
    return paginated(call, [pull_json(call, pull) for pull in call.repo.pulls_for_commit(sha)])


def dispatch_workflow(call: Call, workflow_id: str) -> Response:
    """POST /repos/{o}/{r}/actions/workflows/{id}/dispatches"""
    call.repo.dispatch_workflow(workflow_id, call.body())
    return json_response(None, 204)


def authenticated_user(request: Request, token: Token) -> Response:
    """GET /user: a user's token (a PAT) answers with its login; an installation token (GITHUB_TOKEN,
    an App's, whose login ends in [bot]) gets 403, as on GitHub."""
    if token.login.endswith("[bot]"):
        raise ApiError(403, "Resource not accessible by integration")
    return json_response(authenticated_user_json(request.host_url.rstrip("/"), token.login))


Handler = Callable[..., Response]  # (call, **path arguments) -> response

# method, path below /repos/{owner}/{repo}, handler, access the token needs (read, write, admin)
ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("GET", "", get_repo, "read"),
    ("GET", "/branches/<path:branch>", get_branch, "read"),
    ("GET", "/branches/<path:branch>/protection", get_protection, "admin"),
    ("PUT", "/branches/<path:branch>/protection", put_protection, "admin"),
    ("DELETE", "/branches/<path:branch>/protection", delete_protection, "admin"),
    ("GET", "/rulesets", list_rulesets, "read"),
    ("POST", "/rulesets", create_ruleset, "admin"),
    ("GET", "/rulesets/<int:ruleset_id>", get_ruleset, "read"),
    ("PUT", "/rulesets/<int:ruleset_id>", update_ruleset, "admin"),
    ("DELETE", "/rulesets/<int:ruleset_id>", delete_ruleset, "admin"),
    ("GET", "/rules/branches/<path:branch>", branch_rules, "read"),
    ("GET", "/pulls", list_pulls, "read"),
    ("GET", "/pulls/<int:number>", get_pull, "read"),
    ("GET", "/pulls/<int:number>/reviews", list_reviews, "read"),
    ("GET", "/issues", list_issues, "read"),
    ("POST", "/issues", create_issue, "write"),
    ("GET", "/issues/<int:number>", get_issue, "read"),
    ("GET", "/issues/<int:number>/comments", list_comments, "read"),
    ("POST", "/issues/<int:number>/comments", create_comment, "write"),
    ("GET", "/issues/comments/<int:comment_id>", get_comment, "read"),
    ("PATCH", "/issues/comments/<int:comment_id>", update_comment, "write"),
    ("DELETE", "/issues/comments/<int:comment_id>", delete_comment, "write"),
    ("GET", "/commits/<sha>/pulls", commit_pulls, "read"),
    ("POST", "/actions/workflows/<workflow_id>/dispatches", dispatch_workflow, "write"),
)
REPO_PREFIX = "/repos/<owner>/<repo>"
HANDLERS = {handler.__name__: (handler, access) for _, _, handler, access in ROUTES}
URL_MAP = Map(
    [
        Rule(f"{REPO_PREFIX}{path}", endpoint=handler.__name__, methods=[method])
        for method, path, handler, _ in ROUTES
    ],
    strict_slashes=False,
)


def served_routes() -> list[tuple[str, str]]:
    """Every (method, path template) the stand-in answers, ``GET /user`` included."""
    return [("GET", "/user"), *((method, f"{REPO_PREFIX}{path}") for method, path, _, _ in ROUTES)]


def check_body(call: Call, method: str, path: str) -> None:
    """GitHub's 422 ``Invalid request`` for a body its documented schema rejects (400: not JSON)."""
    operation = openapi.operation(method, path)
    if operation.request is not None and (problem := operation.request_problem(call.body())):
        raise ApiError(422, problem)


# -- routing -----------------------------------------------------------------------------------------


class GitHubApp:
    """The WSGI-level request handler: routing, auth, state operations, rate-limit headers.

    Thread-safe: requests are handled one at a time under a lock.
    """

    def __init__(self, state: GitHubState, on_write: Callable[[GitHubState], None] | None = None) -> None:
        self.state = state
        self.answered = 0
        self._on_write = on_write
        self._lock = threading.RLock()
        self._rate_reset = int(time.time()) + 3600

    def __call__(self, request: Request) -> Response:
        with self._lock:
            response = self.respond(request)
            self._finish(request, response)
            return response

    def respond(self, request: Request) -> Response:
        """The answer to ``request`` (called under the lock): the hook a test stand-in overrides to log
        requests or to answer some of them with a queued failure."""
        return self._route(request)

    def _route(self, request: Request) -> Response:
        try:
            if (request.method, request.path.rstrip("/")) == ("GET", "/user"):
                return authenticated_user(request, self._authorize(request, "read"))
            rule, args = URL_MAP.bind_to_environ(request.environ).match(return_rule=True)
        except HTTPException:
            return json_response(error_body(404, "Not Found"), 404)
        except ApiError as error:
            return json_response(error_body(error.status, error.message, error.errors), error.status)
        handler, access = HANDLERS[rule.endpoint]
        try:
            token = self._authorize(request, access)
            call = Call(request, self.state.repo(f"{args.pop('owner')}/{args.pop('repo')}"), token)
            check_body(call, request.method, rule.rule)
            return handler(call, **args)
        except ApiError as error:
            return json_response(error_body(error.status, error.message, error.errors), error.status)

    def _authorize(self, request: Request, access: str) -> Token:
        if not self.state.tokens:
            return Token("", DEFAULT_LOGIN)
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value:
            raise ApiError(401, "Requires authentication")
        token = self.state.tokens.get(value.strip())
        if token is None:
            raise ApiError(401, "Bad credentials")
        if access == "admin" and not token.admin and request.method == "GET":
            raise ApiError(404, "Not Found")  # GitHub hides admin-only reads (branch protection)
        if (access != "read" and token.read_only) or (access == "admin" and not token.admin):
            raise ApiError(403, "Resource not accessible by integration")
        return token

    def _finish(self, request: Request, response: Response) -> None:
        self.answered += 1
        response.headers.setdefault("x-ratelimit-limit", str(RATE_LIMIT))
        response.headers.setdefault("x-ratelimit-remaining", str(max(RATE_LIMIT - self.answered, 0)))
        response.headers.setdefault("x-ratelimit-reset", str(self._rate_reset))
        response.headers.setdefault("x-ratelimit-used", str(self.answered))
        response.headers.setdefault("x-ratelimit-resource", "core")
        if request.method in WRITE_METHODS and response.status_code < 400 and self._on_write:
            self._on_write(self.state)


# -- server ------------------------------------------------------------------------------------------


class _Server(HTTPServer):
    """pytest-httpserver's server, checking for shutdown every 20 ms instead of 500 ms."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.02)


class LocalGitHub:
    """The local GitHub served on a loopback port in a background thread; a context manager.

    ``token`` (if not ``None``) is added to the state's accepted tokens. ``state_file`` (if given) gets
    the state as JSON at start, after every successful write and at stop. ``app_type`` is the request
    handler a subclass may extend.
    """

    app_type: type[GitHubApp] = GitHubApp

    def __init__(
        self,
        state: GitHubState | None = None,
        *,
        token: str | None = "test-token",
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | Path | None = None,
    ) -> None:
        self.state = state if state is not None else GitHubState()
        self.token = token
        if token is not None and token not in self.state.tokens:
            self.state.add_token(token)
        self.state_file = Path(state_file) if state_file else None
        self.app = self.app_type(self.state, on_write=self._dump if self.state_file else None)
        self._server = _Server(host=host, port=port, threaded=True)
        self._server.expect_request(re.compile(".*")).respond_with_handler(self.app)

    @property
    def url(self) -> str:
        """Base URL for ``GITHUB_API_URL`` (no trailing slash)."""
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> Self:
        """Start serving (returns immediately)."""
        self._server.start()
        if self.state_file:
            self._dump(self.state)
        return self

    def stop(self) -> None:
        """Stop serving and write the state file one last time."""
        if self._server.is_running():
            self._server.stop()
        if self.state_file:
            self._dump(self.state)

    def _dump(self, state: GitHubState) -> None:
        assert self.state_file is not None
        state.dump(self.state_file)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc_info: object) -> None:
        self.stop()
