"""`mlops-ci serve`: the champion behind an HTTP scoring endpoint, with Prometheus metrics and a canary.

    mlops-ci serve --model NAME [--alias champion] [--challenger-alias challenger]
                   [--canary-fraction F | --refresh 10] [--host 127.0.0.1] [--port 8080] [--log-dir DIR]

Loads NAME@ALIAS (and NAME@CHALLENGER when --canary-fraction > 0) from the MLflow registry
(MLFLOW_TRACKING_URI) with MLflow's pyfunc loader. Without --canary-fraction it follows the canary
that `mlops-ci canary` keeps in the registry: the fraction is the registered-model tag
mlops_ci.canary.fraction (no tag or no NAME@CHALLENGER: champion only), re-read with both aliases every
--refresh seconds; a moved alias loads its new version (each version once), a registry that does not
answer keeps the arms as they were. It serves:

    POST /invocations  MLflow's scoring JSON ({"inputs": ...}, {"dataframe_split": ...},
                       {"dataframe_records": ...}, {"instances": ...}), parsed by MLflow's scoring
                       server; an optional "labels" list (one per row) is logged for `compare`.
                       The X-Request-Id header (else a new uuid) picks the arm: a stable hash sends
                       the same id to the same arm, and the fraction F of ids to the challenger.
                       Answers {"predictions": [...], "request_id", "arm", "version"}.
    GET /health        200 with the served versions.
    GET /metrics       Prometheus text: the series `mlops-ci alerts` watches, and process_*.

Metrics (labels model, version, arm; arm is the alias that served):
    mlops_ci_request_latency_seconds              histogram of prediction latency
    mlops_ci_predictions_total                    rows predicted
    mlops_ci_request_errors_total{status}         requests answered 4xx/5xx
    mlops_ci_model_metric{metric}                 the version's validation metrics (its MLflow run)
    mlops_ci_model_deployed_timestamp_seconds     the version's promoted_at tag, else its creation
    mlops_ci_uptime_seconds                       seconds since the server started

With --log-dir, every predicted row is one JSON line in DIR/ARM.jsonl (request_id, timestamp, model,
version, arm, prediction, label, latency in ms): the files `mlops-ci compare --control
DIR/champion.jsonl --treatment DIR/challenger.jsonl` reads. Stops on SIGTERM or Ctrl-C.
"""

# pylint: disable=import-outside-toplevel  # mlflow and prometheus_client are the `serve` extra

from __future__ import annotations

import argparse
import hashlib
import io
import json
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.registry.canary import read_canary
from mlops_ci.registry.tags import CHALLENGER_ALIAS, DEFAULT_ALIAS, PROMOTED_AT_TAG

DEFAULT_REFRESH = 10.0
LABELS = ("model", "version", "arm")
# Prediction latency of small models is milliseconds; a few slow buckets catch a stalled server.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_BODY = 64 * 1024 * 1024


# --- routing ----------------------------------------------------------------------------------------

