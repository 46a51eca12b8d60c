"""CORS for the API, so a frontend on another origin can call the fake.

Any origin by default: the server listens on loopback for development, and
the API is guarded by API keys sent as headers, never by cookies, so no
credentials mode is needed. `--cors-origin` (repeatable) narrows the allowed
origins to exact `scheme://host[:port]` values. CORS covers `/api/...`,
`/v1/api/...` and the OpenAPI documents; the `/_mock/` control plane is left
out on purpose, so no page on another origin can drive it from a browser.

Only requests that carry an `Origin` header get CORS headers. Every request
a browser makes across origins carries one; a request without it (curl, a
test client, a backend) is outside the CORS protocol, so the headers would
only be bytes to write and read on every call. With `--cors-origin`, this
also keeps the fake from listing every allowed origin to a client that
named none. No `Vary: Origin` on the answers without them: none of the
fake's answers carries a validator or a lifetime, so no cache keeps one to
hand to a page later (flask-cors sends none for `*` either).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final, cast
from urllib.parse import unquote, urlsplit

from flask import Flask, Response
from flask_cors import CORS

from ..httpio import current_request

ALLOWED_HEADERS: Final = ("Authorization", "Content-Type", "X-Planasonix-Api-Key", "X-Request-Id")
EXPOSED_HEADERS: Final = (
    "X-Request-Id",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Location",
    "WWW-Authenticate",
    "X-Mock-Fault",
)
METHODS: Final = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")
RESOURCES: Final = (r"/api/.*", r"/v1/api/.*", r"/openapi\.(json|yaml)")
PREFLIGHT_MAX_AGE: Final = 600


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]` in lower case; ValueError for anything else."""
    parts = urlsplit(text.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise ValueError("a CORS origin must look like http://localhost:3000")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("a CORS origin has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def install(app: Flask, origins: Sequence[str] | None = None) -> None:
    """Answer preflights and add CORS headers on API responses (errors included).

    `origins`: exact origins to allow; None or empty means any origin.
    """
    allowed: str | list[re.Pattern[str]]
    if origins:
        # Compiled and anchored: flask-cors would read a string with dots as a regex.
        allowed = [
            re.compile(re.escape(normalize_origin(origin)) + r"\Z", re.IGNORECASE)
            for origin in origins
        ]
    else:
        allowed = "*"
    CORS(
        app,
        resources={pattern: {} for pattern in RESOURCES},
        origins=allowed,
        send_wildcard=not origins,
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        methods=list(METHODS),
        max_age=PREFLIGHT_MAX_AGE,
        supports_credentials=False,
        always_send=False,  # no `Origin`, no CORS headers (see the module docstring)
    )
    _reuse_simple_request_headers(app)


# Bounds the memo below: Origin values are the client's to choose.
_MEMO_LIMIT: Final = 256
# flask-cors tries each resource pattern with `re.match`; one alternation of
# them all matches the same paths in one call.
_RESOURCE: Final = re.compile("|".join(f"(?:{pattern})" for pattern in RESOURCES))


def _reuse_simple_request_headers(app: Flask) -> None:
    """Compute flask-cors's headers for a non-preflight request once, not per request.

    flask-cors evaluates its options on every response (a quarter of a GET's
    time in the fake). For anything but a preflight, the headers it adds
    depend only on whether the path is a CORS resource and on the request's
    `Origin` and private-network headers (`flask_cors.core.get_cors_headers`),
    so the answer for one such combination is flask-cors's own, asked once on
    a blank response and replayed. Preflights still go to flask-cors itself.
    """
    hooks = app.after_request_funcs.get(None, [])
    if not hooks or getattr(hooks[-1], "__name__", "") != "cors_after_request":
        return  # not the flask-cors layout this relies on: leave it alone
    # flask-cors's hook is synchronous; Flask's type also admits coroutines.
    evaluate = cast(Callable[[Response], Response], hooks[-1])
    memo: dict[tuple[str | None, str | None], list[tuple[str, str]]] = {}

    def cors_after_request(response: Response) -> Response:
        current = current_request()  # one context lookup, not one per `request.x`
        environ = current.environ  # plain dict lookups: the headers object raises on a miss
        origin = environ.get("HTTP_ORIGIN")
        if current.method == "OPTIONS":
            return evaluate(response)
        if origin is None:
            return response  # not a CORS request: flask-cors (`always_send` off) adds nothing
        if _has_allow_origin(response):
            return evaluate(response)
        path = current.path
        if "%" in path:
            path = unquote(path)  # as flask-cors matches it
        if not _RESOURCE.match(path):
            return response
        key = (origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"))
        added = memo.get(key)
        if added is None:
            probe = Response()
            before = list(probe.headers.items())
            evaluate(probe)
            added = [item for item in probe.headers.items() if item not in before]
            if len(memo) < _MEMO_LIMIT:
                memo[key] = added
        # `add` per header: `extend` first works out what kind of collection it got.
        add = response.headers.add
        for name, value in added:
            add(name, value)
        return response

    hooks[-1] = cors_after_request


def _has_allow_origin(response: Response) -> bool:
    """`"Access-Control-Allow-Origin" in response.headers`, without its cost.

    Werkzeug answers a miss (the usual case) by building and catching a
    BadRequestKeyError, a few µs per response; a scan of a handful is less.
    """
    return any(name.lower() == "access-control-allow-origin" for name, _ in response.headers)
