"""The /_mock/ control plane: reset, seed, journal, state, clock, guards."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fake_support import canary
from hypothesis import given
from hypothesis import strategies as st
from standalone_support import DEV, WS_DEV, assert_absent, demo_seed, make_app, password_body

from mockserver.journal import MASK
from mockserver.standalone import StandaloneOptions, get_standalone

ADMIN = "admin-token-123"


def count(client: Any, headers: dict[str, str] = DEV) -> int:
    return len(client.get("/api/credentials?status=all&limit=200", headers=headers).json["data"])


def assert_bad_request(response: Any, field: str) -> None:
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_request" and error["message"]
    assert field in [detail["path"] for detail in error.get("details", [])], error
    assert response.headers["X-Request-Id"] == error["request_id"]


def test_reset_to_empty_clears_credentials_journal_and_faults_but_keeps_keys() -> None:
    app = make_app()
    client = app.test_client()
    assert (
        client.post("/api/credentials", json=password_body("a", canary()), headers=DEV).status_code
        == 201
    )
    client.post("/_mock/faults", json={"path": "/api/nothing", "status": 500})
    response = client.post("/_mock/reset")
    assert response.status_code == 200
    assert response.json["data"] == {"reset": "empty", "credentials": 0, "workspaces": 0}
    assert count(client) == 0  # the dev key still works
    assert client.get("/_mock/faults").json["data"] == []
    journal = client.get("/_mock/journal").json["data"]
    assert [r["path"] for r in journal] == ["/api/credentials"]  # only the list above


def test_reset_to_seed_restores_the_starting_fixtures() -> None:
    seed = demo_seed()
    app = make_app(seed=seed)
    client = app.test_client()
    acme = {"Authorization": "Bearer plnx_test_acme_admin"}
    before = count(client, acme)
    assert before > 0
    client.post("/api/credentials", json=password_body("extra", canary()), headers=acme)
    assert client.post("/_mock/reset", json={"to": "empty"}).status_code == 200
    assert count(client, acme) == 0
    response = client.post("/_mock/reset", json={"to": "seed"})
    assert response.status_code == 200 and response.json["data"]["reset"] == "seed"
    assert count(client, acme) == before
    assert_absent("demo-only-pg-password", response.data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "everything"}, "to"),
        ({"to": 3}, "to"),
        ({"into": "seed"}, "into"),
        ([1, 2], ""),
        ({"to": "seed"}, "to"),  # no seed was loaded at start
    ],
)
def test_reset_rejects_bad_bodies(body: object, field: str) -> None:
    client = make_app().test_client()
    assert_bad_request(client.post("/_mock/reset", json=body), field)


def test_reset_rejects_invalid_json() -> None:
    client = make_app().test_client()
    response = client.post("/_mock/reset", data=b"{nope", content_type="application/json")
    assert_bad_request(response, "")


def test_seed_adds_fixtures_and_never_echoes_secrets_or_keys() -> None:
    client = make_app().test_client()
    secret, key = canary(), "plnx_test_" + canary()
    fixtures = {
        "workspaces": [
            {
                "id": "ws_new",
                "keys": [{"key": key}],
                "credentials": [{"name": "n", "type": "password", "config": {"password": secret}}],
            }
        ]
    }
    response = client.post("/_mock/seed", json=fixtures)
    assert response.status_code == 200
    assert response.json["data"] == {"workspaces": ["ws_new"], "keys": 1, "credentials": 1}
    assert_absent(secret, response.data)
    assert_absent(key, response.data)
    listed = client.get("/api/credentials", headers={"Authorization": f"Bearer {key}"})
    assert [c["name"] for c in listed.json["data"]] == ["n"]
    state = client.get("/_mock/state")
    assert_absent(secret, state.data)
    assert_absent(key, state.data)


def test_seed_errors_name_the_place_never_the_value() -> None:
    client = make_app().test_client()
    secret = canary()
    bad = {
        "workspaces": [
            {
                "id": "ws_x",
                "credentials": [
                    {
                        "name": "n",
                        "type": "database",
                        "config": {"host": "h", "port": 99999, "username": "u", "password": secret},
                    }
                ],
            }
        ]
    }
    response = client.post("/_mock/seed", json=bad)
    assert_bad_request(response, "workspaces[0].credentials[0].config.port")
    assert "workspaces" not in response.json["error"]["details"][0]["message"]
    assert_absent(secret, response.data)
    assert_bad_request(client.post("/_mock/seed"), "")
    assert_bad_request(client.post("/_mock/seed", json={"workspaces": 3}), "workspaces")
    assert count(client) == 0


def test_seed_timestamp_out_of_range_in_utc_is_a_400_not_a_500() -> None:
    client = make_app().test_client()
    credential = {"name": "n", "type": "password", "config": {"password": canary()}}
    credential["created_at"] = "9999-12-31T23:59:59-01:00"
    response = client.post(
        "/_mock/seed", json={"workspaces": [{"id": WS_DEV, "credentials": [credential]}]}
    )
    assert_bad_request(response, "workspaces[0].credentials[0].created_at")
    assert count(client) == 0


def test_journal_shows_requests_with_secrets_masked_and_skips_control_calls() -> None:
    client = make_app().test_client()
    secret = canary()
    client.post("/api/credentials", json=password_body("db", secret), headers=DEV)
    client.get("/_mock/state")
    response = client.get("/_mock/journal")
    assert response.status_code == 200
    assert_absent(secret, response.data)
    (record,) = response.json["data"]
    assert record["method"] == "POST" and record["path"] == "/api/credentials"
    assert record["status"] == 201 and record["duration_ms"] >= 0
    assert record["body"] == {
        "name": "db",
        "type": "password",
        "config": {"username": "u", "password": MASK},
    }
    assert client.delete("/_mock/journal").status_code == 200
    assert client.get("/_mock/journal").json["data"] == []


def test_journal_limit_and_order() -> None:
    client = make_app().test_client()
    for n in range(3):
        client.get(f"/api/credentials?limit={n + 1}", headers=DEV)
    data = client.get("/_mock/journal?limit=2").json["data"]
    assert [r["query"]["limit"] for r in data] == ["3", "2"]  # newest first
    for bad in ("0", "x", "1001", "-1", "%C2%B2", "%E2%91%A0", "%D9%A3"):
        assert_bad_request(client.get(f"/_mock/journal?limit={bad}"), "limit")
        assert_bad_request(client.get(f"/_mock/state?limit={bad}"), "limit")
    assert len(client.get("/_mock/journal?limit=002").json["data"]) == 2


def test_state_lists_metadata_per_workspace_and_settings() -> None:
    seed = demo_seed()
    client = make_app(seed=seed).test_client()
    data = client.get("/_mock/state").json["data"]
    workspaces = {w["id"]: w for w in data["workspaces"]}
    assert set(workspaces) >= {WS_DEV, "ws_acme"}
    acme = workspaces["ws_acme"]
    assert acme["keys"] == 2 and acme["counts"]["deleted"] >= 1
    assert {c["status"] for c in acme["credentials"]} == {"active", "deleted"}
    assert data["clock"]["frozen"] is False and data["faults"] == []
    assert data["rate_limit"] is None and data["state_file"] is None
    assert data["admin_token_required"] is False and data["seed_loaded"] is True
    text = json.dumps(data)
    for workspace in seed["workspaces"]:
        for key in workspace.get("keys", []):
            assert_absent(key["key"], text.encode())
    assert_absent("demo-only-pg-password", text.encode())
    assert_bad_request(client.get("/_mock/state?limit=0"), "limit")


def test_clock_freeze_set_advance_unfreeze_drive_timestamps() -> None:
    app = make_app()
    client = app.test_client()
    frozen = client.post("/_mock/clock", json={"freeze": True}).json["data"]
    assert frozen["frozen"] is True
    response = client.post("/_mock/clock", json={"set": "2030-05-01T10:00:00Z"})
    assert response.json["data"]["now"] == "2030-05-01T10:00:00Z"
    created = client.post("/api/credentials", json=password_body("t", canary()), headers=DEV)
    assert created.json["data"]["created_at"] == "2030-05-01T10:00:00Z"
    after = client.post("/_mock/clock", json={"advance_seconds": 90}).json["data"]
    assert after["now"] == "2030-05-01T10:01:30Z"
    assert client.get("/_mock/clock").json["data"]["now"] == "2030-05-01T10:01:30Z"
    running = client.post("/_mock/clock", json={"freeze": False}).json["data"]
    assert running["frozen"] is False and running["now"] == "2030-05-01T10:01:30Z"
    back = client.post("/_mock/clock", json={"reset": True}).json["data"]
    assert back["offset_seconds"] == 0
    assert get_standalone(app).clock is app.extensions["planasonix"].store.clock


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"freeze": "yes"}, "freeze"),
        ({"set": "yesterday"}, "set"),
        ({"set": 5}, "set"),
        ({"set": "2025-01-01T00:00:00"}, "set"),  # naive: no zone
        ({"set": "0001-01-01T00:00:00+01:00"}, "set"),  # out of range in UTC: was a 500
        ({"advance_seconds": -1}, "advance_seconds"),
        ({"advance_seconds": True}, "advance_seconds"),
        ({"advance_seconds": "60"}, "advance_seconds"),
        ({"advance_seconds": 1e300}, "advance_seconds"),
        ({"set": "9999-12-31T23:59:59Z", "advance_seconds": 3000000000}, "set"),
        ({"speed": 2}, "speed"),
        ({"reset": "no"}, "reset"),
        ({"reset": 1}, "reset"),  # equal to True, but not a boolean
    ],
)
def test_clock_rejects_bad_input(body: dict[str, Any], field: str) -> None:
    client = make_app().test_client()
    assert_bad_request(client.post("/_mock/clock", json=body), field)


def test_admin_token_guards_every_json_endpoint() -> None:
    app = make_app(StandaloneOptions(admin_token=ADMIN))
    client = app.test_client()
    for method, path in [
        ("GET", "/_mock/state"),
        ("POST", "/_mock/reset"),
        ("GET", "/_mock/journal"),
        ("POST", "/_mock/clock"),
        ("GET", "/_mock/faults"),
        ("DELETE", "/_mock/faults"),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == 401, path
        assert response.json["error"]["code"] == "unauthorized"
        wrong = client.open(path, method=method, headers={"X-Mock-Admin-Token": "wrong"})
        assert wrong.status_code == 401
    assert client.get("/_mock/state", headers={"X-Mock-Admin-Token": ADMIN}).status_code == 200
    assert (
        client.get("/_mock/state", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
    )
    assert client.get("/_mock/").status_code == 200  # the page shell holds no data
    assert client.get("/api/credentials", headers=DEV).status_code == 200
    assert ADMIN not in client.get("/_mock/state", headers={"X-Mock-Admin-Token": ADMIN}).text


def test_cross_origin_browser_calls_cannot_change_state() -> None:
    client = make_app().test_client()
    foreign = client.post("/_mock/reset", headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and foreign.json["error"]["code"] == "forbidden"
    site = client.post("/_mock/reset", headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status_code == 403
    same = client.post("/_mock/reset", headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/_mock/state", headers={"Origin": "http://evil.example"}).headers
    )


def test_unknown_control_paths_and_methods_use_the_error_envelope() -> None:
    client = make_app().test_client()
    missing = client.get("/_mock/nothing")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put("/_mock/reset")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    assert client.delete("/_mock/faults/flt_99").status_code == 404


def test_control_plane_can_be_left_out() -> None:
    client = make_app(StandaloneOptions(control_plane=False)).test_client()
    assert client.get("/_mock/state").status_code == 404


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "to",
        "freeze",
        "set",
        "advance_seconds",
        "method",
        "path",
        "status",
        "times",
        "delay_ms",
        "code",
        "message",
        "retry_after",
        "workspaces",
        "reset",
    ]
)


# RFC 3339 text over datetime's whole range, its ends included, with any offset:
# near either end an offset moves the moment outside the range in UTC.
TIMESTAMPS = st.builds(
    lambda moment, minutes: (
        moment.isoformat() + f"{'-' if minutes < 0 else '+'}"
        f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    ),
    st.datetimes() | st.sampled_from([datetime.min, datetime.max]),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
LEAF = JSON | TIMESTAMPS
# Fixtures that get past the document's shape, so the credential fields are reached.
SEED_DOCS = st.fixed_dictionaries(
    {
        "workspaces": st.lists(
            st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["ws_a", "ws_b"]),
                    "credentials": st.lists(
                        st.fixed_dictionaries(
                            {"name": st.text(min_size=1, max_size=8), "type": st.just("password")},
                            optional={
                                "config": st.just({"password": "p"}) | JSON,
                                "status": st.sampled_from(["active", "deleted"]) | JSON,
                                "created_at": TIMESTAMPS | JSON,
                                "updated_at": TIMESTAMPS,
                                "deleted_at": TIMESTAMPS,
                                "id": st.text(max_size=10).map("cred_".__add__) | JSON,
                            },
                        ),
                        max_size=3,
                    ),
                }
            ),
            max_size=2,
        )
    }
)


@given(
    path=st.sampled_from(["/_mock/reset", "/_mock/seed", "/_mock/faults", "/_mock/clock"]),
    body=JSON | st.dictionaries(FIELDS, LEAF, max_size=5) | SEED_DOCS,
)
def test_control_plane_never_answers_500(path: str, body: object) -> None:
    client = make_app().test_client()
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 201, 400), response.json
    assert response.json is not None


@given(text=TIMESTAMPS, field=st.sampled_from(["created_at", "updated_at", "deleted_at"]))
def test_any_timestamp_is_taken_or_refused_by_name(text: str, field: str) -> None:
    client = make_app().test_client()
    clock = client.post("/_mock/clock", json={"set": text})
    if clock.status_code != 200:
        assert_bad_request(clock, "set")
    credential = {"name": "n", "type": "password", "config": {"password": "p"}, field: text}
    if field == "deleted_at":
        credential["status"] = "deleted"
    seed = client.post(
        "/_mock/seed", json={"workspaces": [{"id": "w", "credentials": [credential]}]}
    )
    if seed.status_code != 200:
        assert_bad_request(seed, f"workspaces[0].credentials[0].{field}")


def test_seed_bodies_may_exceed_the_api_limit_up_to_8_mib() -> None:
    client = make_app().test_client()
    credentials = [
        {
            "name": f"n{i}",
            "type": "password",
            "config": {"username": "u" * 40, "password": "p" * 60},
        }
        for i in range(600)
    ]
    body = json.dumps({"workspaces": [{"id": "ws_big", "credentials": credentials}]})
    assert len(body) > 64 * 1024
    response = client.post("/_mock/seed", data=body, content_type="application/json")
    assert response.status_code == 200 and response.json["data"]["credentials"] == 600
    huge = client.post("/_mock/seed", data=b"x" * (9 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json["error"]["code"] == "payload_too_large"
