"""Vendor the part of GitHub's OpenAPI description that the GitHub stand-in serves.

    npm pack @octokit/openapi@23.0.2          # -> octokit-openapi-23.0.2.tgz
    PYTHONPATH=scripts python tools/vendor_github_openapi.py octokit-openapi-23.0.2.tgz

reads ``package/generated/api.github.com.json`` from the tarball and writes
``scripts/mlops_ci/local/github/github-openapi.json``: for every route of ``mlops_ci.local.github.server`` its
request body schema and response schemas by status, with the component schemas they reference, as JSON
Schema 2020-12 (OpenAPI 3.0's ``nullable`` becomes a ``"null"`` type) and without prose and examples.
``info`` records the package, version, file, the tarball's npm integrity and the overrides below.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

from mlops_ci.local.github.server import served_routes
from mlops_ci.local.github.openapi import SUBSET_FILE, route_key

SPEC_FILE = "generated/api.github.com.json"
OUTPUT = Path(__file__).resolve().parent.parent / "scripts" / "mlops_ci" / "local" / "github" / SUBSET_FILE
DROPPED_KEYS = frozenset({"description", "example", "examples", "externalDocs", "discriminator"})
PROTECTION_PUT = "PUT /repos/{owner}/{repo}/branches/{branch}/protection"
OVERRIDES = {
    PROTECTION_PUT: "required_status_checks needs `contexts` or `checks`, exactly one: the description "
    "requires `contexts` (deprecated) but GitHub answers 422 'More than one subschema in \"oneOf\" "
    "matched.' when both are sent (go-github #2276, allstar #155)",
}


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12: ``nullable`` as a null type, prose and x-* dropped."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {key: json_schema(value) for key, value in node.items()
              if key not in DROPPED_KEYS and not key.startswith("x-") and key != "nullable"}
    if not node.get("nullable"):
        return schema
    if isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def follow(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A response or request body, following ``$ref`` into ``components``."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def content_schema(spec: dict[str, Any], node: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema of a request body or response, ``None`` when it has no JSON content."""
    if node is None:
        return None
    content = follow(spec, node).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return json_schema(schema) if schema is not None else None


def override_protection_checks(request: dict[str, Any]) -> None:
    """See ``OVERRIDES``: `strict` stays required, `contexts` and `checks` become one-of."""
    checks = request["properties"]["required_status_checks"]
    checks["required"] = ["strict"]
    checks["oneOf"] = [{"type": "object", "required": [key]} for key in ("contexts", "checks")]
    checks["oneOf"].append({"type": "null"})


def referenced(node: Any) -> set[str]:
    """Names of the component schemas ``node`` refers to directly."""
    if isinstance(node, list):
        return set().union(*map(referenced, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    names = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
    return names.union(*map(referenced, node.values())) if node else names


def vendor(spec: dict[str, Any], routes: list[tuple[str, str]]) -> dict[str, Any]:
    """The subset for ``routes`` (method, path template): operations plus referenced components."""
    by_key = {route_key(method, path): (method.upper(), path)
              for path, methods in spec["paths"].items() for method in methods if method != "parameters"}
    operations = {}
    for method, path in routes:
        spec_method, spec_path = by_key[route_key(method, path)]
        found = spec["paths"][spec_path][spec_method.lower()]
        key = f"{spec_method} {spec_path}"
        operation = {
            "operationId": found["operationId"],
            "documentation_url": found["externalDocs"]["url"],
            "request": content_schema(spec, found.get("requestBody")),
            "responses": {status: content_schema(spec, response)
                          for status, response in found["responses"].items()},
        }
        if key == PROTECTION_PUT:
            override_protection_checks(operation["request"])
        operations[key] = operation
    schemas = spec["components"]["schemas"]
    wanted, todo = set(), referenced(operations)
    while todo:
        name = todo.pop()
        wanted.add(name)
        todo |= referenced(schemas[name]) - wanted
    return {"operations": operations,
            "components": {"schemas": {name: json_schema(schemas[name]) for name in sorted(wanted)}}}


def main(argv: list[str] | None = None) -> int:
    """Read the npm tarball, write the subset."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("tarball", type=Path, help="npm pack @octokit/openapi@VERSION")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data = args.tarball.read_bytes()
    with tarfile.open(args.tarball) as tar:
        package = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
        raw = tar.extractfile(f"package/{SPEC_FILE}").read()  # type: ignore[union-attr]
    info = {
        "source": f"npm {package['name']}@{package['version']}, file {SPEC_FILE}",
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
        "file_sha256": hashlib.sha256(raw).hexdigest(),
        "generated_by": "tools/vendor_github_openapi.py",
        "overrides": OVERRIDES,
    }
    subset = {"info": info, **vendor(json.loads(raw), served_routes())}
    args.output.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(subset['operations'])} operations, "
          f"{len(subset['components']['schemas'])} schemas, {args.output.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
