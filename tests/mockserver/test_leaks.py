"""No secret ever leaves the fake: not in bodies, headers, journal, reprs or logs.

Every secret sent is a canary from the contract kit's detector, which finds
it raw, JSON-escaped, URL-encoded, hex, base64 and base64url, whole or as a
fragment. Every endpoint is exercised, error paths included, with requests
that carry canaries in secret fields.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from fake_support import KEY_A, KEY_RO, bearer, sample_config, start_server, stop_server
from flask import Flask
from flask.testing import FlaskClient

import contracts
from contracts.kit.canaries import CanaryDetector, CanaryFactory
from mockserver import get_state

VARIANTS = [(t, 0) for t in contracts.CREDENTIAL_TYPES] + [("azure", 1), ("gcp", 1)]


@pytest.fixture
def detector() -> CanaryDetector:
    return CanaryDetector()


@pytest.fixture
def factory(detector: CanaryDetector) -> CanaryFactory:
    return CanaryFactory(detector)


def test_detector_sees_encoded_canaries(factory: CanaryFactory) -> None:
    canary = factory.fresh()
    for text in [canary, base64.b64encode(f"x{canary}y".encode()).decode(), canary.encode().hex()]:
        assert factory.detector.scan(f"prefix {text} suffix")


def body_of(response: Any) -> Any:
    # requests' Response.json is a method, Werkzeug's a property.
    return response.json() if callable(response.json) else response.json


def exercise(send: Any, fresh: Any) -> None:
    """Drive every endpoint, success and error paths, with canaries as secrets."""
    ids: dict[str, str] = {}
    for type_, variant in VARIANTS:
        name = f"{type_}-{variant}"
        body = {"name": name, "type": type_, "config": sample_config(type_, fresh, variant)}
        response = send("POST", "/api/credentials", json=body)
        assert response.status_code == 201
        ids[name] = body_of(response)["data"]["id"]
        # The same body again: a name conflict that carries fresh canaries.
        body["config"] = sample_config(type_, fresh, variant)
        assert send("POST", "/v1/api/credentials", json=body).status_code == 409

    password = lambda: {"password": fresh()}  # noqa: E731
    bad_creates: list[Any] = [
        {"name": "bad", "type": "password", "config": password() | {"port": "x"}},
        {"name": "bad", "type": "password", "config": password() | {"pasword": fresh()}},
        {"name": "bad", "type": "password", "config": {"password": {"nested": fresh()}}},
        {"name": "bad", "type": "password", "config": {"password": [fresh()]}},
        {"name": "bad", "type": "nope", "config": password()},
        {"name": "bad", "type": "password", "config": password(), "secret": fresh()},
        {"name": "", "type": "database", "config": sample_config("database", fresh)},
        [password()],
    ]
    for body in bad_creates:
        assert send("POST", "/api/credentials", json=body).status_code == 400
    raw_bodies: list[tuple[bytes, str, int]] = [
        (json.dumps(password()).encode(), "text/plain", 415),
        (
            b'{"name": "x", "type": "password", "config": {"password": "' + fresh().encode(),
            "application/json",
            400,
        ),
        (
            b'{"name": "\\ud800", "type": "password", "config": {"password": "'
            + fresh().encode()
            + b'"}}',
            "application/json",
            400,
        ),
        (
            json.dumps(
                {"name": "big", "type": "password", "config": {"password": fresh() * 3000}}
            ).encode(),
            "application/json",
            413,
        ),
    ]
    for raw, content_type, status in raw_bodies:
        response = send(
            "POST", "/api/credentials", data=raw, headers={"Content-Type": content_type}
        )
        assert response.status_code == status
    assert (
        send("POST", "/api/credentials", json={"config": password()}, key=None).status_code == 401
    )
    assert (
        send("POST", "/api/credentials", json={"config": password()}, key=KEY_RO).status_code == 403
    )

    for query in ["", "?status=all", "?status=deleted", "?type=database", "?limit=1"]:
        assert send("GET", f"/api/credentials{query}").status_code == 200
    cursor = body_of(send("GET", "/api/credentials?limit=2"))["meta"]["page"]["cursor"]
    assert send("GET", f"/api/credentials?limit=2&cursor={cursor}").status_code == 200

    for name, cred_id in ids.items():
        url = f"/api/credentials/{cred_id}"
        type_ = name.rsplit("-", 1)[0]
        assert send("GET", url).status_code == 200
        rotated = sample_config(type_, fresh, int(name[-1]))
        assert send("PUT", url, json={"config": rotated}).status_code == 200
        invalid = {"config": rotated | {"not_a_field": fresh()}}
        assert send("PUT", url, json=invalid).status_code == 400
        # `type` cannot change (400); the same type with its own config is a plain update.
        retyped = send("PUT", url, json={"type": "oauth", "config": rotated})
        assert retyped.status_code == (200 if type_ == "oauth" else 400)
        assert send("DELETE", url).status_code == 200
        assert send("PUT", url, json={"config": rotated}).status_code == 409
        assert send("GET", url).status_code == 200
        assert send("POST", f"{url}/restore").status_code == 200
        if name.startswith(("aws", "gcp", "oauth")):
            assert send("DELETE", f"{url}/permanent").status_code == 200
            assert send("PUT", url, json={"config": rotated}).status_code == 404
    assert send("GET", "/api/credentials?status=all&limit=200").status_code == 200


def test_nothing_leaks_through_the_app(
    app: Flask, client: FlaskClient, factory: CanaryFactory
) -> None:
    detector = factory.detector
    leaks: list[Any] = []

    def send(
        method: str, path: str, key: str | None = KEY_A, headers: dict | None = None, **kw: Any
    ) -> Any:
        all_headers = (bearer(key) if key else {}) | (headers or {})
        response = client.open(path, method=method, headers=all_headers, **kw)
        where = f"{method} {path} -> {response.status_code}"
        leaks.extend(detector.scan(response.get_data(), where))
        leaks.extend(detector.scan_headers(list(response.headers.items())))
        return response

    exercise(send, factory.fresh)
    assert len(detector.canaries) > 60
    state = get_state(app)
    journal_text = json.dumps([r.to_json() for r in state.journal.records()])
    assert "[redacted]" in journal_text
    leaks.extend(detector.scan(journal_text, "journal"))
    for record in state.journal.records():
        leaks.extend(detector.scan(repr(record), "journal record repr"))
    texts = {
        "state": repr(state),
        "store": repr(state.store),
        "iter_all": repr(list(state.store.iter_all())),
        "records": repr(list(state.store._records.values())),
        "list": repr(state.store.list("ws_a", status="all", limit=200)),
    }
    for where, text in texts.items():
        leaks.extend(detector.scan(text, where))
    assert not leaks, [str(leak) for leak in leaks]


@pytest.mark.slow
def test_nothing_leaks_through_the_cli_server(factory: CanaryFactory) -> None:
    detector = factory.detector
    process, base = start_server("--api-key", f"{KEY_A}=ws_a", "--read-only-key", f"{KEY_RO}=ws_a")
    leaks: list[Any] = []
    try:
        session = requests.Session()

        def send(
            method: str, path: str, key: str | None = KEY_A, headers: dict | None = None, **kw: Any
        ) -> Any:
            all_headers = (bearer(key) if key else {}) | (headers or {})
            response = session.request(method, base + path, headers=all_headers, timeout=10, **kw)
            leaks.extend(detector.scan(response.content, f"{method} {path}"))
            leaks.extend(detector.scan_headers(list(response.headers.items())))
            return response

        exercise(send, factory.fresh)
    finally:
        code, output = stop_server(process)
    assert code == 0
    assert "POST /api/credentials 201" in output
    leaks.extend(detector.scan(output, "server output"))
    assert not leaks, [str(leak) for leak in leaks]
