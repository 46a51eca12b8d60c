"""`fake.faults`: the standalone server's fault rules, on every test double.

The rules, their matching and their effect are those of `POST /_mock/faults`
(`mockserver.standalone.faults`, one implementation for both); this module
only gives them a Python face:

    fake.faults.add(status=503, times=1)                 # the next API call: 503
    fake.faults.add(path="/api/credentials", method="POST", status=429, retry_after=2)
    fake.faults.add(delay_ms=300, times=1)               # slow, then normal
    fake.faults.add(connection="reset", times=1)         # the connection is reset
    fake.faults.add(connection="drip", drip_ms=200)      # the body arrives slowly

As over HTTP, `path` defaults to `/api/**` (every API call, under `/api` and
`/v1/api`), so the common case is one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from contracts.errors import PlanasonixError

from ..errors import ApiError, ErrorDetail
from ..standalone.faults import FaultBook


class FaultRuleError(PlanasonixError, ValueError):
    """A fault rule the fake refuses; the message names each field and why."""

    def __init__(self, details: Iterable[ErrorDetail]) -> None:
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        listed = "; ".join(f"{d.path or '(rule)'}: {d.message}" for d in self.details)
        super().__init__(f"invalid fault rule: {listed or 'refused'}")


class Faults:
    """The fault rules of one fake, oldest first; the first match applies."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        # Retry-After / X-RateLimit-Reset of an injected 429 follow the fake's clock.
        self.book = FaultBook(clock=lambda: clock().timestamp())

    def __repr__(self) -> str:
        return f"Faults(rules={len(self.book)})"

    def __len__(self) -> int:
        return len(self.book)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.book.rules())

    def add(self, rule: Mapping[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Add a rule (a `POST /_mock/faults` body, keyword fields, or both).

        Fields: `status` (400-599), `times` (default: until cleared),
        `delay_ms` (0-60000), `method` (default `*`), `path` (default
        `/api/**`), `code`, `message`, `retry_after` (for 429), `connection`
        (`reset`, `empty`, `truncated`, `garbage`, `drip`; see
        `mockserver.standalone.faults`), `drip_ms` (1-60000, default 1000)
        and `drip_chunks` (1-1000, default 10) for a drip. Returns the
        rule as `GET /_mock/faults` shows it (`id`, `hits`, `remaining`, ...).
        FaultRuleError, naming the fields, when the rule is invalid.
        """
        body = {**dict(rule or {}), **fields}  # no path: parse_rule's DEFAULT_PATH
        try:
            return self.book.add(body).to_json()
        except ApiError as error:
            raise FaultRuleError(error.details or (ErrorDetail("", error.message),)) from None

    def rules(self) -> list[dict[str, Any]]:
        """The active rules, with `hits` and `remaining`."""
        return self.book.rules()

    def remove(self, rule_id: str) -> bool:
        return self.book.remove(rule_id)

    def clear(self) -> int:
        """Drop every rule; returns how many there were."""
        return self.book.clear()
