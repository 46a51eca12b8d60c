"""The documented view (contracts.views): what the kit judges deployments by.

It must keep every rule the docs state (names, types, secrets absent, the
envelopes, RFC 3339 UTC timestamps, `cred_` ids) and none of the fake's own
(lengths, ranges, patterns, enums other than type and status, required config
fields, either/or rules, unknown fields). And it is derived from the schema
files, never kept as a second copy.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contracts
from contracts.registry import schema_documents
from contracts.strategies import create_bodies
from contracts.views import documented_documents

TS = "2025-03-27T10:00:00Z"


def item(type_: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "cred_0000000000000001", "name": "n", "type": type_, "status": "active",
            "created_at": TS, "updated_at": TS, "deleted_at": None, "config": config,
            **extra}  # fmt: skip


def documented(kind: str, body: Any) -> list[str]:
    return [e.path for e in contracts.validate_response(kind, body, documented=True)]


def fake_rules(kind: str, body: Any) -> list[str]:
    return [e.path for e in contracts.validate_response(kind, body)]


# What the reference implementation of issue 10 was accused of, and more of the same:
# each is outside the fake's own limits, and nothing the docs state.
LOOSE = [
    ("database", {"ssl_mode": ""}, "config.ssl_mode"),
    ("database", {"port": 70000, "engine": "db2"}, "config.port"),
    ("api_key", {"header_name": "X" * 1025}, "config.header_name"),
    ("oauth", {"scopes": ["s" * 257]}, "config.scopes[0]"),
    ("oauth", {"expires_at": "2025-03-27T10:00:00+01:00"}, "config.expires_at"),
    ("oauth", {"expires_at": "in an hour"}, "config.expires_at"),
    ("aws", {"role_arn": "not-an-arn", "external_id": ""}, "config.role_arn"),
    ("azure", {"client_id": "", "use_managed_identity": False}, "config.client_id"),
]


@pytest.mark.parametrize(("type_", "config", "path"), LOOSE, ids=lambda v: str(v)[:30])
def test_the_fakes_own_limits_are_no_rule_for_a_deployment(
    type_: str, config: dict[str, Any], path: str
) -> None:
    body = item(type_, config)
    assert path in fake_rules("credential", body), "the fake's own view holds the limit"
    assert documented("credential", body) == []
    assert documented("credential_envelope", {"data": body}) == []


def test_names_and_pages_are_judged_by_type_only() -> None:
    assert documented("credential", item("password", {}, name="")) == []
    page = {"data": [], "meta": {"page": {"limit": 0, "cursor": ""}}}
    assert documented("credential_list", page) == []
    assert "meta.page.limit" in fake_rules("credential_list", page)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "key_1"}, "id"),
        ({"id": 7}, "id"),
        ({"status": "archived"}, "status"),
        ({"type": "vault"}, "type"),
        ({"created_at": "2025-03-27 10:00:00"}, "created_at"),
        ({"updated_at": "2025-03-27T10:00:00+01:00"}, "updated_at"),
        ({"config": "none"}, "config"),
        ({"deleted_at": TS}, "deleted_at"),
        ({"name": 5}, "name"),
        ({"config": {"password": "x"}}, "config.password"),
    ],
)
def test_what_the_docs_state_is_still_judged(change: dict[str, Any], path: str) -> None:
    assert path in documented("credential", item("password", {}) | change)


@pytest.mark.parametrize(
    ("type_", "path"),
    [(t, p) for t in contracts.CREDENTIAL_TYPES for p in contracts.secret_paths(t)],
    ids=str,
)
def test_every_secret_field_stays_forbidden(type_: str, path: tuple[str, ...]) -> None:
    config: dict[str, Any] = {}
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = "leaked"
    assert "config." + ".".join(path) in documented("credential", item(type_, config))


def test_required_metadata_and_envelopes_are_documented() -> None:
    for field in ("id", "name", "type", "status", "created_at", "updated_at", "config"):
        body = item("password", {})
        del body[field]
        assert documented("credential", body) == [field]
    assert "meta" in documented("credential_list", {"data": []})
    assert documented("purge_result", {"data": {"id": "cred_1", "purged": False}})
    assert documented("delete_result", {"data": {"id": "cred_1", "status": "active"}})
    assert documented("error", {"message": "no code"})
    assert documented("error", {"code": "c", "message": "m"}) == []


def test_the_view_is_derived_not_copied() -> None:
    """The files on disk stay the fake's stricter contract; the view is computed."""
    files = schema_documents()
    before = json.dumps(files, sort_keys=True)
    views = documented_documents(files)
    assert json.dumps(files, sort_keys=True) == before, "deriving must not change the files"
    assert set(views) == set(files)
    port = files["config-database.json"]["properties"]["port"]
    assert port["maximum"] == 65535
    # The page gives config fields no types either: only the name is left.
    assert views["config-database.json"]["properties"]["port"] == {
        k: v for k, v in port.items() if k not in ("minimum", "maximum", "type")
    }
    assert "pattern" in views["common.json"]["$defs"]["timestamp"]
    assert views["common.json"]["$defs"]["credential_id"]["pattern"] == "^cred_"


@given(body=create_bodies())
def test_whatever_the_fake_accepts_the_documented_view_accepts(body: dict[str, Any]) -> None:
    """The documented view is looser, never stricter: a body the fake takes, and the
    response it makes of it, pass it."""
    assert contracts.validate_create(body) == []
    response = item(body["type"], contracts.redact(body["type"], copy.deepcopy(body["config"])))
    assert fake_rules("credential", response) == []
    assert documented("credential", response) == []


@given(
    config=st.dictionaries(
        st.sampled_from(["host", "port", "username", "engine", "ssl_mode", "ssh_tunnel"]),
        st.one_of(st.text(max_size=3000), st.integers(), st.booleans(), st.none()),
    )
)
def test_a_documented_config_is_not_judged_by_types(config: dict[str, Any]) -> None:
    """The page gives no config types: a deployment may echo "5432" for 5432."""
    assert documented("credential", item("database", config)) == []
    leaked = {**config, "password": "x"}
    assert documented("credential", item("database", leaked)) == ["config.password"]


def test_a_restore_answer_may_leave_the_null_deleted_at_out() -> None:
    """The page shows `"deleted_at": null`; a deployment that drops nulls says the same.
    A set deleted_at there, or none on a delete answer, is still wrong."""
    assert documented("restore_result", {"data": {"id": "cred_1", "status": "active"}}) == []
    restored = {"id": "cred_1", "status": "active", "deleted_at": "2025-01-01T00:00:00Z"}
    assert documented("restore_result", {"data": restored}) == ["data.deleted_at"]
    assert documented("delete_result", {"data": {"id": "cred_1", "status": "deleted"}}) == [
        "data.deleted_at"
    ]
