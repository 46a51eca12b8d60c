"""Time for the fake: an injectable clock and the one timestamp format.

Every timestamp the store keeps is truncated to whole seconds, the precision
the published examples use. Keeping the stored value equal to the rendered one
means the list order (created_at, then id) is exactly the order a client can
reconstruct from the responses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Anything returning the current time as an aware datetime."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def normalize(moment: datetime) -> datetime:
    """Aware UTC, whole seconds. Naive datetimes are refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock returned a naive datetime; use an aware UTC one")
    return moment.astimezone(UTC).replace(microsecond=0)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, e.g. 2025-03-27T10:00:00Z."""
    return normalize(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Inverse of `format_timestamp`; also accepts offsets and fractions.

    Any text that is not such a timestamp is a ValueError, including one whose
    offset moves it out of datetime's range (`0001-01-01T00:00:00+01:00`),
    which `astimezone` reports as an OverflowError that callers do not expect.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return normalize(moment)
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None


class ManualClock:
    """A clock that moves only when told to: for tests and the control plane."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = normalize(start or datetime(2025, 1, 1, tzinfo=UTC))
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime | str) -> None:
        """Jump to `moment`: an aware datetime or RFC 3339 text."""
        if isinstance(moment, str):
            moment = parse_timestamp(moment)
        with self._lock:
            self._now = normalize(moment)

    def advance(self, seconds: float = 1.0) -> datetime:
        with self._lock:
            self._now = normalize(self._now + timedelta(seconds=seconds))
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({format_timestamp(self._now)})"
