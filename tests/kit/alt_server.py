"""A second, independent implementation of the Credentials API, for testing the kit.

Small and plain on purpose: a dict of records, offset or keyset paging, and a
knob for every SPEC.md alternative and for each lifecycle bug the kit must
catch. It shares only the contract registry (validation and redaction) with
the real fake, so the kit is seen working against code it was not built with.
"""

from __future__ import annotations

import base64
import copy
import functools
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.wrappers import Request, Response

import contracts
import contracts.registry
from contracts.views import documented_documents

JSON = Any


@dataclass
class Knobs:
    # SPEC.md alternatives (all conformant)
    get_deleted_404: bool = False
    list_includes_deleted: bool = False
    delete_deleted_409: bool = False
    restore_active_409: bool = False
    deleted_name_freed: bool = False
    purge_active_409: bool = False
    update_deleted_allowed: bool = False
    # With get_deleted_404: soft-deleted ids are invisible by id, to PUT as well.
    update_deleted_404: bool = False
    create_status: int = 201
    validation_status: int = 400
    max_limit: int = 200
    default_limit: int = 50
    clamp_limit: bool = False
    update_replaces_config: bool = False  # the docs leave merge vs replace open
    lenient_input: bool = False  # ignores unknown fields and the schemas' length limits
    # Looser than the fake on every rule the docs leave open (SPEC.md §2): only
    # the documented view of the request schemas is enforced, so empty and long
    # strings, any format, any range, missing config fields and unknown ones
    # are all accepted and stored (and the non-secret ones echoed).
    loose_input: bool = False
    # offset cursors: conformant (the docs promise nothing of pages while the
    # list changes), though an item may come twice or be passed over then
    offset_pagination: bool = False
    # bugs (each breaks the contract)
    duplicate_names: bool = False
    restore_loses_config: bool = False
    purge_leaves_readable: bool = False
    update_changes_status: bool = False
    cursor_skips_next: bool = False  # each cursor points past the next page's first item
    update_ignores_config: bool = False
    restore_checks_created_names: bool = False  # restore misses names given by a rename
    racy_names: bool = False  # create checks the name, then inserts, not atomically


