"""An in-memory fake of the Planasonix Credentials API.

`create_app()` builds a Flask app; `CredentialStore` is the state behind it,
usable without HTTP; `Journal` records every request with secrets redacted.
"""

from __future__ import annotations

from .app import FakeConfig, FakeState, create_app, get_state
from .auth import DEV_KEY, DEV_WORKSPACE, Keyring, Principal
from .clock import ManualClock
from .ids import IdGenerator
from .journal import Journal, JournalRecord
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

__version__ = "0.1.0"
