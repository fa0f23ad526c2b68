"""Benchmark: the README's first command, the demo: its story's time per step, and in all.

    python bench/demo.py [--repeat N]

Runs the demo N times (default 1) and prints, side by side in one table: each story step's time (a
`mlops-ci local pr ...` command, read from the demo's summary), the story's total (every step after
the project is made and its DVC remote seeded), the preparation (project, seeding) and the whole demo
against the last figure recorded before this benchmark existed. The load average is printed with them:
on a shared machine, read the seconds with it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# docs/contributing/benchmarks.md, bench/local_overhead.py's demo row measured 2026-11-26 (whole demo;
# the story then ran against one MLflow server and GitHub stand-in the demo started once).
BEFORE_WHOLE_S = 239.6
STORY_TARGET_S = 360.0
_STEP = re.compile(r"^\| (?P<title>[^|]+?) \| \| (?P<mark>[^|]+?) \| (?P<seconds>[\d.]+) s \|$", re.MULTILINE)


def steps(summary: str) -> list[tuple[str, str, float]]:
    """(title, as expected or not, seconds) of every step row of a demo summary."""
    return [(m["title"], m["mark"], float(m["seconds"])) for m in _STEP.finditer(summary)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    runs: list[tuple[float, list[tuple[str, str, float]]]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mlops-ci-bench-demo-") as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"demo{i}"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "testing.demo", "--out", str(out)], cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            runs.append((seconds, steps((out / "summary.md").read_text(encoding="utf-8"))))
    load_after = os.getloadavg()
    titles = [title for title, _, _ in runs[0][1]]
    whole = statistics.median(total for total, _ in runs)
    story = statistics.median(sum(seconds for _, _, seconds in rows) for _, rows in runs)
    print(f"medians of {args.repeat} run(s), {subprocess.getoutput('nproc')} cores, load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print("| step | now | before |")
    print("|---|---|---|")
    for index, title in enumerate(titles):
        marks = {rows[index][1] for _, rows in runs}
        print(f"| {title} ({', '.join(sorted(marks))}) | "
              f"{statistics.median(rows[index][2] for _, rows in runs):.1f} s | |")
    print(f"| **story** (every step above; target ≤ {STORY_TARGET_S:.0f} s) | {story:.1f} s | |")
    print(f"| preparation (project, DVC remote seeded with develop trained) | {whole - story:.1f} s | |")
    print(f"| **whole demo** | {whole:.1f} s | {BEFORE_WHOLE_S} s (2026-11-26) |")
    return 0 if story <= STORY_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
