"""What the standalone fake adds for frontend work, attached to one app.

`install(app, StandaloneOptions(...))` (or `create_app(extensions=
[StandaloneExtension(options)])`, the Flask-extension form of the same call)
wires, in this order: a controllable clock under the store, the `Host`
guard, fault injection, optional rate limiting, CORS, the `/_mock/` control plane with its
dashboard, and the optional state file. `planasonix-mock serve` fills the
options from its flags. The handle (`get_standalone(app)`) gives tests and
tools the same levers the HTTP control plane has.

The core app (`mockserver.app`) knows nothing of this package: everything
here attaches through request hooks, blueprints and `app.extensions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from ..state import get_state
from . import control, cors, faults, hostguard, persistence, ratelimit
from .faults import FaultBook
from .handle import EXTENSION_KEY, Standalone, StandaloneOptions, get_standalone
from .hostguard import HostGuard
from .persistence import StateFile
from .ratelimit import RateLimiter
from .timecontrol import ControllableClock

__all__ = [
    "EXTENSION_KEY",
    "Standalone",
    "StandaloneExtension",
    "StandaloneOptions",
    "get_standalone",
    "install",
]


def install(app: Flask, options: StandaloneOptions | None = None) -> Standalone:
    """Add the standalone features to `app` (built by `create_app`).

    Raises `persistence.StateFileError` when the state file cannot be used and
    ValueError for an invalid CORS origin or allowed host name.
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
    # First: a request for a foreign Host must not reach faults, limits or state.
    hostguard.install(app, HostGuard(options.listen_host, options.allowed_hosts))
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


@dataclass(frozen=True)
class StandaloneExtension:
    """`install` as a Flask-style extension, for `create_app(extensions=[...])`."""

    options: StandaloneOptions = field(default_factory=StandaloneOptions)

    def init_app(self, app: Flask) -> Standalone:
        return install(app, self.options)
