"""The OpenAPI document: valid, complete, and loadable by schemathesis."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from referencing import Registry
from referencing.jsonschema import DRAFT202012

import contracts
from contracts.openapi import component_name, openapi_document, openapi_source
from contracts.registry import FORMAT_CHECKER

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


def test_the_file_refers_to_the_schema_files_rather_than_copying_them() -> None:
    # The published request example does carry a (placeholder) secret: not a copied schema.
    text = json.dumps(_without(openapi_source(), "examples"))
    assert "schemas/credential-envelope.json" in text
    for type_ in contracts.CREDENTIAL_TYPES:
        for path in contracts.secret_paths(type_):
            assert f'"{path[-1]}"' not in text


def _without(node: Any, key: str) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, key) for k, v in node.items() if k != key}
    if isinstance(node, list):
        return [_without(v, key) for v in node]
    return node


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


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
                    assert schema == {"$ref": "#/components/schemas/Error"}
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


# --- what the ecosystem's tools need (issue 11) ------------------------------------------

COMPONENT_REF = re.compile(r"^#/components/(schemas|responses|parameters)/[A-Za-z0-9]+$")
EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "docs-examples"
# Where each example of the published page sits: (operationId, "request" or a status code).
PUBLISHED = {
    "list-credentials.response.json": ("listCredentials", "200"),
    "create-credential.request.json": ("createCredential", "request"),
    "create-credential.response.json": ("createCredential", "201"),
    "get-credential.response.json": ("getCredential", "200"),
    "update-credential.request.json": ("updateCredential", "request"),
    "delete-credential.response.json": ("deleteCredential", "200"),
    "restore-credential.response.json": ("restoreCredential", "200"),
    "purge-credential.response.json": ("purgeCredential", "200"),
}
# The registry's response kind of each operation's success body.
SUCCESS_KINDS = {
    "listCredentials": "credential_list",
    "createCredential": "credential_envelope",
    "getCredential": "credential_envelope",
    "updateCredential": "credential_envelope",
    "deleteCredential": "delete_result",
    "restoreCredential": "restore_result",
    "purgeCredential": "purge_result",
}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/components/"):
        _, _, kind, name = node["$ref"].split("/")
        node = doc["components"][kind][name]
    return node


def _examples(media: dict[str, Any]) -> list[Any]:
    found = [media["example"]] if "example" in media else []
    return found + [example["value"] for example in media.get("examples", {}).values()]


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource = DRAFT202012.create_resource(doc)
    return Draft202012Validator(
        {"$ref": "urn:openapi" + schema["$ref"]},
        registry=Registry().with_resource("urn:openapi", resource),
        format_checker=FORMAT_CHECKER,
    )


def test_refs_name_whole_components_only() -> None:
    doc = openapi_document()
    for ref in _refs(doc):
        assert COMPONENT_REF.match(ref), ref
        _, _, kind, name = ref.split("/")
        assert name in doc["components"][kind], ref
    assert "$defs" not in _keys(doc)


def test_every_reusable_piece_and_every_config_variant_is_a_named_component() -> None:
    names = set(openapi_document()["components"]["schemas"])
    for file_name, schema in contracts.registry.schema_documents().items():
        for definition in schema.get("$defs", {}):
            assert component_name(file_name, definition) in names
    for type_ in contracts.CREDENTIAL_TYPES:
        pascal = "".join(part.title() for part in type_.split("_"))
        assert {f"{pascal}Config", f"{pascal}ConfigResponse"} <= names
    assert {"CreateCredentialConfig", "UpdateCredentialConfig", "CredentialConfig"} <= names
    assert {"Timestamp", "CredentialId", "CredentialType", "Error", "ErrorEnvelope"} <= names


def test_every_operation_has_a_summary_a_description_and_a_declared_tag() -> None:
    doc = openapi_document()
    declared = {tag["name"] for tag in doc["tags"]}
    for path, method, operation in _operations(doc):
        assert operation["summary"] and operation["description"], (method, path)
        assert operation["tags"] and set(operation["tags"]) <= declared, (method, path)
    assert {op["tags"][0] for p, _, op in _operations(doc) if p.startswith("/v1/")} == {
        "Credentials (/v1/api)"
    }


def test_every_response_and_request_body_has_examples_valid_against_its_own_schema() -> None:
    doc = openapi_document()
    checked = 0
    for path, method, operation in _operations(doc):
        base_id = operation["operationId"].removesuffix("V1")
        bodies = [("request", operation["requestBody"])] if "requestBody" in operation else []
        for code, response in [*bodies, *operation["responses"].items()]:
            media = _resolve(doc, response)["content"]["application/json"]
            examples = _examples(media)
            assert examples, (method, path, code)
            validator = _validator(doc, media["schema"])
            for example in examples:
                assert validator.is_valid(example), (method, path, code)
                if code.startswith("2"):
                    # The registry's strict check also refuses any secret field.
                    assert contracts.validate_response(SUCCESS_KINDS[base_id], example, True) == []
                elif code != "request":
                    assert contracts.validate_response("error", example, strict=True) == []
                checked += 1
    assert checked > 100


def test_the_published_examples_sit_on_their_operations() -> None:
    doc = openapi_document()
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    assert {p.name for p in EXAMPLES.glob("*.json")} == set(PUBLISHED)
    for file_name, (operation_id, where) in PUBLISHED.items():
        published = json.loads((EXAMPLES / file_name).read_text())
        for suffix in ("", "V1"):
            operation = by_id[operation_id + suffix]
            part = operation["requestBody"] if where == "request" else operation["responses"][where]
            assert published in _examples(part["content"]["application/json"]), file_name


def test_id_routes_declare_400_for_bad_query_parameters() -> None:
    doc = openapi_document()
    for path, method, operation in _operations(doc):
        assert "400" in operation["responses"], (method, path)
        if "{id}" in path and method in ("get", "delete", "post"):
            assert operation["responses"]["400"] == {"$ref": "#/components/responses/BadQuery"}


def test_the_file_and_the_bundle_name_production_as_their_server() -> None:
    assert openapi_source()["servers"] == [
        {"url": "https://api.planasonix.com", "description": "production"}
    ]
    assert openapi_document()["servers"] == openapi_source()["servers"]
