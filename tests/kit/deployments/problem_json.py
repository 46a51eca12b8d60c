"""A Credentials API written from the published page alone, on the standard library.

Its readings of what the page leaves open differ from the fake's:
- errors are RFC 7807 problem documents (``application/problem+json``);
- timestamps carry ``+00:00`` and microseconds;
- GET (and PUT) of a soft-deleted id answers 410 Gone, a repeated DELETE 404;
- lists are oldest first, the cursor an opaque keyset token.
Which config fields are secret comes from the contract registry (the schemas'
``writeOnly`` marks); they are stored apart and never leave.

``bug`` makes a one-bug copy: "leak" (a fragment of a secret in the create
answer), "isolation" (any workspace's id readable by GET), "lifecycle"
(restore moves ``created_at``).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from contracts.registry import secret_paths

TYPES = ("aws", "azure", "gcp", "database", "api_key", "oauth", "password")
KEYS = {"plnx_ind_a": "ws_a", "plnx_ind_b": "ws_b"}
READ_ONLY_KEYS = {"plnx_ind_ro": "ws_a"}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _split(type_: str, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public, secret) parts of ``config``, nested like the input.

    A field secret for any type is kept secret whatever type it arrives with: a
    ``session_token`` sent with ``type: azure`` is still a token.
    """
    public = copy.deepcopy(config)
    secret: dict[str, Any] = {}
    for path in {p for t in TYPES for p in secret_paths(t)}:
        node: Any = public
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            secret[".".join(path)] = node.pop(path[-1])
    return public, secret


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Store:
    def __init__(self, bug: str | None) -> None:
        self.bug = bug
        self.lock = threading.Lock()
        self.seq = itertools.count(1)
        self.records: dict[str, dict[str, Any]] = {}
        self.last = datetime.now(UTC)

    def now(self) -> str:
        # Never backwards, even if the wall clock is.
        self.last = max(self.last, datetime.now(UTC))
        return self.last.isoformat(timespec="microseconds")

    def view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: rec[k] for k in ("id", "name", "type", "status", "created_at", "updated_at")}
        out["config"] = copy.deepcopy(rec["public"])
        if rec["status"] == "deleted":
            out["deleted_at"] = rec["deleted_at"]
        return out

    def visible(self, ws: str, cid: str) -> dict[str, Any]:
        rec = self.records.get(cid)
        if rec is None or (rec["ws"] != ws and self.bug != "isolation"):
            raise Problem(404, "Not Found", "No such credential.")
        return rec

    def live(self, ws: str, cid: str) -> dict[str, Any]:
        rec = self.visible(ws, cid)
        if rec["status"] == "deleted":
            raise Problem(410, "Gone", "The credential is deleted; restore it first.")
        return rec

    def name_taken(self, ws: str, name: str, but: str | None) -> None:
        for rec in self.records.values():
            same = rec["ws"] == ws and rec["name"] == name and rec["id"] != but
            if same and rec["status"] != "deleted":
                raise Problem(409, "Conflict", "Field 'name' is already used in the workspace.")


