"""The bundled document's components accept exactly what the schema files accept.

The bundler hoists every ``$defs`` entry and a few inline objects into named
components and rewrites the references: a pure restructuring. These tests
prove it: every body the schema tests validate (recorded while running
``test_schemas.py``) and Hypothesis-drawn bodies, valid and broken, get the
same verdict from the files (through ``contracts.registry``) and from the
bundled document's components, leniently and strictly.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

import contracts
from contracts import registry
from contracts.openapi import component_ref, openapi_document
from contracts.strategies import create_bodies

SCHEMA_TESTS = Path(__file__).with_name("test_schemas.py")
BUNDLE_URI = "urn:planasonix:openapi"


@cache
def _bundle_registry(strict: bool) -> Registry[Any]:
    doc = openapi_document()
    if strict:
        doc["components"]["schemas"] = registry._strictify(doc["components"]["schemas"])
    return Registry().with_resource(BUNDLE_URI, DRAFT202012.create_resource(doc))


@cache
def _bundle_validator(uri: str, strict: bool) -> Draft202012Validator:
    pointer = component_ref(uri, None)
    assert pointer.startswith("#/components/schemas/") and pointer.count("/") == 3, pointer
    return Draft202012Validator(
        {"$ref": BUNDLE_URI + pointer},
        registry=_bundle_registry(strict),
        format_checker=registry.FORMAT_CHECKER,
    )


@cache
def _file_validator(uri: str, strict: bool) -> Draft202012Validator:
    # Plain jsonschema over the files (the registry's own validator may add a
    # compiled fast path); the same format checker as the registry's.
    return Draft202012Validator(
        {"$ref": registry.SCHEMA_BASE + uri},
        registry=registry._schema_registry(strict),
        format_checker=registry.FORMAT_CHECKER,
    )


def same_verdict(uri: str, body: Any) -> bool:
    """Both verdicts agree, lenient and strict; returns the lenient verdict."""
    verdicts = []
    for strict in (False, True):
        by_file = _file_validator(uri, strict).is_valid(body)
        by_bundle = _bundle_validator(uri, strict).is_valid(body)
        assert by_file == by_bundle, (uri, strict, by_file)
        verdicts.append(by_file)
    return verdicts[0]


def test_every_body_of_the_schema_tests_gets_the_same_verdict(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, Any]] = []
    original = registry._errors

    def recording(uri: str, body: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((uri, copy.deepcopy(body)))
        return original(uri, body, *args, **kwargs)

    monkeypatch.setattr(registry, "_errors", recording)
    outcome = pytester.inline_run(str(SCHEMA_TESTS), "-q", "-p", "no:cacheprovider")
    passed, _, failed = outcome.listoutcomes()
    assert not failed and len(passed) > 50
    verdicts = [same_verdict(uri, body) for uri, body in seen]
    # Both kinds were exercised: the recorded bodies are not all valid or all invalid.
    assert len(seen) > 200 and True in verdicts and False in verdicts
    kinds = {uri for uri, _ in seen}
    assert {"create-credential.json", "credential.json", "error.json"} <= kinds
    assert {f"config-{t}.json" for t in contracts.CREDENTIAL_TYPES} <= kinds


# A value of a kind no field of the contract takes everywhere: it breaks most fields.
_ODD_VALUES = st.sampled_from([None, 7, -1, "", "x" * 300, [], {}, True, "2765-11-31T00:00:00Z"])


@st.composite
def _bodies(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A valid create body, or one with a single field replaced by an odd value."""
    body = draw(create_bodies())
    if not draw(st.booleans()):
        return body, True
    config = body["config"]
    target = draw(st.sampled_from(["name", "type", "config", *[f"config.{k}" for k in config]]))
    if target.startswith("config."):
        config[target.removeprefix("config.")] = draw(_ODD_VALUES)
    else:
        body[target] = draw(_ODD_VALUES)
    return body, False


@given(_bodies())
def test_generated_requests_get_the_same_verdict(case: tuple[dict[str, Any], bool]) -> None:
    body, intact = case
    valid = same_verdict("create-credential.json", body)
    if intact:
        assert valid
    type_ = body.get("type")
    if type_ in contracts.CREDENTIAL_TYPES and isinstance(body.get("config"), dict):
        same_verdict(f"config-{type_}.json", body["config"])
    same_verdict("update-credential.json", {k: v for k, v in body.items() if k != "type"})


@given(_bodies(), st.sampled_from(["active", "deleted"]), st.booleans())
def test_generated_responses_get_the_same_verdict(
    case: tuple[dict[str, Any], bool], status: str, leak: bool
) -> None:
    body, _ = case
    type_ = body["type"]
    config = body["config"] if not isinstance(body["config"], dict) else dict(body["config"])
    if isinstance(config, dict) and type_ in contracts.CREDENTIAL_TYPES and not leak:
        config = contracts.redact(type_, config)
    stamp = "2025-03-27T10:00:00Z"
    item = {
        "id": "cred_01j9k2m4n5p6q7r8",
        "name": body["name"],
        "type": type_,
        "status": status,
        "created_at": stamp,
        "updated_at": stamp,
        "deleted_at": stamp if status == "deleted" else None,
        "config": config,
    }
    same_verdict("credential-envelope.json", {"data": item})
    same_verdict(
        "credential-list.json", {"data": [item], "meta": {"page": {"limit": 1, "cursor": None}}}
    )
    same_verdict("delete-result.json", {"data": item})
    same_verdict("restore-result.json", {"data": item})
