"""The HTTP layer through Flask's test client: endpoints, codes, headers, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_support import KEY_A, KEY_B, KEY_RO, assert_valid, bearer, sample_config
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import contracts
from mockserver import CredentialStore, ManualClock, create_app

PREFIXES = ["/api", "/v1/api"]


def check(response: TestResponse, status: int, kind: str | None = None) -> dict[str, Any]:
    """Status, X-Request-Id, JSON body; error bodies carry the same request id."""
    assert response.status_code == status, response.get_data(as_text=True)
    request_id = response.headers.get("X-Request-Id", "")
    assert request_id.startswith("req_")
    body = response.get_json()
    assert isinstance(body, dict)
    if status >= 400:
        assert_valid("error", body)
        assert body["error"]["request_id"] == request_id
    elif kind:
        assert_valid(kind, body)
    return body


def create(client: FlaskClient, prefix: str = "/api", key: str = KEY_A, **fields: Any) -> dict:
    body = {"name": "c", "type": "password", "config": sample_config("password")} | fields
    response = client.post(f"{prefix}/credentials", json=body, headers=bearer(key))
    return check(response, 201, "credential_envelope")["data"]


# --- every endpoint under both prefixes -----------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
def test_full_lifecycle(client: FlaskClient, prefix: str, clock: ManualClock) -> None:
    response = client.post(
        f"{prefix}/credentials",
        json={"name": "db", "type": "database", "config": sample_config("database")},
        headers=bearer(),
    )
    created = check(response, 201, "credential_envelope")["data"]
    assert response.headers["Location"] == f"{prefix}/credentials/{created['id']}"
    assert created["created_by"] == "usr_a"
    assert created["deleted_at"] is None
    url = f"{prefix}/credentials/{created['id']}"

    assert check(client.get(url, headers=bearer()), 200, "credential_envelope")["data"] == created
    listed = check(client.get(f"{prefix}/credentials", headers=bearer()), 200, "credential_list")
    assert listed["data"] == [created]
    assert listed["meta"] == {"page": {"limit": 50, "cursor": None}}

    clock.advance(5)
    updated = check(
        client.put(url, json={"name": "db2", "config": {"port": 6543}}, headers=bearer()),
        200,
        "credential_envelope",
    )["data"]
    assert updated["name"] == "db2"
    assert updated["config"]["port"] == 6543
    assert updated["config"]["host"] == created["config"]["host"]
    assert updated["updated_at"] > created["updated_at"]

    deleted = check(client.delete(url, headers=bearer()), 200, "delete_result")["data"]
    assert set(deleted) == {"id", "status", "deleted_at"}
    assert deleted["status"] == "deleted"
    again = check(client.delete(url, headers=bearer()), 200, "delete_result")["data"]
    assert again == deleted
    shown = check(client.get(url, headers=bearer()), 200, "credential_envelope")["data"]
    assert shown["status"] == "deleted"
    assert shown["deleted_at"] == deleted["deleted_at"]
    check(client.put(url, json={"name": "x"}, headers=bearer()), 409)

    restored = check(client.post(f"{url}/restore", headers=bearer()), 200, "restore_result")
    assert restored["data"] == {"id": created["id"], "status": "active", "deleted_at": None}
    assert check(client.post(f"{url}/restore", headers=bearer()), 200)["data"] == restored["data"]

    purged = check(client.delete(f"{url}/permanent", headers=bearer()), 200, "purge_result")
    assert purged["data"] == {"id": created["id"], "purged": True}
    for method, path in [
        ("GET", url),
        ("PUT", url),
        ("DELETE", url),
        ("POST", f"{url}/restore"),
        ("DELETE", f"{url}/permanent"),
    ]:
        kwargs: dict[str, Any] = {"json": {"name": "n"}} if method == "PUT" else {}
        check(client.open(path, method=method, headers=bearer(), **kwargs), 404)


def test_list_filters_and_pages(client: FlaskClient, clock: ManualClock) -> None:
    made = []
    for i in range(7):
        type_ = "aws" if i % 2 else "password"
        made.append(create(client, name=f"n{i}", type=type_, config=sample_config(type_)))
        clock.advance(1)
    client.delete(f"/api/credentials/{made[0]['id']}", headers=bearer())
    ids: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", "status": "all"} | ({"cursor": cursor} if cursor else {})
        page = check(
            client.get("/api/credentials", query_string=query, headers=bearer()),
            200,
            "credential_list",
        )
        assert page["meta"]["page"]["limit"] == 2
        ids += [item["id"] for item in page["data"]]
        cursor = page["meta"]["page"]["cursor"]
        if cursor is None:
            break
    assert ids == [c["id"] for c in reversed(made)]
    aws = check(
        client.get("/v1/api/credentials?type=aws", headers=bearer()), 200, "credential_list"
    )
    assert {c["type"] for c in aws["data"]} == {"aws"}
    deleted = check(client.get("/api/credentials?status=deleted", headers=bearer()), 200)
    assert [c["id"] for c in deleted["data"]] == [made[0]["id"]]


# --- cursors -----------------------------------------------------------------------------------


def _first_cursor(client: FlaskClient, query: str = "limit=1", key: str = KEY_A) -> str:
    page = client.get(f"/api/credentials?{query}", headers=bearer(key)).get_json()
    cursor = page["meta"]["page"]["cursor"]
    assert isinstance(cursor, str)
    return cursor


def test_cursor_is_bound_to_query_and_workspace(client: FlaskClient) -> None:
    for i in range(3):
        create(client, name=f"a{i}")
        create(client, key=KEY_B, name=f"b{i}")
    cursor = _first_cursor(client)
    check(client.get(f"/api/credentials?limit=1&cursor={cursor}", headers=bearer()), 200)
    check(client.get(f"/api/credentials?cursor={cursor}&status=all", headers=bearer()), 400)
    check(client.get(f"/api/credentials?cursor={cursor}&type=password", headers=bearer()), 400)
    body = check(client.get(f"/api/credentials?cursor={cursor}", headers=bearer(KEY_B)), 400)
    assert body["error"]["details"][0]["path"] == "cursor"
    payload, _, mac = cursor.partition(".")
    for bad in [
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        "x" + cursor,
        payload,
        "garbage",
        "a.b.c",
        "%00",
        "é" * 10,
        "A" * 600,
        f"{payload}.{mac}=",
    ]:
        check(client.get("/api/credentials", query_string={"cursor": bad}, headers=bearer()), 400)


# --- auth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Token {KEY_A}"},
        {"Authorization": "Bearer plnx_live_unknown"},
        {"Authorization": f"Bearer {KEY_A} extra"},
        {"X-Planasonix-Api-Key": ""},
        {"X-Planasonix-Api-Key": "plnx_live_unknown"},
    ],
)
def test_missing_malformed_or_unknown_key_is_401(client: FlaskClient, headers: dict) -> None:
    for method, path in [("GET", "/api/credentials"), ("POST", "/v1/api/credentials")]:
        response = client.open(path, method=method, headers=headers, json={})
        check(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_legacy_header_and_bearer_case(client: FlaskClient) -> None:
    check(client.get("/api/credentials", headers={"X-Planasonix-Api-Key": KEY_A}), 200)
    check(client.get("/api/credentials", headers={"Authorization": f"bearer {KEY_A}"}), 200)


def test_two_different_keys_in_one_request_are_401(client: FlaskClient) -> None:
    # The Bearer header used to win silently: a read-only key plus a writer's, or
    # workspace a's key plus b's, was answered as whichever came in Authorization.
    for first, second in [(KEY_RO, KEY_A), (KEY_A, KEY_B), (KEY_A, "plnx_live_unknown")]:
        headers = {"Authorization": f"Bearer {first}", "X-Planasonix-Api-Key": second}
        response = client.get("/api/credentials", headers=headers)
        body = check(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert first not in response.get_data(as_text=True)
        assert second not in response.get_data(as_text=True)
        check(client.post("/api/credentials", json={}, headers=headers), 401)
        assert body["error"]["code"] == "unauthorized"
    same = {"Authorization": f"Bearer {KEY_A}", "X-Planasonix-Api-Key": KEY_A}
    check(client.get("/api/credentials", headers=same), 200)


def test_read_only_key_is_403_on_writes(client: FlaskClient) -> None:
    created = create(client)
    url = f"/api/credentials/{created['id']}"
    check(client.get(url, headers=bearer(KEY_RO)), 200, "credential_envelope")
    check(client.get("/api/credentials", headers=bearer(KEY_RO)), 200, "credential_list")
    for method, path in [
        ("POST", "/api/credentials"),
        ("PUT", url),
        ("DELETE", url),
        ("POST", f"{url}/restore"),
        ("DELETE", f"{url}/permanent"),
    ]:
        body = check(client.open(path, method=method, json={}, headers=bearer(KEY_RO)), 403)
        assert body["error"]["code"] == "forbidden"


def test_other_workspace_sees_404(client: FlaskClient) -> None:
    created = create(client)
    url = f"/api/credentials/{created['id']}"
    for method, path in [
        ("GET", url),
        ("PUT", url),
        ("DELETE", url),
        ("POST", f"{url}/restore"),
        ("DELETE", f"{url}/permanent"),
    ]:
        body = check(
            client.open(path, method=method, json={"name": "x"}, headers=bearer(KEY_B)), 404
        )
        assert body["error"]["code"] == "not_found"
    assert check(client.get("/api/credentials", headers=bearer(KEY_B)), 200)["data"] == []
    check(client.get(url, headers=bearer()), 200)


def test_default_dev_key() -> None:
    client = create_app().test_client()
    check(client.get("/api/credentials", headers=bearer("plnx_test_dev_key")), 200)


# --- routing errors ------------------------------------------------------------------------


def test_unknown_route_and_method(client: FlaskClient) -> None:
    assert check(client.get("/api/nothing", headers=bearer()), 404)["error"]["code"] == "not_found"
    check(client.get("/", headers=bearer()), 404)
    response = client.patch("/api/credentials", headers=bearer())
    body = check(response, 405)
    assert body["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    response = client.post("/v1/api/credentials/cred_x/permanent", headers=bearer())
    check(response, 405)
    assert "DELETE" in response.headers["Allow"]


@pytest.mark.parametrize(
    "path", ["/api//credentials", "/v1/api//credentials", "/api/credentials//cred_x"]
)
def test_doubled_slashes_are_a_json_404_not_a_redirect(client: FlaskClient, path: str) -> None:
    # Werkzeug merged the slashes with a 308 to an absolute URL and an HTML body.
    assert check(client.get(path, headers=bearer()), 404)["error"]["code"] == "not_found"
    check(client.post(path, json={}, headers=bearer()), 404)


def test_openapi_documents_are_served(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    served = response.get_json()
    assert served["servers"][0]["url"] == "http://localhost"  # the fake first (issue 11)
    assert served | {"servers": served["servers"][1:]} == contracts.openapi_document()
    assert response.headers["X-Request-Id"]
    yaml_response = client.get("/openapi.yaml")
    assert yaml_response.status_code == 200
    assert yaml_response.mimetype == "application/yaml"
    assert b"openapi:" in yaml_response.data


# --- bad input: always a 4xx with a code, never a 500 ------------------------------------------


def post_raw(client: FlaskClient, data: bytes | str, content_type: str = "application/json"):
    return client.post(
        "/api/credentials", data=data, headers=bearer() | {"Content-Type": content_type}
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b"[]",
        b'"text"',
        b"null",
        b"42",
        b'{"name": "x", "type": "password", "config": {"password": NaN}}',
        b'{"name": 1e999}',
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"name": "\\ud800", "type": "password", "config": {"password": "p"}}',
        b'{"name": "ok", "type": "password", "config": {"password": "\\udfff"}}',
        b'{"\\ud83d": 1}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 40 + b"1" + b"}" * 40,
        b'{"n": ' + b"9" * 5000 + b"}",
    ],
)
def test_bad_json_is_400(client: FlaskClient, raw: bytes) -> None:
    body = check(post_raw(client, raw), 400)
    assert body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"type": "password", "config": {"password": "p"}}, "name"),
        ({"name": 5, "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "   ", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "a\nb", "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "x" * 256, "type": "password", "config": {"password": "p"}}, "name"),
        ({"name": "x", "type": "ftp", "config": {}}, "type"),
        ({"name": "x", "type": "password", "config": []}, "config"),
        ({"name": "x", "type": "password", "config": {}}, "config.password"),
        ({"name": "x", "type": "password", "config": {"password": 5}}, "config.password"),
        ({"name": "x", "type": "password", "config": {"password": "p", "pw": "q"}}, "config.pw"),
        (
            {"name": "x", "type": "password", "config": {"password": "p", "port": True}},
            "config.port",
        ),
        (
            {"name": "x", "type": "password", "config": {"password": "p", "port": 70000}},
            "config.port",
        ),
        ({"name": "x", "type": "password", "config": {"password": "p"}, "extra": 1}, "extra"),
        ({"name": "x", "type": "aws", "config": {"region": "r"}}, "config"),
    ],
)
def test_invalid_fields_are_named(client: FlaskClient, body: dict, path: str) -> None:
    response = check(client.post("/api/credentials", json=body, headers=bearer()), 400)
    paths = [d["path"] for d in response["error"]["details"]]
    assert path in paths or any(p.startswith(path) for p in paths), paths


def test_error_messages_never_quote_values(client: FlaskClient) -> None:
    marker = "zzmarkerzz"
    body = {
        "name": marker * 30,
        "type": "password",
        "config": {"password": marker, "port": marker, "protocol": marker, "host": 5},
    }
    response = client.post("/api/credentials", json=body, headers=bearer())
    check(response, 400)
    assert marker not in response.get_data(as_text=True)


def test_body_size_and_media_type(client: FlaskClient) -> None:
    huge = json.dumps({"name": "x", "type": "password", "config": {"password": "p" * (64 * 1024)}})
    assert check(post_raw(client, huge), 413)["error"]["code"] == "payload_too_large"
    ok = json.dumps({"name": "x", "type": "password", "config": {"password": "p"}})
    body = check(post_raw(client, ok, "text/plain"), 415)
    assert body["error"]["code"] == "unsupported_media_type"
    check(post_raw(client, ok, "application/x-www-form-urlencoded"), 415)
    check(post_raw(client, ok, "application/json; charset=latin-1"), 415)
    check(post_raw(client, ok, "application/json; charset=utf-8"), 201)
    check(client.post("/api/credentials", headers=bearer()), 400)


def test_query_parameter_errors(client: FlaskClient) -> None:
    for query in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "limit=99999999999999999999",
        "limit=",
        "status=gone",
        "type=ftp",
        "colour=blue",
        "limit=1&limit=2",
        "cursor=",
    ]:
        body = check(client.get(f"/api/credentials?{query}", headers=bearer()), 400)
        assert body["error"]["details"], query
    check(client.get("/api/credentials?limit=200&status=all", headers=bearer()), 200)
    check(client.get("/api/credentials/cred_x?foo=1", headers=bearer()), 400)


@pytest.mark.parametrize("limit", ["%C2%B2", "%E2%91%A0", "%D9%A3", "%F0%9D%9F%93", "%EF%BC%95"])
def test_non_ascii_digits_in_limit_are_400(client: FlaskClient, limit: str) -> None:
    # Superscript two, circled one, Arabic-Indic three, bold and fullwidth five:
    # str.isdigit() accepts them all; int() then raised (a 500) or read them.
    body = check(client.get(f"/api/credentials?limit={limit}", headers=bearer()), 400)
    assert [d["path"] for d in body["error"]["details"]] == ["limit"]


def test_limit_is_plain_decimal_with_optional_leading_zeros(client: FlaskClient) -> None:
    for text, expected in [("7", 7), ("007", 7), ("0000000200", 200)]:
        page = check(client.get(f"/api/credentials?limit={text}", headers=bearer()), 200)
        assert page["meta"]["page"]["limit"] == expected
    for text in ("0000", "00000201", "1_0", "+5", " 5", "5 ", "0x10"):
        check(client.get(f"/api/credentials?limit={text}", headers=bearer()), 400)


def test_odd_ids_are_404(client: FlaskClient) -> None:
    for odd in ["x", "cred_", "cred_%F0%9F%98%80", "%ED%A0%80", "cred_" + "a" * 300, "..%2f"]:
        check(client.get(f"/api/credentials/{odd}", headers=bearer()), 404)


def test_update_errors(client: FlaskClient) -> None:
    created = create(client, name="one")
    create(client, name="two")
    url = f"/api/credentials/{created['id']}"
    assert (
        check(client.put(url, json={"name": "two"}, headers=bearer()), 409)["error"]["code"]
        == "conflict"
    )
    body = check(client.put(url, json={"type": "aws"}, headers=bearer()), 400)
    assert body["error"]["details"][0]["path"] == "type"
    body = check(client.put(url, json={"config": {"password": None}}, headers=bearer()), 400)
    assert body["error"]["details"][0]["path"] == "config.password"
    check(client.put(url, json=[1], headers=bearer()), 400)
    check(client.put(url, data="{}", headers=bearer() | {"Content-Type": "text/plain"}), 415)
    unchanged = check(client.put(url, json={}, headers=bearer()), 200)["data"]
    assert unchanged == created


def test_duplicate_name_is_409(client: FlaskClient) -> None:
    create(client, name="same")
    response = client.post(
        "/api/credentials",
        json={"name": "same", "type": "password", "config": {"password": "p"}},
        headers=bearer(),
    )
    assert check(response, 409)["error"]["code"] == "conflict"


def test_internal_errors_carry_no_detail(store: CredentialStore, keyring: Any) -> None:
    app = create_app(store, keyring=keyring)

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("zzsecretzz")

    # Both reads a GET by id may use (the kept text in the fake's own shape).
    store.get = explode  # type: ignore[method-assign]
    store.get_json = explode  # type: ignore[method-assign]
    response = app.test_client().get("/api/credentials/cred_x", headers=bearer())
    body = check(response, 500)
    assert body["error"]["code"] == "internal_error"
    assert "zzsecretzz" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_every_response_has_a_request_id(client: FlaskClient) -> None:
    ids = set()
    for response in [
        client.get("/api/credentials", headers=bearer()),
        client.get("/api/credentials"),
        client.get("/nope"),
        client.get("/openapi.json"),
        client.options("/api/credentials"),
        client.head("/api/credentials", headers=bearer()),
    ]:
        ids.add(response.headers["X-Request-Id"])
    assert len(ids) == 6


def test_api_paths_are_the_two_prefixes_and_what_lies_under_them() -> None:
    from mockserver.httpio import API_PREFIXES, is_api_path, unversioned

    assert tuple(PREFIXES) == API_PREFIXES
    for path in ("/api", "/api/credentials", "/v1/api", "/v1/api/credentials/x"):
        assert is_api_path(path)
    for path in ("/apix", "/api-old/credentials", "/v1/apix", "/v1", "/_mock/reset", "/"):
        assert not is_api_path(path)
    assert unversioned("/v1/api/credentials") == "/api/credentials"
    assert unversioned("/v1/api") == "/api"
    assert unversioned("/v1/apix") == "/v1/apix"
    assert unversioned("/api/credentials") == "/api/credentials"


def test_one_definition_of_the_api_paths_and_the_safe_methods() -> None:
    from mockserver import httpio
    from mockserver.standalone import control, faults, persistence, ratelimit

    assert faults.is_api_path is ratelimit.is_api_path is persistence.is_api_path
    assert persistence.is_api_path is httpio.is_api_path
    assert control.SAFE_METHODS is persistence.SAFE_METHODS is httpio.SAFE_METHODS
    assert not hasattr(faults, "API_PREFIXES")


def test_an_integer_sent_as_5432_0_is_echoed_as_5432(client: FlaskClient) -> None:
    config = sample_config("database") | {"port": 5432.0}
    body = {"name": "db", "type": "database", "config": config}
    response = client.post("/api/credentials", json=body, headers=bearer())
    assert response.status_code == 201, response.json
    assert b'"port":5432,' in response.data or b'"port":5432}' in response.data
    assert b"5432.0" not in response.data
    cred_id = response.json["data"]["id"]
    listed = client.get(f"/api/credentials/{cred_id}", headers=bearer())
    assert b"5432.0" not in listed.data and listed.json["data"]["config"]["port"] == 5432
