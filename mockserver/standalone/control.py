"""The control plane under `/_mock/`: reset, seed, journal, faults, clock.

Every endpoint answers JSON in the fake's envelopes (`{"data": ...}` or the
standard error body); bad input is a 400 `invalid_request` whose details name
the field. Nothing here ever returns a secret: credentials are shown through
`Credential.to_json()` (metadata only), the journal holds redacted bodies,
seed responses only count what was loaded, and keys are only counted.

Guards:
- with an admin token configured, every JSON endpoint needs it, as
  `X-Mock-Admin-Token: TOKEN` or `Authorization: Bearer TOKEN` (401
  otherwise). The dashboard's HTML/JS/CSS hold no data and load without it;
  the page asks for the token and sends it with every call.
- a state-changing call that a browser sends from another origin (an
  `Origin` that is not this server, or `Sec-Fetch-Site: cross-site`) is a
  403: CORS does not cover `/_mock/`, and this stops a foreign page from
  resetting your fake with a "simple" form post.
"""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Any, Final
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, g, request

from ..clock import parse_timestamp
from ..errors import ErrorDetail, Forbidden, InvalidRequest, NotFound, Unauthorized, require_object
from ..httpio import SAFE_METHODS, json_response, parse_decimal, parse_json
from ..seed import SeedError, load_fixtures
from ..state import get_state
from ..store import MAX_LIMIT
from .handle import Standalone, get_standalone

ADMIN_HEADER: Final = "X-Mock-Admin-Token"
CONTROL_BODY_LIMIT: Final = 8 * 1024 * 1024
JOURNAL_DEFAULT: Final = 100
STATIC_FILES: Final = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}
_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PUBLIC_ENDPOINTS: Final = frozenset({"mock.dashboard", "mock.static_file"})

control = Blueprint("mock", __name__)


def install(app: Flask) -> None:
    app.register_blueprint(control, url_prefix="/_mock")


def _handle() -> Standalone:
    return get_standalone()


def _bad(field: str, message: str, summary: str = "The request is invalid.") -> InvalidRequest:
    return InvalidRequest(summary, [ErrorDetail(field, message)])


# --- guards ----------------------------------------------------------------------------


@control.before_request
def _guard() -> None:
    # Control-plane calls stay out of the journal: the dashboard polls it.
    g.journal_skip = True
    request.max_content_length = CONTROL_BODY_LIMIT
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return
    token = _handle().options.admin_token
    if token is not None and not _token_matches(token):
        raise Unauthorized("This control-plane call needs the admin token.")
    if request.method not in SAFE_METHODS and _cross_origin():
        raise Forbidden("Control-plane calls from another origin are refused.")


def _token_matches(token: str) -> bool:
    presented = request.headers.get(ADMIN_HEADER)
    if presented is None:
        authorization = request.headers.get("Authorization", "")
        scheme, _, value = authorization.partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else None
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), token.encode("utf-8"))


def _cross_origin() -> bool:
    if request.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    theirs = _origin_of(origin)  # "null" and anything unreadable: cross-origin
    return theirs is None or theirs != _origin_of(f"{request.scheme}://{request.host}")


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if unreadable.

    An origin is all three: `https://127.0.0.1:PORT` is not this plain-HTTP server.
    """
    if len(url) > 1024:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _body() -> object:
    """The JSON body, or None when there is none (any content type: curl -d works)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    return parse_json(raw, max_depth=get_state().config.max_json_depth)


def _object_body(allowed: frozenset[str]) -> dict[str, Any]:
    body = _body()
    return {} if body is None else require_object(body, allowed)


