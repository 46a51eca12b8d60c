"""Fault injection: matching, counting, delays, 429 headers, validation."""

from __future__ import annotations

from typing import Any

import pytest
from fake_support import canary
from standalone_support import DEV, make_app, password_body

from mockserver.standalone import StandaloneOptions, get_standalone
from mockserver.standalone.faults import FaultBook, compile_path, parse_rule
from mockserver.standalone.ratelimit import RateLimit

CREATE_503 = {
    "method": "POST",
    "path": "/api/credentials",
    "status": 503,
    "times": 1,
    "delay_ms": 0,
}


def create(client: Any, name: str, prefix: str = "/api") -> Any:
    return client.post(f"{prefix}/credentials", json=password_body(name, canary()), headers=DEV)


def test_one_fault_then_success_and_nothing_stored() -> None:
    client = make_app().test_client()
    added = client.post("/_mock/faults", json=CREATE_503)
    assert added.status_code == 201
    rule = added.json["data"]
    assert rule["id"].startswith("flt_") and rule["remaining"] == 1
    failed = create(client, "a")
    assert failed.status_code == 503
    error = failed.json["error"]
    assert error["code"] == "service_unavailable" and error["message"]
    assert failed.headers["X-Request-Id"] == error["request_id"]
    assert failed.headers["X-Mock-Fault"] == rule["id"]
    assert create(client, "a").status_code == 201  # same name: the faulted one stored nothing
    assert client.get("/_mock/faults").json["data"] == []


def test_until_cleared_and_removal_by_id() -> None:
    client = make_app().test_client()
    first = client.post(
        "/_mock/faults", json={"method": "GET", "path": "/api/credentials", "status": 500}
    )
    for _ in range(3):
        response = client.get("/api/credentials", headers=DEV)
        assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
    listed = client.get("/_mock/faults").json["data"]
    assert listed[0]["hits"] == 3 and listed[0]["remaining"] is None and listed[0]["times"] is None
    assert client.delete(f"/_mock/faults/{first.json['data']['id']}").status_code == 200
    assert client.get("/api/credentials", headers=DEV).status_code == 200
    client.post("/_mock/faults", json={"path": "/api/**", "status": 502})
    client.post("/_mock/faults", json={"path": "/api/**", "status": 504})
    assert client.get("/api/credentials", headers=DEV).json["error"]["code"] == "bad_gateway"
    assert client.delete("/_mock/faults").json["data"] == {"cleared": 2}
    assert client.get("/api/credentials", headers=DEV).status_code == 200


@pytest.mark.parametrize(
    ("rule", "request_method", "request_path", "hit"),
    [
        ("POST /api/credentials", "POST", "/api/credentials", True),
        ("post /api/credentials", "POST", "/v1/api/credentials", True),
        ("POST /v1/api/credentials", "POST", "/api/credentials", False),
        ("POST /v1/api/credentials", "POST", "/v1/api/credentials", True),
        ("POST /api/credentials", "GET", "/api/credentials", False),
        ("POST /api/credentials", "POST", "/api/credentials/cred_1", False),
        ("GET /api/credentials/*", "GET", "/api/credentials/cred_1", True),
        ("GET /api/credentials/*", "GET", "/api/credentials/cred_1/restore", False),
        ("* /api/credentials/**", "POST", "/api/credentials/cred_1/restore", True),
        ("* /api/**", "DELETE", "/v1/api/credentials/x/permanent", True),
    ],
)
def test_matching(rule: str, request_method: str, request_path: str, hit: bool) -> None:
    book = FaultBook()
    method, path = rule.split(" ")
    book.add({"method": method, "path": path, "status": 500})
    assert (book.take(request_method, request_path) is not None) is hit


def test_any_method_by_default_and_method_is_case_insensitive() -> None:
    book = FaultBook()
    assert book.add({"path": "/api/x", "status": 500}).method == "*"
    assert book.take("PUT", "/api/x") is not None
    assert book.add({"method": "delete", "path": "/api/x", "status": 500}).method == "DELETE"


def test_a_rule_without_a_path_applies_to_every_api_call() -> None:
    # The same default as the fixtures' `fake.faults.add(status=503)`: one rule language.
    client = make_app().test_client()
    created = client.post("/_mock/faults", json={"status": 503, "times": 2})
    assert created.status_code == 201, created.json
    assert created.json["data"]["path"] == "/api/**"
    assert client.get("/api/credentials", headers=DEV).status_code == 503
    assert client.get("/v1/api/credentials", headers=DEV).status_code == 503
    assert client.get("/api/credentials", headers=DEV).status_code == 200


def test_glob_compilation_is_literal_elsewhere() -> None:
    assert compile_path("/api/a.b").match("/api/a.b")
    assert not compile_path("/api/a.b").match("/api/aXb")
    assert compile_path("/api/(x)+").match("/api/(x)+")


def test_faults_under_v1_prefix_and_delay_only_rule() -> None:
    app = make_app()
    client = app.test_client()
    slept: list[float] = []
    get_standalone(app).faults.sleep = slept.append
    client.post("/_mock/faults", json={"path": "/api/credentials", "delay_ms": 250, "times": 1})
    assert create(client, "slow", "/v1/api").status_code == 201
    assert slept == [0.25]
    client.post("/_mock/faults", json={**CREATE_503, "delay_ms": 1500})
    assert create(client, "x").status_code == 503
    assert slept == [0.25, 1.5]


