"""`mlops-ci alerts`: Prometheus alerting rules and scrape configuration, a Grafana dashboard and its
provisioning, from the champion's metrics.

    mlops-ci alerts --model NAME [--alias champion] [--out DIR] [--metric accuracy ...]
                    [--tolerance 0.02] [--latency-ms 500] [--cpu 0.9] [--memory-mb 2048]
                    [--target localhost:8080] [--scrape-interval 15s]
                    [--prometheus-url http://localhost:9090] [--dashboards-path PATH]

The champion's validation metrics (its MLflow run, found through the registry alias; the tracking
server from MLFLOW_TRACKING_URI) are the baseline: an alert fires when a live metric falls below the
baseline minus the tolerance (rises above baseline plus tolerance for loss-like metrics: loss, error,
rmse, mae, mse, latency; the report's rule). --metric names an MLflow metric key
(mlops_ci.registry.metric_names): `accuracy` with one metrics file, `eval.accuracy` with several. Further
alerts: request latency above a limit, CPU and memory high, drift detected. Writes into DIR:

    alert-rules.yml                               the rules (`promtool check rules`)
    prometheus.yml                                scrapes `mlops-ci serve` at --target as job --job,
                                                  loads alert-rules.yml (`promtool check config`)
    grafana/dashboards/mlops-ci.json              the dashboard (or import it by hand)
    grafana/provisioning/datasources/prometheus.yml   data source uid mlops-ci-prometheus at --prometheus-url
    grafana/provisioning/dashboards/mlops-ci.yml  a file provider reading --dashboards-path

The series the rules read (`mlops-ci serve` exports the first four, the last two with its Prometheus
process collector; the monitor workflow pushes the drift series). Alerts keep the series' labels, so
ModelMetricDegraded names the served `version` and `arm` that is below the baseline:

    mlops_ci_model_metric{model, version, arm, metric}  gauge: the served version's validation metric
    mlops_ci_request_latency_seconds_bucket{model}    histogram of prediction latency
    process_cpu_seconds_total{job}, process_resident_memory_bytes{job}
    mlops_ci_drift_detected{model}, mlops_ci_drift_psi{model, feature}
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.clients.mlflow import NotFound, Registry
from mlops_ci.registry.metric_names import LOWER, name_direction
from mlops_ci.registry.tags import DEFAULT_ALIAS
from mlops_ci.core.text import md_escape

RULES_FILE = "alert-rules.yml"
PROMETHEUS_FILE = "prometheus.yml"
DASHBOARD_FILE = "grafana/dashboards/mlops-ci.json"
DATASOURCE_FILE = "grafana/provisioning/datasources/prometheus.yml"
PROVIDER_FILE = "grafana/provisioning/dashboards/mlops-ci.yml"
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/mlops-ci"
# The panels query the `datasource` template variable: a hand import picks any Prometheus; provisioned,
# its default is the data source provisioned next to it under this fixed uid.
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
DATASOURCE_UID = "mlops-ci-prometheus"
DATASOURCE_NAME = "mlops-ci Prometheus"
# Prometheus' duration syntax (`for:`), e.g. 5m, 1h30m.
DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")
# A scrape target: host or [IPv6] and a port, no scheme or path.
TARGET = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}")


@dataclass(frozen=True)
class Options:  # pylint: disable=too-many-instance-attributes  # one field per command-line option
    """What the rules watch and their limits."""

    model: str
    metrics: tuple[str, ...] = ("accuracy",)
    tolerance: float = 0.02
    latency_ms: float = 500.0
    latency_quantile: float = 0.95
    cpu: float = 0.9
    memory_mb: float = 2048.0
    duration: str = "5m"
    job: str | None = None
    version: str = ""

    @property
    def job_label(self) -> str:
        """The Prometheus `job` label of the model server's process metrics."""
        return self.job or self.model


@dataclass(frozen=True)
class Signal:  # pylint: disable=too-many-instance-attributes  # an alert and its panel
    """One watched series: its alert (`expr op threshold`) and its dashboard panel (`expr`); a panel
    without an alert has no threshold."""

    alert: str
    expr: str
    op: str
    threshold: float | None
    labels: dict[str, str]
    summary: str
    unit: str
    duration: str
    legend: str = ""


