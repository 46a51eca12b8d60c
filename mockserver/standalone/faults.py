"""Fault injection: answer chosen API requests with an error, a delay, or both.

A rule is the body of `POST /_mock/faults`:

    {"method": "POST", "path": "/api/credentials", "status": 503,
     "times": 1, "delay_ms": 0}

Matching (documented in README, "For frontend developers"):
- `method`: one HTTP method, case-insensitive, or `*` (the default) for any.
  CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) are never
  faulted: the browser would report a CORS failure instead of the status.
- `path`: the request path without the query string. `*` matches within one
  segment (`/api/credentials/*`), `**` across segments (`/api/**`); anything
  else is literal and exact. Three or more stars in a row (`/api/***`) are
  refused: they mean nothing `*` or `**` does not, and are usually a typo.
  A rule for `/api/...` also matches the same call under `/v1/api/...` (the
  API is served under both); a rule written with `/v1/api/...` matches only
  that prefix. Only API paths (`/api`, `/v1/api`) are ever faulted, never
  `/_mock/`, so a rule cannot lock you out.
- The first matching rule, oldest first, applies. `times` (omitted or null:
  until cleared) counts the requests it answered; a spent rule disappears.

Effect: sleep `delay_ms`, then, when `status` is given, answer with that status
and the standard error body (`code` from the published error table, or
`service_unavailable`, `bad_gateway`, `gateway_timeout`, else `http_<status>`;
both overridable with `code` and `message`). Without `status` the request
proceeds normally after the delay (a "slow network" rule). A 429 carries
`Retry-After` and the `X-RateLimit-*` headers. A request answered with a
fault's status never reaches the store.

Connection faults (`"connection": KIND`), what real clients meet on a bad
network or behind a broken proxy:
- `reset`: the connection is reset (TCP RST) before any byte of the answer.
- `empty`: the connection is closed with no answer at all.
- `garbage`: a few random bytes that are no HTTP answer, then close.
  These three never reach the store: the request is dropped at the door.
- `truncated`: the status line, the headers (with the full Content-Length)
  and the first half of the body, then close. The request was served (a
  create did create): only its answer is cut.
- `drip`: the whole answer, its body sent in `drip_chunks` pieces (default
  10) spread over `drip_ms` (default 1000), then close.
`truncated` and `drip` apply to whatever the answer is, a `status` fault's
too. The server breaks the real connection (`planasonix-mock serve`, the
`planasonix_server` fixture: `mockserver.standalone.wire`); the in-process
clients of `mockserver.testing` raise what each HTTP client raises for the
same event. Any other server answers `reset`/`empty`/`garbage` with a 502
(`code` `bad_gateway`) and `truncated`/`drip` whole.

Client timeouts. A client that says how long it waits (the in-process
transports of `mockserver.testing` pass its read timeout in the WSGI environ,
`READ_TIMEOUT_KEY`) meets a `delay_ms` longer than that after its timeout,
not after the delay: the hook sleeps the timeout only, then the request goes
on at once (so a create that timed out did create, as on a real server
whose answer came too late) and the client raises its own timeout error.
A drip whose pause between pieces exceeds the timeout times out too. Either
way the journal marks the call `fault: "timeout"`; a connection fault marks
it with its kind.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Flask, g, request

from ..errors import ApiError, ErrorDetail, InvalidRequest, require_object
from ..httpio import is_api_path, unversioned
from .wire import (
    CONNECTION_FAULTS,
    DEFAULT_DRIP_CHUNKS,
    DEFAULT_DRIP_MS,
    FAULT_KEY,
    NO_ANSWER,
    READ_TIMEOUT_KEY,
    WireFault,
    WireFaults,
)

METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_DELAY_MS: Final = 60_000
MAX_RULES: Final = 100
DEFAULT_RETRY_AFTER: Final = 5

CODES: Final[dict[int, str]] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
MESSAGES: Final[dict[int, str]] = {
    429: "Too many requests.",
    500: "The server could not complete the request.",
    502: "The upstream service answered badly.",
    503: "The service is temporarily unavailable.",
    504: "The upstream service did not answer in time.",
}
_FIELDS: Final = frozenset(
    {
        "method",
        "path",
        "status",
        "times",
        "delay_ms",
        "code",
        "message",
        "retry_after",
        "connection",
        "drip_ms",
        "drip_chunks",
    }
)


_CODE_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PATH_RE: Final = re.compile(r"^/[\x21-\x7e]{0,511}$")


class PathGlob:
    """A fault path glob, matched in time linear in the path.

    As a regex (`.*` for `**`, `[^/]*` for `*`) a rule with several stars
    backtracks polynomially: `/api/**a**a**a**b` took seconds on a 400-character
    request path. Here the glob is an automaton whose state set is a bit mask
    (one bit per position in the glob, shift-and), so each character of the
    path costs a few integer operations whatever the glob.
    """

    __slots__ = ("_accept", "_any", "_literal", "_segment", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._literal: dict[str, int] = {}  # char -> positions expecting it
        self._segment = 0  # positions holding `*`
        self._any = 0  # positions holding `**`
        position = 0
        for part in re.split(r"(\*\*|\*)", pattern):
            if part in ("*", "**"):
                if part == "*":
                    self._segment |= 1 << position
                else:
                    self._any |= 1 << position
                position += 1
                continue
            for char in part:
                self._literal[char] = self._literal.get(char, 0) | 1 << position
                position += 1
        self._accept = 1 << position

    def _close(self, states: int) -> int:
        # A star may match nothing: being at it is also being just after it.
        stars = self._segment | self._any
        while True:
            grown = states | (states & stars) << 1
            if grown == states:
                return states
            states = grown

    def match(self, text: str) -> bool:
        """Whether the whole of `text` matches."""
        states = self._close(1)
        for char in text:
            stay = states & (self._any | (0 if char == "/" else self._segment))
            states = self._close(stay | (states & self._literal.get(char, 0)) << 1)
            if not states:
                return False
        return bool(states & self._accept)


def compile_path(pattern: str) -> PathGlob:
    """`**` matches anything, `*` anything but `/`, the rest literally."""
    return PathGlob(pattern)


@dataclass
class FaultRule:
    id: str
    method: str
    path: str
    status: int | None
    times: int | None
    delay_ms: int
    code: str | None
    message: str | None
    retry_after: int
    connection: str | None = None
    drip_ms: int = 0
    drip_chunks: int = 0
    hits: int = 0
    _regex: PathGlob = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._regex = compile_path(self.path)

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method:
            return False
        return any(self._regex.match(candidate) for candidate in {path, unversioned(path)})

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else self.times - self.hits

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "times": self.times,
            "remaining": self.remaining,
            "hits": self.hits,
            "delay_ms": self.delay_ms,
            "code": self.error_code(),
            "message": self.message,
            "retry_after": self.retry_after if self.status == 429 else None,
            "connection": self.connection,
            "drip_ms": self.drip_ms if self.connection == "drip" else None,
            "drip_chunks": self.drip_chunks if self.connection == "drip" else None,
        }

    def error_code(self) -> str | None:
        if self.status is None:
            return None
        return self.code or CODES.get(self.status, f"http_{self.status}")


class InjectedFault(ApiError):
    """The error a fault rule answers with; rendered like every other ApiError."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str]) -> None:
        super().__init__(message, headers=headers)
        self.status = status
        self.code = code


