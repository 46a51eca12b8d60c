"""The OpenAPI document: valid, complete, and loadable by schemathesis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

import contracts
from contracts.openapi import openapi_document, openapi_source

OPENAPI_FILE = Path(contracts.__file__).parent / "openapi.yaml"
PREFIXES = ("/api", "/v1/api")
OPERATIONS = {
    ("get", "/credentials"): "200",
    ("post", "/credentials"): "201",
    ("get", "/credentials/{id}"): "200",
    ("put", "/credentials/{id}"): "200",
    ("delete", "/credentials/{id}"): "200",
    ("post", "/credentials/{id}/restore"): "200",
    ("delete", "/credentials/{id}/permanent"): "200",
}


def test_the_file_with_its_relative_refs_is_valid_openapi() -> None:
    spec, base_uri = read_from_filename(str(OPENAPI_FILE))
    validate(spec, base_uri=base_uri)
    assert spec["openapi"].startswith("3.1")


def test_the_bundled_document_is_valid_and_self_contained() -> None:
    doc = openapi_document()
    validate(doc)
    refs = [ref for ref in _refs(doc) if not ref.startswith("#/")]
    assert refs == []
    # Every schema file is inlined once.
    assert set(doc["components"]["schemas"]) == {
        p.stem for p in (OPENAPI_FILE.parent / "schemas").glob("*.json")
    }


def test_the_file_refers_to_the_schema_files_rather_than_copying_them() -> None:
    text = json.dumps(openapi_source())
    assert "schemas/credential-envelope.json" in text
    for type_ in contracts.CREDENTIAL_TYPES:
        for path in contracts.secret_paths(type_):
            assert f'"{path[-1]}"' not in text


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_every_operation_under_both_prefixes(prefix: str, method: str, path: str) -> None:
    doc = openapi_document()
    operation = doc["paths"][prefix + path][method]
    codes = set(operation["responses"])
    assert OPERATIONS[(method, path)] in codes
    assert {"401", "403", "429", "500"} <= codes
    if "{id}" in path:
        assert "404" in codes
    if method in ("post", "put") and path in ("/credentials", "/credentials/{id}"):
        assert {"400", "409", "413", "415", "422"} <= codes
        assert "requestBody" in operation


def test_every_status_code_of_the_spec_is_documented_with_the_error_schema() -> None:
    doc = openapi_document()
    seen: set[str] = set()
    for item in doc["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for code, response in operation["responses"].items():
                seen.add(code)
                if code.startswith(("4", "5")):
                    name = response["$ref"].rsplit("/", 1)[-1]
                    target = doc["components"]["responses"][name]
                    schema = target["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/error"}
    assert {"400", "401", "403", "404", "405", "409", "413", "415", "429", "500"} <= seen


def test_create_documents_location_and_rate_limit_documents_retry_after() -> None:
    doc = openapi_document()
    created = doc["paths"]["/api/credentials"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    limited = doc["components"]["responses"]["RateLimited"]["headers"]
    assert limited["Retry-After"]["required"] is True
    unauthorized = doc["components"]["responses"]["Unauthorized"]["headers"]
    assert "WWW-Authenticate" in unauthorized


def test_both_auth_schemes() -> None:
    doc = openapi_document()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": schemes["bearerAuth"]["description"]
    }  # fmt: skip
    assert schemes["apiKeyHeader"]["name"] == "X-Planasonix-Api-Key"
    assert {"bearerAuth": []} in doc["security"] and {"apiKeyHeader": []} in doc["security"]


def test_list_query_parameters() -> None:
    params = {
        p["name"]: p for p in openapi_document()["paths"]["/api/credentials"]["get"]["parameters"]
    }
    assert set(params) == {"limit", "cursor", "type", "status"}
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}


def test_schemathesis_loads_every_operation() -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    labels = {op.ok().label for op in schema.get_all_operations()}
    assert len(labels) == 14
    assert "DELETE /v1/api/credentials/{id}/permanent" in labels
