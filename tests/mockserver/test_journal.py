from __future__ import annotations

import dataclasses
import json

import pytest
from fake_support import KEY_A, bearer
from flask import Flask
from flask.testing import FlaskClient

from mockserver import Journal, JournalRecord, get_state
from mockserver.journal import MASK, redact_body


def record(n: int = 0) -> JournalRecord:
    return JournalRecord(f"req_{n}", "GET", "/api/credentials", 200, 1.0, "t")


def test_journal_is_bounded_and_notifies(caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal(maxlen=3)
    seen: list[str] = []
    unsubscribe = journal.subscribe(lambda r: seen.append(r.request_id))
    journal.subscribe(lambda r: 1 / 0)  # a broken listener is logged, not raised
    for n in range(5):
        journal.append(record(n))
    assert [r.request_id for r in journal.records()] == ["req_2", "req_3", "req_4"]
    assert seen == [f"req_{n}" for n in range(5)]
    unsubscribe()
    journal.append(record(9))
    assert len(seen) == 5
    journal.clear()
    assert len(journal) == 0
    assert "journal listener failed" in caplog.text


def test_redact_body_keeps_only_public_fields() -> None:
    body = {
        "name": "n",
        "type": "database",
        "config": {
            "host": "h",
            "password": "SECRET1",
            "pasword": "SECRET2",
            "ssh_tunnel": {"host": "b", "private_key": "SECRET3", "odd": "SECRET4"},
        },
        "extra": "SECRET5",
    }
    redacted = redact_body(body)
    assert "SECRET" not in repr(redacted)
    assert redacted["config"]["host"] == "h"
    assert redacted["config"]["pasword"] == MASK
    assert redacted["config"]["password"] == MASK
    assert redacted["config"]["ssh_tunnel"] == {"host": "b", "private_key": MASK, "odd": MASK}
    assert redact_body({"config": {"password": "S", "username": "u"}}, "password") == {
        "config": {"password": MASK, "username": "u"}
    }
    assert redact_body({"type": "nope", "config": {"password": "S"}}) == {
        "type": MASK,
        "config": MASK,
    }
    assert redact_body(["S"]) == MASK
    assert redact_body(None) is None


def test_app_journals_each_request(app: Flask, client: FlaskClient) -> None:
    journal = get_state(app).journal
    client.post(
        "/api/credentials",
        json={"name": "x", "type": "password", "config": {"password": "SECRETPW"}},
        headers=bearer(KEY_A),
    )
    client.get("/api/credentials?limit=5&bogus=SECRETQ", headers=bearer(KEY_A))
    client.get("/api/credentials?limit=5", headers=bearer(KEY_A))
    client.get("/api/credentials")
    first, bad, listed, anonymous = (r.to_json() for r in journal.records())
    assert first["method"] == "POST" and first["status"] == 201
    assert first["body"] == {"name": "x", "type": "password", "config": {"password": MASK}}
    assert first["workspace"] == "ws_a"
    assert bad["status"] == 400 and bad["query"] == {}
    assert listed["query"] == {"limit": "5"}
    assert anonymous["status"] == 401 and anonymous["workspace"] is None
    assert "SECRET" not in repr(journal.records())


def test_the_stored_type_decides_what_a_body_may_show() -> None:
    # An update claiming another type is masked by the stored type's public fields.
    body = {"type": "api_key", "config": {"header_name": "X-Key", "username": "etl"}}
    redacted = redact_body(body, type_hint="password")
    assert redacted["config"] == {"header_name": MASK, "username": "etl"}


def test_the_journal_scope_is_api_calls_only() -> None:
    from mockserver.journal import in_scope

    assert in_scope("GET", "/api/credentials")
    assert in_scope("POST", "/v1/api/credentials/cred_x/restore")
    for method, path in [
        ("GET", "/"),
        ("GET", "/favicon.ico"),
        ("GET", "/openapi.json"),
        ("GET", "/apix"),
        ("POST", "/_mock/reset"),
        ("OPTIONS", "/api/credentials"),
    ]:
        assert not in_scope(method, path), (method, path)


def test_records_are_immutable_and_plain_data() -> None:
    plain, other = record(1), record(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.status = 500  # type: ignore[misc]
    # What callers of fake.calls() do with a record: plain dicts, dataclass tools.
    assert plain.query is not other.query
    assert json.dumps(plain.query) == "{}"
    assert dataclasses.asdict(plain)["request_id"] == "req_1"
    assert dataclasses.replace(plain, status=404).status == 404
    assert plain.to_json()["query"] == {}
