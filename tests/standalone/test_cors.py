"""CORS: any origin by default, narrowed by --cors-origin; never on /_mock/."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from standalone_support import DEV, make_app
from werkzeug.test import TestResponse

from mockserver.standalone import StandaloneOptions
from mockserver.standalone.cors import normalize_origin
from mockserver.standalone.ratelimit import RateLimit

PAGE = "http://localhost:5173"


def preflight(
    client: FlaskClient, origin: str = PAGE, path: str = "/api/credentials"
) -> TestResponse:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type, x-planasonix-api-key",
        },
    )


def test_preflight_is_answered_for_any_origin() -> None:
    client = make_app().test_client()
    for path in ("/api/credentials", "/v1/api/credentials/cred_x", "/api/credentials/x/restore"):
        response = preflight(client, path=path)
        assert response.status_code == 200
        headers = response.headers
        assert headers["Access-Control-Allow-Origin"] == "*"
        allowed = headers["Access-Control-Allow-Headers"].lower()
        for name in ("authorization", "content-type", "x-planasonix-api-key"):
            assert name in allowed
        assert "PUT" in headers["Access-Control-Allow-Methods"]
        assert "DELETE" in headers["Access-Control-Allow-Methods"]
        assert int(headers["Access-Control-Max-Age"]) > 0


def test_responses_expose_request_id_and_rate_limit_headers() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(10, 60))).test_client()
    response = client.get("/api/credentials", headers={**DEV, "Origin": PAGE})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {
        h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert exposed >= {
        "x-request-id",
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "location",
    }
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_errors_carry_cors_headers_too() -> None:
    client = make_app().test_client()
    unauthorized = client.get("/api/credentials", headers={"Origin": PAGE})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Access-Control-Allow-Origin"] == "*"
    missing = client.get("/api/credentials/cred_nope", headers={**DEV, "Origin": PAGE})
    assert missing.status_code == 404 and "Access-Control-Allow-Origin" in missing.headers


def test_narrowed_origins() -> None:
    options = StandaloneOptions(cors_origins=("http://localhost:3000", "https://app.example.com"))
    client = make_app(options).test_client()
    good = client.get("/api/credentials", headers={**DEV, "Origin": "http://localhost:3000"})
    assert good.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Origin" in good.headers.get("Vary", "")
    for origin in (
        "http://localhost:3001",
        "https://app.example.com.evil.test",
        "http://app.example.com",
    ):
        bad = client.get("/api/credentials", headers={**DEV, "Origin": origin})
        assert "Access-Control-Allow-Origin" not in bad.headers, origin
    other = preflight(client, "http://evil.test")
    assert "Access-Control-Allow-Origin" not in other.headers


def test_control_plane_and_no_cors_option() -> None:
    client = make_app().test_client()
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/_mock/state", headers={"Origin": PAGE}).headers
    )
    off = make_app(StandaloneOptions(cors=False)).test_client()
    assert (
        "Access-Control-Allow-Origin"
        not in off.get("/api/credentials", headers={**DEV, "Origin": PAGE}).headers
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://localhost:3000", "http://localhost:3000"),
        ("HTTP://LocalHost:3000/", "http://localhost:3000"),
        ("https://app.example.com", "https://app.example.com"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_normalize_origin(text: str, expected: str) -> None:
    assert normalize_origin(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "localhost:3000",
        "ftp://x",
        "http://x/path",
        "http://x?q",
        "http://u:p@x",
        "http://x:99999",
        "*",
    ],
)
def test_normalize_origin_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_origin(text)
