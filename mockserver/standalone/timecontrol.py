"""A clock the control plane can freeze, set and advance while the fake runs.

`ControllableClock` wraps a base clock (the system clock by default). While
running it returns `base() + offset`; frozen, it returns one fixed moment.
Setting or advancing the time moves the offset (running) or the frozen moment
(frozen), so unfreezing continues from wherever the clock was, never jumping
back to the wall clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from ..clock import Clock, format_timestamp, parse_timestamp, system_clock

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class ControllableClock:
    """Callable like any `Clock`; thread-safe."""

    def __init__(self, base: Clock = system_clock) -> None:
        self._base = base
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._base() + self._offset

    def timestamp(self) -> float:
        """Seconds since the epoch, as `time.time()` would say on this clock."""
        return self().timestamp()

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def freeze(self) -> datetime:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._now()
            return self._frozen_at

    def unfreeze(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._base()
                self._frozen_at = None
            return self._now()

    def set(self, moment: datetime | str) -> datetime:
        """Jump to `moment` (aware, or RFC 3339 text); a running clock keeps ticking from there."""
        if isinstance(moment, str):
            moment = parse_timestamp(moment)
        if moment.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        if not EARLIEST <= moment < LATEST:
            raise ValueError("the time must lie between 1970 and 9999")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = moment.astimezone(UTC)
            else:
                self._offset = moment - self._base()
            return self._now()

    def advance(self, seconds: float) -> datetime:
        """Move `seconds` ahead; a running clock then keeps ticking from there."""
        with self._lock:
            target = self._now() + timedelta(seconds=seconds)
        return self.set(target)

    def reset(self) -> None:
        """Back to the base clock, running."""
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            now = self._now()
            frozen = self._frozen_at is not None
            offset = self._offset.total_seconds()
        return {
            "now": format_timestamp(now),
            "frozen": frozen,
            "offset_seconds": None if frozen else round(offset, 3),
        }

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "running"
        return f"ControllableClock({format_timestamp(self())}, {state})"
