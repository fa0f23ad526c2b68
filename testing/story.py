"""The user's terminal in the end-to-end story tests: a shell with this environment's tools first on
PATH, and `Story`, which plays `mlops-ci local pr ...` steps in a project and times each one.
``from testing.story import PROJECTS, Story, shell``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from mlflow.tracking import MlflowClient

from mlops_ci.local.github.state import GitHubState, Repository

# The DVC projects of our own that the stories and the tracker's tests play on (each a team's repository).
PROJECTS = Path(__file__).resolve().parents[1] / "tests" / "projects"
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Data Scientist", "GIT_AUTHOR_EMAIL": "ds@acme.invalid",
                "GIT_COMMITTER_NAME": "Data Scientist", "GIT_COMMITTER_EMAIL": "ds@acme.invalid"}


def user_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The shell a user has: this environment's tools (mlops-ci, dvc, python) first on PATH, and any
    `extra` variables they exported."""
    return {**os.environ, **GIT_IDENTITY, "DVC_NO_ANALYTICS": "1", **(extra or {}),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def shell(command: str, cwd: Path, extra_env: Mapping[str, str] | None = None) -> str:
    """Run a bash command line as the user would; its output (stdout and stderr), echoed."""
    done = subprocess.run(["bash", "-ec", command], cwd=cwd, env=user_env(extra_env), capture_output=True,
                          text=True, timeout=1800, check=False)
    output = done.stdout + done.stderr
    print(f"$ {command}\n{output}", flush=True)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{output[-6000:]}"
    return output


class Story:
    """The user's terminal in the project: `mlops-ci local pr ...` commands, each step timed."""

    def __init__(self, project: Path, out: Path) -> None:
        self.project = project
        self.out = out
        self.times: dict[str, float] = {}

    def step(self, title: str, command: str) -> str:
        """Run one command of the story in the project, timed under `title`; its output."""
        started = time.monotonic()
        output = shell(command, self.project)
        self.times[title] = time.monotonic() - started
        return output

    def pr(self, title: str, *args: str) -> str:
        """`mlops-ci local pr ARGS` (results of a run under out/<step number>); its output."""
        out = self.out / f"{len(self.times) + 1:02d}"
        extra = f" --out {out}" if args[0] in ("open", "sync", "merge") else ""
        return self.step(title, "python -m mlops_ci local pr " + " ".join(args) + extra)

    def jobs(self) -> dict[str, dict]:
        """The last run's jobs by job id (`train/train/plan` -> `plan`)."""
        result = json.loads((self.out / f"{len(self.times):02d}" / "result.json").read_text(encoding="utf-8"))
        return {job["name"].rsplit("/", 1)[-1]: job for job in result["jobs"]}

    def github(self) -> Repository:
        """The project's local GitHub state (PRs, reviews, comments) as `local pr` left it."""
        [repository] = GitHubState.load(self.project / ".mlops-ci" / "github-state.json").repos.values()
        return repository

    def registry(self) -> MlflowClient:
        """A client on the MLflow store `local pr` started its server with."""
        [database] = (self.project / ".mlops-ci" / "mlflow").rglob("*.db")
        return MlflowClient(tracking_uri=f"sqlite:///{database}", registry_uri=f"sqlite:///{database}")
