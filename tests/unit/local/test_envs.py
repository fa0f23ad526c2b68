"""The venvs local runs install requirements into: their key, their place, and their life cycle.
The run through act (the user's environment untouched, reuse, a new venv for new requirements) is in
tests/test_e2e_lint_test.py."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlops_ci.local import envs
from testing.fixtures import env_python


def test_default_cache_setting_then_xdg_then_home():
    home = Path("/home/dev")
    assert envs.default_cache({"MLOPS_CI_ENV_CACHE": "/c", "XDG_CACHE_HOME": "/x"}, home) == Path("/c")
    assert envs.default_cache({"XDG_CACHE_HOME": "/x"}, home) == Path("/x/mlops-ci/envs")
    assert envs.default_cache({"MLOPS_CI_ENV_CACHE": ""}, home) == Path("/home/dev/.cache/mlops-ci/envs")


def test_key_changes_with_any_file_or_the_base_environment():
    files = [("requirements.txt", b"a==1\n-r base.txt\n"), ("base.txt", b"b==2\n")]
    key = envs.env_key(files, "/venv", "3.11.7")
    assert key == envs.env_key(list(files), "/venv", "3.11.7") and len(key) == 32
    others = {
        envs.env_key([files[0], ("base.txt", b"b==3\n")], "/venv", "3.11.7"),  # an included file
        envs.env_key([("requirements.txt", b"a==2\n-r base.txt\n"), files[1]], "/venv", "3.11.7"),
        envs.env_key([("other.txt", files[0][1]), files[1]], "/venv", "3.11.7"),  # same bytes, other name
        envs.env_key(files, "/other-venv", "3.11.7"),
        envs.env_key(files, "/venv", "3.12.1"),
    }
    assert key not in others and len(others) == 5
    # Names and bytes are framed: moving bytes from one file to the next is another key.
    moved = [("a", b"x"), ("b", b"y")]
    assert envs.env_key([("a", b"xy"), ("b", b"")], "/v", "3") != envs.env_key(moved, "/v", "3")


def test_requirement_files_follow_includes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("-r base.txt\n-c constraints.txt\nx==1\n", encoding="utf-8")
    Path("base.txt").write_text("y==2\n", encoding="utf-8")
    Path("constraints.txt").write_text("z==3\n", encoding="utf-8")
    assert envs.requirement_files(Path("requirements.txt")) == [
        ("requirements.txt", b"-r base.txt\n-c constraints.txt\nx==1\n"), ("base.txt", b"y==2\n"),
        ("constraints.txt", b"z==3\n")]


def test_base_pth_adds_each_folder_as_a_site_folder():
    assert envs.base_pth(["/a/site-packages", "/b's"]) == (
        "import site; site.addsitedir('/a/site-packages')\nimport site; site.addsitedir(\"/b's\")\n")


def test_env_is_made_once_sees_the_base_and_is_redone_when_interrupted(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"pytest=={pytest.__version__}\n")  # installed already: nothing to download
    env = envs.ensure_env(tmp_path / "cache", requirements)
    assert env.parent == tmp_path / "cache" and (env / envs.COMPLETE).is_file()
    assert env_python(env, "import sys; print(sys.prefix)") == str(env)
    # The base environment's packages (pytest, mlops-ci) are visible, not copied.
    assert env_python(env, "import pytest; print(pytest.__file__)") == pytest.__file__
    assert env_python(env, "import mlops_ci.cli; print('ok')") == "ok"
    assert subprocess.run([str(env / "bin" / "mlops-ci"), "--version"], check=False).returncode == 0
    marker = env / "made-by-the-first-run"
    marker.touch()
    assert envs.ensure_env(tmp_path / "cache", requirements) == env and marker.exists(), "reused"
    (env / envs.COMPLETE).unlink()  # as if the install had been interrupted
    assert envs.ensure_env(tmp_path / "cache", requirements) == env and not marker.exists(), "made again"


def test_a_failed_install_fails_the_step_and_leaves_no_complete_env(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("requirements.txt").write_text("no-such-package-mlops-ci-test==1.0\n", encoding="utf-8")
    environ = {"MLOPS_CI_ENV_CACHE": str(tmp_path / "cache")}
    assert envs.main(["requirements.txt"], environ) == 1
    assert "::error::pip install -r requirements.txt failed" in capsys.readouterr().err
    assert not list((tmp_path / "cache").glob(f"*/{envs.COMPLETE}"))


def test_usage_and_input_errors_exit_2(tmp_path, capsys):
    assert envs.main([], {}) == 2
    assert envs.main([str(tmp_path / "missing.txt")], {"MLOPS_CI_ENV_CACHE": str(tmp_path)}) == 2
    assert "no such file" in capsys.readouterr().err


def test_runs_as_a_module(tmp_path):
    """The form actions/setup-env calls: the folder on stdout, nothing else."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mlops_ci.local.envs", str(requirements)], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "MLOPS_CI_ENV_CACHE": str(tmp_path / "c")})
    assert Path(done.stdout.strip()).parent == tmp_path / "c"


def test_runs_needing_the_same_env_at_once_install_it_once(tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(lambda _: envs.ensure_env(tmp_path / "cache", requirements), range(2)))
    assert made[0] == made[1] and (made[0] / envs.COMPLETE).is_file()
    assert capsys.readouterr().err.count("mlops-ci local: installing") == 1


# --- requirements given by path ---------------------------------------------------------------------

def test_without_paths_drops_the_lines_that_name_a_path():
    text = ("numpy==2.4.6 \\\n    --hash=sha256:abc\n-e .\n./pkg[extra]  # ours\n"
            "--index-url https://x/simple\nfoo @ file:///tmp/foo\nfile:../bar\n# comment\n-r base.txt\n")
    assert envs.without_paths(text, "requirements.txt") == (
        "numpy==2.4.6     --hash=sha256:abc\n--index-url https://x/simple\n-r base.txt\n")


def test_copies_without_paths_keep_includes_working(tmp_path):
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "requirements.txt").write_text("-r ../base.txt\n-e .\n", encoding="utf-8")
    (tmp_path / "base.txt").write_text("./pkg\npytest\n", encoding="utf-8")
    files = envs.requirement_files(tmp_path / "ci" / "requirements.txt")
    top = envs.write_without_paths(files, tmp_path / "copies")
    assert top == tmp_path / "copies" / "ci" / "requirements.txt"
    assert top.read_text(encoding="utf-8") == "-r ../base.txt\n"
    assert (tmp_path / "copies" / "base.txt").read_text(encoding="utf-8") == "pytest\n"
    assert [item.spec for item in envs.path_requirements(tmp_path / "ci" / "requirements.txt")] == [
        "./pkg", "."]  # includes first, as pip reads them


def test_path_requirements_outside_a_local_run_are_an_input_error(tmp_path, capsys):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-e .\n", encoding="utf-8")
    assert envs.main([str(requirements)], {"MLOPS_CI_ENV_CACHE": str(tmp_path / "c")}) == 2
    assert "requirements given by path (.) are installed for each run" in capsys.readouterr().err
