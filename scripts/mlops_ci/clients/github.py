"""The one GitHub REST client every mlops-ci command shares: a thin, typed layer over httpx.

    with GitHubClient.from_env() as github:       # GITHUB_API_URL, GITHUB_TOKEN or GH_TOKEN
        repo = github.get(repo_path("acme/digits"))
        comments = github.paginate(repo_path("acme/digits", "issues", 7, "comments"))
        github.post(repo_path("acme/digits", "issues", 7, "comments"), json={"body": "hello"})

`GITHUB_API_URL` is https://api.github.com on github.com and https://HOST/api/v3 on Enterprise Server
(paths are joined below it). Every call returns the parsed JSON (None for an empty answer such as 204).

Retry rules (each request gets at most `tries` attempts, 3 by default; no single wait exceeds
`max_wait`, 300 s by default: a longer one is an error instead, so a job never sleeps for an hour):

- Rate limits, any method: a 403 or 429 with `retry-after` waits that many seconds; with
  `x-ratelimit-remaining: 0` it waits until `x-ratelimit-reset`; a 429, or a 403 whose message names a
  rate limit, without those headers (a secondary limit) backs off from 60 s, doubling. GitHub does not
  act on a rate-limited request, so retrying even a POST cannot duplicate anything.
- Connection failures (connect error, connect timeout), any method: the request never reached
  GitHub, so it is retried with exponential backoff (1 s, 2 s, ...).
- Server errors (500, 502, 503, 504) and failures after the request was sent (read timeout, dropped
  connection): retried with exponential backoff for idempotent requests only: GET, PUT, PATCH and
  DELETE (every PUT/PATCH the commands send replaces a whole setting or text). A POST may have
  created its resource before the error, so it is NOT retried then: the error says so and the
  caller decides (look the resource up, then create). Pass `idempotent=True` for a POST that is safe
  to repeat, `idempotent=False` for another method that is not.
- Any other 4xx is raised at once as GitHubError, with GitHub's `message` (and `errors` for a 422)
  and a hint for 401 (the token) and 403 (missing rights, e.g. admin for branch protection).

Errors are `GitHubError`, an `MlopsCiError`: the CLI prints one line naming method and path, exit 2.
The sleep function and the clock can be injected, so tests never wait.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from mlops_ci import __version__
from mlops_ci.core import gha
from mlops_ci.core.errors import MlopsCiError

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
USER_AGENT = f"mlops-ci/{__version__}"
PER_PAGE = 100

DEFAULT_TRIES = 3
DEFAULT_MAX_WAIT = 300.0  # seconds: the longest single wait; longer is an error
DEFAULT_BACKOFF = 1.0  # seconds before the first retry of a failed request; doubles each retry
SECONDARY_BACKOFF = 60.0  # seconds before retrying a secondary rate limit that names no wait
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})

Params = Mapping[str, str | int | float | bool | None]


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)


class GitHubError(MlopsCiError):
    """A GitHub API call failed: `status` (None when GitHub was not reached), GitHub's `message` and,
    for a 422, its `errors` detail. `where` is "GitHub API METHOD PATH"."""

    def __init__(self, method: str, path: str, status: int | None, message: str, *,  # pylint: disable=too-many-arguments
                 errors: list[Any] | None = None, hint: str | None = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.github_message = message
        self.errors = list(errors or [])
        text = f"{status} {message}" if status is not None else message
        if self.errors:
            text += f" ({'; '.join(_error_detail(error) for error in self.errors)})"
        if hint:
            text += f": {hint}"
        super().__init__(text, where=f"GitHub API {method} {path}")


def _error_detail(error: Any) -> str:
    """One entry of a 422's `errors`: a string, or an object with `message` or resource/field/code."""
    if isinstance(error, dict):
        if error.get("message"):
            return str(error["message"])
        return " ".join(str(error[key]) for key in ("resource", "field", "code") if error.get(key))
    return str(error)


