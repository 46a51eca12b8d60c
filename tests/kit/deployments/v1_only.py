"""A Credentials API on Flask + SQLite behind waitress, written from the published page alone.

It serves only the URL-versioned prefix (``/v1/api/credentials``), the way a
workspace that "uses URL versioning" would, and its readings of what the page
leaves open differ from the fake's:
- only ``Authorization: Bearer`` authenticates; the legacy
  ``X-Planasonix-Api-Key`` header alone is a 401;
- errors are JSON:API documents (``{"errors": [{"status", "code", "title",
  "detail", "source"}]}``, ``application/vnd.api+json``); a body the schema
  refuses is 422, a body that is not JSON is 400;
- timestamps are whole seconds with ``Z``, as in the page's examples;
- a soft-deleted id is hidden: GET and PUT answer 404, a repeated DELETE 410;
- lists are newest first, the cursor a keyset token.
Secret config fields are the contract registry's (the schemas' ``writeOnly``
marks, for any type); they live in their own table and never leave it.

``bug`` names the bugs of a broken copy, comma-separated: "leak" (a fragment
of a secret in the create answer), "isolation" (GET reads any workspace's
id), "lifecycle" (restore moves ``created_at``), "conflict_leak" (the 409 for
a taken name quotes the refused body, secrets included).
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import waitress
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from contracts.registry import secret_paths

TYPES = ("aws", "azure", "gcp", "database", "api_key", "oauth", "password")
KEYS = {"plnx_ind_a": "ws_a", "plnx_ind_b": "ws_b"}
READ_ONLY_KEYS = {"plnx_ind_ro": "ws_a"}
PREFIX = "/v1/api/credentials"
SCHEMA = """
CREATE TABLE credential (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL, ws TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    deleted_at TEXT, config TEXT NOT NULL
);
-- a name is unique among the workspace's live credentials only
CREATE UNIQUE INDEX live_name ON credential (ws, name) WHERE status = 'active';
CREATE TABLE secret (
    id TEXT NOT NULL REFERENCES credential (id) ON DELETE CASCADE,
    path TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (id, path)
);
"""


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.pointer = status, code, detail, pointer


def _error_document(status: int, code: str, title: str, detail: str, pointer: str | None) -> Any:
    error: dict[str, Any] = {"status": str(status), "code": code, "title": title, "detail": detail}
    if pointer:
        error["source"] = {"pointer": pointer}
    return {"errors": [error]}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(public config, {dotted path: JSON of the secret value}) of ``config``."""
    public, secret = copy.deepcopy(config), {}
    for path in {p for t in TYPES for p in secret_paths(t)}:
        node: Any = public
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            secret[".".join(path)] = json.dumps(node.pop(path[-1]))
    return public, secret


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(body: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_body", "The body must be a JSON object.", "")
    for field in ("name", "type", "config"):
        if field not in body:
            if not partial:
                raise ApiError(422, "missing_field", f"'{field}' is required.", f"/{field}")
            continue
        value, pointer = body[field], f"/{field}"
        if field == "name" and not (isinstance(value, str) and value.strip() and len(value) <= 255):
            raise ApiError(422, "invalid_field", "'name' must be 1 to 255 characters.", pointer)
        if field == "type" and value not in TYPES:
            raise ApiError(422, "invalid_field", f"'type' must be one of {TYPES}.", pointer)
        if field == "config" and not isinstance(value, dict):
            raise ApiError(422, "invalid_field", "'config' must be an object.", pointer)
    return body


class Store:
    """SQLite in memory; one connection behind a lock (waitress serves from threads)."""

    def __init__(self, bugs: set[str]) -> None:
        self.bugs = bugs
        self.lock = threading.Lock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.executescript(SCHEMA)

    def view(self, row: sqlite3.Row) -> dict[str, Any]:
        out = {k: row[k] for k in ("id", "name", "type", "status", "created_at", "updated_at")}
        out["config"] = json.loads(row["config"])
        return out

    def row(self, ws: str, cid: str, *, live: bool) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM credential WHERE id = ?", (cid,)).fetchone()
        if row is None or (row["ws"] != ws and "isolation" not in self.bugs):
            raise ApiError(404, "not_found", "No credential with this id.")
        if live and row["status"] != "active":
            raise ApiError(404, "not_found", "No credential with this id.")
        return row

    def taken(self, body: dict[str, Any]) -> ApiError:
        detail = "A live credential in this workspace already has this 'name'."
        if "conflict_leak" in self.bugs:
            detail += f" Refused: {json.dumps(body)}"
        return ApiError(409, "name_taken", detail, "/name")

    def create(self, ws: str, body: dict[str, Any]) -> dict[str, Any]:
        public, secret = _split(body["config"])
        cid, now = f"cred_{secrets.token_hex(8)}", _now()
        try:
            self.db.execute(
                "INSERT INTO credential (id, ws, name, type, status, created_at, updated_at,"
                " config) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
                (cid, ws, body["name"], body["type"], now, now, json.dumps(public)),
            )
        except sqlite3.IntegrityError:
            raise self.taken(body) from None
        self.db.executemany(
            "INSERT INTO secret VALUES (?, ?, ?)", [(cid, *s) for s in secret.items()]
        )
        out = self.view(self.row(ws, cid, live=True))
        texts = [v for v in map(json.loads, secret.values()) if isinstance(v, str)]
        if "leak" in self.bugs and texts:
            out["config"]["hint"] = texts[0][:8]
        return out

    def update(self, ws: str, cid: str, body: dict[str, Any]) -> dict[str, Any]:
        row = self.row(ws, cid, live=True)
        public, secret = _split(body.get("config", {}))
        if body.get("type", row["type"]) == row["type"]:
            public = _merge(json.loads(row["config"]), public)
        else:  # another type: the old settings do not apply to it
            self.db.execute("DELETE FROM secret WHERE id = ?", (cid,))
        try:
            self.db.execute(
                "UPDATE credential SET name = ?, type = ?, config = ?, updated_at = ? WHERE id = ?",
                (body.get("name", row["name"]), body.get("type", row["type"]),
                 json.dumps(public), _now(), cid),
            )  # fmt: skip
        except sqlite3.IntegrityError:
            raise self.taken(body) from None
        self.db.executemany(
            "INSERT OR REPLACE INTO secret VALUES (?, ?, ?)", [(cid, *s) for s in secret.items()]
        )
        return self.view(self.row(ws, cid, live=True))

    def delete(self, ws: str, cid: str) -> dict[str, Any]:
        row = self.row(ws, cid, live=False)
        if row["status"] == "deleted":
            raise ApiError(410, "already_deleted", "The credential is already deleted.")
        now = _now()
        self.db.execute(
            "UPDATE credential SET status = 'deleted', deleted_at = ?, updated_at = ? WHERE id = ?",
            (now, now, cid),
        )
        return {"id": cid, "status": "deleted", "deleted_at": now}

    def restore(self, ws: str, cid: str) -> dict[str, Any]:
        row = self.row(ws, cid, live=False)
        if row["status"] != "deleted":
            raise ApiError(409, "not_deleted", "Only a deleted credential can be restored.")
        now = _now()
        created = now if "lifecycle" in self.bugs else row["created_at"]
        try:
            self.db.execute(
                "UPDATE credential SET status = 'active', deleted_at = NULL, updated_at = ?,"
                " created_at = ? WHERE id = ?",
                (now, created, cid),
            )
        except sqlite3.IntegrityError:
            raise ApiError(409, "name_taken", "Another live credential has its name.") from None
        return {"id": cid, "status": "active", "deleted_at": None}

    def purge(self, ws: str, cid: str) -> dict[str, Any]:
        self.row(ws, cid, live=False)
        self.db.execute("DELETE FROM credential WHERE id = ?", (cid,))
        return {"id": cid, "purged": True}

    def page(self, ws: str, limit: int, before: int | None) -> dict[str, Any]:
        rows = self.db.execute(
            "SELECT * FROM credential WHERE ws = ? AND status = 'active' AND seq < ?"
            " ORDER BY seq DESC LIMIT ?",
            (ws, before if before is not None else 2**62, limit + 1),
        ).fetchall()
        cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            cursor = base64.urlsafe_b64encode(f"seq:{rows[-1]['seq']}".encode()).decode()
        return {
            "data": [self.view(r) for r in rows],
            "meta": {"page": {"limit": limit, "cursor": cursor}},
        }


def _workspace() -> tuple[str, bool]:
    """(workspace, may write) of the Bearer key; the legacy header is not read."""
    auth = request.headers.get("Authorization", "")
    key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
    if key in KEYS:
        return KEYS[key], True
    if key in READ_ONLY_KEYS:
        return READ_ONLY_KEYS[key], False
    raise ApiError(401, "unauthenticated", "Send 'Authorization: Bearer <api key>'.")


def _query_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ApiError(400, "invalid_parameter", f"'{name}' must be a positive integer.")
    return min(int(raw), 100)


def _cursor() -> int | None:
    raw = request.args.get("cursor")
    if not raw:
        return None
    try:
        tag, _, seq = base64.urlsafe_b64decode(raw.encode()).decode().partition(":")
        if tag == "seq" and seq.isdigit():
            return int(seq)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, "invalid_parameter", "'cursor' is not a cursor this API issued.")


