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

import argparse
import ipaddress
import json
import os
from collections.abc import Mapping
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


# --- command line ------------------------------------------------------------------------

ADMIN_TOKEN_ENV: Final = "PLANASONIX_ADMIN_TOKEN"


class SetupError(Exception):
    """A flag combination `serve` refuses; the message never quotes a token or key."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags of the standalone features."""
    group = parser.add_argument_group("frontend development")
    group.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow only this origin (e.g. http://localhost:3000); repeatable; default: any",
    )
    group.add_argument("--no-cors", action="store_true", help="send no CORS headers at all")
    group.add_argument(
        "--admin-token",
        default=None,
        metavar="TOKEN",
        help=f"require TOKEN for /_mock/ (X-Mock-Admin-Token or Bearer); env {ADMIN_TOKEN_ENV}",
    )
    group.add_argument(
        "--no-control-plane", action="store_true", help="do not serve /_mock/ at all"
    )
    group.add_argument(
        "--rate-limit", default=None, metavar="N/min", help="limit each API key, e.g. 60/min"
    )
    group.add_argument(
        "--state-file", default=None, metavar="PATH", help="keep state in PATH across restarts"
    )
    group.add_argument(
        "--state-key",
        default=None,
        metavar="PASSPHRASE",
        help=f"encrypt secrets in the state file; env {persistence.STATE_KEY_ENV} (preferred)",
    )


def options_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> StandaloneOptions:
    """Options from parsed `serve` flags (and the environment); SetupError when invalid."""
    env = os.environ if environ is None else environ
    try:
        origins = tuple(cors.normalize_origin(origin) for origin in args.cors_origin)
    except ValueError as error:
        raise SetupError(f"--cors-origin: {error}") from None
    try:
        rate = ratelimit.parse_rate_limit(args.rate_limit) if args.rate_limit else None
    except ValueError as error:
        raise SetupError(f"--rate-limit: {error}") from None
    token = args.admin_token or env.get(ADMIN_TOKEN_ENV) or None
    if token is not None and not 8 <= len(token) <= 512:
        raise SetupError("the admin token must be 8-512 characters")
    seed_data = None
    if args.seed:
        try:
            seed_data = json.loads(Path(args.seed).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise SetupError(f"{args.seed}: cannot read: {type(error).__name__}") from None
    return StandaloneOptions(
        control_plane=not args.no_control_plane,
        admin_token=token,
        cors=not args.no_cors,
        cors_origins=origins,
        rate_limit=rate,
        state_file=args.state_file,
        state_key=args.state_key or env.get(persistence.STATE_KEY_ENV) or None,
        seed_data=seed_data,
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: assume it is reachable


def check_exposure(host: str, options: StandaloneOptions) -> None:
    """Refuse an open control plane on an address other machines can reach."""
    if options.control_plane and options.admin_token is None and not is_loopback(host):
        raise SetupError(
            f"refusing to listen on {host} with the /_mock/ control plane open: "
            f"set --admin-token (or {ADMIN_TOKEN_ENV}), pass --no-control-plane, "
            "or listen on 127.0.0.1"
        )
