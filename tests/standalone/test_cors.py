"""CORS: any origin by default, narrowed by --cors-origin; never on /_mock/."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from standalone_support import DEV, make_app
from werkzeug.test import TestResponse

from mockserver.standalone import StandaloneOptions, cors
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


def test_no_origin_no_cors_headers() -> None:
    # Only a request carrying `Origin` is a CORS request (every browser sends
    # one across origins); anything else gets none of the headers.
    for options in (StandaloneOptions(), StandaloneOptions(cors_origins=(PAGE,))):
        client = make_app(options).test_client()
        for path in ("/api/credentials", "/api/credentials/cred_nope", "/openapi.json"):
            response = client.get(path, headers=DEV)
            assert not [h for h, _ in response.headers.items() if h.startswith("Access-Control")]
            assert response.headers.get("X-Request-Id", "").startswith("req_")


CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Private-Network",
    "Access-Control-Allow-Credentials",
    "Vary",
)


@pytest.mark.parametrize("origins", [(), (PAGE, "https://app.example.com")])
def test_replayed_headers_are_flask_cors_own(
    origins: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake asks flask-cors once per (Origin, private-network) pair and
    # replays the answer; flask-cors asked on every response must agree.
    fast = make_app(StandaloneOptions(cors_origins=origins)).test_client()
    monkeypatch.setattr(cors, "_reuse_simple_request_headers", lambda app: None)
    reference = make_app(StandaloneOptions(cors_origins=origins)).test_client()
    for path in ("/api/credentials", "/v1/api/credentials/cred_nope", "/openapi.json", "/"):
        for origin in (None, PAGE, "https://app.example.com", "http://evil.test"):
            for private in (None, "true"):
                headers = dict(DEV)
                if origin is not None:
                    headers["Origin"] = origin
                if private is not None:
                    headers["Access-Control-Request-Private-Network"] = private
                for _ in range(2):  # the second answer is the replayed one
                    got, want = (
                        fast.get(path, headers=headers),
                        reference.get(path, headers=headers),
                    )
                    assert [(n, got.headers.getlist(n)) for n in CORS_HEADERS] == [
                        (n, want.headers.getlist(n)) for n in CORS_HEADERS
                    ], (path, origin, private)
