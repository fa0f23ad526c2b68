"""The tests' GitHub stand-in: the local GitHub plus a request log and queued failures.

:class:`GitHubStandIn` is :class:`~mlops_ci.local.github.server.LocalGitHub` whose request handler logs
every request and can answer with queued failures (5xx, rate limits) before behaving normally::

    with GitHubStandIn() as github:                     # accepts the token "test-token"
        repo = github.state.add_repo("acme/digits", branches=["develop"])
        pull = repo.add_pull("develop", "main")
        github.inject("POST", r"/repos/.*/comments", 502, times=2)
        ...  # run the client with GITHUB_API_URL=github.url
        assert repo.comments_on(pull.number)[-1].body.startswith("## Report")

Run as ``python -m testing.github --port P --state-file FILE`` it serves until SIGTERM and keeps FILE up
to date with the state as JSON (after every write and at exit).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from mlops_ci.local.github.server import WRITE_METHODS, GitHubApp, LocalGitHub, error_body, json_response
from mlops_ci.local.github.state import GitHubState


@dataclass(frozen=True)
class RequestRecord:
    """One request the stand-in answered (``json`` is the parsed body or ``None``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int
    headers: dict[str, str]

    @property
    def is_write(self) -> bool:
        """Whether the method changes state (POST, PUT, PATCH, DELETE)."""
        return self.method in WRITE_METHODS


@dataclass
class InjectedResponse:
    """A queued answer for the next request whose method and path (a regex, full match) match."""

    method: str
    path: str
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]

    def matches(self, method: str, path: str) -> bool:
        """Whether a request ``method path`` is answered by this failure."""
        return self.method in ("*", method.upper()) and re.fullmatch(self.path, path) is not None


class RecordingGitHubApp(GitHubApp):
    """The local GitHub's handler that answers queued failures first and logs every request."""

    def __init__(self, state: GitHubState, on_write: Callable[[GitHubState], None] | None = None) -> None:
        super().__init__(state, on_write)
        self.requests: list[RequestRecord] = []
        self.injected: list[InjectedResponse] = []

    def respond(self, request: Request) -> Response:
        response = self._injected_response(request) or super().respond(request)
        self.requests.append(RequestRecord(
            request.method,
            request.path,
            request.args.to_dict(),
            request.get_json(force=True, silent=True),
            response.status_code,
            dict(request.headers),
        ))
        return response

    def _injected_response(self, request: Request) -> Response | None:
        for index, injected in enumerate(self.injected):
            if injected.matches(request.method, request.path):
                del self.injected[index]
                body = injected.body or error_body(injected.status, HTTPStatus(injected.status).phrase)
                return json_response(body, injected.status, injected.headers)
        return None


class GitHubStandIn(LocalGitHub):
    """The local GitHub with a request log, failure injection and the client environment."""

    app_type = RecordingGitHubApp
    app: RecordingGitHubApp

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in order."""
        return self.app.requests

    @property
    def errors(self) -> list[Exception]:
        """Exceptions raised inside handlers (answered as 500): a stand-in bug, should stay empty."""
        return self._server.handler_errors

    def env(self) -> dict[str, str]:
        """Environment variables pointing a client (subprocess, act step) at the stand-in."""
        return {"GITHUB_API_URL": self.url, **({"GITHUB_TOKEN": self.token} if self.token else {})}

    def writes(self) -> list[RequestRecord]:
        """The requests that try to change state (POST, PUT, PATCH, DELETE), whatever they got."""
        return [record for record in self.requests if record.is_write]

    def inject(  # pylint: disable=too-many-arguments  # keyword-only options
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (``*``: any) and the ``path`` regex
        (full match, no query) with ``status``, ``body`` (default: GitHub's error JSON) and ``headers``.
        """
        for _ in range(times):
            injected = InjectedResponse(method.upper(), path, status, body, dict(headers or {}))
            self.app.injected.append(injected)

    def rate_limit(  # pylint: disable=too-many-arguments  # keyword-only options
        self,
        method: str,
        path: str,
        *,
        status: int = 403,
        retry_after: int | None = None,
        reset_in: int | None = None,
        times: int = 1,
    ) -> None:
        """Inject GitHub rate-limit answers: a secondary limit (``retry_after`` seconds) or a primary
        one (``x-ratelimit-remaining: 0`` and a reset ``reset_in`` seconds ahead)."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
            message = "You have exceeded a secondary rate limit. Please wait a few minutes and try again."
        else:
            message = "API rate limit exceeded for installation."
        if reset_in is not None:
            reset = str(int(time.time()) + reset_in)
            headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
        self.inject(method, path, status, times=times, body=error_body(status, message), headers=headers)


# -- command line ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m testing.github``."""
    summary = (__doc__ or "").split("\n\n", maxsplit=1)[0]
    parser = argparse.ArgumentParser(prog="python -m testing.github", description=summary)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    parser.add_argument("--state-file", type=Path, help="kept up to date with the state as JSON")
    parser.add_argument("--seed", type=Path, help="start from a state JSON written by --state-file")
    parser.add_argument("--token", default="test-token", help="token accepted (default: %(default)s)")
    parser.add_argument("--read-only", action="store_true", help="the token cannot write (fork PR token)")
    parser.add_argument("--non-admin", action="store_true", help="token cannot manage protection/rulesets")
    parser.add_argument("--repo", action="append", default=[], help="create owner/name (repeatable)")
    parser.add_argument("--branch", action="append", default=[], help="extra branch of each --repo")
    return parser


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or ``stop`` is set); prints ``GITHUB_API_URL=...`` once listening."""
    args = build_parser().parse_args(argv)
    state = GitHubState.load(args.seed) if args.seed else GitHubState()
    for full_name in args.repo:
        if full_name not in state.repos:
            state.add_repo(full_name, branches=args.branch)
    state.add_token(args.token, read_only=args.read_only, admin=not args.non_admin)
    if stop is None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    options = {"token": args.token, "host": args.host, "port": args.port, "state_file": args.state_file}
    with GitHubStandIn(state, **options) as github:
        print(f"GITHUB_API_URL={github.url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
