from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from standalone_support import DEV, make_app

from mockserver import CredentialStore, errors
from mockserver.seed import SeedError, load_fixtures
from mockserver.standalone.faults import parse_rule


def test_every_error_has_a_status_code_and_message() -> None:
    expected = {
        errors.InvalidRequest: (400, "invalid_request"),
        errors.Unauthorized: (401, "unauthorized"),
        errors.Forbidden: (403, "forbidden"),
        errors.NotFound: (404, "not_found"),
        errors.MethodNotAllowed: (405, "method_not_allowed"),
        errors.Conflict: (409, "conflict"),
        errors.PayloadTooLarge: (413, "payload_too_large"),
        errors.UnsupportedMediaType: (415, "unsupported_media_type"),
        errors.RateLimited: (429, "rate_limited"),
        errors.InternalError: (500, "internal_error"),
        errors.CredentialNotFound: (404, "not_found"),
        errors.NameTaken: (409, "conflict"),
        errors.StateConflict: (409, "conflict"),
        errors.ValidationFailed: (400, "invalid_request"),
    }
    for kind, (status, code) in expected.items():
        error = kind()
        assert (error.status, error.code) == (status, code)
        assert error.message
        assert code in repr(error)


def test_details_are_field_errors() -> None:
    error = errors.ValidationFailed(details=[errors.ErrorDetail("config.port", "must be int")])
    assert error.details[0].path == "config.port"


# --- naming a field the caller sent ---------------------------------------------------

LONG = "k" * 10_000
CONTROL = "bad\x00key\x1b[31m\n"
SURROGATE = "lone\ud800key"
HIDDEN = [LONG, CONTROL, SURROGATE, "", "x" * 65]


@pytest.mark.parametrize("name", HIDDEN)
def test_a_long_or_unprintable_name_is_never_shown(name: str) -> None:
    assert errors.field_label(name) is None
    assert errors.child_path("config", name) == "config"
    assert errors.child_path("", name) == ""


@pytest.mark.parametrize("name", ["colour", "x" * 64, "café", "a b"])
def test_a_short_printable_name_is_shown(name: str) -> None:
    assert errors.field_label(name) == name
    assert errors.child_path("config", name) == f"config.{name}"
    assert errors.child_path("", name) == name


def test_a_name_that_is_not_text_is_never_shown() -> None:
    assert errors.field_label(3) is None
    assert errors.child_path("workspaces[0]", None) == "workspaces[0]"


def _store_update(name: str) -> tuple[list[str], str]:
    store = CredentialStore()
    created = store.create("w", name="n", type="password", config={"password": "p"})
    with pytest.raises(errors.ValidationFailed) as raised:
        store.update("w", created.id, {"config": {name: 1, "other" + name: 2}})
    return [d.path for d in raised.value.details], repr(raised.value.details)


def _fault_rule(name: str) -> tuple[list[str], str]:
    with pytest.raises(errors.InvalidRequest) as raised:
        parse_rule({"path": "/api/x", "status": 500, name: 1}, "flt_1")
    return [d.path for d in raised.value.details], repr(raised.value.details)


def _seed(name: str) -> tuple[list[str], str]:
    with pytest.raises(SeedError) as raised:
        load_fixtures({"workspaces": [{"id": "w", name: 1}]}, CredentialStore())
    return [str(raised.value).rpartition(": ")[0]], str(raised.value)


def _http(path: str, body: object) -> Callable[[str], tuple[list[str], str]]:
    def probe(name: str) -> tuple[list[str], str]:
        client = make_app().test_client()
        data = json.dumps(body).replace("NAME", json.dumps(name)[1:-1])
        response = client.post(path, data=data, content_type="application/json", headers=DEV)
        assert response.status_code == 400, response.json
        return [d["path"] for d in response.json["error"]["details"]], response.text

    return probe