def _check_body(body: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Problem(400, "Bad Request", "The body must be a JSON object.")
    for field in ("name", "type", "config"):
        if field not in body:
            if not partial:
                raise Problem(400, "Bad Request", f"Field '{field}' is required.")
            continue
        value = body[field]
        if field == "name" and (
            not isinstance(value, str) or not value.strip() or len(value) > 255
        ):
            raise Problem(400, "Bad Request", "Field 'name' must be a non-empty string.")
        if field == "type" and value not in TYPES:
            raise Problem(400, "Bad Request", f"Field 'type' must be one of {', '.join(TYPES)}.")
        if field == "config" and not isinstance(value, dict):
            raise Problem(400, "Bad Request", "Field 'config' must be an object.")
    return body


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY each answer
        # waits on the client's delayed ACK (about 40 ms per request).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # no request log: it could hold a secret

        def _send(self, status: int, payload: Any, ctype: str = "application/json") -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                status, payload = self._route(method, raw)
                self._send(status, payload)
            except Problem as p:
                doc = {
                    "type": "about:blank",
                    "title": p.title,
                    "status": p.status,
                    "detail": p.detail,
                }
                self._send(p.status, doc, "application/problem+json")

        do_GET = lambda self: self._dispatch("GET")  # noqa: E731
        do_POST = lambda self: self._dispatch("POST")  # noqa: E731
        do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731
        do_DELETE = lambda self: self._dispatch("DELETE")  # noqa: E731
        do_PATCH = lambda self: self._dispatch("PATCH")  # noqa: E731

        def _route(self, method: str, raw: bytes) -> tuple[int, Any]:
            url = urlsplit(self.path)
            path = url.path.rstrip("/")
            for prefix in ("/v1/api/credentials", "/api/credentials"):
                if path == prefix or path.startswith(prefix + "/"):
                    rest = [p for p in path[len(prefix) :].split("/") if p]
                    break
            else:
                raise Problem(404, "Not Found", "No such route.")
            auth = self.headers.get("Authorization", "")
            key = auth[7:] if auth.startswith("Bearer ") else ""
            ws = KEYS.get(key) or READ_ONLY_KEYS.get(key)
            if ws is None:
                raise Problem(401, "Unauthorized", "A valid API key is required.")
            if method != "GET" and key in READ_ONLY_KEYS:
                raise Problem(403, "Forbidden", "This key may only read.")
            body: Any = None
            if method in ("POST", "PUT") and raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Problem(400, "Bad Request", "The body is not valid JSON.") from None
            with store.lock:
                return self._act(method, rest, ws, body, parse_qs(url.query))

        def _act(
            self, method: str, rest: list[str], ws: str, body: Any, query: dict[str, list[str]]
        ) -> tuple[int, Any]:
            if not rest and method == "GET":
                return 200, self._list(ws, query)
            if not rest and method == "POST":
                return 201, {"data": self._create(ws, _check_body(body, partial=False))}
            if len(rest) == 1 and method == "GET":
                return 200, {"data": store.view(store.live(ws, rest[0]))}
            if len(rest) == 1 and method == "PUT":
                return 200, {"data": self._update(ws, rest[0], _check_body(body, partial=True))}
            if len(rest) == 1 and method == "DELETE":
                rec = store.visible(ws, rest[0])
                if rec["status"] == "deleted":
                    raise Problem(404, "Not Found", "No such credential.")
                rec["status"], rec["deleted_at"] = "deleted", store.now()
                rec["updated_at"] = rec["deleted_at"]
                return 200, {
                    "data": {"id": rec["id"], "status": "deleted", "deleted_at": rec["deleted_at"]}
                }
            if rest[1:] == ["restore"] and method == "POST":
                rec = store.visible(ws, rest[0])
                if rec["status"] != "deleted":
                    raise Problem(409, "Conflict", "The credential is not deleted.")
                store.name_taken(ws, rec["name"], rec["id"])
                rec["status"], rec["deleted_at"], rec["updated_at"] = "active", None, store.now()
                if store.bug == "lifecycle":
                    rec["created_at"] = rec["updated_at"]
                return 200, {"data": {"id": rec["id"], "status": "active", "deleted_at": None}}
            if rest[1:] == ["permanent"] and method == "DELETE":
                rec = store.visible(ws, rest[0])
                del store.records[rec["id"]]
                return 200, {"data": {"id": rec["id"], "purged": True}}
            raise Problem(405 if len(rest) <= 2 else 404, "Not Allowed", "No such operation.")

        def _list(self, ws: str, query: dict[str, list[str]]) -> dict[str, Any]:
            try:
                limit = int(query.get("limit", ["50"])[0])
            except ValueError:
                raise Problem(400, "Bad Request", "Parameter 'limit' must be an integer.") from None
            if limit < 1:
                raise Problem(400, "Bad Request", "Parameter 'limit' must be at least 1.")
            limit = min(limit, 200)
            after = 0
            if query.get("cursor", [""])[0]:
                try:
                    after = int(base64.urlsafe_b64decode(query["cursor"][0].encode()).decode())
                except (ValueError, UnicodeDecodeError):
                    raise Problem(400, "Bad Request", "Parameter 'cursor' is not valid.") from None
            rows = [
                r
                for r in sorted(store.records.values(), key=lambda r: r["seq"])
                if r["ws"] == ws and r["status"] != "deleted" and r["seq"] > after
            ]
            page = rows[:limit]
            cursor = None
            if len(rows) > limit:
                cursor = base64.urlsafe_b64encode(str(page[-1]["seq"]).encode()).decode()
            return {
                "data": [store.view(r) for r in page],
                "meta": {"page": {"limit": limit, "cursor": cursor}},
            }

        def _create(self, ws: str, body: dict[str, Any]) -> dict[str, Any]:
            store.name_taken(ws, body["name"], None)
            public, secret = _split(body["type"], body["config"])
            seq = next(store.seq)
            now = store.now()
            rec = {
                "id": f"cred_{seq:06d}{threading.get_ident() % 997:03d}",
                "seq": seq,
                "ws": ws,
                "name": body["name"],
                "type": body["type"],
                "status": "active",
                "created_at": now,
                "updated_at": now,
                "public": public,
                "secret": secret,
            }
            store.records[rec["id"]] = rec
            out = store.view(rec)
            if store.bug == "leak" and secret:
                out["config"]["hint"] = str(next(iter(secret.values())))[:8]
            return out

        def _update(self, ws: str, cid: str, body: dict[str, Any]) -> dict[str, Any]:
            rec = store.live(ws, cid)
            if "name" in body:
                store.name_taken(ws, body["name"], cid)
            type_ = body.get("type", rec["type"])
            if type_ != rec["type"]:
                public, secret = _split(type_, body.get("config", {}))
            else:
                public, secret = _split(type_, body.get("config", {}))
                public, secret = _merge(rec["public"], public), {**rec["secret"], **secret}
            rec.update(name=body.get("name", rec["name"]), type=type_, public=public, secret=secret)
            rec["updated_at"] = store.now()
            return store.view(rec)

    return Handler


@contextmanager
def serve(bug: str | None = None) -> Iterator[str]:
    """Serve on a free loopback port; yield the base URL; stop on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Store(bug)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
