"""The Flask application factory: routes, request bookkeeping, error rendering.

No globals: every `create_app()` owns its store, keyring, journal and cursor
key, reachable as `app.extensions["planasonix"]` (a `FakeState`, see
`mockserver.state`), so two fakes in one process never share anything.

Extension point. The app knows nothing of what is added on top of it (the
standalone server's control plane, faults, CORS, rate limit, state file; a
user's own hooks). An extension is any object with `init_app(app)`, the way
Flask extensions attach, passed as `create_app(extensions=[...])` or called
on a built app. Inside `init_app` it may use exactly these:

- `app.before_request` / `app.after_request` / `app.register_blueprint`:
  hooks run in registration order, after the core's own `before_request`
  (which sets `g.request_id`) and before its `after_request` (the journal).
- `mockserver.state.get_state(app)`: the store, keyring, journal, cursors and
  config; `store.clock` may be replaced by a wrapping clock.
- `mockserver.httpio`: `json_response`, `render_error`, `is_api_path`, ...
- `g.journal_skip = True` in a request keeps that request out of the journal;
  `g.journal_fault = "..."` marks its record with what the client met instead
  of the answer (`JournalRecord.fault`: a timeout, a connection fault).
- `app.extensions[NAME]`: where an extension keeps its own handle.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .api import register_routes
from .assembly import build_state
from .auth import API_KEY_HEADER, Keyring
from .errors import (
    ApiError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from .httpio import current_request, is_api_path, json_response, render_error
from .journal import Journal, JournalRecord, field_paths
from .journal import in_scope as in_journal_scope
from .profile import Policy
from .state import EXTENSION_KEY, FakeConfig, FakeState, get_state
from .store import CredentialStore

__all__ = [
    "EXTENSION_KEY",
    "Extension",
    "FakeConfig",
    "FakeState",
    "create_app",
    "get_state",
    "json_response",
    "render_error",
]
_log = logging.getLogger(__name__)


class Extension(Protocol):
    """What `create_app(extensions=...)` accepts: anything Flask-extension shaped."""

    def init_app(self, app: Flask) -> object: ...


def create_app(
    store: CredentialStore | None = None,
    *,
    keyring: Keyring | None = None,
    keys: Mapping[str, str] | None = None,
    read_only_keys: Mapping[str, str] | None = None,
    journal: Journal | None = None,
    config: FakeConfig | None = None,
    extensions: Iterable[Extension] = (),
    profile: Policy | Mapping[str, Any] | str | Path | None = None,
    state: FakeState | None = None,
) -> Flask:
    """A Flask app serving the Credentials API under `/api` and `/v1/api`.

    `keys` / `read_only_keys` map API key -> workspace and are added to
    `keyring` (a new one when omitted). When no key is given at all, the
    documented development key `plnx_test_dev_key` opens workspace `ws_dev`.
    `config.seed` makes ids and cursors reproducible. The pieces are put
    together by `mockserver.assembly.build_state`; `state` serves a state
    built already (`build_state(seed=...).state`) instead: pass it without
    the pieces. Each of `extensions`
    gets `init_app(app)` once the core is wired (see the module docstring);
    `mockserver.standalone.StandaloneOptions(...)` is the one `planasonix-mock
    serve` uses. `profile` picks the answers to what the docs leave open: a
    `contracts.profile.Profile`, its JSON document (dict), a path to one, or
    None for the fake's defaults; it applies to `store` too.
    """
    if state is None:
        state = build_state(
            config=config,
            store=store,
            profile=profile,
            keyring=keyring,
            keys=keys,
            read_only_keys=read_only_keys,
            journal=journal,
        ).state
    elif any(
        piece is not None
        for piece in (store, keyring, keys, read_only_keys, journal, config, profile)
    ):
        raise TypeError("create_app: pass either state or the pieces to build one, not both")
    config = state.config

    app = _App("mockserver")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # Werkzeug would answer `/api//credentials` with a 308 and an HTML page;
    # an unknown path is a JSON 404 like any other (the error table).
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION_KEY] = state
    _add_bookkeeping(app)
    app.register_error_handler(ApiError, _render_api_error)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_unexpected)
    register_routes(app)
    for extension in extensions:
        extension.init_app(app)
    return app


class _App(Flask):
    """Flask, remembering which hooks and views are plain functions.

    Flask's `ensure_sync` asks `inspect` whether a function is a coroutine
    function each time it calls one: every hook and the view, on every
    request (a few µs per API call). The answer never changes for a function,
    so it is asked once; coroutine functions still go to Flask every time.
    """

    _SYNC_MEMO_LIMIT = 4096  # functions registered on one app: far fewer

    def __init__(self, import_name: str) -> None:
        # No `/static/<path>` route: the fake serves no such folder, and every
        # rule is one more for each request's URL matching to pass.
        super().__init__(import_name, static_folder=None)
        self._sync_functions: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._sync_functions:
                return func
        except TypeError:  # an unhashable callable object: Flask decides each time
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self._sync_functions) < self._SYNC_MEMO_LIMIT:
            self._sync_functions.add(func)
        return wrapped


# --- request bookkeeping ------------------------------------------------------------


def _add_bookkeeping(app: Flask) -> None:
    """The core's own hooks: a request id first, the journal entry last.

    Closures over `app` because they run on every request: `get_state(app)`
    and one lookup each of `g` and `request` cost a fraction of going through
    Flask's context proxies (`current_app`, `g.x`, `request.x`: a context-
    variable lookup per access). The state is read per request, never kept:
    `mockserver.testing` swaps `app.extensions["planasonix"]` after building.
    """

    def _start_request() -> None:
        # One update of `g`'s namespace: `g.x = ...` is a Python call per name.
        vars(g._get_current_object()).update(
            request_id=get_state(app).new_request_id(),
            started=time.perf_counter(),
            started_wall=time.time(),  # formatted only if the request is journaled
        )

    def _finish_request(response: Response) -> Response:
        # The attributes as a dict: a missing one costs `g` an AttributeError.
        ctx_g = vars(g._get_current_object())
        state = get_state(app)
        request_id = ctx_g.get("request_id") or state.new_request_id()
        response.headers["X-Request-Id"] = request_id
        current = current_request()
        method, path = current.method, current.path
        if ctx_g.get("journal_skip") or not in_journal_scope(method, path):
            return response  # control-plane calls, preflights, pages: API calls only
        started = ctx_g.get("started")
        duration = time.perf_counter() - started if started is not None else 0.0
        wall = ctx_g.get("started_wall")
        query = ctx_g.get("journal_query")
        record = JournalRecord(
            request_id=request_id,
            method=method,
            path=path,
            status=response.status_code,
            duration_ms=round(duration * 1000, 3),
            started_at=_instant(wall) if wall is not None else "",
            workspace=ctx_g.get("workspace"),
            query=dict(query) if query else {},
            body=ctx_g.get("journal_body"),
            fault=ctx_g.get("journal_fault"),
            credential_id=ctx_g.get("journal_credential"),
            auth=_auth_form(current.headers),
            response_fields=_answer_fields(response) if state.journal.capture_fields else None,
        )
        state.journal.append(record)
        return response

    app.before_request(_start_request)
    app.after_request(_finish_request)


def _auth_form(headers: Any) -> str | None:
    if "Authorization" in headers:
        return "bearer"
    return "legacy" if API_KEY_HEADER in headers else None


def _answer_fields(response: Response) -> tuple[str, ...] | None:
    if not response.is_json:
        return None
    try:
        return field_paths(json.loads(response.get_data()))
    except ValueError:
        return None


def _instant(wall: float) -> str:
    """`wall` (seconds since the epoch) as e.g. 2025-03-27T10:00:00.123456Z."""
    second = int(wall)
    return f"{_second_text(second)}.{int((wall - second) * 1_000_000):06d}Z"


@lru_cache(maxsize=8)
def _second_text(second: int) -> str:
    # Requests arrive many per second: format each second once.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


# --- error rendering: the one place an error becomes a response -------------------------


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
        return _render_api_error(MethodNotAllowed(headers={"Allow": allow}))
    if kind is not None:
        return _render_api_error(kind())
    if status < 500:
        # Werkzeug's other client errors (e.g. 431): keep the status, our envelope.
        api_error = InvalidRequest("The request could not be processed.")
        api_error.status = status
        return _render_api_error(api_error)
    return _render_unexpected(error)


def _render_api_error(error: ApiError) -> Response:
    """`render_error`, with the status and body shape of the profile on API paths."""
    response = render_error(error)
    if not is_api_path(request.path):
        return response
    policy = get_state().policy
    response.status_code = policy.error_status(error)
    if policy.flat_errors:  # rare: the default body needs no second pass
        shaped = policy.error_body(json.loads(response.get_data()))
        response.set_data(json.dumps(shaped, separators=(",", ":")))
    return response


def _render_unexpected(error: Exception) -> Response:
    if isinstance(error, ApiError):
        return _render_api_error(error)
    if isinstance(error, HTTPException):
        return _render_http_exception(error)
    # Only the type: exception text can quote request values (KeyError, ...).
    _log.error("internal error %s (request %s)", type(error).__name__, g.get("request_id"))
    return _render_api_error(InternalError())
