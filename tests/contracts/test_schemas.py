"""Positive and negative cases for every schema file."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import contracts

TS = "2025-03-27T10:00:00Z"

VALID_CONFIGS: dict[str, dict[str, Any]] = {
    "database": {"engine": "postgresql", "host": "db", "port": 5432, "username": "u",
                 "password": "p", "ssh_tunnel": {"host": "b", "username": "t",
                 "private_key": "k", "passphrase": "pp"}},
    "aws": {"region": "us-east-1", "access_key_id": "AKIA", "secret_access_key": "s"},
    "azure": {"tenant_id": "t", "client_id": "c", "client_secret": "s"},
    "gcp": {"project_id": "p", "service_account_json": {"type": "service_account"}},
    "api_key": {"key": "k", "header_name": "X-Api-Key", "headers": {"X-Team": "data"}},
    "oauth": {"client_id": "c", "client_secret": "s", "scopes": ["read"], "expires_at": TS},
    "password": {"password": "p", "protocol": "sftp", "port": 22},
}  # fmt: skip


def body(type_: str, **config: Any) -> dict[str, Any]:
    return {"name": f"my-{type_}", "type": type_, "config": config}


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
def test_valid_create_body_per_type(type_: str) -> None:
    assert contracts.validate_create(body(type_, **VALID_CONFIGS[type_])) == []


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
def test_every_required_config_field_is_enforced(type_: str) -> None:
    for field in contracts.required_fields(type_):
        config = {k: v for k, v in VALID_CONFIGS[type_].items() if k != field}
        paths = [e.path for e in contracts.validate_create(body(type_, **config))]
        assert f"config.{field}" in paths, (field, paths)


@pytest.mark.parametrize(
    ("type_", "config", "path"),
    [
        ("aws", {"region": "r"}, "config"),
        ("aws", {"region": "r", "secret_access_key": "s"}, "config.access_key_id"),
        ("aws", {"region": "r", "role_arn": "not-an-arn"}, "config.role_arn"),
        ("azure", {"tenant_id": "t"}, "config"),
        ("azure", {"tenant_id": "t", "client_secret": "s", "certificate": "c"}, "config"),
        ("azure", {"tenant_id": "t", "use_managed_identity": False}, "config"),
        ("azure", {"tenant_id": "t", "client_secret": "s", "certificate_password": "x"},
         "config.certificate"),
        ("gcp", {"project_id": "p"}, "config"),
        ("database", {"host": "h", "username": "u", "port": 0}, "config.port"),
        ("database", {"host": "h", "username": "u", "port": 70000}, "config.port"),
        ("database", {"host": "h", "username": "u", "engine": "sqlite"}, "config.engine"),
        ("database", {"host": "h", "username": "u", "ssh_tunnel": {"host": "b"}},
         "config.ssh_tunnel.username"),
        ("database", {"host": "h", "username": "u", "ssh_tunnel": {"host": "b", "username": "x",
         "extra": 1}}, "config.ssh_tunnel.extra"),
        ("api_key", {"key": "k", "headers": {"X-A": 1}}, "config.headers.X-A"),
        ("oauth", {"client_id": "c", "client_secret": "s", "scopes": "read"}, "config.scopes"),
        ("oauth", {"client_id": "c", "client_secret": "s", "expires_at": "tomorrow"},
         "config.expires_at"),
        ("password", {"password": ""}, "config.password"),
        ("password", {"password": "p", "protocol": "telnet"}, "config.protocol"),
        ("password", {"password": "p", "colour": "red"}, "config.colour"),
    ],
)  # fmt: skip
def test_invalid_configs_are_rejected_at_the_right_path(
    type_: str, config: dict[str, Any], path: str
) -> None:
    paths = [e.path for e in contracts.validate_create(body(type_, **config))]
    assert path in paths


def test_alternatives_that_the_rules_allow() -> None:
    assert (
        contracts.validate_create(body("aws", region="r", role_arn="arn:aws:iam::1:role/x")) == []
    )
    assert contracts.validate_create(body("azure", tenant_id="t", use_managed_identity=True)) == []
    assert contracts.validate_create(body("azure", tenant_id="t", certificate="c",
                                          certificate_password="p")) == []  # fmt: skip
    assert contracts.validate_create(body("gcp", project_id="p", service_account_json="{}")) == []
    assert contracts.validate_create(body("gcp", project_id="p",
                                          workload_identity_provider="w")) == []  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ([], ""),
        ("text", ""),
        ({"name": "n", "type": "database"}, "config"),
        ({"name": "n", "type": "vault", "config": {}}, "type"),
        ({"name": "", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "   ", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "a\nb", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "a\x85b", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "\u2003\t", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "x" * 256, "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": 5, "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "n", "type": "password", "config": [], "id": "cred_x"}, "id"),
    ],
)
def test_invalid_create_bodies(payload: Any, path: str) -> None:
    assert path in [e.path for e in contracts.validate_create(payload)]


def test_names_are_stored_as_sent_so_odd_but_printable_unicode_is_valid() -> None:
    for name in ["  padded  ", "Ünïcode ✓", "名前", "a" * 255]:
        assert contracts.validate_create(body("password", password="p") | {"name": name}) == []


@pytest.mark.parametrize("payload", [[], "text", None, 3])
def test_a_body_that_is_not_an_object_is_reported_as_such(payload: Any) -> None:
    errors = contracts.validate_create(payload)
    assert [(e.path, e.message) for e in errors] == [("", "must be of type object")]


def test_update_request_shape() -> None:
    assert contracts.validate_update({}) == []
    assert contracts.validate_update({"name": "n2", "config": {"role": None}}) == []
    assert [e.path for e in contracts.validate_update({"colour": "red"})] == ["colour"]
    assert [e.path for e in contracts.validate_update({"config": "x"})] == ["config"]
    assert [e.path for e in contracts.validate_update({"name": ""})] == ["name"]


def metadata(type_: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "cred_0000000000000001", "name": "n", "type": type_, "status": "active",
            "created_at": TS, "updated_at": TS, "created_by": "usr_1", "deleted_at": None,
            "config": config, **extra}  # fmt: skip


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
def test_redacted_metadata_is_a_valid_response(type_: str) -> None:
    item = metadata(type_, contracts.redact(type_, VALID_CONFIGS[type_]))
    for strict in (False, True):
        assert contracts.validate_response("credential", item, strict=strict) == []
        assert contracts.validate_response("credential_envelope", {"data": item}, strict) == []


LEAK_CASES = [
    (type_, path) for type_ in contracts.CREDENTIAL_TYPES for path in contracts.secret_paths(type_)
]


@pytest.mark.parametrize(("type_", "path"), LEAK_CASES, ids=lambda v: str(v))
def test_a_response_that_carries_any_secret_fails(type_: str, path: tuple[str, ...]) -> None:
    config = contracts.redact(type_, VALID_CONFIGS[type_])
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {"host": "b", "username": "t"})
    node[path[-1]] = "leaked"
    item = metadata(type_, config)
    page = {"data": [item], "meta": {"page": {"limit": 50, "cursor": None}}}
    expected = "data.config." + ".".join(path)
    for strict in (False, True):
        errors = contracts.validate_response("credential_envelope", {"data": item}, strict=strict)
        assert expected in [e.path for e in errors]
        assert "data[0].config." + ".".join(path) in [
            e.path for e in contracts.validate_response("credential_list", page, strict=strict)
        ]
        full = {"data": {**item, "status": "deleted", "deleted_at": TS}}
        assert expected in [e.path for e in contracts.validate_response("delete_result", full)]


def test_lenient_accepts_extra_fields_and_strict_rejects_them() -> None:
    item = metadata("password", {"username": "u", "rotation_days": 30}, labels=["x"])
    assert contracts.validate_response("credential", item) == []
    paths = {e.path for e in contracts.validate_response("credential", item, strict=True)}
    assert paths == {"labels", "config.rotation_days"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"id": "key_1"}, "id"),
        ({"status": "archived"}, "status"),
        ({"created_at": "2025-03-27 10:00:00"}, "created_at"),
        ({"updated_at": "2025-03-27T10:00:00+01:00"}, "updated_at"),
        ({"type": "vault"}, "type"),
        ({"config": "none"}, "config"),
        ({"deleted_at": TS}, "deleted_at"),
        ({"status": "deleted", "deleted_at": None}, "deleted_at"),
        ({"config": {"port": "22", "password": "x"}}, "config.port"),
    ],
)
def test_broken_metadata_fails(change: dict[str, Any], path: str) -> None:
    item = metadata("password", {"username": "u"}) | change
    assert path in [e.path for e in contracts.validate_response("credential", item)]


def test_missing_metadata_fields_fail() -> None:
    for field in ["id", "name", "type", "status", "created_at", "updated_at", "config"]:
        item = metadata("password", {})
        del item[field]
        assert [e.path for e in contracts.validate_response("credential", item)] == [field]


def test_optional_metadata_fields_may_be_absent() -> None:
    item = metadata("password", {})
    del item["created_by"], item["deleted_at"]
    assert contracts.validate_response("credential", item, strict=True) == []


def test_list_envelope() -> None:
    item = metadata("password", {})
    good = {"data": [item], "meta": {"page": {"limit": 50, "cursor": "abc"}}}
    assert contracts.validate_response("credential_list", good, strict=True) == []
    for broken, path in [
        ({"data": [item]}, "meta"),
        ({"data": item, "meta": good["meta"]}, "data"),
        ({"data": [], "meta": {"page": {"limit": 0, "cursor": None}}}, "meta.page.limit"),
        ({"data": [], "meta": {"page": {"limit": 5}}}, "meta.page.cursor"),
        ({"data": [], "meta": {"page": {"limit": 5, "cursor": 7}}}, "meta.page.cursor"),
    ]:
        assert path in [e.path for e in contracts.validate_response("credential_list", broken)]


def test_lifecycle_results() -> None:
    deleted = {"data": {"id": "cred_1", "status": "deleted", "deleted_at": TS}}
    restored = {"data": {"id": "cred_1", "status": "active", "deleted_at": None}}
    purged = {"data": {"id": "cred_1", "purged": True}}
    for kind, good in [("delete_result", deleted), ("restore_result", restored),
                       ("purge_result", purged)]:  # fmt: skip
        assert contracts.validate_response(kind, good, strict=True) == []
    bad_delete = copy.deepcopy(deleted)
    bad_delete["data"]["status"] = "active"
    assert contracts.validate_response("delete_result", bad_delete)
    bad_restore = copy.deepcopy(restored)
    bad_restore["data"]["deleted_at"] = TS
    assert contracts.validate_response("restore_result", bad_restore)
    assert contracts.validate_response("purge_result", {"data": {"id": "cred_1", "purged": False}})
    assert contracts.validate_response("delete_result", {"data": {"id": "cred_1"}})
    # The full-metadata alternative of SPEC §4 is valid too.
    full = {"data": metadata("password", {"username": "u"}, status="deleted", deleted_at=TS)}
    assert contracts.validate_response("delete_result", full, strict=True) == []


@pytest.mark.parametrize(
    "error",
    [
        {"error": {"code": "not_found", "message": "m", "request_id": "r"}},
        {"error": {"code": "conflict", "message": "m"}},
        {"code": "NOT_FOUND", "message": "m"},
        {"error": "not_found", "message": "m"},
        {"errors": [{"code": 404, "message": "m"}]},
    ],
)
def test_error_shapes_any_deployment_may_use(error: dict[str, Any]) -> None:
    assert contracts.validate_response("error", error) == []


@pytest.mark.parametrize("error", [{}, {"message": "m"}, {"error": {"code": "x"}}, [], "boom"])
def test_error_without_code_and_message_fails(error: Any) -> None:
    assert contracts.validate_response("error", error)


def test_strict_error_is_the_documented_envelope() -> None:
    good = {
        "error": {
            "code": "invalid_request",
            "message": "m",
            "request_id": "r",
            "details": [{"path": "config.port", "message": "must be an integer"}],
        }
    }
    assert contracts.validate_response("error", good, strict=True) == []
    assert contracts.validate_response("error", {"code": "x", "message": "m"}, strict=True)
    assert contracts.validate_response(
        "error", {"error": {"code": "x", "message": "m", "request_id": "r", "trace": "t"}}, True
    )