def _quote(value: str) -> str:
    """A PromQL string literal (Go escaping, which JSON's is a subset of)."""
    return json.dumps(value)


def _number(value: float) -> float:
    """`value` without binary noise (0.95 - 0.02 is 0.9299999999999999)."""
    return float(f"{value:.12g}")


def signals(metrics: dict[str, float], options: Options) -> list[Signal]:
    """Every signal the rules and the dashboard cover, thresholds from the champion's `metrics`."""
    model = _quote(options.model)
    job = _quote(options.job_label)
    found: list[Signal] = []
    for name in options.metrics:
        if name not in metrics:
            available = ", ".join(sorted(metrics)) or "none"
            raise MlopsCiError(f"the champion has no metric {name!r} (it has: {available})", where="--metric")
        lower = name_direction(name) == LOWER
        baseline = float(metrics[name])
        threshold = _number(baseline + options.tolerance if lower else baseline - options.tolerance)
        word = "above" if lower else "below"
        found.append(Signal(
            "ModelMetricDegraded", f"mlops_ci_model_metric{{model={model}, metric={_quote(name)}}}",
            ">" if lower else "<", threshold, {"severity": "critical", "metric": name},
            f"{options.model} {name} is {{{{ $value }}}}, {word} {threshold} "
            f"(champion{f' v{options.version}' if options.version else ''} {baseline:g} "
            f"{'+' if lower else '-'} tolerance {options.tolerance:g})",
            "none", options.duration, "{{metric}}"))
    quantile = options.latency_quantile
    buckets = f"mlops_ci_request_latency_seconds_bucket{{model={model}}}"
    found += [
        Signal("ModelLatencyHigh", f"histogram_quantile({quantile:g}, sum by (le) (rate({buckets}[5m])))",
               ">", _number(options.latency_ms / 1000), {"severity": "warning"},
               f"{options.model} p{quantile * 100:g} latency is {{{{ $value }}}} s, "
               f"above {options.latency_ms:g} ms", "s", options.duration, f"p{quantile * 100:g}"),
        Signal("ModelCpuHigh", f"rate(process_cpu_seconds_total{{job={job}}}[5m])", ">", options.cpu,
               {"severity": "warning"}, f"{options.job_label} uses {{{{ $value }}}} CPU cores, "
               f"above {options.cpu:g}", "none", options.duration, "{{instance}}"),
        Signal("ModelMemoryHigh", f"process_resident_memory_bytes{{job={job}}}", ">",
               _number(options.memory_mb * 1024 * 1024), {"severity": "warning"},
               f"{options.job_label} uses {{{{ $value | humanize1024 }}}}B of memory, "
               f"above {options.memory_mb:g} MiB", "bytes", options.duration, "{{instance}}"),
        # The monitor pushes a drift result once per run: alert at once, it stays until the next run.
        Signal("DataDriftDetected", f"max by (model) (mlops_ci_drift_detected{{model={model}}})", "==", 1,
               {"severity": "warning"}, f"data drift detected for {options.model}: see the monitor "
               "workflow's summary (mlops_ci_drift_psi per feature)", "none", "0m"),
    ]
    return found


def build_rules(metrics: dict[str, float], options: Options) -> dict[str, Any]:
    """The Prometheus rule file (as a dict) for the champion's `metrics`."""
    rules = []
    for signal in signals(metrics, options):
        expr = f"{signal.expr} {signal.op} {signal.threshold:.12g}"
        rule: dict[str, Any] = {"alert": signal.alert, "expr": expr}
        if signal.duration != "0m":
            rule["for"] = signal.duration
        rule["labels"] = {**signal.labels, "model": options.model}
        rule["annotations"] = {"summary": signal.summary}
        rules.append(rule)
    return {"groups": [{"name": f"mlops-ci-{options.model}", "rules": rules}]}


def _panel(index: int, signal: Signal) -> dict[str, Any]:
    title = signal.labels.get("metric") or signal.alert.removeprefix("Model").removeprefix("Data")
    steps = [{"color": "green", "value": None}, {"color": "red", "value": signal.threshold}]
    if signal.op == "<":
        steps = [{"color": "red", "value": None}, {"color": "green", "value": signal.threshold}]
    elif signal.threshold is None:
        steps = steps[:1]
    return {
        "id": index + 1, "type": "timeseries", "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": signal.expr,
                     "legendFormat": signal.legend}],
        "fieldConfig": {"defaults": {"unit": signal.unit, "thresholds": {"mode": "absolute", "steps": steps},
                                     "custom": {"thresholdsStyle": {"mode": "off" if signal.threshold is None
                                                                    else "line"}}}, "overrides": []},
    }


