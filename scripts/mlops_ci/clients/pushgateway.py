"""A Prometheus Pushgateway client: replace one group's metrics with a Prometheus text.

    push_metrics("http://pushgateway:9091", "mlops-ci-monitor", {"model": "digits"}, text)

The conventions of clients.github's GitHubClient: each push gets at most `tries` attempts (3), a
connection that failed before the request was sent is retried, every call has a timeout (30 s), the
transport can be injected for tests, and every failure is one MlopsCiError (exit 2) naming the
gateway. A PUT replaces the whole group, so repeating it is safe.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import httpx

from mlops_ci.core.errors import MlopsCiError

TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_TRIES = 3
DEFAULT_TIMEOUT = 30.0  # seconds per request


def _segment(name: str, value: str) -> str:
    """One `/name/value` of a Pushgateway grouping key; a value with `/` (or empty) goes base64url."""
    if value and "/" not in value:
        return f"/{name}/{quote(value, safe='')}"
    return f"/{name}@base64/{base64.urlsafe_b64encode(value.encode()).decode() or '='}"


def grouping_path(job: str, labels: dict[str, str]) -> str:
    """The Pushgateway path of a group: /metrics/job/JOB/NAME/VALUE..."""
    segments = [_segment("job", job), *(_segment(name, value) for name, value in labels.items())]
    return "/metrics" + "".join(segments)


def push_metrics(url: str, job: str, labels: dict[str, str], text: str, *,  # pylint: disable=too-many-arguments
                 tries: int = DEFAULT_TRIES, timeout: float = DEFAULT_TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> str:
    """PUT `text` (Prometheus text format) as the group's metrics, replacing the group; its URL."""
    target = url.rstrip("/") + grouping_path(job, labels)
    transport = transport or httpx.HTTPTransport(retries=max(tries, 1) - 1)
    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            response = client.put(target, content=text.encode(), headers={"Content-Type": TEXT_FORMAT})
    except httpx.HTTPError as error:
        raise MlopsCiError(f"cannot reach the Pushgateway: {error}", where=url) from error
    if response.status_code >= 300:
        detail = " ".join(response.text.split())[:300]
        raise MlopsCiError(f"the Pushgateway answered {response.status_code}: {detail}", where=target)
    return target
