"""Plain Starlette behind an edge proxy: a Credentials API written from the published page alone.

Two servers, as a platform team would run them: the Starlette backend, and in
front of it an edge (a bare ASGI app forwarding with httpx) that is the only
address handed out. The edge adds its own headers to every answer (``Via``,
``X-Edge-Request-Id``, ``Strict-Transport-Security``), gzips answers of 512
bytes or more for a client that accepts it, answers a CORS preflight
(``OPTIONS``) itself, and refuses some requests in its own non-JSON bodies: a
``text/plain`` 404 for any path outside ``/api/`` and ``/v1/api/``, a
``text/plain`` 401 when there is no ``Authorization`` header at all, an HTML
413 for a body over 32 KiB.

The backend's readings of what the page leaves open differ from the fake's and
from the other deployments':
- errors are ``{"error": "<message>", "code": "<code>"}``; a refused body is
  400 (unknown top-level fields and an empty update included), a type change on
  update is refused; names are stored trimmed;
- an ``Authorization`` header whose key is not valid is a 403 (no header at all
  is the edge's 401); a read-only key's write is a 403 too;
- ids are ``cred_`` and 32 hex digits; any other id is refused as malformed
  (400) before it is looked up, so an id the client made up is a 400, not a 404;
- a create answers 200 (the page shows the body, not a status);
- timestamps carry milliseconds and ``+00:00``; an update that changes nothing
  and a soft delete leave ``updated_at`` as it was;
- a soft-deleted credential stays in the workspace: GET answers 200 with
  ``status: deleted``, lists show it, its name stays taken (names compare
  case-insensitively); a repeated DELETE answers 200 with the same
  ``deleted_at``; restoring an active credential answers 200 unchanged; PUT of
  a deleted one is 409, and so is a permanent delete of one not soft-deleted first;
- both ``/api`` and ``/v1/api`` are served; only ``Authorization: Bearer``
  authenticates (the scheme matched case-insensitively);
- records carry ``created_by``, ``deleted_at``, ``secrets_set`` (the names of
  the secret fields stored, never their values; the config shows
  ``<secret>_set: true`` beside each, so only on the credentials that hold
  one) and an ``etag`` (also the
  ``ETag`` header of a single credential); a single record's answer has a
  ``meta.request_id``, a list's ``meta`` a ``remaining`` count and
  ``page.has_more``;
- lists are most recently changed first (``updated_at``, then creation,
  descending), 20 to a page unless ``limit`` (1..100, else 400) says otherwise,
  the cursor an opaque keyset token; any query parameter but ``limit`` and
  ``cursor`` (filters included) is a 400;
- config values are stored and echoed as sent, ``null`` in an update removes a
  field; nested objects merge.
Secret config fields are the contract registry's (the schemas' ``writeOnly``
marks, for any type); they are kept in their own store and never leave it.

``strict_config=True`` also checks the formats of a few settings, as a backend
that knows the providers would (a database ``port`` is a port number, an Azure
``tenant_id`` a GUID, an AWS ``region`` a region name, a GCP
``service_account_json`` string a JSON object): right by the page, which gives
no formats, while the kit draws its configs from the fake's schemas. ``run``
lists the probes those refusals stopped as not run; ``learn`` and ``diff`` go
on with a password credential instead (test_false_alarms.py).

``bug`` makes a one-bug copy: "leak" (the ``ETag`` of a created credential is
cut from a secret), "isolation" (GET reads any workspace's id), "lifecycle"
(an update moves ``created_at``).
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contracts.registry import secret_paths

TYPES = ("aws", "azure", "gcp", "database", "api_key", "oauth", "password")
KEYS = {"plnx_ind_a": "ws_a", "plnx_ind_b": "ws_b"}
READ_ONLY_KEYS = {"plnx_ind_ro": "ws_a"}
USERS = {"plnx_ind_a": "usr_team_alpha", "plnx_ind_b": "usr_team_beta"}
SECRET_PATHS = {path for t in TYPES for path in secret_paths(t)}
EDGE_BODY_LIMIT = 32 * 1024
FIELDS = ("name", "type", "config")
ID = re.compile("cred_[0-9a-f]{32}")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _split(config: dict[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, ...], Any]]:
    """(config without its secret fields, {path: secret value})."""
    public, secret = copy.deepcopy(config), {}
    for path in SECRET_PATHS:
        node: Any = public
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            secret[path] = node.pop(path[-1])
    return public, secret


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` over ``old``: nested objects merge, ``null`` removes a field."""
    out = copy.deepcopy(old)
    for key, value in new.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


