"""Ground truth for `mlops-ci report`: its data, metric and param rows against DVC's own diffs.

    python tools/report_vs_dvc.py REPO BASE..HEAD [BASE..HEAD ...] [--quiet]

For each revision pair, a scratch clone of REPO (git only: no DVC cache, no remote pulled, the state
of a hosted runner) with HEAD checked out goes through the report's own collection and parsing
(`report.sources.collect_dvc`, `report.command.build_report`); the rows it would show are compared with
`dvc diff BASE HEAD`, `dvc metrics diff BASE HEAD --all` and `dvc params diff BASE HEAD` run in the
same clone. Printed per pair: every row (report vs DVC, `!` where they disagree; --quiet: only the
disagreements) and the count of disagreements. Exit 0 when there are none, 1 when there are some,
2 when REPO or a revision cannot be read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
# pylint: disable=wrong-import-position
from mlops_ci.report import command as report  # noqa: E402
from mlops_ci.report import data as report_data  # noqa: E402
from mlops_ci.report import sources  # noqa: E402
from mlops_ci.core.errors import MlopsCiError  # noqa: E402
from mlops_ci.core.proc import git, run_dvc  # noqa: E402

Row = tuple[str, str, str, str]   # (kind, row, the report's value, DVC's value)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def dvc_data_rows(diff: Mapping[str, Any]) -> dict[str, str]:
    """`dvc diff BASE HEAD --json`: {path: change}. Paths without the trailing slash dvc gives only the
    directories whose listing it has (the report also knows a directory from its .dir hash)."""
    rows = {}
    for change in report_data.CHANGE_KINDS:
        for entry in diff.get(change) or ():
            path = entry.get("path")
            name = f"{path['old']} -> {path['new']}" if isinstance(path, dict) else str(path).rstrip("/")
            rows[name] = change
    return rows


def report_data_rows(groups: Iterable[report_data.DataGroup]) -> dict[str, str]:
    """The same from the report's groups: each tracked path and every file listed under it."""
    rows = {}
    for group in groups:
        rows[group.path] = str(group.status)
        rows.update({path: change for change, path in group.files})
    return rows


def dvc_value_rows(diff: Mapping[str, Any], changed_only: bool) -> dict[str, str]:
    """`dvc metrics|params diff --json`: {"path:name": "old -> new"} (params: changed ones only)."""
    return {f"{path}:{name}": f"{_key(values.get('old'))} -> {_key(values.get('new'))}"
            for path, entries in diff.items() if isinstance(entries, dict)
            for name, values in entries.items()
            if isinstance(values, dict) and not (changed_only and values.get("old") == values.get("new"))}


def compare(label: str, ours: Mapping[str, str], theirs: Mapping[str, str]) -> list[Row]:
    """(label, row, report's value, DVC's value) for every row either side has; '-' where absent."""
    return [(label, row, ours.get(row, "-"), theirs.get(row, "-")) for row in sorted({*ours, *theirs})]


def check_pair(source: Path, base: str, head: str, scratch: Path) -> list[Row]:
    """Every row of one revision pair, the report's against DVC's, in a clone with HEAD checked out."""
    clone = scratch / "clone"
    git(scratch, "clone", "--quiet", "--no-checkout", str(source), clone.name)
    git(clone, "checkout", "--quiet", "--detach", git(source, "rev-parse", f"{head}^{{commit}}"))
    base_sha = git(source, "rev-parse", f"{base}^{{commit}}")
    outputs, _ = sources.collect_dvc(clone, base_sha)
    built = report.build_report(base_sha, outputs)
    truth = {key: run_dvc(clone, *args)[0] for key, args in {
        "data": ("diff", base_sha, "HEAD"), "metrics": ("metrics", "diff", base_sha, "HEAD", "--all"),
        "params": ("params", "diff", base_sha, "HEAD")}.items()}
    ours_metrics = {f"{row.path}:{row.name}": f"{_key(row.base)} -> {_key(row.new)}" for row in built.metrics}
    ours_params = {f"{row.path}:{row.name}": f"{_key(row.base)} -> {_key(row.new)}" for row in built.params}
    return (compare("data", report_data_rows(built.data), dvc_data_rows(truth["data"]))
            + compare("metric", ours_metrics, dvc_value_rows(truth["metrics"], changed_only=False))
            + compare("param", ours_params, dvc_value_rows(truth["params"], changed_only=True)))


def show(pair: str, rows: list[Row], quiet: bool) -> int:
    """Print one pair's rows (only the disagreements when `quiet`); return how many disagree."""
    wrong = [row for row in rows if row[2] != row[3]]
    print(f"== {pair}: {len(rows)} rows, {len(wrong)} disagreement(s)")
    for label, row, ours, theirs in rows:
        if ours != theirs or not quiet:
            print(f"{'!' if ours != theirs else ' '} {label:6} {row}: report {ours} | dvc {theirs}")
    return len(wrong)


def main(argv: list[str] | None = None) -> int:
    """Check each pair; print the rows and the disagreements."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path, help="a git repository with DVC (a path)")
    parser.add_argument("pairs", nargs="+", metavar="BASE..HEAD", help="revision pairs")
    parser.add_argument("--quiet", action="store_true", help="print only the disagreements")
    args = parser.parse_args(argv)
    total = 0
    try:
        for pair in args.pairs:
            base, separator, head = pair.partition("..")
            if not (base and separator and head):
                raise MlopsCiError(f"expected BASE..HEAD, got {pair!r}")
            with tempfile.TemporaryDirectory(prefix="report-vs-dvc-") as scratch:
                total += show(pair, check_pair(args.repo.resolve(), base, head, Path(scratch)), args.quiet)
    except (MlopsCiError, subprocess.SubprocessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"total: {total} disagreement(s) in {len(args.pairs)} pair(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
