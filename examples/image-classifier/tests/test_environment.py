"""The conda and pip environment files pin the same packages at the same versions."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def requirement_lines(text):
    """Requirement lines without comments or blanks."""
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_environment_yml_pins_exactly_requirements_txt():
    environment = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    pins = requirement_lines((PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8"))
    assert pip_section == pins
    assert all("==" in pin for pin in pins)


def test_conda_packages_are_pinned_with_single_equals():
    environment = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda_packages = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    assert "python=3.11" in conda_packages
    assert all("=" in entry and "==" not in entry for entry in conda_packages)
