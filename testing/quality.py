"""What the quality tests share (fast and integration alike): scratch projects (a clean one, and a dirty
one with every kind of finding and a failing test; for new-code mode, a git repository of legacy code
and the pull requests that change it), the `mlops-ci` runner that captures a run as Actions sees it,
and the autouse fixture `isolated_folder` (import it into a test module to use it)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.fixtures import read_outputs
from testing.project import init_git_flow_repo

# The outer coverage run must not follow the pylint, vulture and pytest subprocesses (they run no
# mlops_ci code, and a second coverage tracer in the inner pytest would disturb its own).
ENV_DROPPED = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_WORKSPACE",
               "COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "PYLINTRC")


@dataclass
class Run:
    """One `mlops-ci` run: exit code, stdout, stderr, job summary and step outputs."""

    code: int
    out: str
    err: str
    summary: str
    outputs: dict[str, str]

    def annotations(self, level: str = "") -> list[str]:
        """The workflow-command lines (::error ...), optionally of one level."""
        return [line for line in self.out.splitlines() if line.startswith(f"::{level}")]


def run_cli(project: Path, *argv: str, actions: bool = True) -> Run:
    """Run `mlops-ci ARGV` in `project` (inside Actions: annotations on stdout, a summary, outputs)."""
    summary, outputs = project / ".gh-summary.md", project / ".gh-output"
    for path in (summary, outputs):
        path.unlink(missing_ok=True)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        for name in ENV_DROPPED:
            patch.delenv(name, raising=False)
        if actions:
            patch.setenv("GITHUB_ACTIONS", "true")
            patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
            patch.setenv("GITHUB_OUTPUT", str(outputs))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue(),
               summary.read_text(encoding="utf-8") if summary.exists() else "", read_outputs(outputs))


PYTEST_ONLY = '[tool.pytest.ini_options]\npythonpath = ["src"]\n'

CLEAN = {
    "pyproject.toml": PYTEST_ONLY,
    "src/calc/__init__.py": '"""Calculator."""\n',
    "src/calc/ops.py": '''"""Arithmetic."""


def add(x, y):
    """x plus y."""
    return x + y


def scale(values, factor):
    """Every value times factor."""
    return [value * factor for value in values]
''',
    "tests/test_ops.py": '''"""The arithmetic."""
from calc.ops import add, scale


def test_add():
    """Sums."""
    assert add(2, 3) == 5


def test_scale():
    """Products."""
    assert scale([1, 2], 3) == [3, 6]
''',
}

BLOCK = '''    amount = 0
    for price in prices:
        if price > 100:
            amount += price * 0.9
        elif price > 50:
            amount += price * 0.95
        else:
            amount += price
    return round(amount, 2)
'''
DIRTY = {
    "pyproject.toml": PYTEST_ONLY,
    "src/shop/__init__.py": '"""Shop."""\n',
    # line 2: unused import; 5-15: the block both modules share; 20: an undefined name (E0602);
    # 23: a function nobody calls.
    "src/shop/orders.py": '"""Orders."""\nimport json\n\n\ndef total(prices):\n'
                          '    """The sum of the prices, discounted."""\n' + BLOCK + '''

def describe(order):
    """A line for the order."""
    return f"order {order} of {undefined_customer}"


def forgotten():
    """Nobody calls this."""
    return 42
''',
    "src/shop/invoices.py": '"""Invoices."""\n\n\ndef invoice_total(prices):\n'
                            '    """The invoice\'s total."""\n' + BLOCK,
    # line 13: the failing assertion
    "tests/test_orders.py": '''"""Orders."""
from shop.invoices import invoice_total
from shop.orders import total


def test_total():
    """Discounts apply."""
    assert total([10, 60, 200]) == 10 + 57 + 180


def test_invoice_total_is_wrong():
    """Fails on purpose."""
    assert invoice_total([10]) == 11
''',
}


def write(root: Path, files: dict[str, str]) -> Path:
    """Write a scratch project; returns its root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# New-code mode: legacy code that fails the whole-code gates (pylint about 5/10, an unused import
# vulture sees, bad indentation; coverage 60%) beside a clean, tested module.
LEGACY = {
    "pyproject.toml": PYTEST_ONLY,
    "src/legacy/__init__.py": '"""Legacy."""\n',
    "src/legacy/old.py": "import os\ndef f(x):\n  return x\ndef g(y):\n    z = y * 2\n    if z > 10:\n"
                         "        return z\n    return -z\n",
    "src/legacy/clean.py": '"""Clean."""\n\n\ndef double(value):\n    """Twice the value."""\n'
                           "    return 2 * value\n",
    "tests/test_old.py": "from legacy.old import f\n\n\ndef test_f():\n    assert f(1) == 1\n",
    "tests/test_clean.py": '"""Clean."""\nfrom legacy.clean import double\n\n\ndef test_double():\n'
                           '    """Doubles."""\n    assert double(2) == 4\n',
}
# A pull request adding clean, tested code: 13 lines.
CLEAN_CHANGE = {
    "src/legacy/sums.py": '"""Sums."""\n\n\ndef add(x, y):\n    """x plus y."""\n    return x + y\n',
    "tests/test_sums.py": '"""Sums."""\nfrom legacy.sums import add\n\n\ndef test_add():\n    """Adds."""\n'
                          "    assert add(2, 3) == 5\n",
}
# The same with a bad line (BAD_LINE can never run: pylint and vulture say so) and lines no test runs
# (UNTESTED, first and last).
BAD_CHANGE = {
    **CLEAN_CHANGE,
    "src/legacy/sums.py": CLEAN_CHANGE["src/legacy/sums.py"]
    + '\n\ndef sub(x, y):\n    """x minus y."""\n    difference = x - y\n    return difference\n'
      "    print(difference)\n",
}
BAD_LINE = 13
UNTESTED = (11, 12)  # coverage.py does not count the unreachable line


def legacy_repository(root: Path, change: dict[str, str] | None = None,
                      removed: tuple[str, ...] = ()) -> Path:
    """A git repository of LEGACY on `main` and `develop`; with a change, `feature/change` from develop
    writes `change`, removes `removed`, and is checked out, committed."""
    init_git_flow_repo(write(root, LEGACY), "acme/legacy", "legacy code")
    if change is not None or removed:
        git(root, "checkout", "--quiet", "-b", "feature/change", "develop")
        write(root, change or {})
        if removed:
            git(root, "rm", "--quiet", "--", *removed)
        git(root, "add", "--all")
        git(root, "commit", "--quiet", "--message", "the change")
    return root


@pytest.fixture(autouse=True)
def isolated_folder(tmp_path, monkeypatch):
    """Each test in its own empty folder, outside Actions."""
    monkeypatch.chdir(tmp_path)
    for name in ENV_DROPPED:
        monkeypatch.delenv(name, raising=False)