def _query(name: str) -> tuple[list[str], str]:
    client = make_app().test_client()
    if name == SURROGATE:
        pytest.skip("a URL cannot carry a lone surrogate (Werkzeug keeps its escapes as text)")
    response = client.get("/api/credentials", query_string={name: "1"}, headers=DEV)
    assert response.status_code == 400, response.json
    return [d["path"] for d in response.json["error"]["details"]], response.text


_DEEP: dict[str, Any] = {}
_node = _DEEP
for _ in range(40):
    _node["d"] = {}
    _node = _node["d"]

PLACES: list[tuple[Callable[[str], tuple[list[str], str]], str]] = [
    (_store_update, "config"),
    (_fault_rule, ""),
    (_seed, "workspaces[0]"),
    (_query, "(query)"),
    (_http("/_mock/reset", {"NAME": 1}), ""),
    (_http("/_mock/clock", {"NAME": 1}), ""),
    (_http("/_mock/faults", {"path": "/api/x", "status": 500, "NAME": 1}), ""),
    (_http("/api/credentials", {"config": {"NAME": _DEEP}}), "config"),
    (_http("/api/credentials", {"config": {"NAME": {"\ud800": 1}}}), "config"),
]


@pytest.mark.parametrize(("probe", "parent"), PLACES)
@pytest.mark.parametrize("name", [LONG, CONTROL, SURROGATE])
def test_every_place_names_the_parent_of_a_field_it_may_not_show(
    probe: Callable[[str], tuple[list[str], str]], parent: str, name: str
) -> None:
    paths, text = probe(name)
    # The parent itself, or (nested too deeply) a path that goes on from it.
    assert any(path == parent or path.startswith(f"{parent}.d.") for path in paths), paths
    for shown in (*paths, text):
        assert "k" * 65 not in shown
        assert "\x00" not in shown and "\x1b" not in shown and "\ud800" not in shown
        assert "\\u0000" not in shown and "\\u001b" not in shown and "\\ud800" not in shown


@pytest.mark.parametrize(("probe", "parent"), PLACES[:7])
@pytest.mark.parametrize("name", ["colour", "café"])
def test_every_place_names_a_short_printable_field(
    probe: Callable[[str], tuple[list[str], str]], parent: str, name: str
) -> None:
    paths, _text = probe(name)
    expected = name if parent == "(query)" else errors.child_path(parent, name)
    assert expected in paths


# --- one rule for "a JSON object with only these fields" -------------------------------


def test_object_errors_names_every_unknown_field_once() -> None:
    allowed = {"a"}
    assert errors.object_errors({"a": 1}, allowed, "x") == []
    assert errors.object_errors([1], allowed, "x") == [
        errors.ErrorDetail("x", "must be a JSON object")
    ]
    found = errors.object_errors({"z": 1, "a": 1, "b": 1, LONG: 1, CONTROL: 1}, allowed, "x")
    assert [d.path for d in found] == ["x.b", "x", "x.z"]  # by name; hidden ones once
    assert {d.message for d in found} == {"is not a known field"}
    assert errors.require_object({"a": 1}, allowed) == {"a": 1}
    with pytest.raises(errors.InvalidRequest) as raised:
        errors.require_object({"b": 1}, allowed, summary="The thing is invalid.")
    assert raised.value.message == "The thing is invalid."
    assert [d.path for d in raised.value.details] == ["b"]


def _paths_of(path: str, body: object) -> list[str]:
    response = make_app().test_client().post(path, json=body)
    assert response.status_code == 400, response.json
    return [d["path"] for d in response.json["error"]["details"]]


def test_every_place_lists_every_unknown_field() -> None:
    extra = {"colour": 1, "aroma": 2}
    assert _paths_of("/_mock/reset", extra) == ["aroma", "colour"]
    assert _paths_of("/_mock/clock", extra) == ["aroma", "colour"]
    rule = {"path": "/api/x", "status": 500} | extra
    assert _paths_of("/_mock/faults", rule) == ["aroma", "colour"]
    assert _store_update("colour")[0] == ["config.colour", "config.othercolour"]
