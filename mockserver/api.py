"""The HTTP face of the store: parse, authorise, call the store, render.

Thin on purpose (moto's `responses.py`): every rule lives in the store or the
contract registry; this module only turns HTTP into calls and results into
JSON. The same blueprint is mounted at `/api` and `/v1/api`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

import yaml
from flask import Blueprint, Flask, Response, g, request

import contracts

from .auth import READ_SCOPE, WRITE_SCOPE, EnvironHeaders, authenticate, require_scope
from .errors import (
    ErrorDetail,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    field_label,
)
from .httpio import (
    API_PREFIX,
    V1_API_PREFIX,
    current_request,
    json_response,
    json_text_response,
    parse_decimal,
    parse_json,
)
from .journal import redact_body
from .profile import InvalidQuery, Policy
from .state import get_state
from .store import Credential, list_param_errors

LIST_PARAMS = ("limit", "cursor", "status", "type")

P = ParamSpec("P")
R = TypeVar("R")

api = Blueprint("api", __name__)


def register_routes(app: Flask) -> None:
    app.register_blueprint(api, url_prefix=API_PREFIX, name="api")
    app.register_blueprint(api, url_prefix=V1_API_PREFIX, name="api_v1")
    app.add_url_rule("/openapi.json", "openapi_json", openapi_json, methods=["GET"])
    app.add_url_rule("/openapi.yaml", "openapi_yaml", openapi_yaml, methods=["GET"])


# --- rendering ----------------------------------------------------------------------


def _envelope(
    credential: Credential, status: int = 200, where: str = "write", policy: Policy | None = None
) -> Response:
    # `policy`: the caller's, when it has one; `get_state()` is a context lookup.
    rendered = (policy or get_state().policy).render(credential.to_json(), where)
    return json_response({"data": rendered}, status)


# --- request parsing ----------------------------------------------------------------


def requires(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the caller and check `scope` before the view runs."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            headers = EnvironHeaders(current_request().environ)
            principal = authenticate(get_state().keyring, headers)
            # One context lookup and one update: `g.x = ...` is a Python call per name.
            vars(g._get_current_object()).update(workspace=principal.workspace, principal=principal)
            require_scope(principal, scope)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _query(allowed: tuple[str, ...] = ()) -> dict[str, str]:
    """Query parameters, refusing unknown and repeated ones (named, never echoed)."""
    if not current_request().query_string:
        return {}  # the common case; the journal's default is "no query" too
    params: dict[str, str] = {}
    errors: list[ErrorDetail] = []
    for name in request.args:
        values = request.args.getlist(name)
        label = field_label(name) or "(query)"
        if name not in allowed:
            errors.append(ErrorDetail(label, "is not a known query parameter"))
        elif len(values) > 1:
            errors.append(ErrorDetail(label, "must be given once"))
        else:
            params[name] = values[0]
    if errors:
        raise InvalidQuery("The query string is invalid.", errors)
    g.journal_query = params
    return params


_JSON_TYPE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


def read_json_body() -> object:
    """The request body as JSON: 413 over the limit, 415 without a JSON type, else 400s."""
    limit = get_state().config.max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge()
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        raise InvalidRequest("A JSON body is required.", [ErrorDetail("", "is required")])
    if not _JSON_TYPE.fullmatch(request.mimetype or ""):
        raise UnsupportedMediaType()
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("Send the body as UTF-8 JSON.")
    raw = request.get_data(cache=True)  # Werkzeug enforces MAX_CONTENT_LENGTH (413)
    if len(raw) > limit:
        raise PayloadTooLarge()
    if not raw:
        raise InvalidRequest("A JSON body is required.", [ErrorDetail("", "is required")])
    return parse_json(raw, max_depth=get_state().config.max_json_depth)


def _cred_id(raw: str) -> str:
    # Anything is a lookup key; text that cannot be a stored id is simply absent.
    if not raw.isascii() or len(raw) > 128:
        raise NotFound("No credential with this id exists in this workspace.")
    return raw


# --- views ----------------------------------------------------------------------------


@api.get("/credentials")
@requires(READ_SCOPE)
def list_credentials() -> Response:
    state = get_state()
    policy = state.policy
    params = _query(LIST_PARAMS)
    status, type_ = policy.list_filters(params)
    limit_text = params.get("limit", str(policy.default_limit))
    parsed = parse_decimal(limit_text)
    limit = policy.page_limit(parsed) if parsed is not None else 0  # 0: named below
    errors = list_param_errors(status, type_, limit, policy.max_limit)
    if errors:
        raise InvalidQuery("The query string is invalid.", errors)
    after = None
    if "cursor" in params:
        try:
            after = state.cursors.decode(
                params["cursor"], workspace=g.workspace, status=status, type_=type_
            )
        except InvalidRequest as bad:
            raise InvalidQuery(bad.message, bad.details) from None
    page = state.store.list(g.workspace, status=status, type=type_, limit=limit, after=after)
    cursor = (
        state.cursors.encode(page.next_key, workspace=g.workspace, status=status, type_=type_)
        if page.next_key is not None
        else None
    )
    return json_response(
        {
            "data": [policy.render(item.to_json(), "list") for item in page.items],
            "meta": {"page": {"limit": page.limit, "cursor": cursor}},
        }
    )


@api.post("/credentials")
@requires(WRITE_SCOPE)
def create_credential() -> Response:
    _query()
    body = read_json_body()
    g.journal_body = redact_body(body)
    credential = get_state().store.create_from_body(
        g.workspace, body, created_by=g.principal.user_id
    )
    g.journal_credential = credential.id
    policy = get_state().policy
    response = _envelope(credential, policy.create_status)
    if policy.create_location:
        location = f"{request.script_root}{_prefix()}/credentials/{credential.id}"
        response.headers["Location"] = location
    return response


@api.get("/credentials/<cred_id>")
@requires(READ_SCOPE)
def get_credential(cred_id: str) -> Response:
    _query()
    # The busiest call: the state looked up once (see `_envelope`).
    state = get_state()
    policy = state.policy
    if policy.renders_as_stored("get"):
        # The stored text, enveloped: no copy, no encoding (`store.get_json`).
        status, text = state.store.get_json(g.workspace, _cred_id(cred_id))
        policy.visible_by_id(status)
        return json_text_response('{"data":' + text + "}")
    credential = state.store.get(g.workspace, _cred_id(cred_id))
    policy.visible_by_id(credential.status)
    return _envelope(credential, where="get", policy=policy)


@api.put("/credentials/<cred_id>")
@requires(WRITE_SCOPE)
def update_credential(cred_id: str) -> Response:
    _query()
    store = get_state().store
    body = read_json_body()
    try:
        type_hint: str | None = store.get(g.workspace, _cred_id(cred_id)).type
    except NotFound:
        type_hint = None
    g.journal_body = redact_body(body, type_hint)
    return _envelope(store.update(g.workspace, _cred_id(cred_id), body))


@api.delete("/credentials/<cred_id>")
@requires(WRITE_SCOPE)
def delete_credential(cred_id: str) -> Response:
    _query()
    credential = get_state().store.delete(g.workspace, _cred_id(cred_id))
    return json_response({"data": get_state().policy.status_body(credential.to_json())})


@api.post("/credentials/<cred_id>/restore")
@requires(WRITE_SCOPE)
def restore_credential(cred_id: str) -> Response:
    _query()
    credential = get_state().store.restore(g.workspace, _cred_id(cred_id))
    return json_response({"data": get_state().policy.status_body(credential.to_json())})


@api.delete("/credentials/<cred_id>/permanent")
@requires(WRITE_SCOPE)
def purge_credential(cred_id: str) -> Response:
    _query()
    purged_id = get_state().store.purge(g.workspace, _cred_id(cred_id))
    return json_response({"data": {"id": purged_id, "purged": True}})


def _prefix() -> str:
    return V1_API_PREFIX if request.blueprint == "api_v1" else API_PREFIX


# --- the contract, served -------------------------------------------------------------


def _served_document() -> dict[str, Any]:
    """The contract with this fake's own base URL as the first server.

    Swagger UI's "try it out" and clients generated from the served document
    use the first server: it must be the fake that served it, never production,
    which stays listed second (`contracts/openapi.yaml` names only production).
    """
    return _document_for(request.host_url.rstrip("/") + request.script_root)


def _document_for(base_url: str) -> dict[str, Any]:
    document = contracts.openapi_document()
    here = {"url": base_url, "description": "this fake"}
    document["servers"] = [here, *document.get("servers", [])]
    return document


@lru_cache(maxsize=8)
def _yaml_for(base_url: str) -> str:
    return yaml.safe_dump(_document_for(base_url), sort_keys=False, allow_unicode=True)


def openapi_json() -> Response:
    return json_response(_served_document())


def openapi_yaml() -> Response:
    text = _yaml_for(request.host_url.rstrip("/") + request.script_root)
    return Response(text, mimetype="application/yaml")