def build(bug: str | None = None) -> Flask:
    store = Store(set((bug or "").split(",")) - {""})
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1 << 20

    def reply(status: int, data: Any) -> Response:
        return Response(json.dumps(data), status, mimetype="application/json")

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        titles = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
                  409: "Conflict", 410: "Gone", 422: "Unprocessable entity"}  # fmt: skip
        doc = _error_document(
            error.status, error.code, titles[error.status], error.detail, error.pointer
        )
        return Response(json.dumps(doc), error.status, mimetype="application/vnd.api+json")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        doc = _error_document(status, "http_error", error.name, error.name + ".", None)
        return Response(json.dumps(doc), status, mimetype="application/vnd.api+json")

    def body(*, partial: bool) -> dict[str, Any]:
        raw = request.get_data()
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ApiError(400, "malformed_json", "The body is not valid JSON.") from None
        return _validate(parsed, partial=partial)

    def writer() -> str:
        ws, may_write = _workspace()
        if not may_write:
            raise ApiError(403, "read_only_key", "This API key may only read.")
        return ws

    @app.get(PREFIX)
    def list_credentials() -> Response:
        ws, _ = _workspace()
        limit, before = _query_int("limit", 50), _cursor()
        with store.lock:
            return reply(200, store.page(ws, limit, before))

    @app.post(PREFIX)
    def create() -> Response:
        ws = writer()
        payload = body(partial=False)
        with store.lock:
            return reply(201, {"data": store.create(ws, payload)})

    @app.get(PREFIX + "/<cid>")
    def get(cid: str) -> Response:
        ws, _ = _workspace()
        with store.lock:
            return reply(200, {"data": store.view(store.row(ws, cid, live=True))})

    @app.put(PREFIX + "/<cid>")
    def update(cid: str) -> Response:
        ws = writer()
        payload = body(partial=True)
        with store.lock:
            return reply(200, {"data": store.update(ws, cid, payload)})

    @app.delete(PREFIX + "/<cid>")
    def delete(cid: str) -> Response:
        ws = writer()
        with store.lock:
            return reply(200, {"data": store.delete(ws, cid)})

    @app.post(PREFIX + "/<cid>/restore")
    def restore(cid: str) -> Response:
        ws = writer()
        with store.lock:
            return reply(200, {"data": store.restore(ws, cid)})

    @app.delete(PREFIX + "/<cid>/permanent")
    def purge(cid: str) -> Response:
        ws = writer()
        with store.lock:
            return reply(200, {"data": store.purge(ws, cid)})

    return app


@contextmanager
def serve(bug: str | None = None) -> Iterator[str]:
    """waitress on a free loopback port; yields the base URL (no ``/v1``); stops on exit."""
    server: Any = waitress.create_server(build(bug), host="127.0.0.1", port=0, threads=4, ident="")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.trigger.pull_trigger(lambda: [c.close() for c in list(server._map.values())])
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