GUID = re.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
REGION = re.compile("[a-z]{2}(-[a-z]+)+-[0-9]")


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _config_problem(type_: str, config: dict[str, Any]) -> str | None:
    """What the backend knows of each type's settings (the page gives no formats)."""
    port = config.get("port")
    if type_ == "database" and port is not None and not _is_port(port):
        return "Field 'config.port' must be a port number."
    tenant = config.get("tenant_id")
    if (
        type_ == "azure"
        and tenant is not None
        and not (isinstance(tenant, str) and GUID.fullmatch(tenant))
    ):
        return "Field 'config.tenant_id' must be a directory GUID."
    region = config.get("region")
    if (
        type_ == "aws"
        and region is not None
        and not (isinstance(region, str) and REGION.fullmatch(region))
    ):
        return "Field 'config.region' must be an AWS region name."
    key_file = config.get("service_account_json")
    if type_ == "gcp" and isinstance(key_file, str):
        try:
            parsed = json.loads(key_file)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            return "Field 'config.service_account_json' must be a key file (a JSON object)."
    return None


def _check_config(type_: str, config: dict[str, Any]) -> None:
    problem = _config_problem(type_, config)
    if problem is not None:
        raise ApiError(400, "invalid_config", problem)


def _checked(body: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "The request body must be a JSON object.")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ApiError(400, "unknown_field", f"Field '{unknown[0]}' is not accepted.")
    if partial and not body:
        raise ApiError(400, "empty_update", "Send at least one of 'name', 'type', 'config'.")
    for field in FIELDS:
        if field not in body:
            if not partial:
                raise ApiError(400, "missing_field", f"Field '{field}' is required.")
            continue
        value = body[field]
        if field == "name" and not (isinstance(value, str) and value.strip() and len(value) <= 128):
            raise ApiError(400, "invalid_name", "Field 'name' must be 1 to 128 characters.")
        if field == "type" and value not in TYPES:
            raise ApiError(400, "invalid_type", "Field 'type' is not a credential type.")
        if field == "config" and not isinstance(value, dict):
            raise ApiError(400, "invalid_config", "Field 'config' must be an object.")
    if isinstance(body.get("name"), str):  # stored as shown in the UI: trimmed
        body["name"] = body["name"].strip()
    return body