def _hint(status: int) -> str | None:
    if status == 401:
        return f"check the token in {' or '.join(TOKEN_VARIABLES)}: it is missing, expired or revoked"
    if status == 403:
        return ("the token lacks a permission for this call: branch protection and rulesets need admin "
                "rights on the repository (a repo admin's token, or Administration: write), comments "
                "need pull-requests/issues: write; a fork pull request's token is read-only")
    return None


def repo_path(repo: str, *parts: str | int) -> str:
    """`/repos/OWNER/NAME/part/...` with every part URL-quoted (a branch `feature/x` stays one part)."""
    owner, slash, name = repo.partition("/")
    if not slash or not owner or not name or "/" in name:
        raise MlopsCiError(f"not a repository: {repo!r} (expected OWNER/NAME)")
    return "/".join(["/repos", quote(owner, safe=""), quote(name, safe=""),
                     *(quote(str(part), safe="") for part in parts)])


def token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The API token: GITHUB_TOKEN, else GH_TOKEN; neither set is an MlopsCiError (exit 2)."""
    environ = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        if environ.get(name, "").strip():
            return environ[name].strip()
    raise MlopsCiError(f"no GitHub token: set {' or '.join(TOKEN_VARIABLES)} "
                       "(in a workflow: env: GITHUB_TOKEN: ${{ github.token }} or a secret)")


def api_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """GITHUB_API_URL (https://HOST/api/v3 on Enterprise Server), default https://api.github.com."""
    environ = os.environ if environ is None else environ
    url = environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    if not url.startswith(("https://", "http://")):
        raise MlopsCiError(f"not an http(s) URL: {url!r}", where="GITHUB_API_URL")
    return url.rstrip("/")


class GitHubClient:
    """GitHub's REST API over httpx with GitHub's headers, paging and the retry rules above."""

    def __init__(self, base_url: str, token: str, *,  # pylint: disable=too-many-arguments
                 tries: int = DEFAULT_TRIES, max_wait: float = DEFAULT_MAX_WAIT,
                 backoff: float = DEFAULT_BACKOFF, timeout: float = 30.0,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.tries = max(tries, 1)
        self.max_wait = max_wait
        self.backoff = backoff
        self._sleep = sleep or _default_sleep
        self._clock = clock or time.time
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                   "User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
        self._http = httpx.Client(base_url=self.base_url + "/", headers=headers, timeout=timeout,
                                  transport=transport, follow_redirects=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: Any) -> GitHubClient:
        """A client for GITHUB_API_URL with GITHUB_TOKEN or GH_TOKEN; `options` go to the constructor."""
        return cls(api_url_from_env(environ), token_from_env(environ), **options)

    # -- calls -------------------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET `path` (below the API URL, or an absolute URL): the parsed JSON."""
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Any:
        """POST: retried after a server error only with `idempotent=True` (see the module's rules)."""
        return self.request("POST", path, json=json, idempotent=idempotent)

    def put(self, path: str, json: Any = None) -> Any:
        """PUT (replaces a resource: retried after server errors)."""
        return self.request("PUT", path, json=json)

    def patch(self, path: str, json: Any = None) -> Any:
        """PATCH (retried after server errors: send the whole new value)."""
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> Any:
        """DELETE; None for GitHub's usual 204."""
        return self.request("DELETE", path)

    def create_once(self, path: str, json: Any, find: Callable[[], Any]) -> tuple[Any, bool]:
        """(resource, created): `find()`'s answer when it finds one, else POST `json` to `path`.

        A POST that failed after reaching GitHub (a 5xx, no answer) may have created the resource:
        `find()` again, and POST once more only when it is still absent, so retries never make two.
        """
        found = find()
        if found is not None:
            return found, False
        try:
            return self.post(path, json=json), True
        except GitHubError as error:
            if error.status is not None and error.status < 500:
                raise
            found = find()
            return (found, True) if found is not None else (self.post(path, json=json), True)

    def paginate(self, path: str, params: Params | None = None, *, key: str | None = None) -> list[Any]:
        """Every item of a list endpoint, following `Link: rel="next"` (per_page=100 unless given).

        `key` names the list inside an object answer (e.g. "workflow_runs").
        """
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **(params or {})}
        items: list[Any] = []
        url: str | None = path
        seen: set[str] = set()
        while url is not None:
            response = self._send("GET", url, params=query, json=None, idempotent=True)
            page = _parse(response)
            if key is not None:
                page = page.get(key, []) if isinstance(page, dict) else []
            if not isinstance(page, list):
                raise GitHubError("GET", path, response.status_code, "expected a JSON list")
            items.extend(page)
            seen.add(str(response.request.url))
            url = response.links.get("next", {}).get("url")
            if url in seen:
                break
            query = None  # the next link carries the query (httpx would drop it for params={})
        return items

    def request(self, method: str, path: str, *, params: Params | None = None, json: Any = None,
                idempotent: bool | None = None) -> Any:
        """Any call: the parsed JSON answer, None when empty. `idempotent` None: by method."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        return _parse(self._send(method, path, params=params, json=json, idempotent=safe))

    # -- retries -------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: Params | None, json: Any,  # pylint: disable=too-many-arguments
              idempotent: bool) -> httpx.Response:
        url = path if path.startswith(("https://", "http://")) else path.lstrip("/")
        shown = path.split("?", 1)[0]
        for attempt in range(1, self.tries + 1):
            last = attempt == self.tries
            try:
                response = self._http.request(method, url, params=params, json=json)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Never reached GitHub: safe to repeat whatever the method.
                if last:
                    raise GitHubError(method, shown, None,
                                      f"cannot reach {self.base_url}: {error}") from error
                self._wait(self._backoff_for(attempt), f"cannot reach GitHub ({error})")
                continue
            except httpx.TransportError as error:
                if last or not idempotent:
                    why = "" if idempotent else " (not retried: the request may have been applied)"
                    raise GitHubError(method, shown, None,
                                      f"{type(error).__name__}: {str(error) or 'no answer'}{why}") from error
                self._wait(self._backoff_for(attempt), f"no answer from GitHub ({type(error).__name__})")
                continue
            if response.status_code < 400:
                return response
            wait = self._rate_limit_wait(response, attempt)
            if wait is not None:
                if last:
                    raise _error(method, shown, response, f"still rate limited after {self.tries} tries")
                if wait > self.max_wait:
                    raise _error(method, shown, response,
                                 f"rate limited for {wait:.0f} s, longer than the {self.max_wait:.0f} s "
                                 "this client waits: retry later")
                self._wait(wait, f"rate limited on {method} {shown}")
                continue
            if response.status_code in RETRIED_STATUSES:
                if not idempotent:
                    raise _error(method, shown, response,
                                 "not retried: the request may have been applied; check before repeating it")
                if last:
                    raise _error(method, shown, response, f"gave up after {self.tries} tries")
                self._wait(self._backoff_for(attempt), f"GitHub answered {response.status_code} "
                                                       f"to {method} {shown}")
                continue
            raise _error(method, shown, response, _hint(response.status_code))
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff_for(self, attempt: int) -> float:
        return self.backoff * 2 ** (attempt - 1)

    def _rate_limit_wait(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait when `response` is a rate-limit answer, else None."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(float(retry_after), 0.0)
            except ValueError:
                pass  # an HTTP date: fall through to the other signals
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            try:
                return max(float(headers["x-ratelimit-reset"]) - self._clock(), 0.0) + 1.0
            except ValueError:
                pass
        if response.status_code == 429 or "rate limit" in _message(response).lower():
            return SECONDARY_BACKOFF * 2 ** (attempt - 1)
        return None

    def _wait(self, seconds: float, why: str) -> None:
        gha.report("notice", f"{why}: retrying in {seconds:.0f} s")
        self._sleep(min(seconds, self.max_wait))

    # -- lifetime ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    body = _body(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return response.reason_phrase or "error"


def _error(method: str, path: str, response: httpx.Response, hint: str | None) -> GitHubError:
    body = _body(response)
    errors = body.get("errors") if isinstance(body, dict) and isinstance(body.get("errors"), list) else None
    message = " ".join(_message(response).split())  # GitHub's 422 messages hold blank lines
    return GitHubError(method, path, response.status_code, message, errors=errors, hint=hint)


def _parse(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
