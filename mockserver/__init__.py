"""An in-memory fake of the Planasonix Credentials API.

`create_app()` builds a Flask app; `CredentialStore` is the state behind it,
usable without HTTP; `Journal` records every request with secrets redacted.

The names below load on first use: the pytest plugin imports this package in
every test run of an environment that has it installed, and most of those
runs never touch Flask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .auth import DEV_KEY, DEV_WORKSPACE, Keyring, Principal
    from .clock import ManualClock
    from .ids import IdGenerator
    from .journal import Journal, JournalRecord
    from .state import FakeConfig, FakeState, get_state
    from .store import Credential, CredentialStore, Page, SecretBox

__all__ = [
    "DEV_KEY",
    "DEV_WORKSPACE",
    "Credential",
    "CredentialStore",
    "FakeConfig",
    "FakeState",
    "IdGenerator",
    "Journal",
    "JournalRecord",
    "Keyring",
    "ManualClock",
    "Page",
    "Principal",
    "SecretBox",
    "create_app",
    "get_state",
]

# Where each public name lives; `tests/mockserver/test_package.py` keeps it in step with __all__.
_EXPORTS = {
    "DEV_KEY": ".auth",
    "DEV_WORKSPACE": ".auth",
    "Keyring": ".auth",
    "Principal": ".auth",
    "Credential": ".store",
    "CredentialStore": ".store",
    "Page": ".store",
    "SecretBox": ".store",
    "FakeConfig": ".state",
    "FakeState": ".state",
    "create_app": ".app",
    "get_state": ".state",
    "IdGenerator": ".ids",
    "Journal": ".journal",
    "JournalRecord": ".journal",
    "ManualClock": ".clock",
}

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
