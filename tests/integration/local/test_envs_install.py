"""Local runs install a project's path requirements for each run, beside the cached rest (builds packages
with pip)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_ci.local import envs
from testing.fixtures import env_python


@pytest.mark.slow  # builds two packages with pip: 8-15 s
def test_path_requirements_are_installed_for_each_run_beside_the_cached_rest(tmp_path, monkeypatch, capsys):
    # Offline: the build backend (setuptools) comes from the base environment, not from an index.
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")
    cache = tmp_path / "cache"
    seen = "import proj, helper, pytest; print(proj.VALUE, helper.VALUE, proj.__file__)"
    first = _clone(tmp_path / "run1" / "clone", 1)
    monkeypatch.chdir(first)
    env1 = envs.ensure_env(cache, Path("requirements.txt"), tmp_path / "run1" / "work")
    assert env1.parent == tmp_path / "run1" / "work"
    assert env_python(env1, seen, cwd=tmp_path) == f"1 1 {first / 'proj' / '__init__.py'}"
    cached = next(path for path in cache.iterdir() if (path / envs.COMPLETE).is_file())
    found = "import importlib.util as u; print(u.find_spec('proj'), u.find_spec('helper'))"
    assert env_python(cached, found, cwd=tmp_path) == "None None", "the cached venv holds no path requirement"

    second = _clone(tmp_path / "run2" / "clone", 2)  # the next commit, in a new clone
    monkeypatch.chdir(second)
    shutil.rmtree(tmp_path / "run1")  # the first run's clone and overlay are gone
    capsys.readouterr()
    env2 = envs.ensure_env(cache, Path("requirements.txt"), tmp_path / "run2" / "work")
    assert env_python(env2, seen, cwd=tmp_path) == f"2 2 {second / 'proj' / '__init__.py'}"
    err = capsys.readouterr().err
    assert "installing ., ./pkg into" in err and "(once for this file" not in err, "the cache is reused"


def _package(folder: Path, name: str, value: int) -> None:
    (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / name / "__init__.py").write_text(f"VALUE = {value}\n", encoding="utf-8")
    (folder / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1"\n\n[tool.setuptools]\npackages = ["{name}"]\n',
        encoding="utf-8")


def _clone(folder: Path, value: int) -> Path:
    """A run's clone: the project (`-e .`) with a package of its own (`./pkg`)."""
    _package(folder, "proj", value)
    _package(folder / "pkg", "helper", value)
    (folder / "requirements.txt").write_text(f"-e .\n./pkg\npytest=={pytest.__version__}\n", encoding="utf-8")
    return folder
