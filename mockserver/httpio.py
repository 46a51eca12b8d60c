"""HTTP helpers every layer of the fake shares: which paths are the API, how a
JSON body is read and a JSON answer (or an error) is written.

At the bottom of `mockserver` on purpose: the routes, the app factory, the
standalone features and the test harness all use these, and none of them may
import another just for a helper.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from flask import Request, Response, g, request

from . import jsontext
from .errors import ApiError, ErrorDetail, InvalidRequest, child_path

API_PREFIX: Final = "/api"
V1_API_PREFIX: Final = "/v1/api"
API_PREFIXES: Final = (API_PREFIX, V1_API_PREFIX)
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: no state to save, no cross-origin guard needed."""


def current_request() -> Request:
    """The request being handled, unwrapped from Flask's `request` proxy.

    For code that runs on every request: each `request.x` through the proxy
    is a context-variable lookup (~0.6 µs); this is one, then plain reads.
    """
    # The proxy is typed as the Request it stands for, so mypy cannot see the
    # documented `_get_current_object` of werkzeug's LocalProxy. An annotated
    # `Any` rather than `typing.cast`: cast is a function call, on every request.
    proxy: Any = request
    current: Request = proxy._get_current_object()
    return current


_API_TREES: Final = tuple(prefix + "/" for prefix in API_PREFIXES)


def is_api_path(path: str) -> bool:
    """True for `/api`, `/v1/api` and everything under them; `/apix` is not one."""
    # Asked several times per request: one startswith over a tuple, no generator.
    return path.startswith(_API_TREES) or path in API_PREFIXES


def unversioned(path: str) -> str:
    """`/v1/api/...` as the same call under `/api/...`; any other path unchanged."""
    if path == V1_API_PREFIX or path.startswith(V1_API_PREFIX + "/"):
        return API_PREFIX + path[len(V1_API_PREFIX) :]
    return path


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return json_text_response(jsontext.encode(body), status, headers)


def json_text_response(
    text: str, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer from text already encoded the fake's way (`mockserver.jsontext`)."""
    response = Response(text, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_error(error: ApiError) -> Response:
    """The one place an `ApiError` becomes a response: the standard error body."""
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "request_id": g.get("request_id") or "",
    }
    if error.details:
        body["details"] = [{"path": d.path, "message": d.message} for d in error.details]
    return json_response({"error": body}, error.status, error.headers)


# ASCII digits only: str.isdigit() also accepts '²' or '٣', which int() then
# rejects or reads. Leading zeros are fine; more than 7 significant digits
# never fit a range this fake uses (and int() of huge text is itself an error).
_DECIMAL = re.compile(r"0*([0-9]{1,7})")


def parse_decimal(text: str) -> int | None:
    """`text` as a non-negative decimal integer, or None when it is anything else."""
    match = _DECIMAL.fullmatch(text)
    return int(match.group(1)) if match else None


def _reject_constant(name: str) -> Any:
    raise ValueError("non-finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    return value


def parse_json(raw: bytes, *, max_depth: int) -> object:
    """Strict JSON: UTF-8, finite numbers, bounded depth, no lone surrogates."""
    invalid = InvalidRequest("The body is not valid JSON.", [ErrorDetail("", "is not valid JSON")])
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        # JSONDecodeError, UnicodeDecodeError and int-size errors are ValueErrors;
        # RecursionError is how the decoder reports absurd nesting.
        raise invalid from None
    _check_tree(value, max_depth)
    return value


def _check_tree(value: object, max_depth: int) -> None:
    """Depth and text checks, iteratively: the tree itself may be deep."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            raise InvalidRequest(
                "The body is nested too deeply.", [ErrorDetail(path, "is nested too deeply")]
            )
        if isinstance(node, str):
            _check_text(node, path)
        elif isinstance(node, dict):
            for key, child in node.items():
                _check_text(key, path)
                stack.append((child, child_path(path, key), depth + 1))
        elif isinstance(node, list):
            for position, child in enumerate(node):
                stack.append((child, f"{path}[{position}]", depth + 1))


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            "The body contains text that is not valid Unicode.",
            [ErrorDetail(path, "contains an unpaired surrogate")],
        ) from None
