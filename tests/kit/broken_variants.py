"""Variants of the fake that the kit must fail, and variants it must pass.

Each variant is WSGI middleware around the real fake (``mockserver``), or the
small independent implementation in ``alt_server`` with a knob turned. The
middleware sees every request and may rewrite it, answer it itself, or
rewrite the fake's answer; it makes internal calls to the fake with
werkzeug's test client.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from alt_server import AltServer, Knobs
from werkzeug.test import Client as WsgiClient
from werkzeug.wrappers import Request, Response

import contracts
from contracts.kit.cli.runner import Runner, RunResult
from contracts.kit.context import KitContext, Settings
from contracts.kit.fake_target import serve_wsgi

KEY_A = "plnx_test_kit_a"
KEY_B = "plnx_test_kit_b"
KEYS = {KEY_A: "ws_kit_a", KEY_B: "ws_kit_b"}
KEY_RO = "plnx_test_kit_ro"
RO_KEYS = {KEY_RO: "ws_kit_a"}  # connections:read only, workspace A
JSON = Any
WsgiApp = Callable[..., Any]


def fake_app() -> WsgiApp:
    from mockserver.app import create_app

    return create_app(keys=KEYS, read_only_keys=RO_KEYS)  # type: ignore[no-any-return]


def _secret_values(body: JSON) -> list[str]:
    """Every secret string a request body carries (for any type: updates name none)."""
    if not isinstance(body, dict) or not isinstance(body.get("config"), dict):
        return []
    types = [body["type"]] if body.get("type") in contracts.CREDENTIAL_TYPES else None
    found: list[str] = []

    def leaves(node: JSON) -> Iterator[str]:
        if isinstance(node, dict):
            for value in node.values():
                yield from leaves(value)
        elif isinstance(node, str):
            yield node

    for type_ in types or contracts.CREDENTIAL_TYPES:
        found.extend(leaves(contracts.split_secrets(type_, body["config"])[1]))
    return found


class Middleware:
    """Base: pass through. Subclasses override ``before`` and/or ``after``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.inner = WsgiClient(app)
        self.secrets: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)
        request = Request(environ)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.secrets.extend(_secret_values(body))
        early = self.before(request, body, environ)
        if early is not None:
            return early(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(raw)
        response = Response.from_app(self.app, environ, buffered=True)
        response = self.after(request, body, response)
        return response(environ, start_response)

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        return None

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        return response

    # helpers
    def internal(self, request: Request, method: str, path: str) -> tuple[int, JSON]:
        result = self.inner.open(
            path, method=method, headers={"Authorization": request.headers.get("Authorization", "")}
        )
        return result.status_code, json.loads(result.get_data() or b"null")

    @staticmethod
    def json_of(response: Response) -> JSON:
        try:
            return json.loads(response.get_data())
        except ValueError:
            return None

    @staticmethod
    def with_json(response: Response, body: JSON, status: int | None = None) -> Response:
        response.set_data(json.dumps(body))
        if status is not None:
            response.status_code = status
        return response

    @staticmethod
    def error(status: int, code: str, message: str) -> Response:
        body = {"error": {"code": code, "message": message, "request_id": "req_mw"}}
        return Response(json.dumps(body), status=status, mimetype="application/json")


def parts(request: Request) -> list[str]:
    """Path segments after .../credentials."""
    path = request.path
    idx = path.find("/credentials")
    return [p for p in path[idx + len("/credentials") :].split("/") if p] if idx >= 0 else []


def is_list(request: Request) -> bool:
    return request.method == "GET" and request.path.rstrip("/").endswith("/credentials")


# --- leaks -----------------------------------------------------------------------------


class LeakOnPageTwo(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        if is_list(request) and "cursor" in request.args and data and data.get("data"):
            if self.secrets:
                data["data"][0]["debug"] = self.secrets[0]
            return self.with_json(response, data)
        return response


class NoLegacyHeader(Middleware):
    """Knows only `Authorization: Bearer`, not the documented legacy header."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
        return None


class LeakInErrors(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        sent = _secret_values(body)
        if response.status_code >= 400 and sent and isinstance(data, dict):
            data["error"]["message"] += f" (rejected value {sent[0]})"
            return self.with_json(response, data)
        return response


class LeakInHeader(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        sent = _secret_values(body)
        if request.method == "POST" and sent and response.status_code < 300:
            response.headers["X-Debug-Credential"] = sent[-1]
        return response


class LeakBase64(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        view = data.get("data") if isinstance(data, dict) else None
        is_get = request.method == "GET" and not is_list(request)
        if (
            is_get
            and self.secrets
            and isinstance(view, dict)
            and isinstance(view.get("config"), dict)
        ):
            blob = json.dumps({"secret": self.secrets[-1]}).encode()
            view["config"]["fingerprint"] = base64.b64encode(blob).decode()
            return self.with_json(response, data)
        return response


# --- auth ----------------------------------------------------------------------------------


class IgnoresAuth(Middleware):
    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if request.headers.get("Authorization") not in {f"Bearer {k}" for k in KEYS}:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY_A}"
        return None


class CrossWorkspaceRead(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if request.method == "GET" and len(parts(request)) == 1 and response.status_code == 404:
            for key in KEYS:
                found = self.inner.get(request.path, headers={"Authorization": f"Bearer {key}"})
                if found.status_code == 200:
                    return Response(found.get_data(), 200, mimetype="application/json")
        return response


class ForbiddenTellsIdsApart(Middleware):
    """Another workspace's key gets 403 on a write to an id that exists and 404
    on one that does not: the status tells which ids exist (SPEC.md §5)."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if request.method not in ("PUT", "DELETE", "POST") or is_list(request):
            return None
        if request.headers.get("Authorization") != f"Bearer {KEY_B}" or not parts(request):
            return None
        path = "/api/credentials/" + parts(request)[0]
        found = self.inner.get(path, headers={"Authorization": f"Bearer {KEY_A}"})
        if found.status_code != 200:
            return None
        return self.error(403, "forbidden", "Not yours.")


# --- shapes and statuses ------------------------------------------------------------------


class DropsCreatedAt(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        if request.method == "GET" and not is_list(request) and response.status_code == 200:
            data["data"].pop("created_at", None)
            return self.with_json(response, data)
        return response


class ServerErrorOnBadInput(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if response.status_code == 400:
            response.status_code = 500
        return response


# --- SPEC.md alternatives (all conformant) --------------------------------------------------


class GetDeleted404(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        if (
            request.method == "GET"
            and len(parts(request)) == 1
            and response.status_code == 200
            and data["data"].get("status") == "deleted"
        ):
            return self.error(404, "not_found", "No such credential.")
        return response


class ListIncludesDeleted(Middleware):
    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if is_list(request) and "status" not in request.args:
            query = [*parse_qsl(environ.get("QUERY_STRING", "")), ("status", "all")]
            environ["QUERY_STRING"] = urlencode(query)
        return None


class StatusAllIgnored(Middleware):
    """Filters status=active and status=deleted, and reads any other value as no filter."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if is_list(request) and request.args.get("status") == "all":
            query = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k != "status"]
            environ["QUERY_STRING"] = urlencode(query)
        return None


class FiltersIgnored(Middleware):
    """No list filter at all: `type=` and `status=` are read as absent."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if is_list(request):
            query = parse_qsl(environ.get("QUERY_STRING", ""))
            environ["QUERY_STRING"] = urlencode(
                [(k, v) for k, v in query if k not in ("type", "status")]
            )
        return None


class FiltersRefused(Middleware):
    """No list filter at all: `type=` or `status=` is a 400."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if is_list(request) and ({"type", "status"} & set(request.args)):
            return self.error(400, "invalid_request", "Unknown query parameter.")
        return None


class AnotherClientCreates(Middleware):
    """A shared deployment: another client of the workspace creates a credential
    while the kit walks a listing one item per page, `times` times in the run."""

    def __init__(self, app: WsgiApp, times: int = 2) -> None:
        super().__init__(app)
        self.left = times

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        walking = request.args.get("cursor") and request.args.get("limit") == "1"
        if self.left and is_list(request) and walking:
            self.left -= 1
            self.inner.post(
                "/api/credentials",
                json={
                    "name": f"someone-else-{self.left}",
                    "type": "password",
                    "config": {"username": "someone", "password": "not-the-kits-secret"},
                },
                headers={"Authorization": f"Bearer {KEY_A}"},
            )
        return None


class StateConflicts(Middleware):
    """409 for delete of a deleted one, restore of an active one, purge of an active one."""

    def __init__(self, app: WsgiApp, *, delete: bool, restore: bool, purge: bool) -> None:
        super().__init__(app)
        self.on = {"delete": delete, "restore": restore, "purge": purge}

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        op = {
            ("DELETE", 1): "delete",
            ("POST", 2): "restore",
            ("DELETE", 2): "purge",
        }.get((request.method, len(p)))
        if op is None or not self.on[op]:
            return None
        base = request.path[: request.path.find("/credentials")]
        status, data = self.internal(request, "GET", f"{base}/credentials/{p[0]}")
        if status != 200:
            return None
        current = data["data"]["status"]
        if (op == "delete" and current == "deleted") or (op != "delete" and current == "active"):
            return self.error(409, "conflict", f"cannot {op} a credential that is {current}")
        return None


class Create200(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if request.method == "POST" and not parts(request) and response.status_code == 201:
            response.status_code = 200
            del response.headers["Location"]
        return response


class Validation422(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if response.status_code == 400:
            response.status_code = 422
        return response


class Validation422TypeChange400(Validation422):
    """Valid: 422 for invalid bodies, but 400 for an update that changes the type,
    which SPEC.md §3 names on its own ("type cannot change (400)")."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        type_change = request.method == "PUT" and isinstance(body, dict) and "type" in body
        return response if type_change else super().after(request, body, response)


class TakenName422(Middleware):
    """Valid: a name another active credential holds is refused with 422, not 409
    (the page says names are unique, not with which status)."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if response.status_code == 409:
            error = (self.json_of(response) or {}).get("error") or {}
            if "name" in str(error.get("message", "")):
                response.status_code = 422
        return response


def _views(data: JSON) -> Iterator[dict[str, JSON]]:
    inner = data.get("data") if isinstance(data, dict) else None
    for item in inner if isinstance(inner, list) else [inner]:
        if isinstance(item, dict) and "config" in item:
            yield item


class ExtraFields(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        views = list(_views(data))
        for view in views:
            view["etag"] = "W/1"
            view["labels"] = {"team": "data"}
            view["config"]["x_display_hint"] = "shown"
        if isinstance(data, dict):
            data["links"] = {"self": request.path}
            return self.with_json(response, data)
        return response


class NoDeletedAt(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if request.method != "GET":
            return response
        data = self.json_of(response)
        for view in _views(data):
            view.pop("deleted_at", None)
        return self.with_json(response, data) if data is not None else response


class NullsLeftOut(Middleware):
    """Valid: a view leaves out null fields, so `deleted_at` shows only once set."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if request.method != "GET":
            return response
        data = self.json_of(response)
        for view in _views(data):
            if view.get("deleted_at", "") is None:
                del view["deleted_at"]
        return self.with_json(response, data) if data is not None else response


class FullMetadata(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        p = parts(request)
        is_delete = request.method == "DELETE" and len(p) == 1
        is_restore = request.method == "POST" and p[1:] == ["restore"]
        if (is_delete or is_restore) and response.status_code == 200:
            base = request.path[: request.path.find("/credentials")]
            status, data = self.internal(request, "GET", f"{base}/credentials/{p[0]}")
            if status == 200:
                return self.with_json(response, data)
        return response


class ClampedPages(Middleware):
    MAX, DEFAULT = 20, 7

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if is_list(request):
            query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
            try:
                limit = int(query.get("limit", self.DEFAULT))
            except ValueError:
                return None
            query["limit"] = str(min(limit, self.MAX))
            environ["QUERY_STRING"] = urlencode(query)
        return None


class OtherErrorShape(Middleware):
    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        if response.status_code >= 400 and isinstance(data, dict) and "error" in data:
            err = data["error"]
            return self.with_json(response, {"code": err["code"], "message": err["message"]})
        return response


# --- blind spots of the first kit (issue 10) -------------------------------------------------


def _key_of(request: Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth.partition(" ")[2] if auth else request.headers.get("X-Planasonix-Api-Key", "")


class ReadOnlyCanDelete(Middleware):
    """The read-only key's scope is checked on reads and updates, not on deletes."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if request.method == "DELETE" and _key_of(request) in RO_KEYS:
            environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY_A}"
        return None


class NoAuthUnderV1(Middleware):
    """Auth is wired for /api only: under /v1/api any request gets workspace A."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if request.path.startswith("/v1/") and _key_of(request) not in {*KEYS, *RO_KEYS}:
            environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY_A}"
        return None


class LegacyHeaderOneWorkspace(Middleware):
    """The legacy header maps every valid key to workspace A."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        legacy = environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
        if legacy is not None and "HTTP_AUTHORIZATION" not in environ:
            # Workspace A's full keys for every full key (the read-only one is A's already).
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY_A if legacy in KEYS else legacy}"
        return None


class PrefixKeyCompare(Middleware):
    """Compares keys by prefix: a valid key with characters appended opens its workspace."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        key = _key_of(request)
        for valid in (*KEYS, *RO_KEYS):
            if key.startswith(valid) and key != valid:
                environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
                environ["HTTP_AUTHORIZATION"] = f"Bearer {valid}"
        return None


class CrossWorkspaceRestore(Middleware):
    """Restore looks soft-deleted ids up in every workspace."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        restore = request.method == "POST" and parts(request)[1:] == ["restore"]
        if restore and response.status_code == 404:
            for key in KEYS:
                auth = {"Authorization": f"Bearer {key}"}
                seen = self.inner.get(request.path.rsplit("/", 1)[0], headers=auth)
                if seen.status_code == 200 and seen.json["data"]["status"] == "deleted":
                    found = self.inner.post(request.path, headers=auth)
                    return Response(found.get_data(), 200, mimetype="application/json")
        return response


class HintWithLastSix(Middleware):
    """Shows a "hint" of the last secret it was sent: its last 6 characters."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        view = data.get("data") if isinstance(data, dict) else None
        config = view.get("config") if isinstance(view, dict) else None
        if request.method == "GET" and self.secrets and isinstance(config, dict):
            config["secret_hint"] = "****" + self.secrets[-1][-6:]
            return self.with_json(response, data)
        return response


class NestedErrorEcho(Middleware):
    """A refusal of an invalid SSH tunnel quotes the tunnel it was sent."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        config = body.get("config") if isinstance(body, dict) else None
        tunnel = config.get("ssh_tunnel") if isinstance(config, dict) else None
        if response.status_code in (400, 422) and isinstance(tunnel, dict) and data:
            data["error"]["message"] += f" (ssh_tunnel: {json.dumps(tunnel)})"
            return self.with_json(response, data)
        return response


class ObjectSecretEcho(Middleware):
    """Strips service_account_json when it is a string, but echoes a key file object's key."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        config = body.get("config") if isinstance(body, dict) else None
        key_file = config.get("service_account_json") if isinstance(config, dict) else None
        view = data.get("data") if isinstance(data, dict) else None
        if isinstance(key_file, dict) and isinstance(view, dict) and "config" in view:
            view["config"]["service_account_key_id"] = key_file.get("private_key")
            return self.with_json(response, data)
        return response


class DeletedListingLags(Middleware):
    """status=deleted is served from a cache refreshed every few seconds."""

    LAG = 5.0

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        listed = isinstance(data, dict) and isinstance(data.get("data"), list)
        if is_list(request) and request.args.get("status") == "deleted" and listed:
            now = time.time()
            data["data"] = [
                item for item in data["data"] if now - _epoch(item.get("deleted_at")) > self.LAG
            ]
            return self.with_json(response, data)
        return response


def _epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class CursorForgetsFilter(Middleware):
    """Its own cursors for filtered listings, which forget the filter from page 2 on."""

    def __init__(self, app: WsgiApp, kind: str) -> None:
        super().__init__(app)
        self.kind = kind

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        cursor = request.args.get("cursor", "")
        if not (is_list(request) and cursor.startswith("mw.")):
            return None
        created, after, limit = cursor[3:].split("~")
        query = {k: v for k, v in request.args.items() if k not in ("cursor", self.kind)}
        # Keyset paging from the last item's sort key, over the unfiltered listing.
        items = self.all_items(request, query)
        rest = [i for i in items if (i["created_at"], i["id"]) < (created, after)]
        page = rest[: int(limit)]
        more = len(rest) > int(limit)
        body_out = {
            "data": page,
            "meta": {"page": {"limit": int(limit), "cursor": self.token(page, limit, more)}},
        }
        return Response(json.dumps(body_out), 200, mimetype="application/json")

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        if is_list(request) and self.kind in request.args and isinstance(data, dict):
            meta = data.get("meta", {}).get("page", {})
            if meta.get("cursor") and data.get("data"):
                limit = str(meta.get("limit"))
                meta["cursor"] = self.token(data["data"], limit, True)
                return self.with_json(response, data)
        return response

    @staticmethod
    def token(page: list[JSON], limit: str, more: bool) -> str | None:
        last = page[-1] if page else {}
        return f"mw.{last['created_at']}~{last['id']}~{limit}" if more and page else None

    def all_items(self, request: Request, query: dict[str, str]) -> list[JSON]:
        items: list[JSON] = []
        params = {**query, "limit": "200"}
        while True:
            result = self.inner.get(
                request.path,
                query_string=params,
                headers={"Authorization": f"Bearer {_key_of(request)}"},
            )
            data = json.loads(result.get_data())
            items.extend(data["data"])
            cursor = data["meta"]["page"]["cursor"]
            if not cursor:
                return items
            params["cursor"] = cursor


class PurgedStillListed(Middleware):
    """A purge drops the credential from the default listing only."""

    def __init__(self, app: WsgiApp) -> None:
        super().__init__(app)
        self.ghosts: list[JSON] = []

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method == "DELETE" and p[1:] == ["permanent"]:
            base = request.path[: request.path.find("/credentials")]
            status, data = self.internal(request, "GET", f"{base}/credentials/{p[0]}")
            if status == 200 and data["data"]["status"] == "deleted":
                self.ghosts.append(data["data"])
        return None

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        status = request.args.get("status")
        first_page = "cursor" not in request.args
        if (
            is_list(request)
            and status in ("deleted", "all")
            and isinstance(data, dict)
            and isinstance(data.get("data"), list)
            and self.ghosts
            and first_page
        ):
            data["data"] = [*self.ghosts[-2:], *data["data"]]
            return self.with_json(response, data)
        return response


_STAMP = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z"')


class RestoreRewindsClock(Middleware):
    """Seconds-resolution timestamps; a restore puts back the updated_at of the create."""

    def __init__(self, app: WsgiApp) -> None:
        super().__init__(app)
        self.first: dict[str, str] = {}
        self.restored: set[str] = set()

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        text = _STAMP.sub(r'"\1Z"', response.get_data(as_text=True))
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            return response
        p = parts(request)
        if request.method == "POST" and p[1:] == ["restore"] and response.status_code == 200:
            self.restored.add(p[0])
        for view in _views(data):
            cred_id = view.get("id")
            self.first.setdefault(cred_id, view.get("updated_at"))
            if cred_id in self.restored:
                view["updated_at"] = self.first[cred_id]
        response.set_data(json.dumps(data) if data is not None else text)
        return response


class StatusAnswer(Middleware):
    """Answers one call that only the status-codes check judges with an undocumented status."""

    def __init__(self, app: WsgiApp, status: int) -> None:
        super().__init__(app)
        self.status = status
        self.deleted: set[str] = set()

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        p = parts(request)
        if self.status == 204 and request.method == "DELETE" and len(p) == 1:
            # a repeated soft delete: 204, no body
            if p[0] in self.deleted and response.status_code == 200:
                return Response(status=204)
            self.deleted.add(p[0])
        if self.status == 302 and request.method == "PUT" and response.status_code == 409:
            return Response(status=302, headers={"Location": "/login?next=/app"})
        if self.status == 500 and is_list(request) and request.args.get("status") == "all":
            return self.error(500, "internal_error", "Something went wrong.")
        return response


# --- catalogue --------------------------------------------------------------------------------


def alt(**knobs: Any) -> Callable[[], WsgiApp]:
    return lambda: AltServer(KEYS, Knobs(**knobs), read_only_keys=RO_KEYS)


def wrap(cls: Callable[..., Middleware], **kw: Any) -> Callable[[], WsgiApp]:
    return lambda: cls(fake_app(), **kw)


# name -> (app factory, the check that must fail, the phases worth running)
BROKEN: dict[str, tuple[Callable[[], WsgiApp], str, set[str] | None]] = {
    "leak on page 2": (wrap(LeakOnPageTwo), "secret-non-echo", {"secret-non-echo"}),
    "leak in error messages": (wrap(LeakInErrors), "secret-non-echo", {"secret-non-echo"}),
    "leak in a header": (wrap(LeakInHeader), "secret-non-echo", {"secret-non-echo"}),
    "base64 leak": (wrap(LeakBase64), "secret-non-echo", {"secret-non-echo"}),
    "ignores auth": (wrap(IgnoresAuth), "auth-isolation", {"auth-isolation"}),
    "cross-workspace read": (wrap(CrossWorkspaceRead), "auth-isolation", {"auth-isolation"}),
    "403 tells another workspace's ids apart": (
        wrap(ForbiddenTellsIdsApart),
        "auth-isolation",
        {"auth-isolation"},
    ),
    "restore loses config": (alt(restore_loses_config=True), "lifecycle", {"lifecycle"}),
    "purge leaves id readable": (alt(purge_leaves_readable=True), "lifecycle", {"lifecycle"}),
    "update changes status": (alt(update_changes_status=True), "lifecycle", {"lifecycle"}),
    "duplicate active names": (alt(duplicate_names=True), "lifecycle", {"lifecycle"}),
    "update ignores config": (alt(update_ignores_config=True), "lifecycle", {"lifecycle"}),
    "cursor passes over an item per page": (
        alt(cursor_skips_next=True),
        "pagination",
        {"pagination"},
    ),
    "response misses created_at": (wrap(DropsCreatedAt), "response-schema", {"secret-non-echo"}),
    "500 on invalid input": (wrap(ServerErrorOnBadInput), "schemathesis", {"schemathesis"}),
    # blind spots of the first kit (issue 10)
    "no auth under /v1/api": (wrap(NoAuthUnderV1), "auth-isolation", {"auth-isolation"}),
    "legacy header maps every key to one workspace": (
        wrap(LegacyHeaderOneWorkspace),
        "auth-isolation",
        {"auth-isolation"},
    ),
    "key compared by prefix": (wrap(PrefixKeyCompare), "auth-isolation", {"auth-isolation"}),
    "another workspace can restore": (
        wrap(CrossWorkspaceRestore),
        "auth-isolation",
        {"auth-isolation"},
    ),
    "hint holds a secret's last 6 characters": (
        wrap(HintWithLastSix),
        "secret-non-echo",
        {"secret-non-echo"},
    ),
    "error about ssh_tunnel echoes it": (
        wrap(NestedErrorEcho),
        "secret-non-echo",
        {"secret-non-echo"},
    ),
    "object-valued service_account_json echoed": (
        wrap(ObjectSecretEcho),
        "secret-non-echo",
        {"secret-non-echo"},
    ),
    "status=deleted lags behind a delete": (wrap(DeletedListingLags), "listings", {"listings"}),
    "cursor forgets type=": (wrap(CursorForgetsFilter, kind="type"), "listings", {"listings"}),
    "cursor forgets status=": (wrap(CursorForgetsFilter, kind="status"), "listings", {"listings"}),
    "purged still listed as deleted": (wrap(PurgedStillListed), "listings", {"listings"}),
    "restore puts back an older updated_at": (
        wrap(RestoreRewindsClock),
        "timestamps",
        {"timestamps"},
    ),
    "rename onto a deleted name, then restore": (
        alt(deleted_name_freed=True, restore_checks_created_names=True),
        "names",
        {"names"},
    ),
    "same-name race": (alt(racy_names=True), "names", {"names"}),
    "204 for a repeated delete": (
        wrap(StatusAnswer, status=204),
        "status-codes",
        {"secret-non-echo", "status-codes"},
    ),
    "302 to a login page": (
        wrap(StatusAnswer, status=302),
        "status-codes",
        {"secret-non-echo", "status-codes"},
    ),
    "500 to a valid listing": (
        wrap(StatusAnswer, status=500),
        "status-codes",
        {"secret-non-echo", "status-codes"},
    ),
}


# Deployments that break only an expectation (a rule the published page does not
# state): name -> (app factory, the check, the expectation's name, the phases worth
# running). The kit notes each and passes it; with --strict, or a profile declaring
# the expectation, it fails it.
BROKEN_EXPECTATIONS: dict[str, tuple[Callable[[], WsgiApp], str, str, set[str]]] = {
    "no legacy key header": (
        wrap(NoLegacyHeader),
        "auth-isolation",
        "legacy_header",
        {"auth-isolation"},
    ),
    "read-only key can delete and purge": (
        wrap(ReadOnlyCanDelete),
        "scopes",
        "scopes",
        {"scopes"},
    ),
}


class NormalizesSettings(Middleware):
    """Valid: writes settings back normalised, consistently: host names in upper case
    (DNS names ignore case; upper, so the kit's lower-case hosts really change),
    instants with `+00:00` for `Z`. The docs promise the setting, not its spelling."""

    @staticmethod
    def _normalise(config: JSON) -> None:
        if not isinstance(config, dict):
            return
        for key, value in list(config.items()):
            if key == "host" and isinstance(value, str):
                config[key] = value.upper()
            elif key == "expires_at" and isinstance(value, str) and value.endswith("Z"):
                config[key] = value[:-1] + "+00:00"
            elif isinstance(value, dict):
                NormalizesSettings._normalise(value)

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        inner = data.get("data") if isinstance(data, dict) else None
        items = inner if isinstance(inner, list) else [inner]
        for item in items:
            if isinstance(item, dict):
                self._normalise(item.get("config"))
        return self.with_json(response, data) if inner is not None else response


ALTERNATIVES: dict[str, Callable[[], WsgiApp]] = {
    "GET deleted is 404": wrap(GetDeleted404),
    "list includes deleted": wrap(ListIncludesDeleted),
    "status=all read as no filter": wrap(StatusAllIgnored),
    "list filters ignored": wrap(FiltersIgnored),
    "list filters refused": wrap(FiltersRefused),
    "delete of deleted is 409": wrap(StateConflicts, delete=True, restore=False, purge=False),
    "restore of active is 409": wrap(StateConflicts, delete=False, restore=True, purge=False),
    "purge of active is 409": wrap(StateConflicts, delete=False, restore=False, purge=True),
    "create answers 200": wrap(Create200),
    "create answers 202": alt(create_status=202),
    "validation is 422": wrap(Validation422),
    "taken names refused with 422": wrap(TakenName422),
    "validation is 422, a type change 400": wrap(Validation422TypeChange400),
    "extra non-secret fields": wrap(ExtraFields),
    "no deleted_at on get and list": wrap(NoDeletedAt),
    "deleted_at only once set": wrap(NullsLeftOut),
    "full metadata on delete and restore": wrap(FullMetadata),
    "page size clamped": wrap(ClampedPages),
    "settings written back normalised": wrap(NormalizesSettings),
    "other error shape": wrap(OtherErrorShape),
    "deleted name freed": alt(deleted_name_freed=True),
    "update of deleted allowed": alt(update_deleted_allowed=True),
    "update replaces the whole config": alt(update_replaces_config=True),
    "lenient input": alt(lenient_input=True),
    "looser than the fake on every open rule": alt(loose_input=True),
    "offset cursors (pages shift while the list changes)": alt(offset_pagination=True),
    "offset cursors, another client creating meanwhile": lambda: AnotherClientCreates(
        alt(offset_pagination=True)()
    ),
    "deleted ids invisible, PUT included": alt(get_deleted_404=True, update_deleted_404=True),
    "alt server, every alternative": alt(
        update_replaces_config=True,
        lenient_input=True,
        get_deleted_404=True,
        list_includes_deleted=True,
        delete_deleted_409=True,
        restore_active_409=True,
        deleted_name_freed=True,
        purge_active_409=True,
        update_deleted_allowed=True,
        create_status=200,
        validation_status=422,
        max_limit=25,
        default_limit=10,
        clamp_limit=True,
    ),
}


@contextmanager
def served(app: WsgiApp) -> Iterator[str]:
    with serve_wsgi(app) as url:
        yield url


def run_kit(
    app: WsgiApp,
    *,
    only: set[str] | None = None,
    max_examples: int = 8,
    seed: int = 0,
    second: bool = True,
    max_requests: int | None = None,
    read_only: bool = False,
    strict: bool = False,
    declared: frozenset[str] = frozenset(),
    update_replaces_config: bool | None = None,
    shrink: bool = True,
) -> RunResult:
    """Run the kit in this process against ``app`` served on a free local port."""
    with served(app) as url:
        ctx = KitContext.build(
            url,
            KEY_A,
            second_api_key=KEY_B if second else None,
            read_only_api_key=KEY_RO if second else None,
            max_requests=max_requests,
            settings=Settings(
                max_examples=max_examples,
                step_count=12,
                seed=seed,
                read_only=read_only,
                strict=strict,
                declared=declared,
                update_replaces_config=update_replaces_config,
                shrink=shrink,
            ),
        )
        return Runner(ctx, out=io.StringIO(), only=only).run()
