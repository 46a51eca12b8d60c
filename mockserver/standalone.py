"""What the standalone fake adds for frontend work, installed on one app.

`install(app, StandaloneOptions(...))` wires, in this order: a controllable
clock under the store, fault injection, optional rate limiting, CORS, the
`/_mock/` control plane with its dashboard, and the optional state file.
`create_app()` calls it with default options (control plane and CORS on,
no rate limit, no state file); `planasonix-mock serve` fills the options from
its flags. The handle (`get_standalone(app)`) gives tests and tools the same
levers the HTTP control plane has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from flask import Flask, current_app

from . import control, cors, faults, persistence, ratelimit
from .app import get_state
from .faults import FaultBook
from .persistence import StateFile
from .ratelimit import RateLimit, RateLimiter
from .seed import load_fixtures
from .timecontrol import ControllableClock

EXTENSION_KEY: Final = "planasonix_standalone"


@dataclass(frozen=True)
class StandaloneOptions:
    control_plane: bool = True
    admin_token: str | None = field(default=None, repr=False)
    cors: bool = True
    cors_origins: tuple[str, ...] = ()
    rate_limit: RateLimit | None = None
    state_file: str | Path | None = None
    state_key: str | None = field(default=None, repr=False)
    seed_data: Any = field(default=None, repr=False)
    """Parsed fixtures the fake started with: the target of `reset {"to": "seed"}`."""


@dataclass
class Standalone:
    app: Flask
    options: StandaloneOptions
    clock: ControllableClock
    faults: FaultBook
    limiter: RateLimiter | None = None
    state_file: StateFile | None = None

    def reset(self, *, to_seed: bool = False) -> None:
        """Forget credentials, journal, faults and rate-limit counts; keys and clock stay."""
        state = get_state(self.app)
        state.store.reset()
        state.journal.clear()
        self.faults.clear()
        if self.limiter is not None:
            self.limiter.reset()
        if to_seed and self.options.seed_data is not None:
            load_fixtures(self.options.seed_data, state.store, state.keyring)

    def describe(self) -> dict[str, Any]:
        """The settings, for `GET /_mock/state`: no token, no key, no path secret."""
        return {
            "clock": self.clock.to_json(),
            "faults": self.faults.rules(),
            "rate_limit": (
                {"limit": self.limiter.rate.limit, "period_seconds": self.limiter.rate.period}
                if self.limiter
                else None
            ),
            "state_file": (
                {"path": str(self.state_file.path), "encrypted": self.state_file.encrypted}
                if self.state_file
                else None
            ),
            "admin_token_required": self.options.admin_token is not None,
            "cors_origins": list(self.options.cors_origins) or ["*"],
            "seed_loaded": self.options.seed_data is not None,
            "journal_records": len(get_state(self.app).journal),
        }


def get_standalone(app: Flask | None = None) -> Standalone:
    target = app if app is not None else current_app
    handle = target.extensions[EXTENSION_KEY]
    assert isinstance(handle, Standalone)
    return handle


def install(app: Flask, options: StandaloneOptions | None = None) -> Standalone:
    """Add the standalone features to `app` (built by `create_app`).

    Raises `persistence.StateFileError` when the state file cannot be used and
    ValueError for an invalid CORS origin.
    """
    options = options or StandaloneOptions()
    state = get_state(app)
    clock = (
        state.store.clock
        if isinstance(state.store.clock, ControllableClock)
        else ControllableClock(state.store.clock)
    )
    state.store.clock = clock
    limiter = (
        RateLimiter(options.rate_limit, clock.timestamp) if options.rate_limit is not None else None
    )
    book = FaultBook(
        clock=clock.timestamp, rate_limit=lambda: limiter.rate.limit if limiter else None
    )
    handle = Standalone(app=app, options=options, clock=clock, faults=book, limiter=limiter)
    app.extensions[EXTENSION_KEY] = handle
    faults.install(app, book)
    if limiter is not None:
        ratelimit.install(app, limiter)
    if options.cors:
        cors.install(app, options.cors_origins)
    if options.control_plane:
        control.install(app)
    if options.state_file is not None:
        handle.state_file = persistence.install(
            app, StateFile(options.state_file, options.state_key)
        )
    return handle