@dataclass
class Record:
    id: str
    workspace: str
    name: str
    type: str
    public: dict[str, JSON]
    secrets: dict[str, JSON]
    created_at: datetime
    updated_at: datetime
    status: str = "active"
    deleted_at: datetime | None = None
    purged: bool = False
    created_name: str = ""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class AltServer:
    keys: dict[str, str]
    knobs: Knobs = field(default_factory=Knobs)
    read_only_keys: dict[str, str] = field(default_factory=dict)  # connections:read only

    def __post_init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.order: list[str] = []
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._clock = datetime(2025, 1, 1, tzinfo=UTC)

    # --- helpers ---------------------------------------------------------------------

    def now(self) -> datetime:
        self._clock += timedelta(milliseconds=1)
        return self._clock

    def view(self, r: Record) -> dict[str, JSON]:
        config = {} if getattr(r, "_lost", False) else copy.deepcopy(r.public)
        return {
            "id": r.id,
            "name": r.name,
            "type": r.type,
            "status": r.status,
            "created_at": _ts(r.created_at),
            "updated_at": _ts(r.updated_at),
            "deleted_at": _ts(r.deleted_at),
            "config": config,
        }

    def find(self, ws: str, cred_id: str) -> Record:
        r = self.records.get(cred_id)
        if r is None or r.workspace != ws:
            raise ApiError(404, "not_found", "No such credential.")
        if r.purged and not self.knobs.purge_leaves_readable:
            raise ApiError(404, "not_found", "No such credential.")
        return r

    def name_taken(self, ws: str, name: str, exclude: str | None = None) -> bool:
        if self.knobs.duplicate_names:
            return False
        for r in self.records.values():
            if r.workspace != ws or r.purged or r.id == exclude or r.name != name:
                continue
            if r.status == "active" or not self.knobs.deleted_name_freed:
                return True
        return False

    def invalid(self, errors: list[contracts.FieldError]) -> None:
        if self.knobs.loose_input:
            return  # the callers check the documented view instead (see loose_errors)
        if self.knobs.lenient_input:
            # The fake's own limits, which SPEC.md leaves to each deployment.
            errors = [
                e
                for e in errors
                if e.message != "is not a known field"
                and not e.message.startswith("must be at most")
            ]
        if errors:
            raise ApiError(
                self.knobs.validation_status, "invalid_request", f"Invalid field {errors[0].path}."
            )

    # --- WSGI --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            status, body, headers = self.dispatch(request)
        except ApiError as exc:
            status, headers = exc.status, {}
            body = {"error": {"code": exc.code, "message": exc.message, "request_id": "r"}}
            if exc.status == 401:
                headers["WWW-Authenticate"] = "Bearer"
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        for k, v in headers.items():
            response.headers[k] = v
        return response(environ, start_response)

    def dispatch(self, request: Request) -> tuple[int, JSON, dict[str, str]]:
        path = request.path
        for prefix in ("/v1/api/credentials", "/api/credentials"):
            if path.startswith(prefix):
                rest = path[len(prefix) :].strip("/")
                break
        else:
            raise ApiError(404, "not_found", "No such route.")
        auth = request.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        if not auth:  # legacy integrations send the key in its own header
            scheme, key = "Bearer", request.headers.get("X-Planasonix-Api-Key", "")
        ws = self.keys.get(key) if scheme == "Bearer" else None
        reader = ws is None and scheme == "Bearer" and key in self.read_only_keys
        ws = self.read_only_keys[key] if reader else ws
        if ws is None:
            raise ApiError(401, "unauthorized", "A valid API key is required.")
        if reader and request.method != "GET":
            raise ApiError(403, "forbidden", "This key may only read.")
        parts = rest.split("/") if rest else []
        if self.knobs.racy_names and not parts and request.method == "POST":
            return self.create_racy(ws, self.body(request))
        with self.lock:
            if not parts:
                if request.method == "GET":
                    return 200, self.list(ws, request), {}
                if request.method == "POST":
                    return self.create(ws, self.body(request))
            elif len(parts) == 1:
                if request.method == "GET":
                    return 200, {"data": self.get(ws, parts[0])}, {}
                if request.method == "PUT":
                    return 200, {"data": self.update(ws, parts[0], self.body(request))}, {}
                if request.method == "DELETE":
                    return 200, {"data": self.delete(ws, parts[0])}, {}
            elif parts[1:] == ["restore"] and request.method == "POST":
                return 200, {"data": self.restore(ws, parts[0])}, {}
            elif parts[1:] == ["permanent"] and request.method == "DELETE":
                return 200, {"data": self.purge(ws, parts[0])}, {}
        raise ApiError(405, "method_not_allowed", "Method not allowed.")

    def body(self, request: Request) -> JSON:
        if request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "Send JSON.")
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            raise ApiError(400, "invalid_request", "Body is not JSON.") from None

    # --- operations ----------------------------------------------------------------------

    def list(self, ws: str, request: Request) -> JSON:
        args = request.args
        try:
            limit = int(args.get("limit", self.knobs.default_limit))
        except ValueError:
            raise ApiError(400, "invalid_request", "Bad limit.") from None
        if limit < 1:
            raise ApiError(400, "invalid_request", "Bad limit.")
        if limit > self.knobs.max_limit:
            if not self.knobs.clamp_limit:
                raise ApiError(400, "invalid_request", "Bad limit.")
            limit = self.knobs.max_limit
        status = args.get("status", "all" if self.knobs.list_includes_deleted else "active")
        if status not in ("active", "deleted", "all"):
            raise ApiError(400, "invalid_request", "Bad status.")
        items = [
            r
            for r in (self.records[i] for i in reversed(self.order))
            if r.workspace == ws and not r.purged and status in ("all", r.status)
        ]
        cursor = args.get("cursor")
        if self.knobs.offset_pagination:
            try:
                start = int(base64.b64decode(cursor)) if cursor else 0
            except ValueError:
                raise ApiError(400, "invalid_request", "Bad cursor.") from None
            if start < 0:
                raise ApiError(400, "invalid_request", "Bad cursor.")
            page = items[start : start + limit]
            more = start + limit < len(items)
            next_cursor = base64.b64encode(str(start + limit).encode()).decode() if more else None
        else:
            if cursor:
                try:
                    after = int(base64.b64decode(cursor))
                except ValueError:
                    raise ApiError(400, "invalid_request", "Bad cursor.") from None
                items = [r for r in items if int(r.id[5:]) < after]
            page = items[:limit]
            more = len(items) > limit
            last = (
                items[limit]
                if self.knobs.cursor_skips_next and more
                else page[-1]
                if page
                else None
            )
            next_cursor = base64.b64encode(last.id[5:].encode()).decode() if more and last else None
        return {
            "data": [self.view(r) for r in page],
            "meta": {"page": {"limit": limit, "cursor": next_cursor}},
        }

    def loose_errors(self, uri: str, body: JSON) -> None:
        """Refuse only what breaks the documented view of the request schema."""
        if not self.knobs.loose_input:
            return
        errors = sorted(_documented_validator(uri).iter_errors(body), key=str)
        if errors:
            path = ".".join(str(p) for p in errors[0].absolute_path) or "(body)"
            raise ApiError(self.knobs.validation_status, "invalid_request", f"Invalid {path}.")

    def create(self, ws: str, body: JSON) -> tuple[int, JSON, dict[str, str]]:
        self.invalid(contracts.validate_create(body))
        self.loose_errors("create-credential.json", body)
        if self.name_taken(ws, body["name"]):
            raise ApiError(409, "conflict", "Name taken.")
        public, secrets = contracts.split_secrets(body["type"], body["config"])
        now = self.now()
        cred_id = f"cred_{next(self._ids):016d}"
        r = Record(cred_id, ws, body["name"], body["type"], public, secrets, now, now)
        r.created_name = body["name"]
        self.records[cred_id] = r
        self.order.append(cred_id)
        headers = (
            {"Location": f"/api/credentials/{cred_id}"} if self.knobs.create_status == 201 else {}
        )
        return self.knobs.create_status, {"data": self.view(r)}, headers

    def create_racy(self, ws: str, body: JSON) -> tuple[int, JSON, dict[str, str]]:
        """A uniqueness check that is not atomic: check, wait a moment, then insert."""
        with self.lock:
            self.invalid(contracts.validate_create(body))
            if self.name_taken(ws, body["name"]):
                raise ApiError(409, "conflict", "Name taken.")
        time.sleep(0.2)  # wide enough for a burst to land inside it on a busy machine
        with self.lock:
            self.knobs.duplicate_names, saved = True, self.knobs.duplicate_names
            try:
                return self.create(ws, body)
            finally:
                self.knobs.duplicate_names = saved

    def get(self, ws: str, cred_id: str) -> JSON:
        r = self.find(ws, cred_id)
        if r.status == "deleted" and self.knobs.get_deleted_404:
            raise ApiError(404, "not_found", "No such credential.")
        return self.view(r)

    def update(self, ws: str, cred_id: str, body: JSON) -> JSON:
        self.invalid(contracts.validate_update(body))
        self.loose_errors("update-credential.json", body)
        r = self.find(ws, cred_id)
        if r.status == "deleted" and self.knobs.update_deleted_404:
            raise ApiError(404, "not_found", "No such credential.")
        if r.status == "deleted" and not self.knobs.update_deleted_allowed:
            raise ApiError(409, "conflict", "Deleted.")
        if "type" in body and body["type"] != r.type:
            if not (self.knobs.lenient_input or self.knobs.loose_input):
                raise ApiError(self.knobs.validation_status, "invalid_request", "Type is fixed.")
            body = {k: v for k, v in body.items() if k != "type"}  # ignored, as some APIs do
        merged = contracts.merge_config(r.public, r.secrets)
        if self.knobs.update_replaces_config and "config" in body:
            merged = {}
        if self.knobs.update_ignores_config:
            body = {k: v for k, v in body.items() if k != "config"}
        for k, v in (body.get("config") or {}).items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        self.invalid(contracts.validate_config(r.type, merged))
        name = body.get("name", r.name)
        if name != r.name and self.name_taken(ws, name, exclude=r.id):
            raise ApiError(409, "conflict", "Name taken.")
        r.name = name
        r.public, r.secrets = contracts.split_secrets(r.type, merged)
        r.updated_at = self.now()
        if self.knobs.update_changes_status and r.status == "active":
            r.status, r.deleted_at = "deleted", r.updated_at
        return self.view(r)

    def delete(self, ws: str, cred_id: str) -> JSON:
        r = self.find(ws, cred_id)
        if r.status == "deleted":
            if self.knobs.delete_deleted_409:
                raise ApiError(409, "conflict", "Already deleted.")
        else:
            r.status, r.deleted_at = "deleted", self.now()
            r.updated_at = r.deleted_at
        return {"id": r.id, "status": r.status, "deleted_at": _ts(r.deleted_at)}

    def restore(self, ws: str, cred_id: str) -> JSON:
        r = self.find(ws, cred_id)
        if r.status == "active":
            if self.knobs.restore_active_409:
                raise ApiError(409, "conflict", "Not deleted.")
        else:
            if self.knobs.restore_checks_created_names:
                taken = any(
                    o.workspace == ws and o.status == "active" and not o.purged
                    and o.created_name == r.name and o.id != r.id
                    for o in self.records.values()
                )  # fmt: skip
                if taken:
                    raise ApiError(409, "conflict", "Name taken.")
            elif self.name_taken(ws, r.name, exclude=r.id):
                raise ApiError(409, "conflict", "Name taken.")
            r.status, r.deleted_at, r.updated_at = "active", None, self.now()
            if self.knobs.restore_loses_config:
                r._lost = True  # type: ignore[attr-defined]
        return {"id": r.id, "status": r.status, "deleted_at": None}

    def purge(self, ws: str, cred_id: str) -> JSON:
        r = self.find(ws, cred_id)
        if r.purged:  # only reachable with purge_leaves_readable
            raise ApiError(404, "not_found", "No such credential.")
        if r.status == "active" and self.knobs.purge_active_409:
            raise ApiError(409, "conflict", "Delete it first.")
        r.purged = True
        return {"id": r.id, "purged": True}


@functools.cache
def _documented_validator(uri: str) -> Draft202012Validator:
    """A validator of the documented view of one request schema (contracts.views)."""
    docs = documented_documents(contracts.registry.schema_documents())
    registry: Registry[Any] = Registry().with_resources(
        (contracts.registry.SCHEMA_BASE + name, DRAFT202012.create_resource(doc))
        for name, doc in docs.items()
    )
    return Draft202012Validator({"$ref": contracts.registry.SCHEMA_BASE + uri}, registry=registry)


def new_request_id() -> str:
    return uuid.uuid4().hex
