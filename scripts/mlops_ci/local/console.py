"""What `mlops-ci local` shows on the console while act runs, and the result table after it."""

from __future__ import annotations

import sys
from collections.abc import Callable

from mlops_ci.local.act import JobResult

# act reads strategy.max-parallel before it evaluates expressions, so every run of train.yml
# (`max-parallel: ${{ inputs.max-parallel-experiments }}`, which GitHub evaluates) logs this error;
# act then runs the experiments one at a time. Kept in act.jsonl, left off the console.
KNOWN_ACT_NOISE = ("Failed to parse 'max-parallel' option",)


def shown(entry: dict, verbose: bool) -> bool:
    """Whether a line of act's log reaches the console: step and job results (a skipped job's
    included), errors, and with `verbose` the steps' own output."""
    if entry.get("stepResult") or entry.get("jobResult") or (verbose and entry.get("raw_output")):
        return True
    message = str(entry.get("msg", ""))
    return entry.get("level") in ("error", "fatal") and not message.startswith(KNOWN_ACT_NOISE)


def step_printer(verbose: bool) -> Callable[[dict], None]:
    """Print act's progress to stderr as it comes, each line prefixed with its job."""
    def on_entry(entry: dict) -> None:
        if shown(entry, verbose):
            job = entry.get("jobID") or entry.get("job") or "act"
            print(f"[{job}] {str(entry.get('msg', '')).rstrip()}", file=sys.stderr, flush=True)
    return on_entry


def results_table(jobs: dict[str, JobResult]) -> str:
    """One row per job: its name, result and time."""
    width = max([len(name) for name in jobs] + [3])
    rows = [f"{'job':<{width}}  {'result':<8}  time"]
    rows += [f"{job.name:<{width}}  {job.result:<8}  {job.seconds:5.1f} s" for job in jobs.values()]
    return "\n".join(rows)
