"""Bounded reads: no answer can make the kit hold more than it chose to, or wait forever.

Every answer the kit reads goes through :func:`read_body`, which reads the
raw bytes in chunks and stops at the first limit it meets:

- ``max_body`` (``--max-body``, default :data:`DEFAULT_MAX_BODY`): bytes of
  the body, on the wire and after decompression alike; a gzip bomb stops at
  the same size as a plain body, whatever its size on the wire, because the
  kit decompresses itself, ``max_body + 1`` bytes at most;
- ``deadline`` (``--timeout``): seconds for the whole answer, headers and body,
  not per read, so an endless body that trickles in steadily still ends. A
  single read waits at most the same time, so an answer is given up within
  about twice the deadline at worst.

A body cut short is returned with a sentence saying why (:class:`Body`);
the client reports it as a finding against the deployment, never a crash.
JSON nested deeper than :data:`MAX_DEPTH` is refused the same way (see
:func:`parse_json`): nothing the kit does with an answer may recurse without
bound.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_MAX_BODY = 4 * 1024 * 1024
CHUNK = 64 * 1024
MAX_DEPTH = 64
"""Deepest JSON nesting the kit reads (a credential with its config is about 4)."""
ACCEPT_ENCODING = "gzip, deflate"  # only what read_body can decode under its cap
NOT_JSON: Any = object()
"""What :func:`parse_json` gives for a body that is not JSON."""


@dataclass
class Body:
    """A body as read: its bytes (at most ``max_body``), and why it stopped early, if it did."""

    content: bytes
    cut_short: str | None = None


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _decoder(encoding: str) -> zlib._Decompress | None:
    """A streaming decoder for a Content-Encoding, None for identity or unknown ones."""
    name = encoding.strip().lower()
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        # zlib-wrapped, as the header names it (or gzip, which some servers send instead).
        return zlib.decompressobj(32 + zlib.MAX_WBITS)
    return None


def read_body(
    response: requests.Response, *, max_body: int, deadline: float, started: float
) -> Body:
    """Read ``response`` (sent with ``stream=True``) under the limits; see the module docstring."""
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    raw = response.raw
    out = bytearray()
    wire = 0
    reason: str | None = None
    try:
        while True:
            if time.monotonic() - started > deadline:
                reason = f"the answer was not complete after {deadline:g}s (--timeout)"
                break
            try:
                chunk = raw.read1(CHUNK, decode_content=False)
            except Exception as exc:  # a read timeout, a broken chunked encoding, a reset
                reason = f"reading the answer failed: {type(exc).__name__}"
                break
            if not chunk:
                if decoder is not None:
                    out += decoder.flush()[: max_body + 1 - len(out)]
                break
            wire += len(chunk)
            if wire > max_body:
                reason = f"the body is larger than {_mib(max_body)} on the wire (--max-body)"
                break
            if decoder is None:
                out += chunk
            else:
                try:
                    out += decoder.decompress(chunk, max_body + 1 - len(out))
                except zlib.error:
                    reason = "the body does not decompress as its Content-Encoding says"
                    break
            if len(out) > max_body:
                reason = f"the body is larger than {_mib(max_body)} (--max-body)"
                break
    finally:
        if reason is not None:
            response.close()  # never drain what is left: that is the unbounded part
    if reason is None and len(out) > max_body:
        reason = f"the body is larger than {_mib(max_body)} (--max-body)"
    return Body(bytes(out[:max_body]), reason)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (without recursing)."""
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        todo.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str) -> tuple[Any, str | None]:
    """(the JSON value of ``text`` or :data:`NOT_JSON`, a reason it was refused or None).

    Not JSON at all is no reason (the caller judges that); nesting beyond
    :data:`MAX_DEPTH` is, whether the parser gave up on it or not.
    """
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except RecursionError:
        return NOT_JSON, f"JSON nested deeper than the kit reads ({MAX_DEPTH} levels)"
    except ValueError:
        return NOT_JSON, None
    if too_deep(value):
        return NOT_JSON, f"JSON nested deeper than the kit reads ({MAX_DEPTH} levels)"
    return value, None
