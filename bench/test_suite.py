"""Benchmark: the test command's wall time per tier, and where the time goes.

    python bench/test_suite.py [--tier fast|full|both] [--top N]

Runs `bash dev/test.sh --fast` (static gates, tests that start neither act nor a server, the example's
tests) and `bash dev/test.sh` (everything, with the coverage gate: what CI runs) one after the other on
this machine, and prints one table: each tier's wall time (set-up included, which is a no-op once the
environment is installed), its test count, and the files whose tests took longest (sum of the test
times pytest recorded, across its workers). Every figure comes from this run.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIERS = {"fast": ["--fast"], "full": []}


def run_tier(tier: str, junit: Path) -> tuple[float, int]:
    """Run one tier of the test command; its wall time in seconds and exit code."""
    started = time.perf_counter()
    completed = subprocess.run(["bash", str(ROOT / "dev" / "test.sh"), *TIERS[tier], f"--junitxml={junit}"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return time.perf_counter() - started, completed.returncode


def test_times(junit: Path) -> tuple[int, dict[str, float]]:
    """Number of tests and seconds per test file, from pytest's JUnit XML."""
    per_file: dict[str, float] = collections.defaultdict(float)
    count = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        count += 1
        module = case.get("classname", "").split(".")[-1] or "?"
        per_file[f"{module}.py"] += float(case.get("time", 0))
    return count, per_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=("fast", "full", "both"), default="both")
    parser.add_argument("--top", type=int, default=8, help="files to list per tier (default 8)")
    args = parser.parse_args()
    tiers = list(TIERS) if args.tier == "both" else [args.tier]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlops-ci-bench-") as scratch:
        for tier in tiers:
            junit = Path(scratch) / f"{tier}.xml"
            seconds, code = run_tier(tier, junit)
            count, per_file = test_times(junit) if junit.exists() else (0, {})
            rows.append((tier, seconds, code, count, per_file))
    print("\n| tier | wall time | tests | exit |\n| --- | --- | --- | --- |")
    for tier, seconds, code, count, _ in rows:
        print(f"| {tier} | {seconds / 60:.1f} min ({seconds:.0f} s) | {count} | {code} |")
    for tier, _, _, _, per_file in rows:
        print(f"\n{tier}: slowest files (test seconds summed over workers)")
        for name, seconds in sorted(per_file.items(), key=lambda item: -item[1])[:args.top]:
            print(f"  {seconds:7.1f} s  {name}")
    return max(code for _, _, code, _, _ in rows)


if __name__ == "__main__":
    sys.exit(main())
