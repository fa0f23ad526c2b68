"""`mlops-ci train experiment`: one of a PR's parallel experiments, run, tracked and written down for
the report (the command's options and help: training.command).

`dvc exp run -S KEY=VALUE ...` (restored from the run-cache where it can be), `dvc push --run-cache`,
the run logged to MLflow without registering a model version (only the PR's own training is a
promotion candidate), and its params and metrics written as the JSON file training.experiments reads.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, MlopsCiError
from mlops_ci.core.proc import run_dvc
from mlops_ci.core.text import md_escape
from mlops_ci.training import experiments
from mlops_ci.training.run import reproduce, stages_ran, track


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings (parsed params or metrics) as {dotted.key: value}."""
    if not isinstance(node, dict):
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return {key.rstrip("."): value for key, value in flat.items()}


def parse_sets(values: list[str]) -> dict[str, str]:
    """`--set` values as {[FILE:]KEY: VALUE}; one value may hold several, space-separated (a matrix
    entry such as "train.lr=0.02 train.epochs=10")."""
    sets: dict[str, str] = {}
    for value in values:
        for item in value.split():
            key, equals, setting = item.partition("=")
            if not equals or not key:
                raise MlopsCiError(f"--set {item!r}: expected [FILE:]KEY=VALUE, e.g. train.lr=0.02")
            sets[key] = setting
    if not sets:
        raise MlopsCiError("--set: give at least one KEY=VALUE")
    return sets


def shown_metrics(shown: dict[str, Any]) -> list[dict[str, Any]]:
    """`dvc metrics show --json` as [{"path", "name", "value"}], numbers only (unreadable files skipped)."""
    rows = []
    for revision in shown.values():
        for path, entry in sorted(((revision or {}).get("data") or {}).items()):
            for name, value in flatten(entry.get("data") or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    rows.append({"path": path, "name": name.rstrip("."), "value": value})
    return rows


def one_experiment(repo: Path, sets: dict[str, str], args: argparse.Namespace) -> int:
    """`mlops-ci train experiment` with param settings `sets` in DVC project `repo`, once the
    experiment's name passed its check."""
    name = args.name or experiments.label(sets)
    dvc_args = [*(f"--set-param={key}={value}" for key, value in sets.items()),
                *(["--name", args.name] if args.name else []), *args.targets]
    stages, _ = reproduce(repo, ("exp", "run"), dvc_args)
    if stages is None:
        return EXIT_REFUSED
    metrics = shown_metrics(run_dvc(repo, "metrics", "show")[0])
    result: dict[str, Any] = {}
    if os.environ.get("MLFLOW_TRACKING_URI") and args.track_command:
        result = track(repo, args.track_command, args.pr or None, registering=False)
    document = {"name": name, "params": sets, "metrics": metrics, "run_id": result.get("run_id"),
                "stages_ran": stages_ran(stages)}
    slug = experiments.slug(sets)
    out = Path(args.out_dir) / f"{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    gha.set_output("slug", slug)
    gha.set_output("result", str(out.resolve()))
    rows = [f"| {md_escape(row['name'])} | {row['value']} |" for row in metrics]
    gha.append_summary("\n".join([f"### experiment `{name}`", "", "| metric | value |", "|---|---:|", *rows])
                       + "\n")
    print(f"experiment {name}: {len(document['stages_ran'])} stage(s) ran, {len(metrics)} metric(s) in {out}")
    return EXIT_OK
