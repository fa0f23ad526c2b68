"""The isolated environment a `mlops-ci local` run installs a project's requirements into.

In local runs actions/setup-env calls `python -m mlops_ci.local.envs REQUIREMENTS` and puts the
printed folder's `bin` first on PATH. The folder is a venv under the cache folder, keyed by the
bytes of the requirement file (and of the files it includes with -r/-c) and by the environment
running mlops-ci. That environment's site-packages come after the venv's own: what it holds already
(mlops-ci, dvc, mlflow, torch...) is not installed again, and a pin that differs goes into the venv
only, shadowing the user's copy. The user's own environment is never installed into.

Requirements given by path (`-e .`, `./pkg`, `file:` URLs) change with the code, not with the
requirement file, and an editable one points into the run's clone: they stay out of the cached venv.
Each run installs them into an overlay venv of its own under $MLOPS_CI_LOCAL_RUN_DIR (removed with the
run), which sees the cached venv, and through it the base environment, behind its own packages.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import site
import subprocess
import sys
import tempfile
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlops_ci.quality.deps.pip import logical_lines, parse_line
from mlops_ci.quality.deps.reader import load
from mlops_ci.quality.deps.records import LOCAL, Dependency
from mlops_ci.core.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, MlopsCiError

CACHE_VARIABLE = "MLOPS_CI_ENV_CACHE"
# The run's scratch folder, removed after the run (set by `mlops-ci local`): overlays go there.
RUN_DIR_VARIABLE = "MLOPS_CI_LOCAL_RUN_DIR"
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
    _, names = load(str(requirements))
    return [(name, Path(name).read_bytes()) for name in names]


def path_requirements(requirements: Path) -> list[Dependency]:
    """The requirements given by path (`-e .`, `./pkg`, `file:` URLs) in the file and its includes."""
    return [item for item in load(str(requirements))[0] if item.kind == LOCAL]


def without_paths(text: str, file: str) -> str:
    """A requirement file's lines (pip's logical lines) less those naming a path."""
    kept = [line for number, line in logical_lines(text)
            if not any(isinstance(item, Dependency) and item.kind == LOCAL
                       for item in parse_line(line, file, number))]
    return "".join(f"{line}\n" for line in kept)


def write_without_paths(files: Sequence[tuple[str, bytes]], folder: Path) -> Path:
    """Copies of the requirement files without their path lines, laid out under `folder` as the
    originals lie under their common folder (so that -r/-c includes find the copies); returns the
    copy of the first (the file pip is given)."""
    resolved = [Path(name).resolve() for name, _ in files]
    root = Path(os.path.commonpath([path.parent for path in resolved]))
    copies = [folder / path.relative_to(root) for path in resolved]
    for (name, content), copy in zip(files, copies):
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(without_paths(content.decode("utf-8"), name), encoding="utf-8")
    return copies[0]


def ensure_env(cache: Path, requirements: Path, run_dir: Path | None = None) -> Path:
    """The ready environment for `requirements`: the cached venv, created and installed into on first
    use, or, when some requirements are given by path, a new overlay on it under `run_dir`."""
    files = requirement_files(requirements)
    by_path = path_requirements(requirements)
    if by_path and run_dir is None:
        raise MlopsCiError(f"requirements given by path ({by_path[0].spec}) are installed for each run "
                           f"into ${RUN_DIR_VARIABLE}, which is not set: run through mlops-ci local",
                           where=str(requirements))
    path = cache / env_key(files, sys.prefix, sys.version)
    if not (path / COMPLETE).is_file():
        _fill_cache(path, requirements, files if by_path else None)
    if not by_path:
        return path
    assert run_dir is not None  # refused above
    run_dir.mkdir(parents=True, exist_ok=True)
    overlay = Path(tempfile.mkdtemp(prefix="env-", dir=run_dir))
    shown = ", ".join(item.spec for item in by_path)
    print(f"mlops-ci local: installing {shown} into {overlay} (each run; the rest of {requirements} is "
          f"in {path})", file=sys.stderr)
    _create(overlay, [_purelib(path)])
    # The whole file, so that its options apply: what the cached venv holds is already satisfied.
    _pip_install(overlay, requirements)
    return overlay


def _fill_cache(path: Path, requirements: Path, without: Sequence[tuple[str, bytes]] | None) -> None:
    """Create the cached venv and install `requirements` into it (`without` given: all but the
    requirements given by path)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A venv's scripts carry its absolute path, so it cannot be built elsewhere and renamed into
    # place: concurrent runs wait on a lock instead, and the second one finds the venv complete.
    with open(path.with_name(path.name + ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / COMPLETE).is_file():
            return
        shutil.rmtree(path, ignore_errors=True)
        print(f"mlops-ci local: installing {requirements} into {path} (once for this file"
              f"{', without the requirements given by path' if without else ''})", file=sys.stderr)
        _create(path, _base_site_dirs())
        if without:
            with tempfile.TemporaryDirectory(prefix="mlops-ci-requirements-") as folder:
                _pip_install(path, write_without_paths(without, Path(folder)), shown=requirements)
        else:
            _pip_install(path, requirements)
        (path / COMPLETE).write_text(sys.prefix + "\n", encoding="utf-8")


def _pip_install(env: Path, requirements: Path, shown: Path | None = None) -> None:
    done = subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                           "--quiet", "-r", str(requirements)], check=False)
    if done.returncode != 0:
        raise PipFailed(f"pip install -r {shown or requirements} failed (exit {done.returncode})")


def base_pth(site_dirs: Sequence[str]) -> str:
    """A .pth file that appends the base environment's site folders, their own .pth files included."""
    return "".join(f"import site; site.addsitedir({folder!r})\n" for folder in site_dirs)


def _base_site_dirs() -> list[str]:
    return site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])


def _purelib(env: Path) -> str:
    return subprocess.run([str(env / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()


def _create(path: Path, site_dirs: Sequence[str]) -> None:
    """A venv at `path` that sees `site_dirs` behind its own packages, with the mlops-ci launcher."""
    # --system-site-packages would not do: a venv made from inside a venv sees the system Python's
    # packages, not the user's venv. No pip inside: the base's pip installs into the venv it is run
    # by, and skipping ensurepip saves seconds.
    venv.create(path, with_pip=False, symlinks=True)
    # "zz-": read after the .pth files of what the venv installs itself.
    (Path(_purelib(path)) / "zz-mlops-ci-base.pth").write_text(base_pth(site_dirs), encoding="utf-8")
    launcher = path / "bin" / "mlops-ci"
    launcher.write_text(LAUNCHER.format(python=path / "bin" / "python"), encoding="utf-8")
    launcher.chmod(0o755)


class PipFailed(MlopsCiError):
    """The requirements did not install: the job fails (exit 1), as pip would have failed it."""

    exit_code = EXIT_REFUSED


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """`python -m mlops_ci.local.envs REQUIREMENTS`: print the environment's folder."""
    if len(argv) != 1:
        print("usage: python -m mlops_ci.local.envs REQUIREMENTS", file=sys.stderr)
        return EXIT_USAGE
    try:
        run_dir = Path(environ[RUN_DIR_VARIABLE]) if environ.get(RUN_DIR_VARIABLE) else None
        print(ensure_env(default_cache(environ, Path.home()), Path(argv[0]), run_dir))
    except MlopsCiError as error:
        print(f"::error::{error}", file=sys.stderr)
        return error.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
