"""Caller templates: each is valid, has its properties file, and becomes a project's workflow."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from mlops_ci import templates

ROOT = Path(__file__).resolve().parents[1]


def test_instantiate_pins_org_and_ref_and_fills_placeholders():
    text = ("on: {pull_request: {branches: [$default-branch]}}\njobs:\n  a:\n"
            "    uses: org/mlops-ci/.github/workflows/x.yml@v1\n"
            "  b:\n    uses: someone/else/.github/workflows/y.yml@v1\n")
    result = templates.instantiate(text, org="acme", ref="v1.4.0", default_branch="trunk")
    assert "uses: acme/mlops-ci/.github/workflows/x.yml@v1.4.0" in result
    assert "uses: someone/else/.github/workflows/y.yml@v1" in result
    assert "branches: [trunk]" in result


def test_every_template_has_properties_and_parses():
    files = templates.template_files(ROOT)
    assert files
    for template in files:
        properties = json.loads(template.with_suffix(".properties.json").read_text())
        assert properties["name"] and properties["description"]
        workflow = yaml.safe_load(templates.instantiate(template.read_text(), org="acme", ref="v1"))
        assert workflow["permissions"] == {}, f"{template.name}: top-level permissions must be empty"


def test_properties_follow_githubs_format_with_icon_and_categories():
    schema = json.loads((ROOT / "tools" / "schemas" / "workflow-template-properties.schema.json").read_text())
    for template in templates.template_files(ROOT):
        properties = json.loads(template.with_suffix(".properties.json").read_text())
        jsonschema.validate(properties, schema)
        assert properties["iconName"] and properties["categories"], template.name
