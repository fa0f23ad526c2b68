"""Our composite actions' install steps, run as the runner runs them (bash -eo pipefail) in a PR's
checkout that plants modules: the PR's `pip/` folder never stands in for pip, and what its
requirements install lands in a venv under the runner's temp folder, not in the runner's Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPRESSION = re.compile(r"\$\{\{\s*(inputs\.[\w-]+|github\.action_path)\s*\}\}")
# A `.pth` line that starts with `import` runs at every start of the Python it is installed in.
PTH_LINE = "import os; open(os.environ['PLANTED_MARK'], 'a').write('pth\\n') if 'PLANTED_MARK' in os.environ else None\n"


def step_of(action: str, name: str) -> dict:
    steps = yaml.safe_load((ROOT / "actions" / action / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    [step] = [step for step in steps if step.get("name") == name]
    return step


def run_step(action: str, name: str, checkout: Path, inputs: dict[str, str], env: dict[str, str],
             action_path: Path | None = None):
    """The step's `run:` with its `env:` (inputs and github.action_path filled in), in `checkout`."""
    step = step_of(action, name)
    values = {**{f"inputs.{key}": value for key, value in inputs.items()},
              "github.action_path": str(action_path or ROOT / "actions" / action)}
    step_env = {key: EXPRESSION.sub(lambda match: values[match.group(1)], str(value))
                for key, value in (step.get("env") or {}).items()}
    assert not any("${{" in value for value in step_env.values()), step_env
    script = checkout.parent / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=checkout,
                          env={**env, **step_env}, capture_output=True, text=True, timeout=300, check=False)


def plant_modules(checkout: Path, mark: Path) -> None:
    """`pip/` and `venv/` packages in the PR's checkout that say so when they are run."""
    for module in ("pip", "venv", "platform"):
        code = f"open({str(mark)!r}, 'a').write('{module} planted by the PR ran\\n')\n"
        if module == "platform":
            (checkout / "platform.py").write_text(code, encoding="utf-8")
            continue
        (checkout / module).mkdir()
        (checkout / module / "__init__.py").write_text(code, encoding="utf-8")
        (checkout / module / "__main__.py").write_text(code, encoding="utf-8")


def planted_wheel(folder: Path) -> Path:
    """A wheel whose only content is a `.pth` file: what a PR's dependency could install."""
    wheel = folder / "planted-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("planted.pth", PTH_LINE)
        archive.writestr("planted-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: planted\nVersion: 1.0\n")
        archive.writestr("planted-1.0.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("planted-1.0.dist-info/RECORD", "planted.pth,,\nplanted-1.0.dist-info/METADATA,,\n"
                                                         "planted-1.0.dist-info/WHEEL,,\n"
                                                         "planted-1.0.dist-info/RECORD,,\n")
    return wheel


@pytest.fixture(name="runner")
def fixture_runner(tmp_path) -> dict[str, Path]:
    """A PR checkout with planted modules, the runner's temp folder and its command files."""
    paths = {name: tmp_path / name for name in ("checkout", "runner-temp")}
    for folder in paths.values():
        folder.mkdir()
    paths.update(mark=tmp_path / "planted.log", github_path=tmp_path / "github_path",
                 github_env=tmp_path / "github_env", github_output=tmp_path / "github_output")
    plant_modules(paths["checkout"], paths["mark"])
    return paths


def runner_env(runner: dict[str, Path]) -> dict[str, str]:
    """The step's environment: this Python first on PATH (as setup-python leaves it), no local run."""
    keep = {key: value for key, value in os.environ.items()
            if not key.startswith(("MLOPS_CI_", "VIRTUAL_ENV", "PYTHON"))}
    return {**keep, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(runner["runner-temp"]), "GITHUB_PATH": str(runner["github_path"]),
            "GITHUB_ENV": str(runner["github_env"]), "GITHUB_OUTPUT": str(runner["github_output"])}


def test_the_requirements_go_into_a_venv_under_the_runner_temp_folder(runner):
    requirements = runner["checkout"] / "requirements.txt"
    requirements.write_text(f"{planted_wheel(runner['checkout'])}\n", encoding="utf-8")
    done = run_step("setup-env", "Install the requirements (pip)", runner["checkout"],
                    {"requirements": "requirements.txt"}, runner_env(runner))
    assert done.returncode == 0, done.stderr
    assert not runner["mark"].exists(), runner["mark"].read_text(encoding="utf-8")

    venv = runner["runner-temp"] / "mlops-ci-env"
    assert runner["github_path"].read_text(encoding="utf-8") == f"{venv / 'bin'}\n"
    assert runner["github_env"].read_text(encoding="utf-8") == f"VIRTUAL_ENV={venv}\n"
    assert list(venv.glob("lib/python*/site-packages/planted.pth"))
    assert not (Path(sysconfig.get_paths()["purelib"]) / "planted.pth").exists()
    # Live in the venv, absent from the runner's Python.
    for python, ran in ((venv / "bin" / "python", True), (Path(sys.executable), False)):
        subprocess.run([str(python), "-c", "pass"], env={**os.environ, "PLANTED_MARK": str(runner["mark"])},
                       check=True, timeout=60)
        assert runner["mark"].exists() == ran
        runner["mark"].unlink(missing_ok=True)


def test_setup_mlops_ci_runs_the_real_pip_in_a_checkout_with_a_pip_folder(runner, tmp_path):
    # The action's source is an empty folder here, so the real pip refuses it: what matters is
    # which pip ran (and nothing is installed into this Python).
    action_path = tmp_path / "empty" / "actions" / "setup-mlops-ci"
    action_path.mkdir(parents=True)
    done = run_step("setup-mlops-ci", "Install mlops-ci at the pinned ref", runner["checkout"],
                    {"extras": ""}, runner_env(runner), action_path=action_path)
    assert not runner["mark"].exists(), runner["mark"].read_text(encoding="utf-8")
    assert done.returncode != 0 and "is not installable" in done.stderr, done.stderr


def test_the_conda_python_version_is_read_without_the_checkout_on_the_path(runner):
    """A `platform.py` in the checkout doesn't answer for the stdlib's."""
    done = run_step("setup-env", "Put the conda environment first on PATH", runner["checkout"], {},
                    {**runner_env(runner), "CONDA_PREFIX": str(Path(sys.executable).parent.parent)})
    assert done.returncode == 0, done.stderr
    assert not runner["mark"].exists(), runner["mark"].read_text(encoding="utf-8")
    assert runner["github_output"].read_text(encoding="utf-8") == (
        f"python-version={sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}\n")


def test_every_python_our_steps_start_leaves_the_working_directory_off_its_path():
    """-P (Python 3.11+): no `python` in a `run:` of ours imports from the PR's checkout first."""
    unsafe = []
    for path in [*ROOT.glob("actions/*/action.yml"), *ROOT.glob(".github/workflows/*.yml")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.lstrip().startswith("#") and re.search(r"\bpython3?\"?\s+-(?!P\b)", line):
                unsafe.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not unsafe, unsafe