def build_dashboard(metrics: dict[str, float], options: Options) -> dict[str, Any]:
    """A Grafana dashboard: one panel per alert's series with its threshold, and drift per feature."""
    panels = [_panel(index, signal) for index, signal in enumerate(signals(metrics, options))]
    model = _quote(options.model)
    psi = Signal("DriftPsi", f"mlops_ci_drift_psi{{model={model}}}", ">", 0.2, {},
                 "", "none", "0m", "{{feature}}")
    panels.append({**_panel(len(panels), psi), "title": "drift PSI per feature"})
    # No alert, no threshold: which versions serve since when (Grafana's date units are milliseconds).
    deployed = Signal("Deployed", f"mlops_ci_model_deployed_timestamp_seconds{{model={model}}} * 1000", "",
                      None, {}, "", "dateTimeAsIso", "0m", "v{{version}} {{arm}}")
    uptime = Signal("Uptime", f"mlops_ci_uptime_seconds{{job={_quote(options.job_label)}}}", "", None, {}, "",
                    "s", "0m", "{{instance}}")
    panels += [{**_panel(len(panels), deployed), "title": "deployed versions"},
               {**_panel(len(panels) + 1, uptime), "title": "server uptime"}]
    return {
        "title": f"mlops-ci: {options.model}", "uid": f"mlops-ci-{options.model}"[:40],
        "tags": ["mlops-ci"], "schemaVersion": 39, "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m", "editable": True, "panels": panels,
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus",
                                 "current": {"text": DATASOURCE_NAME, "value": DATASOURCE_UID}}]},
    }


def build_prometheus_config(options: Options, target: str, interval: str) -> dict[str, Any]:
    """prometheus.yml: scrape the model server at `target` (host:port) as the job the rules read, every
    `interval`, rules evaluated as often, from the rule file next to it."""
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [RULES_FILE],
        "scrape_configs": [{"job_name": options.job_label, "static_configs": [{"targets": [target]}]}],
    }


def build_datasource(url: str) -> dict[str, Any]:
    """Grafana's data source provisioning file: the Prometheus at `url`, under the dashboard's uid."""
    return {"apiVersion": 1, "datasources": [{
        "name": DATASOURCE_NAME, "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy", "url": url,
        "isDefault": False, "editable": False}]}


def build_provider(path: str) -> dict[str, Any]:
    """Grafana's dashboard provisioning file: dashboards from the folder `path` on the Grafana host."""
    return {"apiVersion": 1, "providers": [{
        "name": "mlops-ci", "type": "file", "folder": "mlops-ci", "disableDeletion": False,
        "allowUiUpdates": False, "options": {"path": path, "foldersFromFilesStructure": False}}]}


def champion_metrics(model: str, alias: str) -> tuple[str, dict[str, float]]:
    """(version, metrics of its run) of the model version under `alias`, from MLFLOW_TRACKING_URI."""
    where = f"MLflow model {model}@{alias}"
    with Registry(action=f"alerts for {model}@{alias}") as registry:
        try:
            version = registry.alias_version(model, alias)
        except NotFound as error:
            raise MlopsCiError(f"no baseline: {error.message}", where=where) from error
        if version is None:
            raise MlopsCiError("no baseline: the alias is not set", where=where)
        return version, registry.run_metrics(registry.version(model, version).run_id)


def _write_yaml(path: Path, document: dict[str, Any]) -> None:
    _write(path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=200))


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot write: {error.strerror}", where=str(path)) from error


