"""Broken variants of the fake for the proxy's tests, and plain traffic to send them.

Each variant is a small WSGI middleware around the real fake that breaks one
rule; :func:`drive` is traffic an application might send (not the kit's): it
creates, pages, reads, updates, deletes, restores and purges a few
credentials, and sends one invalid create that carries a secret.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import requests
from broken_variants import Middleware, _secret_values
from werkzeug.wrappers import Request, Response

KEY = "plnx_test_proxy_a"
KEYS = {KEY: "ws_proxy_a"}
JSON = Any
WsgiApp = Callable[..., Any]


def fake_app() -> WsgiApp:
    from mockserver.app import create_app

    return create_app(keys=KEYS)


def _segments(path: str) -> list[str]:
    idx = path.find("/credentials")
    return [p for p in path[idx + len("/credentials") :].split("/") if p] if idx >= 0 else []


# The variants are broken_variants' pass-through middleware (it records the
# secrets every request carried in ``secrets``), with their own rewrites.
Variant = Middleware


class LeakOnPageTwo(Variant):
    """Pages after the first carry a secret sent earlier, in a debug field."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = json.loads(response.get_data() or b"null")
        paged = "cursor" in request.args and isinstance(data, dict) and data.get("data")
        if paged and self.secrets:
            data["data"][0]["debug"] = self.secrets[0]
            return self.with_json(response, data)
        return response


class LeakInError(Variant):
    """A refused request's error message quotes the secret it carried."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        sent = _secret_values(body)
        if response.status_code >= 400 and sent:
            data = json.loads(response.get_data())
            data["error"]["message"] += f" (got {sent[0]})"
            return self.with_json(response, data)
        return response


class RestoreLosesConfig(Variant):
    """After a restore, the credential comes back with an empty config."""

    def __init__(self, app: WsgiApp) -> None:
        super().__init__(app)
        self.restored: set[str] = set()

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        parts = _segments(request.path)
        if parts[1:] == ["restore"] and response.status_code == 200:
            self.restored.add(parts[0])
        if request.method != "GET" or response.status_code != 200:
            return response
        data = json.loads(response.get_data())
        items = data["data"] if isinstance(data["data"], list) else [data["data"]]
        for item in items:
            if item.get("id") in self.restored:
                item["config"] = {}
        return self.with_json(response, data)


class PurgeLeavesReadable(Variant):
    """A purge answers 200, but GET of the id still answers the old view."""

    def __init__(self, app: WsgiApp) -> None:
        super().__init__(app)
        self.ghosts: dict[str, bytes] = {}

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        parts = _segments(request.path)
        if request.method == "DELETE" and parts[1:] == ["permanent"]:
            found = self.inner.get(
                f"/api/credentials/{parts[0]}",
                headers={"Authorization": request.headers.get("Authorization", "")},
            )
            if found.status_code == 200:
                self.ghosts[parts[0]] = found.get_data()
        return None

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        parts = _segments(request.path)
        if request.method == "GET" and len(parts) == 1 and parts[0] in self.ghosts:
            return Response(self.ghosts[parts[0]], status=200, mimetype="application/json")
        return response


# name -> (variant, the check that must report it, words its message must hold)
BROKEN: dict[str, tuple[Callable[[WsgiApp], Variant], str, str]] = {
    "leak on page 2": (LeakOnPageTwo, "secret-non-echo", "list answered 200"),
    "leak in an error": (LeakInError, "secret-non-echo", "create answered 400"),
    "restore loses config": (RestoreLosesConfig, "lifecycle", "invariant 2"),
    "purge leaves the id readable": (PurgeLeavesReadable, "lifecycle", "invariant 3"),
}


def canary() -> str:
    return "pxy" + secrets.token_urlsafe(24)


def drive(base_url: str, session: requests.Session | None = None) -> list[str]:
    """Plain traffic through ``base_url``; returns every secret it sent."""
    http = session or requests.Session()
    headers = {"Authorization": f"Bearer {KEY}"}
    sent: list[str] = []

    def call(method: str, path: str, body: JSON = None, **params: Any) -> requests.Response:
        return http.request(
            method,
            base_url + path,
            json=body,
            params=params or None,
            headers=headers,
            timeout=30,
        )

    def create(name: str, type_: str, config: dict[str, JSON]) -> str:
        reply = call("POST", "/api/credentials", {"name": name, "type": type_, "config": config})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["data"]["id"])

    ids = []
    for n in range(3):
        sent.append(canary())
        ids.append(create(f"app-ftp-{n}", "password", {"username": f"u{n}", "password": sent[-1]}))
    sent += [canary(), canary()]
    db = create(
        "app-db",
        "database",
        {
            "engine": "postgresql",
            "host": "db.example.com",
            "port": 5432,
            "username": "etl",
            "password": sent[-2],
            "ssh_tunnel": {
                "host": "bastion.example.com",
                "username": "jump",
                "private_key": sent[-1],
            },
        },
    )
    page = call("GET", "/api/credentials", limit=1).json()
    while page["meta"]["page"]["cursor"]:
        page = call(
            "GET", "/api/credentials", limit=1, cursor=page["meta"]["page"]["cursor"]
        ).json()
    for cred_id in [*ids, db]:
        call("GET", f"/api/credentials/{cred_id}")
    sent.append(canary())
    bad = {"name": "app-bad", "type": "database", "config": {"port": "x", "password": sent[-1]}}
    assert call("POST", "/api/credentials", bad).status_code in (400, 422)
    assert (
        call(
            "POST",
            "/api/credentials",
            {"name": "app-ftp-0", "type": "password", "config": {"password": canary()}},
        ).status_code
        == 409
    )
    sent.append(canary())
    call("PUT", f"/api/credentials/{ids[0]}", {"config": {"username": "u0", "password": sent[-1]}})
    call("GET", f"/api/credentials/{ids[0]}")
    # soft delete and restore
    call("DELETE", f"/api/credentials/{ids[1]}")
    call("GET", f"/api/credentials/{ids[1]}")
    call("POST", f"/api/credentials/{ids[1]}/restore")
    call("GET", f"/api/credentials/{ids[1]}")
    call("GET", "/api/credentials")
    # permanent delete
    call("DELETE", f"/api/credentials/{ids[2]}")
    call("DELETE", f"/api/credentials/{ids[2]}/permanent")
    call("GET", f"/api/credentials/{ids[2]}")
    call("GET", "/api/credentials", status="all")
    return sent


def variants() -> Iterator[tuple[str, Callable[[WsgiApp], Variant], str, str]]:
    for name, (factory, check, words) in BROKEN.items():
        yield name, factory, check, words
