"""The compiled validator (jsonschema-rs) and jsonschema agree, and answers stay jsonschema's.

`contracts.registry` asks the compiled check first and lets jsonschema explain
only a failure. These tests compare the two verdicts schema by schema on the
published examples, on generated valid bodies and on mutated (mostly invalid)
ones, and check that the registry's answers are exactly those of the
jsonschema-only path.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contracts
from contracts import registry
from contracts.strategies import create_bodies

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "docs-examples"
REQUEST_URIS = {
    "create-credential.request.json": "create-credential.json",
    "update-credential.request.json": "update-credential.json",
}
RESPONSE_URIS = {
    "list-credentials.response.json": "credential_list",
    "create-credential.response.json": "credential_envelope",
    "get-credential.response.json": "credential_envelope",
    "delete-credential.response.json": "delete_result",
    "restore-credential.response.json": "restore_result",
    "purge-credential.response.json": "purge_result",
}
CONFIG_URIS = {t: f"config-{t}.json" for t in contracts.CREDENTIAL_TYPES}


def jsonschema_valid(uri: str, strict: bool, body: Any) -> bool:
    return next(iter(registry._validator(uri, strict).iter_errors(body)), None) is None


def compiled_valid(uri: str, strict: bool, body: Any) -> bool:
    return registry._compiled_check(uri, strict)(body)


def assert_agree(uri: str, strict: bool, body: Any) -> bool:
    expected = jsonschema_valid(uri, strict, body)
    verdict = "valid" if expected else "invalid"
    assert compiled_valid(uri, strict, body) == expected, f"{uri} ({strict=}): jsonschema {verdict}"
    return expected


def response_uris(kind: str) -> list[tuple[str, bool]]:
    lenient, strict = registry.RESPONSE_KINDS[kind]
    return [(lenient, False), (strict, True)]


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


EXAMPLE_BODY = {"name": "n", "type": "password", "config": {"password": "x", "username": "u"}}


@pytest.mark.parametrize("name", sorted(REQUEST_URIS))
def test_request_examples_agree(name: str) -> None:
    body = load(name)
    assert assert_agree(REQUEST_URIS[name], False, body)
    if name.startswith("create"):
        assert assert_agree(CONFIG_URIS[body["type"]], False, body["config"])


@pytest.mark.parametrize("name", sorted(RESPONSE_URIS))
def test_response_examples_agree(name: str) -> None:
    body = load(name)
    for uri, strict in response_uris(RESPONSE_URIS[name]):
        assert_agree(uri, strict, body)
    # The published examples are valid in the lenient (deployment) mode.
    assert compiled_valid(*response_uris(RESPONSE_URIS[name])[0], body)


# --- generated bodies ---------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with one field somewhere replaced, removed or added: mostly invalid."""
    out = copy.deepcopy(body)
    node = out
    while True:
        children = [k for k, v in node.items() if isinstance(v, dict)]
        if not children or draw(st.booleans()):
            break
        node = node[draw(st.sampled_from(children))]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    keys = sorted(node)
    if action == "add" or not keys:
        node[draw(st.text(max_size=8))] = draw(json_values)
    elif action == "remove":
        del node[draw(st.sampled_from(keys))]
    else:
        node[draw(st.sampled_from(keys))] = draw(json_values)
    return out


def check_body(body: Any) -> None:
    assert_agree("create-credential.json", False, body)
    assert_agree("update-credential.json", False, body)
    config = body.get("config") if isinstance(body, dict) else None
    for type_, uri in CONFIG_URIS.items():
        if type_ == (body.get("type") if isinstance(body, dict) else None):
            assert_agree(uri, False, config)


@given(create_bodies())
def test_valid_bodies_agree(body: dict[str, Any]) -> None:
    assert assert_agree("create-credential.json", False, body)
    assert assert_agree(CONFIG_URIS[body["type"]], False, body["config"])
    assert assert_agree("update-credential.json", False, body)
    # And the credential as a response shows it, in every response mode.
    envelope = {
        "data": {
            "id": "cred_0000000000000001",
            "name": body["name"],
            "type": body["type"],
            "status": "active",
            "created_at": "2025-03-27T10:00:00Z",
            "updated_at": "2025-03-27T10:00:00Z",
            "deleted_at": None,
            "created_by": "usr_test",
            "config": contracts.redact(body["type"], body["config"]),
        }
    }
    for uri, strict in response_uris("credential_envelope"):
        assert assert_agree(uri, strict, envelope)


@given(create_bodies().flatmap(mutated))
def test_mutated_bodies_agree(body: dict[str, Any]) -> None:
    check_body(body)


@given(json_values)
def test_arbitrary_json_agrees(body: Any) -> None:
    check_body(body)
    for kind in registry.RESPONSE_KINDS:
        for uri, strict in response_uris(kind):
            assert_agree(uri, strict, body)


def test_every_space_and_control_character_in_a_name_agrees() -> None:
    # The name rule is a regex with `\s` and control ranges: where Python's
    # `re` and the compiled side's regex dialect could differ.
    odd = [
        chr(cp)
        for cp in range(0x110000)
        if chr(cp).isspace() or unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zs", "Zl", "Zp")
    ]
    assert len(odd) > 150
    for char in odd:
        for name in (char, f"a{char}", f"{char}a"):
            assert_agree("create-credential.json", False, {**EXAMPLE_BODY, "name": name})


# --- the registry's answers are jsonschema's ------------------------------------------

VALIDATIONS: list[Callable[[Any], list[contracts.FieldError]]] = [
    contracts.validate_create,
    contracts.validate_update,
    lambda body: contracts.validate_response("credential_envelope", body, strict=True),
]


def explained_only(
    monkeypatch: pytest.MonkeyPatch,
    validate: Callable[[Any], list[contracts.FieldError]],
    body: Any,
) -> list[contracts.FieldError]:
    """What `validate` answers with the compiled check out of the way."""
    with monkeypatch.context() as patch:
        patch.setattr(registry, "_compiled_check", lambda *schema: lambda body: False)
        return validate(body)


@given(body=create_bodies().flatmap(mutated) | json_values)
def test_answers_are_unchanged(body: Any) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for validate in VALIDATIONS:
            assert validate(body) == explained_only(monkeypatch, validate, body)


PASSWORD = {"password": "x", "username": "u"}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "n", "type": "password", "config": {**PASSWORD, 1: "int key"}},
        {"name": "n\ud800", "type": "password", "config": PASSWORD},
        {"name": "n", "type": "password", "config": {**PASSWORD, "port": 2**80}},
        {"name": "n", "type": "password", "config": {**PASSWORD, "username": ("a", "b")}},
    ],
    ids=["int-key", "lone-surrogate", "huge-int", "tuple"],
)
def test_what_the_compiled_side_cannot_read_goes_to_jsonschema(body: Any) -> None:
    # The compiled side cannot say "valid" to these, so jsonschema decides
    # (the surrogate name is valid there: the HTTP layer refuses it earlier).
    assert not compiled_valid("create-credential.json", False, body)
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = explained_only(monkeypatch, contracts.validate_create, body)
    assert contracts.validate_create(body) == expected