_INVALID: Final = "The fault rule is invalid."


def _bad(path: str, message: str) -> InvalidRequest:
    return InvalidRequest(_INVALID, [ErrorDetail(path, message)])


def _int_field(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(name, f"must be an integer from {low} to {high}")
    return value


DEFAULT_PATH: Final = "/api/**"
"""Where a rule without `path` applies: every API call, under `/api` and `/v1/api`."""


def parse_rule(body: object, rule_id: str) -> FaultRule:
    """A `FaultRule` from a request body, or InvalidRequest naming the field."""
    body = require_object(body, _FIELDS, summary=_INVALID)
    method = body.get("method", "*")
    if not isinstance(method, str) or (method != "*" and method.upper() not in METHODS):
        raise _bad("method", "must be * or one of " + ", ".join(METHODS))
    path = body.get("path", DEFAULT_PATH)
    if not isinstance(path, str) or not _PATH_RE.fullmatch(path):
        raise _bad("path", "must be a path starting with /, visible ASCII, at most 512")
    # A literal API path, or a wildcard first segment (`/*/credentials`, `/**`):
    # anything else (`/apix/...`) could never match a call the rules are asked about.
    if not (is_api_path(path) or path.startswith("/*")):
        raise _bad("path", "must start with /api or /v1/api (only API calls can be faulted)")
    if "***" in path:
        raise _bad("path", "use * (within one segment) or ** (across segments), never ***")
    status = _int_field(body, "status", 400, 599)
    times = _int_field(body, "times", 1, 1_000_000)
    delay_ms = _int_field(body, "delay_ms", 0, MAX_DELAY_MS) or 0
    retry_after = _int_field(body, "retry_after", 0, 86_400)
    connection = body.get("connection")
    if connection is not None and connection not in CONNECTION_FAULTS:
        raise _bad("connection", "must be one of " + ", ".join(CONNECTION_FAULTS))
    drip_ms = _int_field(body, "drip_ms", 1, MAX_DELAY_MS)
    drip_chunks = _int_field(body, "drip_chunks", 1, 1000)
    if connection != "drip":
        for name, value in (("drip_ms", drip_ms), ("drip_chunks", drip_chunks)):
            if value is not None:
                raise _bad(name, 'applies only to "connection": "drip"')
    if connection in NO_ANSWER and status is not None:
        raise _bad("status", f'cannot be combined with "connection": "{connection}" (no answer)')
    if status is None and delay_ms == 0 and connection is None:
        raise _bad("status", "is required unless delay_ms is above 0 or connection is given")
    code = body.get("code")
    if code is not None and (not isinstance(code, str) or not _CODE_RE.fullmatch(code)):
        raise _bad("code", "must be 1-64 of a-z 0-9 _, starting with a letter")
    message = body.get("message")
    if message is not None and (not isinstance(message, str) or not 1 <= len(message) <= 500):
        raise _bad("message", "must be a string of 1-500 characters")
    if status is None and (code is not None or message is not None):
        raise _bad("status", "is required with code or message")
    return FaultRule(
        id=rule_id,
        method=method.upper(),
        path=path,
        status=status,
        times=times,
        delay_ms=delay_ms,
        code=code,
        message=message,
        retry_after=DEFAULT_RETRY_AFTER if retry_after is None else retry_after,
        connection=connection,
        drip_ms=(drip_ms or DEFAULT_DRIP_MS) if connection == "drip" else 0,
        drip_chunks=(drip_chunks or DEFAULT_DRIP_CHUNKS) if connection == "drip" else 0,
    )


class FaultBook:
    """The active rules of one fake. Thread-safe: each hit is counted exactly once."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rate_limit: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._next = 1
        self.sleep = sleep
        self.clock = clock
        self.rate_limit = rate_limit

    def __len__(self) -> int:
        return len(self._rules)

    def add(self, body: object) -> FaultRule:
        with self._lock:
            if len(self._rules) >= MAX_RULES:
                raise _bad("", f"at most {MAX_RULES} fault rules may be active; clear some")
            rule = parse_rule(body, f"flt_{self._next}")
            self._next += 1
            self._rules.append(rule)
            return rule

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) < before

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            return count

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that answers this request, counted as used; None when none matches."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def apply(self, method: str, path: str) -> None:
        """Sleep and/or raise the matching rule's error (for a before_request hook)."""
        rule = self.take(method, path)
        if rule is None:
            return
        g.fault_id = rule.id
        environ = request.environ
        timeout = environ.get(READ_TIMEOUT_KEY)
        if rule.delay_ms:
            delay = rule.delay_ms / 1000
            if timeout is not None and delay > timeout:
                # The client stops waiting here; the rest of the delay is nobody's wait.
                self.sleep(timeout)
                environ[FAULT_KEY] = WireFault("timeout", timeout=timeout)
                g.journal_fault = "timeout"
            else:
                self.sleep(delay)
        if rule.connection is not None and FAULT_KEY not in environ:
            wire = WireFault(rule.connection, rule.drip_ms, rule.drip_chunks)
            if wire.kind == "drip" and timeout is not None and wire.pause > timeout:
                wire = WireFault("drip", rule.drip_ms, rule.drip_chunks, timeout=timeout)
            environ[FAULT_KEY] = wire
            g.journal_fault = "timeout" if wire.timeout is not None else wire.kind
            if wire.kind in NO_ANSWER:
                # Answered only where no server breaks the connection (see the module doc).
                message = f"Connection fault '{wire.kind}': the server sent no answer."
                raise InjectedFault(502, "bad_gateway", message, {"X-Mock-Fault": rule.id})
        if rule.status is None:
            return
        headers = {"X-Mock-Fault": rule.id}
        if rule.status == 429:
            headers.update(rate_limit_headers(self.rate_limit(), rule.retry_after, self.clock()))
        if rule.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="planasonix"'
        message = rule.message or MESSAGES.get(rule.status, "The request failed.")
        code = rule.error_code() or "internal_error"
        raise InjectedFault(rule.status, code, message, headers)


def rate_limit_headers(limit: int | None, retry_after: int, now: float) -> dict[str, str]:
    """The headers of an injected 429: limit (the configured one, else 60), 0 left."""
    return {
        "Retry-After": str(retry_after),
        "X-RateLimit-Limit": str(limit if limit is not None else 60),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(math.ceil(now + retry_after)),
    }


def is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def install(app: Flask, book: FaultBook | None = None) -> FaultBook:
    """Attach a `FaultBook` to `app`: every API request passes through it first."""
    if book is None:
        book = FaultBook()
    install_lookup(app, lambda: book)
    return book


def install_lookup(app: Flask, find_book: Callable[[], FaultBook | None]) -> None:
    """Like `install`, for an app serving several fakes (`mockserver.testing`'s
    shared app): `find_book()` names the book of the request's fake, or None."""

    def inject_faults() -> None:
        book = find_book()
        if book is None or not len(book):
            return  # no rule set: the request is not even looked at
        if is_api_path(request.path) and not is_preflight():
            book.apply(request.method, request.path)

    app.before_request(inject_faults)
    # The connection faults' half on a real socket (a no-op elsewhere).
    app.wsgi_app = WireFaults(app.wsgi_app)  # type: ignore[method-assign]
