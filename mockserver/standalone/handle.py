"""The standalone features' state on one app: options, clock, faults, limiter, state file.

Below everything else in `mockserver.standalone` so the control plane can
reach the handle (`get_standalone()`) without importing the package that
installs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from flask import Flask, current_app

from ..assembly import reset_state
from ..state import get_state
from .faults import FaultBook
from .persistence import StateFile
from .ratelimit import RateLimit, RateLimiter
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
    listen_host: str | None = None
    """The `--host` the server listens on: a `Host` it accepts (None: loopback only)."""
    allowed_hosts: tuple[str, ...] = ()
    """More `Host` names to answer (`--allow-host`), for proxies and containers."""


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
        self.faults.clear()
        if self.limiter is not None:
            self.limiter.reset()
        # The seed's ids come back too (see `reset_state`): ids a frontend kept stay valid.
        reset_state(get_state(self.app), seed=self.options.seed_data if to_seed else None)

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
