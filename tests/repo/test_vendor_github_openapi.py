"""tools/vendor_github_openapi.py: the vendored subset of GitHub's OpenAPI description."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
PROTECTION = "/repos/{owner}/{repo}/branches/{branch}/protection"


def _import_tool():
    """tools/vendor_github_openapi.py is a standalone script, not part of the mlops_ci package."""
    path = ROOT / "tools" / "vendor_github_openapi.py"
    spec = importlib.util.spec_from_file_location("vendor_github_openapi", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _import_tool()


def description() -> dict:
    """A two-operation OpenAPI 3.0 description in GitHub's style."""
    checks = {"type": "object", "nullable": True, "required": ["strict", "contexts"],
              "properties": {"strict": {"type": "boolean"}, "contexts": {"type": "array"},
                             "checks": {"type": "array"}}}
    return {
        "paths": {
            PROTECTION: {"put": {
                "operationId": "repos/update-branch-protection",
                "externalDocs": {"url": "https://docs.github.com/rest/x"},
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"required_status_checks": checks}}}}},
                "responses": {"200": {"$ref": "#/components/responses/ok"}, "204": {"description": "none"}},
            }},
            "/user": {"get": {
                "operationId": "users/get-authenticated",
                "externalDocs": {"url": "https://docs.github.com/u"},
                "responses": {"200": {"content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/nullable-user"}}}}},
            }},
        },
        "components": {
            "responses": {"ok": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/b"}}}}},
            "schemas": {
                "b": {"type": "object", "description": "prose", "x-github": {}, "example": {},
                      "properties": {"user": {"$ref": "#/components/schemas/nullable-user"}}},
                "nullable-user": {"type": "object", "nullable": True, "properties": {
                    "role": {"type": "string", "enum": ["a"], "nullable": True}}},
                "unused": {"type": "string"},
            },
        },
    }


def test_json_schema_turns_nullable_into_a_null_type():
    converted = tool.json_schema({"type": "string", "nullable": True, "enum": ["a"], "description": "x"})
    assert converted == {"type": ["string", "null"], "enum": ["a", None]}
    assert tool.json_schema({"allOf": [{"$ref": "#/x"}], "nullable": True}) == {
        "anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]}


def test_vendor_keeps_the_routes_their_schemas_and_nothing_else():
    subset = tool.vendor(description(), [("PUT", "/repos/<owner>/<repo>/branches/<path:branch>/protection"),
                                  ("GET", "/user")])
    assert set(subset["operations"]) == {f"PUT {PROTECTION}", "GET /user"}
    put = subset["operations"][f"PUT {PROTECTION}"]
    assert put["responses"] == {"200": {"$ref": "#/components/schemas/b"}, "204": None}
    assert put["documentation_url"] == "https://docs.github.com/rest/x"
    assert sorted(subset["components"]["schemas"]) == ["b", "nullable-user"]
    assert subset["components"]["schemas"]["b"] == {
        "type": "object", "properties": {"user": {"$ref": "#/components/schemas/nullable-user"}}}


def test_the_override_makes_contexts_and_checks_one_of():
    put = tool.vendor(description(), [("PUT", PROTECTION)])["operations"][f"PUT {PROTECTION}"]
    validator = Draft202012Validator(put["request"])
    assert validator.is_valid({"required_status_checks": {"strict": True, "checks": []}})
    assert validator.is_valid({"required_status_checks": {"strict": True, "contexts": []}})
    assert validator.is_valid({"required_status_checks": None})
    assert not validator.is_valid({"required_status_checks": {"strict": True, "checks": [], "contexts": []}})
    assert not validator.is_valid({"required_status_checks": {"strict": True}})


def test_main_reads_the_npm_tarball_and_states_the_source(tmp_path, capsys, monkeypatch):
    tarball = tmp_path / "octokit-openapi-1.2.3.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in (("package/package.json", {"name": "@octokit/openapi", "version": "1.2.3"}),
                           (f"package/{tool.SPEC_FILE}", description())):
            raw = json.dumps(data).encode()
            member = tarfile.TarInfo(name)
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))
    monkeypatch.setattr(tool, "served_routes", lambda: [("GET", "/user")])  # the fake has two of ours
    assert tool.main([str(tarball), "--output", str(tmp_path / "out.json")]) == 0
    info = json.loads((tmp_path / "out.json").read_text())["info"]
    assert info["source"] == "npm @octokit/openapi@1.2.3, file generated/api.github.com.json"
    assert info["integrity"].startswith("sha512-") and info["overrides"] == tool.OVERRIDES
    assert "1 operations" in capsys.readouterr().out