def test_429_fault_carries_retry_after_and_rate_limit_headers() -> None:
    client = make_app().test_client()
    client.post("/_mock/faults", json={"path": "/api/credentials", "status": 429, "retry_after": 7})
    response = client.get("/api/credentials", headers=DEV)
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Limit"] == "60"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0


def test_429_fault_uses_the_configured_limit() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(5, 60))).test_client()
    client.post("/_mock/faults", json={"path": "/api/credentials", "status": 429})
    response = client.get("/api/credentials", headers=DEV)
    assert response.headers["X-RateLimit-Limit"] == "5" and response.headers["Retry-After"] == "5"


def test_code_message_and_401_header() -> None:
    client = make_app().test_client()
    client.post("/_mock/faults", json={"path": "/api/**", "status": 418, "times": 1})
    assert client.get("/api/credentials", headers=DEV).json["error"]["code"] == "http_418"
    client.post("/_mock/faults", json={"path": "/api/**", "status": 401, "times": 1})
    unauthorized = client.get("/api/credentials", headers=DEV)
    assert unauthorized.json["error"]["code"] == "unauthorized"
    assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")
    client.post(
        "/_mock/faults",
        json={"path": "/api/**", "status": 503, "code": "maintenance", "message": "Back soon."},
    )
    custom = client.get("/api/credentials", headers=DEV).json["error"]
    assert custom["code"] == "maintenance" and custom["message"] == "Back soon."


def test_preflights_and_the_control_plane_are_never_faulted() -> None:
    client = make_app().test_client()
    client.post("/_mock/faults", json={"method": "*", "path": "/**", "status": 503})
    preflight = client.options(
        "/api/credentials",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert client.get("/_mock/faults").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/api/credentials", headers=DEV).status_code == 503


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"path": 5, "status": 503}, "path"),
        ({"path": "api/credentials", "status": 503}, "path"),
        ({"path": "/_mock/reset", "status": 503}, "path"),
        ({"path": "/apix/credentials", "status": 503}, "path"),
        ({"path": "/api-old/**", "status": 503}, "path"),
        ({"path": "/v1/apiary", "status": 503}, "path"),
        ({"path": "/v1api/credentials", "status": 503}, "path"),
        ({"path": "/api/x"}, "status"),
        ({"path": "/api/x", "status": 200}, "status"),
        ({"path": "/api/x", "status": "503"}, "status"),
        ({"path": "/api/x", "status": 503, "times": 0}, "times"),
        ({"path": "/api/x", "status": 503, "times": 1.5}, "times"),
        ({"path": "/api/x", "status": 503, "delay_ms": -1}, "delay_ms"),
        ({"path": "/api/x", "status": 503, "delay_ms": 600000}, "delay_ms"),
        ({"path": "/api/x", "status": 503, "method": "FETCH"}, "method"),
        ({"path": "/api/x", "status": 503, "code": "Bad Code"}, "code"),
        ({"path": "/api/x", "status": 503, "message": ""}, "message"),
        ({"path": "/api/x", "status": 429, "retry_after": True}, "retry_after"),
        ({"path": "/api/x", "delay_ms": 5, "code": "x"}, "status"),
        ({"path": "/api/x", "status": 503, "colour": "red"}, "colour"),
        ({"connection": "resett"}, "connection"),
        ({"connection": ["reset"]}, "connection"),
        ({"connection": "reset", "status": 503}, "status"),
        ({"connection": "truncated", "drip_ms": 100}, "drip_ms"),
        ({"connection": "drip", "drip_ms": 0}, "drip_ms"),
        ({"connection": "drip", "drip_chunks": 1001}, "drip_chunks"),
        ([], ""),
    ],
)
def test_bad_rules_are_400_naming_the_field(body: object, field: str) -> None:
    client = make_app().test_client()
    response = client.post("/_mock/faults", json=body)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_request"
    assert [d["path"] for d in error["details"]] == [field]


def test_empty_fault_body_and_rule_limit() -> None:
    client = make_app().test_client()
    assert client.post("/_mock/faults").status_code == 400
    book = FaultBook()
    for _ in range(100):
        book.add({"path": "/api/x", "status": 500})
    with pytest.raises(Exception, match="invalid"):
        book.add({"path": "/api/x", "status": 500})


def test_parse_rule_defaults() -> None:
    rule = parse_rule({"path": "/api/x", "status": 429}, "flt_9")
    assert rule.to_json() == {
        "id": "flt_9",
        "method": "*",
        "path": "/api/x",
        "status": 429,
        "times": None,
        "remaining": None,
        "hits": 0,
        "delay_ms": 0,
        "code": "rate_limited",
        "message": None,
        "retry_after": 5,
        "connection": None,
        "drip_ms": None,
        "drip_chunks": None,
    }


@pytest.mark.parametrize(
    "path", ["/api", "/api/**", "/v1/api/credentials/*", "/*/credentials", "/**"]
)
def test_rules_for_api_paths_or_a_wildcard_first_segment_are_taken(path: str) -> None:
    assert parse_rule({"path": path, "status": 503}, "flt_1").path == path


def test_a_v1_call_is_matched_by_the_unversioned_rule_only_under_v1_api() -> None:
    rule = parse_rule({"path": "/api/credentials", "status": 503}, "flt_1")
    assert rule.matches("GET", "/v1/api/credentials")
    assert not rule.matches("GET", "/v1/apicredentials")
    assert not rule.matches("GET", "/v2/api/credentials")