class Store:
    def __init__(self, bug: str | None, strict_config: bool = False) -> None:
        self.bug, self.strict_config = bug, strict_config
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[tuple[str, ...], Any]] = {}  # apart from the records
        self.seq = itertools.count(1)

    def view(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: rec[k] for k in ("id", "name", "type", "status", "created_at", "updated_at")}
        out["deleted_at"] = rec["deleted_at"]
        out["created_by"] = rec["created_by"]
        out["config"] = copy.deepcopy(rec["config"])
        for path in self.secrets[rec["id"]]:  # a hint beside each secret stored: never its value
            node = out["config"]
            for part in path[:-1]:
                node = node.setdefault(part, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node[path[-1] + "_set"] = True
        out["secrets_set"] = sorted(".".join(p) for p in self.secrets[rec["id"]])
        digest = hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest()
        out["etag"] = f'W/"{digest[:20]}"'
        return out

    def find(self, ws: str, cid: str) -> dict[str, Any]:
        if not ID.fullmatch(cid):
            raise ApiError(400, "invalid_id", "Not a credential id: 'cred_' and 32 hex digits.")
        rec = self.records.get(cid)
        if rec is None or (rec["ws"] != ws and self.bug != "isolation"):
            raise ApiError(404, "not_found", "Credential not found.")
        return rec

    def check_name(self, ws: str, name: str, but: str | None) -> None:
        # Unique within the workspace: a soft-deleted credential is still in it.
        folded = name.casefold()
        if any(
            r["ws"] == ws and r["name"].casefold() == folded and r["id"] != but
            for r in self.records.values()
        ):
            raise ApiError(409, "name_conflict", "A credential with this name already exists.")

    def create(self, ws: str, user: str, body: dict[str, Any]) -> dict[str, Any]:
        self.check_name(ws, body["name"], None)
        if self.strict_config:
            _check_config(body["type"], body["config"])
        public, secret = _split(body["config"])
        n, now = next(self.seq), _now()
        cid = "cred_" + uuid.uuid4().hex
        rec = {"id": cid, "seq": n, "ws": ws, "name": body["name"], "type": body["type"],
               "status": "active", "created_at": now, "updated_at": now, "deleted_at": None,
               "created_by": user, "config": public}  # fmt: skip
        self.records[cid], self.secrets[cid] = rec, secret
        return rec

    def update(self, ws: str, cid: str, body: dict[str, Any]) -> dict[str, Any]:
        rec = self.find(ws, cid)
        if rec["status"] == "deleted":
            raise ApiError(409, "credential_deleted", "Restore the credential before updating it.")
        if body.get("type", rec["type"]) != rec["type"]:
            raise ApiError(400, "type_immutable", "Field 'type' cannot be changed.")
        before = (rec["name"], copy.deepcopy(rec["config"]), dict(self.secrets[cid]))
        if "name" in body:
            self.check_name(ws, body["name"], cid)
            rec["name"] = body["name"]
        if "config" in body:
            if self.strict_config:
                _check_config(rec["type"], body["config"])
            public, secret = _split(body["config"])
            rec["config"] = _merge(rec["config"], public)
            stored = self.secrets[cid]
            for path, value in secret.items():
                if value is None:
                    stored.pop(path, None)
                else:
                    stored[path] = value
        if (rec["name"], rec["config"], self.secrets[cid]) != before:
            rec["updated_at"] = max(rec["updated_at"], _now())
        if self.bug == "lifecycle":
            rec["created_at"] = rec["updated_at"]
        return rec

    def delete(self, ws: str, cid: str) -> dict[str, Any]:
        rec = self.find(ws, cid)
        if rec["status"] != "deleted":  # a repeated delete changes nothing
            rec["status"], rec["deleted_at"] = "deleted", max(rec["updated_at"], _now())
        return rec

    def restore(self, ws: str, cid: str) -> dict[str, Any]:
        rec = self.find(ws, cid)
        if rec["status"] == "deleted":  # restoring an active one changes nothing
            rec["status"], rec["deleted_at"] = "active", None
            rec["updated_at"] = max(rec["updated_at"], _now())
        return rec

    def purge(self, ws: str, cid: str) -> None:
        if self.find(ws, cid)["status"] != "deleted":
            raise ApiError(409, "not_deleted", "Soft-delete the credential before purging it.")
        del self.records[cid], self.secrets[cid]

    def page(self, ws: str, limit: int, before: tuple[str, int] | None) -> dict[str, Any]:
        # Most recently changed first: a keyset on (updated_at, seq), both descending.
        rows = sorted(
            (
                r
                for r in self.records.values()
                if r["ws"] == ws and (before is None or (r["updated_at"], r["seq"]) < before)
            ),
            key=lambda r: (r["updated_at"], r["seq"]),
            reverse=True,
        )
        page, total = rows[:limit], len(rows)
        cursor = None
        if len(rows) > limit:
            last = f"{page[-1]['updated_at']}|{page[-1]['seq']}"
            cursor = base64.urlsafe_b64encode(f"before={last}".encode()).decode()
        return {
            "data": [self.view(r) for r in page],
            "meta": {
                "page": {"limit": limit, "cursor": cursor, "has_more": cursor is not None},
                "remaining": total,
            },
        }


def _caller(request: Request, *, write: bool) -> tuple[str, str]:
    """(workspace, user) of the Bearer key; only ``Authorization`` is read."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    if key in KEYS:
        return KEYS[key], USERS[key]
    if key in READ_ONLY_KEYS:
        if write:
            raise ApiError(403, "forbidden", "This API key may only read.")
        return READ_ONLY_KEYS[key], ""
    # A header was sent (the edge refuses requests without one): its key is not valid.
    raise ApiError(403, "invalid_api_key", "The API key is not valid.")


def _limit(request: Request) -> int:
    unknown = sorted(set(request.query_params) - {"limit", "cursor"})
    if unknown:
        raise ApiError(400, "unknown_parameter", f"Parameter '{unknown[0]}' is not supported.")
    raw = request.query_params.get("limit", "20")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 100):
        raise ApiError(400, "invalid_limit", "Parameter 'limit' must be an integer from 1 to 100.")
    return int(raw)


def _before(request: Request) -> tuple[str, int] | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    try:
        tag, _, key = base64.urlsafe_b64decode(raw.encode()).decode().partition("=")
    except (ValueError, UnicodeDecodeError):
        tag, key = "", ""
    stamp, _, seq = key.partition("|")
    if tag != "before" or not stamp or not (seq.isascii() and seq.isdigit()):
        raise ApiError(400, "invalid_cursor", "Parameter 'cursor' is not a cursor from this API.")
    return stamp, int(seq)


async def _body(request: Request, *, partial: bool) -> dict[str, Any]:
    try:
        parsed = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.") from None
    return _checked(parsed, partial=partial)


def build(bug: str | None = None, *, strict_config: bool = False) -> Starlette:
    """The backend: Starlette routes under both prefixes, errors as ``{"error", "code"}``."""
    store = Store(bug, strict_config)

    def one(rec: dict[str, Any], status: int = 200) -> JSONResponse:
        view = store.view(rec)
        body = {"data": view, "meta": {"request_id": uuid.uuid4().hex}}
        return JSONResponse(body, status, headers={"ETag": view["etag"]})

    async def collection(request: Request) -> Response:
        if request.method == "GET":
            ws, _ = _caller(request, write=False)
            limit, before = _limit(request), _before(request)
            with store.lock:
                return JSONResponse(store.page(ws, limit, before))
        ws, user = _caller(request, write=True)
        body = await _body(request, partial=False)
        with store.lock:
            rec = store.create(ws, user, body)
            answer = one(rec)
            secret = [v for v in store.secrets[rec["id"]].values() if isinstance(v, str)]
            if bug == "leak" and secret:
                answer.headers["ETag"] = f'W/"{secret[0][-10:]}"'
        answer.headers["Location"] = f"{request.url.path}/{rec['id']}"
        return answer

    async def item(request: Request) -> Response:
        cid = request.path_params["cid"]
        if request.method == "GET":
            ws, _ = _caller(request, write=False)
            with store.lock:
                return one(store.find(ws, cid))
        ws, _ = _caller(request, write=True)
        if request.method == "PUT":
            body = await _body(request, partial=True)
            with store.lock:
                return one(store.update(ws, cid, body))
        with store.lock:
            return one(store.delete(ws, cid))

    async def restore(request: Request) -> Response:
        ws, _ = _caller(request, write=True)
        with store.lock:
            return one(store.restore(ws, request.path_params["cid"]))

    async def purge(request: Request) -> Response:
        ws, _ = _caller(request, write=True)
        cid = request.path_params["cid"]
        with store.lock:
            store.purge(ws, cid)
        return JSONResponse({"data": {"id": cid, "purged": True}})

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return JSONResponse({"error": exc.message, "code": exc.code}, exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": str(exc.detail), "code": code}, exc.status_code)

    routes = []
    for prefix in ("/api/credentials", "/v1/api/credentials"):
        routes += [
            Route(prefix, collection, methods=["GET", "POST"]),
            Route(prefix + "/{cid}", item, methods=["GET", "PUT", "DELETE"]),
            Route(prefix + "/{cid}/restore", restore, methods=["POST"]),
            Route(prefix + "/{cid}/permanent", purge, methods=["DELETE"]),
        ]
    return Starlette(
        routes=routes, exception_handlers={ApiError: api_error, HTTPException: http_error}
    )


# Headers that describe one hop and are not forwarded (RFC 9110, 7.6.1), and
# those the edge's own server sets again.
HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
       "upgrade", "host", "content-length", "server", "date"}  # fmt: skip
EDGE_HEADERS = [
    (b"via", b"1.1 plnx-edge"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"set-cookie", b"plnx_edge_lb=node-2; Path=/; Secure; HttpOnly"),
    (b"x-ratelimit-limit", b"600"),
]
HTML_413 = (
    "<html><head><title>413 Request Entity Too Large</title></head><body>"
    "<center><h1>413 Request Entity Too Large</h1></center><hr><center>plnx-edge</center>"
    "</body></html>\n"
)


class Edge:
    """A reverse proxy in front of the backend, answering what it can refuse by itself."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.URL(upstream)
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = uuid.uuid4().hex
        body, more = b"", True
        while more:  # read it all, so a refusal does not cut the client off mid-send
            message = await receive()
            body += message.get("body", b"") if len(body) <= EDGE_BODY_LIMIT else b""
            more = message.get("more_body", False)
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if not (path.startswith(("/api/", "/v1/api/")) or path in ("/api", "/v1/api")):
            await self.reply(send, request_id, 404, "text/plain", "404 page not found\n")
        elif scope["method"] == "OPTIONS":  # a CORS preflight never reaches the backend
            cors = [(b"allow", b"GET, POST, PUT, DELETE, OPTIONS"),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-allow-headers", b"authorization, content-type"),
                    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE")]  # fmt: skip
            await self.send(send, 204, cors, b"", request_id)
        elif "authorization" not in headers:
            extra = [(b"www-authenticate", b'Bearer realm="planasonix"')]
            text = "401 Unauthorized: an Authorization header is required\n"
            await self.reply(send, request_id, 401, "text/plain", text, extra)
        elif len(body) > EDGE_BODY_LIMIT:
            await self.reply(send, request_id, 413, "text/html", HTML_413)
        else:
            await self.forward(scope, body, request_id, send)

    async def reply(
        self,
        send: Send,
        request_id: str,
        status: int,
        media: str,
        text: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        data = text.encode()
        headers = [(b"content-type", f"{media}; charset=utf-8".encode()),
                   (b"content-length", str(len(data)).encode()), *(extra or [])]  # fmt: skip
        await self.send(send, status, headers, data, request_id)

    async def send(
        self, send: Send, status: int, headers: list[tuple[bytes, bytes]], data: bytes, rid: str
    ) -> None:
        headers = [*headers, *EDGE_HEADERS, (b"x-edge-request-id", rid.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def forward(self, scope: Scope, body: bytes, request_id: str, send: Send) -> None:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=30)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            raw_path += b"?" + scope["query_string"]
        url = self.upstream.copy_with(raw_path=raw_path)
        headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in HOP]
        headers += [(b"x-edge-request-id", request_id.encode()),
                    (b"x-forwarded-for", scope["client"][0].encode())]  # fmt: skip
        try:
            answer = await self.client.request(scope["method"], url, headers=headers, content=body)
        except httpx.HTTPError:
            await self.reply(send, request_id, 502, "text/html", "<h1>502 Bad Gateway</h1>\n")
            return
        kept = [(k.lower(), v) for k, v in answer.headers.raw if k.decode().lower() not in HOP]
        data = answer.content
        accepted = dict(scope["headers"]).get(b"accept-encoding", b"")
        if b"gzip" in accepted and len(data) >= 512 and "content-encoding" not in answer.headers:
            data = gzip.compress(data)
            kept += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        kept.append((b"content-length", str(len(data)).encode()))
        await self.send(send, answer.status_code, kept, data, request_id)


@contextmanager
def _uvicorn(app: Any) -> Iterator[int]:
    """uvicorn in a thread on a free loopback port; yields the port; stops on exit."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(bug: str | None = None, *, strict_config: bool = False) -> Iterator[str]:
    """The backend and its edge; yields the edge's base URL (the only one handed out)."""
    app = build(bug, strict_config=strict_config)
    with _uvicorn(app) as backend, _uvicorn(Edge(f"http://127.0.0.1:{backend}")) as edge:
        yield f"http://127.0.0.1:{edge}"
