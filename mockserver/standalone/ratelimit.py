"""Optional rate limiting per API key (`--rate-limit N/min`).

Fixed windows aligned to the clock (a 1/min limit resets at every whole
minute), counted per valid API key (its SHA-256, never the key itself);
requests that will fail authentication (no key, a malformed or an unknown
one) share one bucket per client address, so trying many wrong keys is
limited like a deployment's limiter would. When on,
every API response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (Unix seconds when the window ends), and a request over
the limit gets 429 `rate_limited` with `Retry-After` (seconds). The clock is
the fake's controllable one, so `POST /_mock/clock {"advance_seconds": 60}`
ends a window at once. Preflights and `/_mock/` are never limited.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from flask import Flask, Response, g, request

from ..auth import Keyring, extract_key
from ..errors import ApiError, RateLimited
from ..httpio import is_api_path
from ..state import get_state
from .faults import is_preflight

_RATE_RE: Final = re.compile(
    r"^\s*(\d{1,7})\s*/\s*(s|sec|second|m|min|minute|h|hr|hour)\s*$", re.IGNORECASE
)
_PERIODS: Final = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_PERIODS_H: Final = {"h": 3600, "hr": 3600, "hour": 3600}
_MAX_BUCKETS: Final = 10_000


@dataclass(frozen=True)
class RateLimit:
    limit: int
    period: int  # seconds

    def __str__(self) -> str:
        unit = {1: "s", 60: "min", 3600: "h"}.get(self.period, f"{self.period}s")
        return f"{self.limit}/{unit}"


def parse_rate_limit(text: str) -> RateLimit:
    """`N/min` (also `N/s`, `N/h`), N from 1 to 1000000; ValueError otherwise."""
    match = _RATE_RE.fullmatch(text)
    if match is None:
        raise ValueError("expected N/min, N/s or N/h, e.g. 60/min")
    limit = int(match.group(1))
    unit = match.group(2).lower()
    if not 1 <= limit <= 1_000_000:
        raise ValueError("the limit must be from 1 to 1000000")
    return RateLimit(limit, _PERIODS.get(unit) or _PERIODS_H[unit])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix seconds when the window ends
    retry_after: int  # seconds; 0 when allowed

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter:
    """Counts requests per bucket in fixed windows. Thread-safe."""

    def __init__(self, rate: RateLimit, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.clock = clock
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str) -> Decision:
        now = self.clock()
        window = math.floor(now / self.rate.period)
        reset = (window + 1) * self.rate.period
        with self._lock:
            seen_window, count = self._counts.get(bucket, (window, 0))
            if seen_window != window:
                count = 0
            allowed = count < self.rate.limit
            if allowed:
                count += 1
            if len(self._counts) >= _MAX_BUCKETS and bucket not in self._counts:
                self._counts = {b: wc for b, wc in self._counts.items() if wc[0] == window}
            self._counts[bucket] = (window, count)
        return Decision(
            allowed=allowed,
            limit=self.rate.limit,
            remaining=self.rate.limit - count,
            reset=reset,
            retry_after=0 if allowed else max(1, math.ceil(reset - now)),
        )

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def client_of(remote_addr: str | None) -> str:
    """The client an address counts as: every loopback address (all of
    127.0.0.0/8, `::1` and their IPv4-mapped forms) is one client, so a local
    caller cannot escape the limit by rotating its source over 127.0.0.0/8."""
    if remote_addr is None:
        return "?"
    try:
        address = ipaddress.ip_address(remote_addr.removeprefix("[").removesuffix("]"))
    except ValueError:
        return remote_addr
    mapped = getattr(address, "ipv4_mapped", None)
    if address.is_loopback or (mapped is not None and mapped.is_loopback):
        return "loopback"
    return str(address)


def bucket_of_request(keyring: Keyring) -> str:
    """A valid key's own bucket; everything that will fail authentication shares
    its client address's, so guessing keys costs one request of the limit each."""
    try:
        key = extract_key(request.headers)
    except ApiError:
        key = None
    if key is None or keyring.authenticate(key) is None:
        return "addr:" + client_of(request.remote_addr)
    return "key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def install(app: Flask, limiter: RateLimiter) -> RateLimiter:
    keyring = get_state(app).keyring

    def check_rate_limit() -> None:
        if not is_api_path(request.path) or is_preflight():
            return
        decision = limiter.hit(bucket_of_request(keyring))
        g.rate_limit = decision
        if not decision.allowed:
            raise RateLimited(
                "Too many requests; retry after the time in Retry-After.",
                headers=decision.headers(),
            )

    def add_headers(response: Response) -> Response:
        decision = g.get("rate_limit")
        if isinstance(decision, Decision):
            for name, value in decision.headers().items():
                response.headers[name] = value
        return response

    app.before_request(check_rate_limit)
    app.after_request(add_headers)
    return limiter
