"""An Alibaba Cloud OSS stand-in: the S3 stand-in (moto) behind a forward proxy that, like OSS, serves
only virtual-hosted-style requests.

OSS takes the bucket from the host name (``https://BUCKET.oss-REGION.aliyuncs.com/KEY``) and refuses
path-style requests (``https://oss-REGION.aliyuncs.com/BUCKET/KEY``, what botocore and s3fs send to a
custom endpoint unless told otherwise) with 403 ``SecondLevelDomainForbidden``. Here the endpoint is a
name in the reserved ``.test`` domain, which no resolver answers, so bucket host names need no DNS: the
clients send every request to the proxy (``HTTP_PROXY``, honoured by botocore and aiobotocore), which
refuses path-style requests as OSS does and passes virtual-hosted ones to moto unchanged (moto reads
the bucket from the Host header as well)::

    with s3_server(tmp) as s3, oss_stand_in(s3) as oss:
        env = {**s3.env(), **oss.env()}   # then configure the client with oss.endpoint_url
"""

from __future__ import annotations

import http.client
import re
import shlex
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from mlops_ci.local.services import LOOPBACK
from testing.services import S3Server

__all__ = ["BUCKET", "CONFIG_PATH", "DOCUMENTED_ENDPOINT", "DOMAIN", "OssStandIn", "documented",
           "oss_stand_in", "path_style_refusal", "virtual_bucket"]

DOMAIN = "oss-stand-in.test"
NOT_PROXIED = f"{LOOPBACK},localhost"
# Hop-by-hop headers (RFC 9110 7.6.1) and the framing the proxy redoes itself.
_NOT_FORWARDED = {"connection", "proxy-connection", "keep-alive", "transfer-encoding", "te", "trailer",
                  "upgrade", "proxy-authorization", "content-length"}


def virtual_bucket(host: str, domain: str = DOMAIN) -> str | None:
    """The bucket a virtual-hosted request names (`bucket.domain[:port]`), None for any other host."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    label, dot, rest = name.lower().partition(".")
    return label if dot and label and rest == domain else None


def path_style_refusal(host: str) -> bytes:
    """The body OSS answers a path-style request with (HTTP 403)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SecondLevelDomainForbidden</Code>'
            '<Message>Please use virtual hosted style to access.</Message>'
            f'<RequestId>0</RequestId><HostId>{host}</HostId></Error>').encode()


@dataclass
class OssStandIn:
    """The running proxy: what clients need, and the requests it served and refused."""

    endpoint_url: str
    proxy_url: str
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """Route requests for the endpoint through the proxy; loopback ones (moto itself) go direct."""
        return {"HTTP_PROXY": self.proxy_url, "http_proxy": self.proxy_url,
                "NO_PROXY": NOT_PROXIED, "no_proxy": NOT_PROXIED}


def _handler(stand_in: OssStandIn, upstream: tuple[str, int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Every method: refuse path-style, forward virtual-hosted to moto."""

        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs expect

        def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
            """Quiet: the lists on the stand-in record what happened."""

        def _body(self) -> bytes:
            # botocore and aiobotocore send Content-Length (aws-chunked bodies too): no HTTP chunking.
            if self.headers.get("Transfer-Encoding"):
                raise NotImplementedError("the OSS stand-in reads bodies with a Content-Length only")
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, length: int) -> None:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _handle(self) -> None:
            target = urlsplit(self.path)
            host = target.netloc or self.headers.get("Host", "")
            path = (target.path or "/") + (f"?{target.query}" if target.query else "")
            body = self._body()
            line = f"{self.command} {host}{path}"
            if virtual_bucket(host) is None:
                stand_in.refused.append(line)
                refusal = path_style_refusal(host)
                self._reply(403, [("Content-Type", "application/xml")], refusal, len(refusal))
                return
            stand_in.served.append(line)
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in _NOT_FORWARDED}
            headers["Host"] = host
            connection = http.client.HTTPConnection(*upstream, timeout=60)
            try:
                connection.request(self.command, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                kept = [(name, value) for name, value in response.getheaders()
                        if name.lower() not in _NOT_FORWARDED]
                # A HEAD answer's Content-Length is the object's size, not this (empty) body's.
                length = len(data)
                if self.command == "HEAD":
                    length = int(response.getheader("Content-Length") or 0)
                self._reply(response.status, kept, data, length)
            finally:
                connection.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler


@contextmanager
def oss_stand_in(s3: S3Server) -> Iterator[OssStandIn]:
    """The proxy on a free loopback port in front of `s3`, with endpoint http://oss-stand-in.test."""
    upstream = urlsplit(s3.endpoint_url)
    stand_in = OssStandIn(f"http://{DOMAIN}", "")
    server = ThreadingHTTPServer((LOOPBACK, 0),
                                 _handler(stand_in, (upstream.hostname or LOOPBACK, upstream.port or 80)))
    server.daemon_threads = True
    stand_in.proxy_url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the settings the admins' guide documents for OSS, which the tests run against the stand-in -----

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "admins" / "object-store.md"
SECTION = "## Alibaba Cloud OSS as the object store"
DOCUMENTED_ENDPOINT = "https://s3.oss-cn-hangzhou.aliyuncs.com"
BUCKET = "acme-ml"
CONFIG_PATH = ".dvc/oss-aws-config"


def documented() -> tuple[list[list[str]], str, dict[str, str]]:
    """The guide's OSS section: (the dvc commands, the AWS config file, the MLflow environment)."""
    text = DOCUMENT.read_text(encoding="utf-8")
    section = re.split(r"\n#{2,3} ", text.split(f"{SECTION}\n", 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    lines = [line.strip() for language, block in blocks if language == "bash" for line in block.splitlines()]
    commands = [shlex.split(line) for line in lines if line.startswith("dvc ")]
    exports = [line.removeprefix("export ") for line in lines if line.startswith("export ")]
    environment = dict(line.split("=", 1) for line in exports)
    config = "".join(block for language, block in blocks if language == "ini")
    return commands, config, environment