def bucket(request_id: str) -> float:
    """A uniform number in [0, 1) fixed by the request id (the same in every process and run)."""
    digest = hashlib.sha256(request_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def route(request_id: str, fraction: float) -> bool:
    """True when the request goes to the challenger: the fraction `fraction` of ids, sticky per id."""
    return bucket(request_id) < fraction


# --- the served versions ----------------------------------------------------------------------------

@dataclass
class Arm:
    """One served model version: the alias it was loaded by, and what /metrics says about it."""

    alias: str
    version: str
    deployed: float
    metrics: dict[str, float] = field(default_factory=dict)
    model: Any = None


def deployed_at(tags: dict[str, str], creation_ms: int) -> float:
    """Epoch seconds of the version's promotion (promoted_at tag), else of its registration."""
    stamp = tags.get(PROMOTED_AT_TAG)
    if stamp:
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()
        except ValueError:
            pass  # a hand-written tag: the registration time still says something
    return creation_ms / 1000


def find_arm(registry: Registry, name: str, alias: str) -> Arm:
    """NAME@ALIAS's version and what /metrics says about it (its model not loaded yet)."""
    where = f"{name}@{alias}"
    try:
        version = registry.alias_version(name, alias)
    except NotFound as error:
        raise MlopsCiError(error.message, where=where) from error
    if version is None:
        raise MlopsCiError("the alias is not set", where=where)
    return version_arm(registry, name, alias, version)


def version_arm(registry: Registry, name: str, alias: str, version: str) -> Arm:
    """Version `version` served as arm `alias` and what /metrics says about it (its model not loaded yet)."""
    record = registry.version(name, version)
    return Arm(alias, version, deployed_at(dict(record.tags or {}), int(record.creation_timestamp or 0)),
               registry.run_metrics(record.run_id))


def load_model(name: str, arm: Arm) -> None:
    """The arm's pyfunc model, pinned to its version number (an alias moving meanwhile changes nothing)."""
    import mlflow.pyfunc

    try:
        arm.model = mlflow.pyfunc.load_model(f"models:/{name}/{arm.version}")
    except Exception as error:  # pylint: disable=broad-exception-caught  # any flavour's loader can fail
        raise MlopsCiError(f"cannot load version {arm.version}: {str(error).splitlines()[0]}",
                           where=f"{name}@{arm.alias}") from error


# --- metrics ----------------------------------------------------------------------------------------

class Metrics:
    """The server's Prometheus series, in a registry of their own (with the process collector)."""

    def __init__(self, model: str, arms: list[Arm], started: float) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.model = model
        self.latency = Histogram("mlops_ci_request_latency_seconds", "Prediction latency", LABELS,
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.predictions = Counter("mlops_ci_predictions", "Rows predicted", LABELS, registry=self.registry)
        self.errors = Counter("mlops_ci_request_errors", "Requests answered with an error status",
                              (*LABELS, "status"), registry=self.registry)
        uptime = Gauge("mlops_ci_uptime_seconds", "Seconds since the server started", registry=self.registry)
        uptime.set_function(lambda: time.time() - started)
        self.deployed = Gauge("mlops_ci_model_deployed_timestamp_seconds",
                         "When the served version was promoted (else registered), epoch seconds", LABELS,
                         registry=self.registry)
        self.metric = Gauge("mlops_ci_model_metric",
                            "The served version's validation metric (its MLflow run)",
                       (*LABELS, "metric"), registry=self.registry)
        for arm in arms:
            self.add_arm(arm)

    def add_arm(self, arm: Arm) -> None:
        """The series of an arm served from now on (its version and validation metrics)."""
        self.deployed.labels(self.model, arm.version, arm.alias).set(arm.deployed)
        for key, value in arm.metrics.items():
            self.metric.labels(self.model, arm.version, arm.alias, key).set(value)
        # Zero series from the start: rate() and absent() see the arm before its first request.
        self.predictions.labels(self.model, arm.version, arm.alias)
        self.latency.labels(self.model, arm.version, arm.alias)

    def observe(self, arm: Arm, seconds: float, rows: int) -> None:
        """One answered prediction request."""
        self.latency.labels(self.model, arm.version, arm.alias).observe(seconds)
        self.predictions.labels(self.model, arm.version, arm.alias).inc(rows)

    def error(self, arm: Arm, status: int) -> None:
        """One request answered with `status`."""
        self.errors.labels(self.model, arm.version, arm.alias, str(status)).inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


# --- prediction log ---------------------------------------------------------------------------------

def log_rows(request: dict[str, Any], predictions: list[Any],
             labels: list[Any] | None) -> list[dict[str, Any]]:
    """The prediction log rows of one request (the columns `mlops-ci compare` reads), one per row:
    `request`'s fields (request_id, timestamp, model, version, arm, latency) with each prediction and
    label; a multi-row request's ids get the row number so that every logged id is unique."""
    request_id = request["request_id"]
    return [{**request, "request_id": request_id if len(predictions) == 1 else f"{request_id}/{index}",
             "prediction": prediction, "label": None if labels is None else labels[index]}
            for index, prediction in enumerate(predictions)]


class PredictionLog:
    """DIR/ARM.jsonl per arm, appended and flushed per request (a killed server loses nothing)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise MlopsCiError(f"cannot create the log folder: {error.strerror}",
                                   where=str(folder)) from error

    def write(self, alias: str, rows: list[dict[str, Any]]) -> None:
        """Append `rows` to the arm's file."""
        if self.folder is None:
            return
        text = "".join(json.dumps(row, default=str) + "\n" for row in rows)
        with self._lock, open(self.folder / f"{alias}.jsonl", "a", encoding="utf-8") as file:
            file.write(text)


# --- HTTP -------------------------------------------------------------------------------------------

class BadRequest(Exception):
    """The request body is not a scoring request this server understands."""


def parse_request(body: bytes, schema: Any) -> tuple[Any, dict[str, Any] | None, list[Any] | None]:
    """(model input, params, labels) of a scoring request, parsed by MLflow's own scoring server."""
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    try:
        payload = json.loads(body)
    except ValueError as error:
        raise BadRequest(f"not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise BadRequest("expected a JSON object such as {\"inputs\": [...]}")
    labels, params = payload.pop("labels", None), payload.pop("params", None)
    if labels is not None and not isinstance(labels, list):
        raise BadRequest("labels: expected a list, one label per row")
    try:
        return infer_and_parse_data(payload, schema), params, labels
    except MlflowException as error:
        raise BadRequest(error.message) from error


def score(arm: Arm, body: bytes, meta: dict[str, Any]) -> tuple[dict[str, Any], list[Any], list[Any] | None]:
    """(JSON answer with `meta`, one prediction per row, labels) of a scoring request to `arm`;
    BadRequest for a body it can't score, the model's own exception when it fails."""
    from mlflow.pyfunc.scoring_server import predictions_to_json

    data, params, labels = parse_request(body, arm.model.metadata.get_input_schema())
    raw = arm.model.predict(data, params=params) if params else arm.model.predict(data)
    output = io.StringIO()
    predictions_to_json(raw, output, meta)
    answer = json.loads(output.getvalue())
    predictions = answer["predictions"]
    predictions = predictions if isinstance(predictions, list) else [predictions]
    if labels is not None and len(labels) != len(predictions):
        raise BadRequest(f"labels: {len(labels)} given for {len(predictions)} predicted rows")
    return answer, predictions, labels


@dataclass
class Service:
    """What a request handler needs: the arms, the canary fraction, the metrics and the log."""

    model: str
    champion: Arm
    challenger: Arm | None
    fraction: float
    metrics: Metrics
    log: PredictionLog

    def arm(self, request_id: str) -> Arm:
        """The arm serving `request_id`."""
        return self.challenger if self.challenger is not None and route(request_id, self.fraction) \
            else self.champion

    def predict(self, request_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer) of one scoring request; metrics and log updated."""
        arm = self.arm(request_id)
        meta = {"request_id": request_id, "arm": arm.alias, "version": arm.version}
        started = time.perf_counter()
        try:
            answer, predictions, labels = score(arm, body, meta)
        except BadRequest as error:
            self.metrics.error(arm, 400)
            return 400, {"error": str(error), **meta}
        except Exception as error:  # pylint: disable=broad-exception-caught  # the model's own failure: a 500
            self.metrics.error(arm, 500)
            return 500, {"error": f"{type(error).__name__}: {str(error)[:300]}", **meta}
        seconds = time.perf_counter() - started
        self.metrics.observe(arm, seconds, len(predictions))
        stamp = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        request = {"request_id": request_id, "timestamp": stamp, "model": self.model, "version": arm.version,
                   "arm": arm.alias, "latency": seconds * 1000}
        self.log.write(arm.alias, log_rows(request, predictions, labels))
        return 200, answer

    def health(self) -> dict[str, Any]:
        """The /health answer."""
        arms = [self.champion] + ([self.challenger] if self.challenger else [])
        return {"status": "ok", "model": self.model, "arms": {arm.alias: arm.version for arm in arms},
                "canary_fraction": self.fraction if self.challenger else 0.0}


class Follower:
    """Keeps a Service on the registry's canary (`mlops-ci canary`): the champion alias, @challenger
    and the fraction tag, re-read every `every` seconds; a version's model is loaded once."""

    def __init__(self, args: argparse.Namespace, service: Service | None = None) -> None:
        self.args = args
        self.service = service
        self.models: dict[str, Any] = {}

    def _arm(self, registry: Registry, alias: str, version: str, current: Arm | None) -> Arm:
        if current is not None and (current.alias, current.version) == (alias, version):
            return current
        arm = version_arm(registry, self.args.model, alias, version)
        if version in self.models:
            arm.model = self.models[version]
        else:
            load_model(self.args.model, arm)
            self.models[version] = arm.model
        if self.service is not None:
            self.service.metrics.add_arm(arm)
        return arm

    def arms(self, registry: Registry) -> tuple[Arm, Arm | None, float]:
        """(champion, challenger or None, fraction) as the registry says now, models loaded."""
        args = self.args
        where = f"{args.model}@{args.alias}"
        try:
            state = read_canary(registry, args.model, args.alias, args.challenger_alias)
        except NotFound as error:
            raise MlopsCiError(error.message, where=where) from error
        if state.champion is None:
            raise MlopsCiError("the alias is not set", where=where)
        current = self.service
        champion = self._arm(registry, args.alias, state.champion, current and current.champion)
        if not state.fraction or state.challenger is None:
            return champion, None, 0.0
        challenger = self._arm(registry, args.challenger_alias, state.challenger,
                               current and current.challenger)
        return champion, challenger, state.fraction

    def sync(self) -> None:
        """Re-read the registry and switch the service's arms; a failure keeps them as they are."""
        assert self.service is not None
        try:
            with Registry(action=f"serve {self.args.model}: re-reading the canary") as registry:
                champion, challenger, fraction = self.arms(registry)
        except MlopsCiError as error:
            gha.report("warning", f"serve: kept the arms as they were: {error}")
            return
        service = self.service
        if (champion, challenger, fraction) != (service.champion, service.challenger, service.fraction):
            service.champion, service.challenger, service.fraction = champion, challenger, fraction
            print(f"serve: {describe(service)}", flush=True)

    def follow(self, stop: threading.Event) -> None:
        """sync() every --refresh seconds until `stop` is set."""
        while not stop.wait(self.args.refresh):
            self.sync()


def describe(service: Service) -> str:
    """Which versions are served, and the canary's share."""
    text = f"{service.model}@{service.champion.alias} (v{service.champion.version})"
    if service.challenger is not None:
        text += (f", {service.fraction:g} of requests to @{service.challenger.alias} "
                 f"(v{service.challenger.version})")
    return text


def handler_for(service: Service) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to `service`."""

    class Handler(BaseHTTPRequestHandler):
        """/invocations, /health, /metrics."""

        def _send(self, status: int, body: bytes, content_type: str, request_id: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if request_id:
                self.send_header("X-Request-Id", request_id)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, answer: dict[str, Any], request_id: str | None = None) -> None:
            self._send(status, json.dumps(answer).encode("utf-8"), "application/json", request_id)

        def do_GET(self) -> None:  # pylint: disable=invalid-name  # http.server's naming
            """/health and /metrics."""
            if self.path == "/health":
                self._json(200, service.health())
            elif self.path == "/metrics":
                self._send(200, *service.metrics.render())
            else:
                self._json(404, {"error": f"no such path {self.path} (GET /health, /metrics)"})

        def do_POST(self) -> None:  # pylint: disable=invalid-name  # http.server's naming
            """/invocations."""
            if self.path != "/invocations":
                self._json(404, {"error": f"no such path {self.path} (POST /invocations)"})
                return
            request_id = self.headers.get("X-Request-Id") or str(uuid.uuid4())
            length = self.headers.get("Content-Length", "0")
            if not length.isdigit() or int(length) > MAX_BODY:
                error = f"Content-Length {length!r}: expected at most {MAX_BODY} bytes"
                self._json(413 if length.isdigit() else 411, {"error": error}, request_id)
                return
            status, answer = service.predict(request_id, self.rfile.read(int(length)))
            self._json(status, answer, request_id)

        def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
            """Quiet: the metrics and the prediction log are the record, not stderr per request."""

    return Handler


# --- command ----------------------------------------------------------------------------------------

def _stop(_signum: int, _frame: Any) -> None:
    raise SystemExit(EXIT_OK)


def first_arms(args: argparse.Namespace, follower: Follower | None) -> tuple[Arm, Arm | None, float]:
    """(champion, challenger or None, fraction) to start with, models loaded: the registry's canary
    through `follower`, else the aliases with the fixed --canary-fraction."""
    with Registry(action=f"serve {args.model}") as registry:
        if follower is not None:
            return follower.arms(registry)
        # Every alias resolved before any model downloads: a typo fails in a second, not after a download.
        champion = find_arm(registry, args.model, args.alias)
        challenger = (find_arm(registry, args.model, args.challenger_alias) if args.canary_fraction > 0
                      else None)
    for arm in [champion] + ([challenger] if challenger else []):
        load_model(args.model, arm)
    return champion, challenger, args.canary_fraction


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci serve`."""
    if args.canary_fraction is not None and not 0 <= args.canary_fraction <= 1:
        raise MlopsCiError(f"{args.canary_fraction}: expected a fraction between 0 and 1 (e.g. 0.1)",
                           where="--canary-fraction")
    try:
        import mlflow.pyfunc  # noqa: F401  pylint: disable=unused-import
        import prometheus_client  # noqa: F401  pylint: disable=unused-import
    except ImportError as error:
        raise MlopsCiError(f"{error.name} is not installed (pip install 'mlops-ci[serve]')") from error
    started = time.time()
    follower = Follower(args) if args.canary_fraction is None else None
    if follower is not None and args.refresh <= 0:
        raise MlopsCiError(f"{args.refresh}: expected seconds above 0", where="--refresh")
    champion, challenger, fraction = first_arms(args, follower)
    service = Service(args.model, champion, challenger, fraction,
                      Metrics(args.model, [champion] + ([challenger] if challenger else []), started),
                      PredictionLog(args.log_dir))
    try:
        server = ThreadingHTTPServer((args.host, args.port), handler_for(service))
    except OSError as error:
        raise MlopsCiError(f"cannot listen: {error.strerror}", where=f"{args.host}:{args.port}") from error
    signal.signal(signal.SIGTERM, _stop)
    following = ""
    stop = threading.Event()
    if follower is not None:
        follower.service = service
        threading.Thread(target=follower.follow, args=(stop,), daemon=True, name="canary-follower").start()
        following = f", following the registry's canary every {args.refresh:g} s"
    host, port = server.server_address[:2]
    print(f"serving {describe(service)}{following} on http://{host}:{port}", flush=True)
    try:
        with server:  # SIGTERM's SystemExit(0) closes the socket on its way out
            server.serve_forever()
    finally:
        stop.set()
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci serve` to the CLI."""
    parser = subparsers.add_parser("serve", help="serve the champion (and a canary) with Prometheus metrics",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help=f"the control arm (default {DEFAULT_ALIAS})")
    parser.add_argument("--challenger-alias", default=CHALLENGER_ALIAS,
                        help=f"the canary or B arm (default {CHALLENGER_ALIAS})")
    parser.add_argument("--canary-fraction", type=float, metavar="F",
                        help="a fixed fraction of request ids routed to the challenger (0: champion only); "
                             "default: follow `mlops-ci canary` in the registry")
    parser.add_argument("--refresh", type=float, default=DEFAULT_REFRESH, metavar="SECONDS",
                        help="without --canary-fraction: re-read the registry's champion alias, @challenger "
                             f"and canary fraction this often (default {DEFAULT_REFRESH:g})")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="default 8080; 0 picks a free port")
    parser.add_argument("--log-dir", type=Path, metavar="DIR", help="write the prediction logs DIR/ARM.jsonl")
    parser.set_defaults(handler=run)