def _int_param(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    value = parse_decimal(text)
    if value is None or not low <= value <= high:
        raise _bad(name, f"must be an integer from {low} to {high}")
    return value


# --- dashboard ---------------------------------------------------------------------------


def _static(name: str) -> bytes:
    return resources.files("mockserver.standalone").joinpath("static", name).read_bytes()


@control.get("/")
def dashboard() -> Response:
    response = Response(_static("dashboard.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@control.get("/static/<name>")
def static_file(name: str) -> Response:
    mimetype = STATIC_FILES.get(name)
    if mimetype is None:
        raise NotFound()
    response = Response(_static(name), mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- state ----------------------------------------------------------------------------------


@control.get("/state")
def state_view() -> Response:
    """Metadata of every workspace and credential: never a secret, never a key."""
    handle = _handle()
    state = get_state()
    per_workspace = _int_param("limit", MAX_LIMIT, 1, MAX_LIMIT)
    key_counts: dict[str, int] = {}
    for _key, principal in state.keyring.items():
        key_counts[principal.workspace] = key_counts.get(principal.workspace, 0) + 1
    workspaces = []
    for workspace in sorted(set(key_counts) | state.store.workspaces()):
        page = state.store.list(workspace, status="all", limit=per_workspace)
        workspaces.append(
            {
                "id": workspace,
                "keys": key_counts.get(workspace, 0),
                "counts": {
                    "active": state.store.count(workspace, status="active"),
                    "deleted": state.store.count(workspace, status="deleted"),
                },
                "credentials": [credential.to_json() for credential in page.items],
                "truncated": page.next_key is not None,
            }
        )
    return json_response({"data": {"workspaces": workspaces, **handle.describe()}})


# --- reset and seed ---------------------------------------------------------------------------


@control.post("/reset")
def reset() -> Response:
    """Body: none or `{}` (empty), `{"to": "empty"}`, or `{"to": "seed"}`."""
    body = _object_body(frozenset({"to"}))
    target = body.get("to", "empty")
    if target not in ("empty", "seed"):
        raise _bad("to", "must be empty or seed")
    handle = _handle()
    if target == "seed" and handle.options.seed_data is None:
        raise _bad("to", "no seed was loaded at start; use empty")
    handle.reset(to_seed=target == "seed")
    state = get_state()
    return json_response(
        {"data": {"reset": target, "credentials": len(state.store), "workspaces": _count_ws()}}
    )


def _count_ws() -> int:
    return len(get_state().store.workspaces())


@control.post("/seed")
def seed() -> Response:
    """Add fixtures (the `--seed` file format) to the running fake."""
    body = _body()
    if body is None:
        raise _bad("", "a fixtures document is required")
    state = get_state()
    try:
        summary = load_fixtures(body, state.store, state.keyring)
    except SeedError as error:
        details = error.details or (ErrorDetail("", str(error)),)
        raise InvalidRequest("The fixtures are invalid.", details) from None
    return json_response(
        {
            "data": {
                "workspaces": list(summary.workspaces),
                "keys": summary.keys,
                "credentials": summary.credentials,
            }
        }
    )


# --- journal ---------------------------------------------------------------------------------


@control.get("/journal")
def journal() -> Response:
    """The latest requests, newest first; `limit` 1-1000 (default 100)."""
    limit = _int_param("limit", JOURNAL_DEFAULT, 1, 1000)
    records = [
        record.to_json()
        for record in reversed(get_state().journal.records())
        if not record.path.startswith("/_mock")
    ]
    return json_response({"data": records[:limit]})


@control.delete("/journal")
def clear_journal() -> Response:
    get_state().journal.clear()
    return json_response({"data": {"cleared": True}})


# --- faults ------------------------------------------------------------------------------------


@control.get("/faults")
def list_faults() -> Response:
    return json_response({"data": _handle().faults.rules()})


@control.post("/faults")
def add_fault() -> Response:
    body = _body()
    if body is None:
        raise _bad("", "a fault rule is required", "The fault rule is invalid.")
    rule = _handle().faults.add(body)
    return json_response({"data": rule.to_json()}, 201)


@control.delete("/faults")
def clear_faults() -> Response:
    return json_response({"data": {"cleared": _handle().faults.clear()}})


@control.delete("/faults/<rule_id>")
def remove_fault(rule_id: str) -> Response:
    if not _handle().faults.remove(rule_id):
        raise NotFound("No fault rule with this id.")
    return json_response({"data": {"cleared": 1}})


# --- clock ------------------------------------------------------------------------


@control.get("/clock")
def get_clock() -> Response:
    return json_response({"data": _handle().clock.to_json()})


@control.post("/clock")
def set_clock() -> Response:
    """`{"freeze": true|false}`, `{"set": "2025-01-01T00:00:00Z"}`, `{"advance_seconds": 60}`;
    several at once apply in that order."""
    body = _object_body(frozenset({"freeze", "set", "advance_seconds", "reset"}))
    freeze = body.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise _bad("freeze", "must be true or false")
    moment = None
    if "set" in body:
        if not isinstance(body["set"], str) or len(body["set"]) > 64:
            raise _bad("set", "must be an RFC 3339 timestamp")
        try:
            moment = parse_timestamp(body["set"])
        except ValueError:
            raise _bad("set", "must be an RFC 3339 timestamp") from None
    advance = body.get("advance_seconds")
    if advance is not None and (
        isinstance(advance, bool)
        or not isinstance(advance, int | float)
        or not 0 <= advance <= 100 * 365 * 86400
    ):
        raise _bad("advance_seconds", "must be a number from 0 to 3153600000")
    if body.get("reset") is not None and not isinstance(body.get("reset"), bool):
        raise _bad("reset", "must be true or false")
    clock = _handle().clock
    if body.get("reset"):
        clock.reset()
    if freeze is True:
        clock.freeze()
    elif freeze is False:
        clock.unfreeze()
    try:
        if moment is not None:
            clock.set(moment)
        if advance:
            clock.advance(float(advance))
    except (ValueError, OverflowError):
        raise _bad("set" if moment else "advance_seconds", "moves the clock out of range") from None
    return json_response({"data": clock.to_json()})
