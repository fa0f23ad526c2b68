"""What the quality tests share (fast and integration alike): scratch projects (a clean one, and a dirty
one with every kind of finding and a failing test), the `mlops-ci` runner that captures a run as Actions
sees it, and the autouse fixture `isolated_folder` (import it into a test module to use it)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_ci.cli import main
from testing.fixtures import read_outputs

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


@pytest.fixture(autouse=True)
def isolated_folder(tmp_path, monkeypatch):
    """Each test in its own empty folder, outside Actions."""
    monkeypatch.chdir(tmp_path)
    for name in ENV_DROPPED:
        monkeypatch.delenv(name, raising=False)
