"""What one fake owns, and how code running inside a request finds it.

Lives below the app factory and the routes so both (and every extension)
can reach the state without importing each other.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Flask, current_app

from .auth import Keyring
from .journal import Journal
from .pagination import CursorSigner
from .profile import Policy
from .store import CredentialStore

EXTENSION_KEY: Final = "planasonix"


def request_ids() -> Callable[[], str]:
    """A maker of `req_` + 32 hex ids: 128 random bits each, as uuid4 has.

    Drawn from a generator seeded once from the OS, not from `os.urandom` per
    request: that call releases the GIL, and under a threaded server every
    release hands the GIL to another thread before the request can go on.
    Request ids only need to be unique, not unguessable.
    """
    draw = random.Random(os.urandom(32)).getrandbits
    return lambda: f"req_{draw(128):032x}"


@dataclass
class FakeConfig:
    """Knobs of one fake. Defaults are the fake's documented choices."""

    max_body_bytes: int = 64 * 1024
    max_json_depth: int = 32
    journal_size: int = 1000
    seed: int | None = None


@dataclass
class FakeState:
    """Everything one fake owns; `app.extensions["planasonix"]`."""

    store: CredentialStore
    keyring: Keyring
    journal: Journal
    cursors: CursorSigner
    config: FakeConfig
    new_request_id: Callable[[], str] = field(default_factory=request_ids)

    @property
    def policy(self) -> Policy:
        """The profile's answers (`mockserver.profile`): the store's, so both agree."""
        return self.store.policy


def new_state(
    *,
    store: CredentialStore,
    keyring: Keyring,
    journal: Journal,
    config: FakeConfig,
) -> FakeState:
    """A `FakeState`; with `config.seed` set, its cursor key is reproducible too."""
    cursor_key = (
        hashlib.sha256(f"planasonix-cursor:{config.seed}".encode()).digest()
        if config.seed is not None
        else None
    )
    return FakeState(
        store=store,
        keyring=keyring,
        journal=journal,
        cursors=CursorSigner(cursor_key),
        config=config,
    )


def _current_app() -> Flask:
    proxy: Any = current_app  # typed as the Flask it stands for; the method is LocalProxy's
    app: Flask = proxy._get_current_object()
    return app


def get_state(app: Flask | None = None) -> FakeState:
    """The `FakeState` of `app` (default: the app handling the current request)."""
    # Unwrapped once: every attribute read through the `current_app` proxy is
    # a context lookup, and the routes ask for the state on every request.
    target = app if app is not None else _current_app()
    state = target.extensions[EXTENSION_KEY]
    assert isinstance(state, FakeState)
    return state
