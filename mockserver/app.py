"""The Flask application factory and the per-app state it wires together.

No globals: every `create_app()` owns its store, keyring, journal and cursor
key, reachable as `app.extensions["planasonix"]` (a `FakeState`), so two fakes
in one process never share anything and later layers (control plane, CORS,
faults, rate limiting, the pytest plugin) attach to a single handle.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from .auth import DEV_KEY, DEV_USER, DEV_WORKSPACE, Keyring
from .errors import (
    ApiError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from .journal import Journal, JournalRecord
from .pagination import CursorSigner
from .store import CredentialStore

if TYPE_CHECKING:
    from .standalone import StandaloneOptions

EXTENSION_KEY = "planasonix"
_log = logging.getLogger(__name__)


@dataclass
class FakeConfig:
    """Knobs of one fake. Defaults are the fake's documented choices."""

    max_body_bytes: int = 64 * 1024
    max_json_depth: int = 32
    journal_size: int = 1000
    seed: int | None = None


@dataclass
class FakeState:
    """Everything one fake owns; `app.extensions["planasonix"]`."""

    store: CredentialStore
    keyring: Keyring
    journal: Journal
    cursors: CursorSigner
    config: FakeConfig
    new_request_id: Callable[[], str] = field(default=lambda: "req_" + uuid.uuid4().hex)


def get_state(app: Flask | None = None) -> FakeState:
    """The `FakeState` of `app` (default: the app handling the current request)."""
    target = app if app is not None else current_app
    state = target.extensions[EXTENSION_KEY]
    assert isinstance(state, FakeState)
    return state


def create_app(
    store: CredentialStore | None = None,
    *,
    keyring: Keyring | None = None,
    keys: Mapping[str, str] | None = None,
    read_only_keys: Mapping[str, str] | None = None,
    journal: Journal | None = None,
    config: FakeConfig | None = None,
    standalone: StandaloneOptions | None = None,
) -> Flask:
    """A Flask app serving the Credentials API under `/api` and `/v1/api`.

    `keys` / `read_only_keys` map API key -> workspace and are added to
    `keyring` (a new one when omitted). When no key is given at all, the
    documented development key `plnx_test_dev_key` opens workspace `ws_dev`.
    `config.seed` makes ids and cursors reproducible. `standalone` adds the
    frontend-development features (control plane, CORS, faults, rate limit,
    state file; see `mockserver.standalone`), as `planasonix-mock serve` does.
    """
    # Imported here so `mockserver.app` stays importable by the api module.
    from .api import register_routes

    config = config or FakeConfig()
    if store is None:
        store = CredentialStore(seed=config.seed)
    if keyring is None:
        keyring = Keyring()
    for key, workspace in (keys or {}).items():
        keyring.add(key, workspace)
    for key, workspace in (read_only_keys or {}).items():
        keyring.add(key, workspace, scopes={"connections:read"})
    if len(keyring) == 0:
        keyring.add(DEV_KEY, DEV_WORKSPACE, user_id=DEV_USER)
    cursor_key = (
        hashlib.sha256(f"planasonix-cursor:{config.seed}".encode()).digest()
        if config.seed is not None
        else None
    )
    state = FakeState(
        store=store,
        keyring=keyring,
        journal=journal or Journal(config.journal_size),
        cursors=CursorSigner(cursor_key),
        config=config,
    )

    app = Flask("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # Werkzeug would answer `/api//credentials` with a 308 and an HTML page;
    # an unknown path is a JSON 404 like any other (SPEC §5).
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION_KEY] = state
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_error_handler(ApiError, render_error)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_unexpected)
    register_routes(app)
    if standalone is not None:
        from .standalone import install as install_standalone

        install_standalone(app, standalone)
    return app


# --- request bookkeeping ------------------------------------------------------------


def _start_request() -> None:
    g.request_id = get_state().new_request_id()
    g.started = time.perf_counter()
    g.started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or get_state().new_request_id()
    response.headers["X-Request-Id"] = request_id
    if g.get("journal_skip"):
        return response  # control-plane calls: the dashboard polls, keep them out
    started = g.get("started", time.perf_counter())
    record = JournalRecord(
        request_id=request_id,
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        started_at=g.get("started_at", ""),
        workspace=g.get("workspace"),
        query=dict(g.get("journal_query", {})),
        body=g.get("journal_body"),
    )
    get_state().journal.append(record)
    return response


# --- error rendering: the one place an error becomes a response -------------------------


def render_error(error: ApiError) -> Response:
    from .api import json_response

    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "request_id": g.get("request_id") or "",
    }
    if error.details:
        body["details"] = [{"path": d.path, "message": d.message} for d in error.details]
    return json_response({"error": body}, error.status, error.headers)


_HTTP_ERRORS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def _render_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    kind = _HTTP_ERRORS.get(status)
    if kind is MethodNotAllowed:
        allow = dict(error.get_headers()).get("Allow", "")
        return render_error(MethodNotAllowed(headers={"Allow": allow}))
    if kind is not None:
        return render_error(kind())
    if status < 500:
        # Werkzeug's other client errors (e.g. 431): keep the status, our envelope.
        api_error = InvalidRequest("The request could not be processed.")
        api_error.status = status
        return render_error(api_error)
    return _render_unexpected(error)


def _render_unexpected(error: Exception) -> Response:
    if isinstance(error, ApiError):
        return render_error(error)
    if isinstance(error, HTTPException):
        return _render_http_exception(error)
    # Only the type: exception text can quote request values (KeyError, ...).
    _log.error("internal error %s (request %s)", type(error).__name__, g.get("request_id"))
    return render_error(InternalError())
