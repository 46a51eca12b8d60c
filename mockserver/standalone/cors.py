"""CORS for the API, so a frontend on another origin can call the fake.

Any origin by default: the server listens on loopback for development, and
the API is guarded by API keys sent as headers, never by cookies, so no
credentials mode is needed. `--cors-origin` (repeatable) narrows the allowed
origins to exact `scheme://host[:port]` values. CORS covers `/api/...`,
`/v1/api/...` and the OpenAPI documents; the `/_mock/` control plane is left
out on purpose, so no page on another origin can drive it from a browser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from flask import Flask
from flask_cors import CORS

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
    )