def summary(rules: dict[str, Any]) -> str:
    """The rules as a Markdown table for the job summary."""
    rows = [f"| {md_escape(rule['alert'])} | `{md_escape(rule['expr'])}` | {rule.get('for', '-')} |"
            for group in rules["groups"] for rule in group["rules"]]
    head = ["### alerts: Prometheus rules", "", "| alert | fires when | for |", "|---|---|---|"]
    return "\n".join([*head, *rows])


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci alerts`."""
    if args.tolerance < 0:
        raise MlopsCiError("must not be negative", where="--tolerance")
    if not 0 < args.latency_quantile < 1:
        raise MlopsCiError("must be between 0 and 1", where="--latency-quantile")
    for option, duration in (("--for", args.duration), ("--scrape-interval", args.scrape_interval)):
        if not duration or not DURATION.fullmatch(duration):
            raise MlopsCiError(f"{duration!r} is not a Prometheus duration (e.g. 5m, 1h30m)", where=option)
    if not TARGET.fullmatch(args.target):
        raise MlopsCiError(f"{args.target!r}: expected host:port (e.g. localhost:8080)", where="--target")
    version, metrics = champion_metrics(args.model, args.alias)
    options = Options(model=args.model, metrics=tuple(args.metric or ("accuracy",)), tolerance=args.tolerance,
                      latency_ms=args.latency_ms, latency_quantile=args.latency_quantile, cpu=args.cpu,
                      memory_mb=args.memory_mb, duration=args.duration, job=args.job, version=version)
    rules = build_rules(metrics, options)
    out = Path(args.out)
    _write_yaml(out / RULES_FILE, rules)
    _write_yaml(out / PROMETHEUS_FILE, build_prometheus_config(options, args.target, args.scrape_interval))
    _write(out / DASHBOARD_FILE, json.dumps(build_dashboard(metrics, options), indent=2) + "\n")
    _write_yaml(out / DATASOURCE_FILE, build_datasource(args.prometheus_url))
    _write_yaml(out / PROVIDER_FILE, build_provider(args.dashboards_path))
    print(f"alerts for {args.model}@{args.alias} (v{version}): {out / RULES_FILE}, {out / PROMETHEUS_FILE} "
          f"(scraping {args.target}), {out / DASHBOARD_FILE}, {out / 'grafana' / 'provisioning'}")
    gha.set_output("rules", str(out / RULES_FILE))
    gha.set_output("prometheus-config", str(out / PROMETHEUS_FILE))
    gha.set_output("dashboard", str(out / DASHBOARD_FILE))
    gha.set_output("grafana-provisioning", str(out / "grafana" / "provisioning"))
    gha.append_summary(summary(rules))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci alerts` to the CLI."""
    parser = subparsers.add_parser(
        "alerts", help="Prometheus alert rules and scrape config, Grafana dashboard and provisioning",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the registered model's name")
    parser.add_argument("--alias", default=DEFAULT_ALIAS, help="the registry alias of the baseline "
                                                                "(default %(default)s)")
    parser.add_argument("--out", default="monitoring", help="folder for the generated files "
                                                            "(default %(default)s)")
    parser.add_argument("--metric", action="append", metavar="NAME",
                        help="a validation metric to watch (repeatable; default accuracy)")
    parser.add_argument("--tolerance", type=float, default=0.02,
                        help="how far a metric may fall from the champion's before alerting "
                             "(default %(default)s)")
    parser.add_argument("--latency-ms", type=float, default=500.0, help="latency limit (default %(default)s)")
    parser.add_argument("--latency-quantile", type=float, default=0.95,
                        help="the latency quantile compared with the limit (default %(default)s)")
    parser.add_argument("--cpu", type=float, default=0.9, help="CPU limit in cores (default %(default)s)")
    parser.add_argument("--memory-mb", type=float, default=2048.0,
                        help="memory limit in MiB (default %(default)s)")
    parser.add_argument("--for", dest="duration", default="5m",
                        help="how long a condition holds before the alert fires (default %(default)s)")
    parser.add_argument("--job", help="the model server's Prometheus job label (default: the model name)")
    parser.add_argument("--target", default="localhost:8080",
                        help="host:port of `mlops-ci serve` for prometheus.yml (default %(default)s)")
    parser.add_argument("--scrape-interval", default="15s",
                        help="prometheus.yml's scrape and rule evaluation interval (default %(default)s)")
    parser.add_argument("--prometheus-url", default="http://localhost:9090",
                        help="the Prometheus that Grafana's provisioned data source queries "
                             "(default %(default)s)")
    parser.add_argument("--dashboards-path", default=DASHBOARDS_PATH,
                        help="where Grafana reads the dashboard JSON, for the provisioning file "
                             "(default %(default)s)")
    parser.set_defaults(handler=run)
