"""Issue 12: Host guard, origin guard, key guessing, names, and the smaller hardening items."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from fake_support import canary
from flask import Flask
from standalone_support import DEV, WS_DEV, demo_seed, make_app, password_body

from mockserver.standalone import StandaloneOptions
from mockserver.standalone.cli import SetupError, build_parser, main, options_from_args
from mockserver.standalone.hostguard import HostGuard, host_name
from mockserver.standalone.ratelimit import parse_rate_limit

EVIL = "evil.example"
CONTROL_CALLS = [
    ("GET", "/_mock/"),
    ("GET", "/_mock/static/dashboard.js"),
    ("GET", "/_mock/state"),
    ("GET", "/_mock/journal"),
    ("DELETE", "/_mock/journal"),
    ("GET", "/_mock/faults"),
    ("GET", "/_mock/clock"),
    ("POST", "/_mock/reset"),
    ("POST", "/_mock/seed"),
]


def _call(app: Flask, method: str, path: str, host: str, **kwargs: Any) -> Any:
    return app.test_client().open(path, method=method, headers={"Host": host, **DEV}, **kwargs)


# --- Host guard -------------------------------------------------------------------------


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:8080", "127.0.0.1.evil.example", "[::1"])
def test_a_foreign_host_gets_403_on_the_control_plane_and_the_loopback_api(host: str) -> None:
    app = make_app(StandaloneOptions(listen_host="127.0.0.1"))
    kept = app.test_client().post("/api/credentials", json=password_body("kept", "s"), headers=DEV)
    for method, path in [
        *CONTROL_CALLS,
        ("GET", "/api/credentials"),
        ("GET", "/v1/api/credentials"),
    ]:
        response = _call(app, method, path, host)
        assert response.status_code == 403, (method, path)
        assert response.json["error"]["code"] == "forbidden"
        assert response.json["error"]["request_id"]
    # The refused reset did not run.
    again = app.test_client().get(f"/api/credentials/{kept.json['data']['id']}", headers=DEV)
    assert again.status_code == 200


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:5173", "127.0.0.1:8080", "127.0.0.2", "[::1]:9000", "LOCALHOST"],
)
def test_loopback_hosts_with_any_port_are_answered(host: str) -> None:
    app = make_app(StandaloneOptions(listen_host="127.0.0.1"))
    assert _call(app, "GET", "/_mock/state", host).status_code == 200
    assert _call(app, "GET", "/api/credentials", host).status_code == 200
    dashboard = _call(app, "GET", "/_mock/", host)
    assert dashboard.status_code == 200
    assert b"<html" in dashboard.data.lower()


def test_the_listen_host_and_allowed_hosts_are_answered() -> None:
    app = make_app(StandaloneOptions(listen_host="devbox.internal", allowed_hosts=("mock.test",)))
    for host in ("devbox.internal:8080", "mock.test", "MOCK.TEST:1", "localhost"):
        assert _call(app, "GET", "/_mock/clock", host).status_code == 200, host
    assert _call(app, "GET", "/_mock/clock", EVIL).status_code == 403


def test_on_another_interface_the_api_answers_any_host_but_the_control_plane_does_not() -> None:
    app = make_app(StandaloneOptions(listen_host="0.0.0.0", admin_token="t" * 16))
    assert _call(app, "GET", "/api/credentials", "10.1.2.3:8080").status_code == 200
    admin = {"X-Mock-Admin-Token": "t" * 16}
    response = app.test_client().get("/_mock/state", headers={"Host": "10.1.2.3:8080", **admin})
    assert response.status_code == 403


def test_host_parsing() -> None:
    assert host_name("[::1]:8080") == "[::1]"
    assert host_name("Example.COM:80") == "example.com"
    for bad in ("", "a b", "host:port", "host:1234567", "a/b", "user@host", "[::1]x", "ä.example"):
        assert host_name(bad) is None, bad
    guard = HostGuard("127.0.0.1", ["proxy.local"])
    assert guard.allows(None)  # no Host at all: not a browser
    assert guard.allows("proxy.local:443")
    with pytest.raises(ValueError):
        HostGuard(None, ["with.port:80"])


def test_the_in_process_fixtures_host_is_untouched() -> None:
    # The core app without the standalone extension answers any Host.
    from mockserver import create_app

    app = create_app()
    response = app.test_client().get(
        "/api/credentials", headers={"Host": "api.planasonix.com", **DEV}
    )
    assert response.status_code == 200


# --- cross-origin guard -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://localhost", 200),
        ("HTTP://LOCALHOST:80", 200),
        ("https://localhost", 403),  # same host, other scheme
        ("http://localhost:8080", 403),  # same host, other port
        ("http://evil.example", 403),
        ("null", 403),
        ("http://[::1", 403),
    ],
)
def test_the_origin_guard_compares_scheme_host_and_port(origin: str, status: int) -> None:
    app = make_app()
    response = app.test_client().post("/_mock/reset", headers={"Origin": origin})
    assert response.status_code == status


# --- failed authentication is rate limited per address -----------------------------------------


def test_many_wrong_keys_from_one_address_get_429_and_a_valid_key_still_works() -> None:
    app = make_app(StandaloneOptions(rate_limit=parse_rate_limit("60/min")))
    client = app.test_client()
    statuses = []
    for index in range(100):
        response = client.get(
            "/api/credentials", headers={"Authorization": f"Bearer plnx_wrong_{index}"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json["error"]["code"] == "rate_limited"
            break
    assert statuses[:60] == [401] * 60
    assert statuses[-1] == 429 and len(statuses) < 100
    # A valid key has its own count: the guessing did not lock its owner out.
    assert client.get("/api/credentials", headers=DEV).status_code == 200


# --- names: no control character, a final newline included -------------------------------------


@pytest.mark.parametrize("name", ["prod\n", "prod\r\n", "\nprod", "pr\x00od", "prod\x85"])
def test_a_name_with_a_control_character_is_refused_everywhere(tmp_path: Path, name: str) -> None:
    app = make_app()
    client = app.test_client()
    created = client.post("/api/credentials", json=password_body(name, "s"), headers=DEV)
    assert created.status_code == 400
    assert created.json["error"]["details"][0]["path"] == "name"
    ok = client.post("/api/credentials", json=password_body("ok", "s"), headers=DEV).json["data"]
    renamed = client.put(f"/api/credentials/{ok['id']}", json={"name": name}, headers=DEV)
    assert renamed.status_code == 400
    seed = {"workspaces": [{"id": "ws_n", "credentials": [password_body(name, "s")]}]}
    seeded = client.post("/_mock/seed", json=seed)
    assert seeded.status_code == 400
    assert seeded.json["error"]["details"][0]["path"] == "workspaces[0].credentials[0].name"
    # A state file that says so is refused too.
    path = tmp_path / "state.json"
    make_app(StandaloneOptions(state_file=path)).test_client().post(
        "/api/credentials", json=password_body("fine", "s"), headers=DEV
    )
    document = json.loads(path.read_text())
    document["credentials"][0]["name"] = name
    path.write_text(json.dumps(document))
    from mockserver.standalone.persistence import StateFileError

    with pytest.raises(StateFileError, match=r"credentials\[0\]"):
        make_app(StandaloneOptions(state_file=path))


# --- the smaller items -------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port), "--no-control-plane"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_a_state_key_without_a_state_file(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SetupError, match="--state-file"):
        options_from_args(parser.parse_args(["serve", "--state-key", "k" * 12]), {})
    options = options_from_args(
        parser.parse_args(["serve"]), {"PLANASONIX_STATE_KEY": "secret-" + canary()}
    )
    assert options.state_key is None
    err = capsys.readouterr().err
    assert "PLANASONIX_STATE_KEY is set but there is no --state-file" in err
    assert "secret-" not in err


def test_temp_files_a_killed_save_left_are_removed_at_start(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    make_app(StandaloneOptions(state_file=path))
    leftovers = [tmp_path / ".state.json.k1ll3d.tmp", tmp_path / ".state.json.x.tmp"]
    for leftover in leftovers:
        leftover.write_text("{")
    unrelated = tmp_path / ".other.json.x.tmp"
    unrelated.write_text("{")
    make_app(StandaloneOptions(state_file=path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.x.tmp", "state.json"]


def test_reset_to_seed_keeps_the_seeded_ids() -> None:
    seed = demo_seed()
    app = make_app(seed=seed)  # ids seeded (7), as with --id-seed
    client = app.test_client()

    def ids() -> list[str]:
        workspaces = client.get("/_mock/state").json["data"]["workspaces"]
        return sorted(c["id"] for w in workspaces for c in w["credentials"])

    first = ids()
    assert first
    client.post("/api/credentials", json=password_body("extra", "s"), headers=DEV)
    assert client.post("/_mock/reset", json={"to": "seed"}).status_code == 200
    assert ids() == first
    assert client.post("/_mock/reset", json={"to": "seed"}).status_code == 200
    assert ids() == first


def test_the_journal_holds_api_calls_only() -> None:
    app = make_app()
    client = app.test_client()
    client.get("/favicon.ico")
    client.get("/")
    client.get("/openapi.json")
    client.options(
        "/api/credentials",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    client.get("/api/credentials", headers=DEV)
    journal = client.get("/_mock/journal").json["data"]
    assert [(r["method"], r["path"]) for r in journal] == [("GET", "/api/credentials")]
    assert journal[0]["workspace"] == WS_DEV


def test_host_flags_reach_the_options() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["serve", "--host", "0.0.0.0", "--allow-host", "Mock.Test", "--allow-host", "::1"]
    )
    options = options_from_args(args, {})
    assert options.listen_host == "0.0.0.0"
    assert options.allowed_hosts == ("[::1]", "mock.test")
    with pytest.raises(SetupError, match="--allow-host"):
        options_from_args(parser.parse_args(["serve", "--allow-host", "a.test:80"]), {})
