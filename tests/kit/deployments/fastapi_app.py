"""A Credentials API on FastAPI + pydantic, written from the published page alone.

Its readings of what the page leaves open: FastAPI's 422 ``{"detail": [...]}``
for a refused body (without the ``input`` member FastAPI puts there by default,
which would echo a sent password) and ``{"detail": "..."}`` for other errors; soft-deleted
credentials stay readable by id (200, ``status: deleted``); a repeated DELETE is
404; lists are newest first with an offset cursor. Secret fields are those the
contract registry derives from the schemas' ``writeOnly`` marks, for any type.

``bug``: "leak" (a secret fragment in the create answer), "isolation" (GET reads
any workspace's id), "lifecycle" (restore drops the config).
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.registry import secret_paths

Type = Literal["aws", "azure", "gcp", "database", "api_key", "oauth", "password"]
TYPES: tuple[str, ...] = ("aws", "azure", "gcp", "database", "api_key", "oauth", "password")
KEYS = {"plnx_ind_a": "ws_a", "plnx_ind_b": "ws_b"}
READ_ONLY_KEYS = {"plnx_ind_ro": "ws_a"}


class CreateBody(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    type: Type
    config: dict[str, Any]


class UpdateBody(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: Type | None = None
    config: dict[str, Any] | None = None


def _split(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    public, secret = copy.deepcopy(config), {}
    for path in {p for t in TYPES for p in secret_paths(t)}:
        node: Any = public
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            secret[".".join(path)] = node.pop(path[-1])
    return public, secret


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build(bug: str | None = None) -> FastAPI:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def refused(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 body, less its "input" and "ctx" members: they echo what
        # was sent, and a refused body may hold a password.
        detail = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    records: dict[str, dict[str, Any]] = {}
    seq = itertools.count(1)
    lock = threading.Lock()

    def workspace(authorization: str | None, write: bool) -> str:
        key = (authorization or "").removeprefix("Bearer ")
        ws = KEYS.get(key) or READ_ONLY_KEYS.get(key)
        if ws is None or not (authorization or "").startswith("Bearer "):
            raise HTTPException(401, "Not authenticated")
        if write and key in READ_ONLY_KEYS:
            raise HTTPException(403, "This key may only read")
        return ws

    def find(ws: str, cid: str, *, any_ws: bool = False) -> dict[str, Any]:
        rec = records.get(cid)
        if rec is None or (rec["ws"] != ws and not any_ws):
            raise HTTPException(404, "Credential not found")
        return rec

    def view(rec: dict[str, Any]) -> dict[str, Any]:
        out = {k: rec[k] for k in ("id", "name", "type", "status", "created_at", "updated_at")}
        out["config"] = copy.deepcopy(rec["public"])
        out["deleted_at"] = rec["deleted_at"]
        return out

    def taken(ws: str, name: str, but: str | None) -> None:
        if any(
            r["ws"] == ws and r["name"] == name and r["id"] != but and r["status"] == "active"
            for r in records.values()
        ):
            raise HTTPException(409, "A credential with this name already exists")

    for prefix in ("/api/credentials", "/v1/api/credentials"):

        @app.get(prefix)
        def list_(
            authorization: str | None = Header(default=None),
            limit: int = Query(default=50, ge=1),
            cursor: str | None = None,
        ) -> dict[str, Any]:
            ws = workspace(authorization, False)
            with lock:
                rows = sorted(
                    (r for r in records.values() if r["ws"] == ws and r["status"] == "active"),
                    key=lambda r: -r["seq"],
                )
                if cursor is not None:
                    if not cursor.isdigit():
                        raise HTTPException(400, "Invalid cursor")
                    rows = [r for r in rows if r["seq"] < int(cursor)]
                limit = min(limit, 100)
                page = rows[:limit]
                nxt = str(page[-1]["seq"]) if len(rows) > limit else None
                return {
                    "data": [view(r) for r in page],
                    "meta": {"page": {"limit": limit, "cursor": nxt}},
                }

        @app.post(prefix, status_code=201)
        def create(
            body: CreateBody, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            ws = workspace(authorization, True)
            with lock:
                taken(ws, body.name, None)
                public, secret = _split(body.config)
                n = next(seq)
                now = _stamp()
                rec = {
                    "id": f"cred_fa{n:08d}",
                    "seq": n,
                    "ws": ws,
                    "name": body.name,
                    "type": body.type,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                    "public": public,
                    "secret": secret,
                }
                records[rec["id"]] = rec
                out = view(rec)
                if bug == "leak" and secret:
                    out["config"]["note"] = "ends with " + str(next(iter(secret.values())))[-8:]
                return {"data": out}

        @app.get(prefix + "/{cid}")
        def get(cid: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
            ws = workspace(authorization, False)
            with lock:
                return {"data": view(find(ws, cid, any_ws=bug == "isolation"))}

        @app.put(prefix + "/{cid}")
        def update(
            cid: str, body: UpdateBody, authorization: str | None = Header(default=None)
        ) -> dict[str, Any]:
            ws = workspace(authorization, True)
            with lock:
                rec = find(ws, cid)
                if body.name is not None:
                    taken(ws, body.name, cid)
                    rec["name"] = body.name
                if body.config is not None:
                    public, secret = _split(body.config)
                    if body.type is not None and body.type != rec["type"]:
                        rec["public"], rec["secret"] = public, secret
                    else:
                        rec["public"] = {**rec["public"], **public}
                        rec["secret"] = {**rec["secret"], **secret}
                if body.type is not None:
                    rec["type"] = body.type
                rec["updated_at"] = max(rec["updated_at"], _stamp())
                return {"data": view(rec)}

        @app.delete(prefix + "/{cid}")
        def delete(cid: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
            ws = workspace(authorization, True)
            with lock:
                rec = find(ws, cid)
                if rec["status"] == "deleted":
                    raise HTTPException(404, "Credential not found")
                rec["status"], rec["deleted_at"] = "deleted", _stamp()
                rec["updated_at"] = max(rec["updated_at"], rec["deleted_at"])
                return {"data": {"id": cid, "status": "deleted", "deleted_at": rec["deleted_at"]}}

        @app.post(prefix + "/{cid}/restore")
        def restore(cid: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
            ws = workspace(authorization, True)
            with lock:
                rec = find(ws, cid)
                if rec["status"] != "deleted":
                    raise HTTPException(409, "Credential is not deleted")
                taken(ws, rec["name"], cid)
                rec["status"], rec["deleted_at"] = "active", None
                rec["updated_at"] = max(rec["updated_at"], _stamp())
                if bug == "lifecycle":
                    rec["public"] = {}
                return {"data": {"id": cid, "status": "active", "deleted_at": None}}

        @app.delete(prefix + "/{cid}/permanent")
        def purge(cid: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
            ws = workspace(authorization, True)
            with lock:
                del records[find(ws, cid)["id"]]
                return {"data": {"id": cid, "purged": True}}

    return app


@contextmanager
def serve(bug: str | None = None) -> Iterator[str]:
    """uvicorn in a thread on a free loopback port; stops on exit."""
    server = uvicorn.Server(uvicorn.Config(build(bug), host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
