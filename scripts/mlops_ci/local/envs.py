"""The isolated environment a `mlops-ci local` run installs a project's requirements into.

In local runs actions/setup-env calls `python -m mlops_ci.local.envs REQUIREMENTS` and puts the
printed folder's `bin` first on PATH. The folder is a venv under the cache folder, keyed by the
bytes of the requirement file (and of the files it includes with -r/-c) and by the environment
running mlops-ci. That environment's site-packages come after the venv's own: what it holds already
(mlops-ci, dvc, mlflow, torch...) is not installed again, and a pin that differs goes into the venv
only, shadowing the user's copy. The user's own environment is never installed into.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import site
import subprocess
import sys
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlops_ci import deps
from mlops_ci.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError

CACHE_VARIABLE = "MLOPS_CI_ENV_CACHE"
# Written last: a venv without it was interrupted mid-install and is built again.
COMPLETE = ".mlops-ci-complete"
LAUNCHER = """#!{python}
# mlops-ci from the environment that runs `mlops-ci local`, run by this venv's Python.
import sys
from mlops_ci.cli import main
sys.exit(main())
"""


def default_cache(environ: Mapping[str, str], home: Path) -> Path:
    """$MLOPS_CI_ENV_CACHE, else mlops-ci/envs in the user's cache folder (XDG)."""
    if environ.get(CACHE_VARIABLE):
        return Path(environ[CACHE_VARIABLE])
    return Path(environ.get("XDG_CACHE_HOME") or home / ".cache") / "mlops-ci" / "envs"


def env_key(files: Sequence[tuple[str, bytes]], base: str, version: str) -> str:
    """The venv's name: a hash of the requirement files (name and bytes) and the base environment."""
    digest = hashlib.sha256(f"{base}\n{version}\n".encode())
    for name, content in files:
        digest.update(f"{len(name)}:{name}:{len(content)}:".encode() + content)
    return digest.hexdigest()[:32]


def requirement_files(requirements: Path) -> list[tuple[str, bytes]]:
    """The requirement file and everything it includes, as (name, bytes)."""
    _, names = deps.load(str(requirements))
    return [(name, Path(name).read_bytes()) for name in names]


def ensure_env(cache: Path, requirements: Path) -> Path:
    """The ready environment for `requirements`, created and installed into on first use."""
    path = cache / env_key(requirement_files(requirements), sys.prefix, sys.version)
    if (path / COMPLETE).is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    # A venv's scripts carry its absolute path, so it cannot be built elsewhere and renamed into
    # place: concurrent runs wait on a lock instead, and the second one finds the venv complete.
    with open(path.with_name(path.name + ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / COMPLETE).is_file():
            return path
        shutil.rmtree(path, ignore_errors=True)
        print(f"mlops-ci local: installing {requirements} into {path} (once for this file)", file=sys.stderr)
        _create(path)
        python = str(path / "bin" / "python")
        launcher = path / "bin" / "mlops-ci"
        launcher.write_text(LAUNCHER.format(python=python), encoding="utf-8")
        launcher.chmod(0o755)
        done = subprocess.run([python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
                               "-r", str(requirements)], check=False)
        if done.returncode != 0:
            raise PipFailed(f"pip install -r {requirements} failed (exit {done.returncode})")
        (path / COMPLETE).write_text(sys.prefix + "\n", encoding="utf-8")
    return path


def base_pth(site_dirs: Sequence[str]) -> str:
    """A .pth file that appends the base environment's site folders, their own .pth files included."""
    return "".join(f"import site; site.addsitedir({folder!r})\n" for folder in site_dirs)


def _create(path: Path) -> None:
    # --system-site-packages would not do: a venv made from inside a venv sees the system Python's
    # packages, not the user's venv. No pip inside: the base's pip installs into the venv it is run
    # by, and skipping ensurepip saves seconds.
    venv.create(path, with_pip=False, symlinks=True)
    site_dirs = site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    purelib = subprocess.run([str(path / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # "zz-": read after the .pth files of what the venv installs itself.
    (Path(purelib) / "zz-mlops-ci-base.pth").write_text(base_pth(site_dirs), encoding="utf-8")


class PipFailed(MlopsCiError):
    """The requirements did not install: the job fails (exit 1), as pip would have failed it."""

    exit_code = EXIT_REFUSED


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """`python -m mlops_ci.local.envs REQUIREMENTS`: print the environment's folder."""
    if len(argv) != 1:
        print("usage: python -m mlops_ci.local.envs REQUIREMENTS", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(ensure_env(default_cache(environ, Path.home()), Path(argv[0])))
    except MlopsCiError as error:
        print(f"::error::{error}", file=sys.stderr)
        return error.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
