"""One exchange of real traffic as the proxy and ``check-har`` hand it to the judge.

Plain data: the request as the client sent it and the answer as the upstream
gave it, with the times it started and finished (the judge orders lifecycle
evidence by them). Nothing here is ever printed as is: :meth:`Observed.curl`
is the masked form.
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contracts.registry import CREDENTIAL_TYPES, public_only

JSON = Any
MASK = "***"
KEY_HEADERS = ("authorization", "x-planasonix-api-key")
# The request headers a curl line needs to replay a call; others (cookies,
# tracing, the browser's own) are left out rather than masked one by one.
CURL_HEADERS = ("authorization", "x-planasonix-api-key", "content-type")
DECODED_LIMIT = 16 * 1024 * 1024
"""Bytes of an answer kept once its content coding is undone."""

# RFC 9110 7.6.1: meaningful for one connection only; never forwarded, never compared.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def hop_by_hop(headers: list[tuple[str, str]]) -> set[str]:
    """Lower-cased names of the hop-by-hop headers, those a ``Connection`` header names included."""
    names = set(HOP_BY_HOP)
    for name, value in headers:
        if name.lower() == "connection":
            names.update(token.strip().lower() for token in value.split(",") if token.strip())
    return names


@dataclass
class Observed:
    """A request and its answer as seen on the wire (bodies as bytes, headers in order)."""

    method: str
    url: str  # as the client addressed it: path and query (a HAR gives the full URL)
    # Left out of the repr: the API key and the secrets a request carries.
    request_headers: list[tuple[str, str]] = field(repr=False)
    request_body: bytes | None = field(repr=False)
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes | None = field(repr=False)  # None: not captured (a HAR may omit it)
    started: float  # seconds, any epoch shared by one stream of exchanges
    finished: float
    seq: int = 0
    truncated: bool = False  # the body was longer than the judge keeps
    decoded: bool = False  # content coding already undone (a HAR holds decoded text)
    base: str = ""  # where the curl line sends it: the upstream, when ``url`` is a path
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    def header(self, name: str, response: bool = False) -> str | None:
        wanted = name.lower()
        for key, value in self.response_headers if response else self.request_headers:
            if key.lower() == wanted:
                return value
        return None

    def api_key(self) -> str | None:
        """The API key the request carried (Bearer or the legacy header), for grouping only."""
        auth = self.header("authorization")
        if auth:
            scheme, _, rest = auth.partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                return rest.strip()
        legacy = self.header("x-planasonix-api-key")
        return legacy.strip() if legacy and legacy.strip() else None

    def request_json(self) -> JSON:
        return _json(self.request_body)

    def response_text(self) -> str | None:
        """The answer's body as text, content coding undone (gzip, deflate); None if unknown."""
        body = self.response_body
        if body is None:
            return None
        coding = "" if self.decoded else self.header("content-encoding", response=True) or ""
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip", "deflate"):
            try:
                body = self._inflate(body, 47 if coding != "deflate" else zlib.MAX_WBITS)
            except zlib.error:
                try:
                    body = self._inflate(body, -zlib.MAX_WBITS)
                except zlib.error:
                    self.notes.append(f"{coding} body could not be decoded")
                    return None
        elif coding not in ("", "identity"):
            self.notes.append(f"{coding} body not judged")
            return None
        return body.decode("utf-8", "replace")

    def _inflate(self, body: bytes, wbits: int) -> bytes:
        """Undo a content coding, never past :data:`DECODED_LIMIT` bytes: a small
        compressed answer can expand a thousandfold (a "zip bomb"). A longer one
        is scanned in its first part only and marked truncated, so it is never
        schema-checked or called complete."""
        inflater = zlib.decompressobj(wbits)
        text = inflater.decompress(body, DECODED_LIMIT)
        if inflater.unconsumed_tail:
            self.truncated = True
            note = f"answers over {DECODED_LIMIT} bytes once decompressed (cut there)"
            if note not in self.notes:
                self.notes.append(note)
        return text

    def response_json(self) -> JSON:
        text = self.response_text()
        return _json(text.encode() if text is not None else None)

    def curl(self, mask: Callable[[str], str]) -> str:
        """A replayable curl line: key masked, every secret field of the body masked,
        and ``mask`` (the known secrets' raw forms) applied to everything else."""
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in self.request_headers:
            lower = name.lower()
            if lower not in CURL_HEADERS:
                continue
            if lower == "authorization":
                scheme, _, rest = value.partition(" ")
                value = f"{scheme} {MASK}" if rest else MASK
            elif lower == "x-planasonix-api-key":
                value = MASK
            parts += ["-H", f"{name}: {mask(value)}"]
        if self.request_body:
            parts += ["--data-raw", mask(masked_body(self.request_body))]
        parts.append(mask(self.base + self.url))
        line = " ".join(shlex.quote(p) for p in parts)
        return f"{line}    # -> {self.status}"


def _json(body: bytes | None) -> JSON:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON: Any = _NotJson()


def is_json(value: JSON) -> bool:
    return value is not _NOT_JSON


def masked_body(body: bytes) -> str:
    """A request body fit to print: only what the schemas document as public is shown.

    An allowlist (``contracts.public_only``): a misspelled or unknown field may
    hold a secret as well as a documented secret field does. A body that is
    not a JSON object is withheld whole: nothing says where in it a secret sits.
    """
    data = _json(body)
    if not isinstance(data, dict):
        return f"<{len(body)} bytes withheld>"
    type_ = data.get("type") if data.get("type") in CREDENTIAL_TYPES else None
    shown: dict[str, JSON] = {}
    for key, value in data.items():
        if key == "config" and isinstance(value, dict):
            shown[key] = public_only(type_, value, MASK)
        elif (key == "name" and isinstance(value, str)) or (key == "type" and type_ is not None):
            shown[key] = value
        else:
            shown[str(key)] = MASK
    data = shown
    return json.dumps(data, separators=(",", ":"))
