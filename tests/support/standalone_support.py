"""Helpers for the standalone-feature tests (control plane, faults, CORS, ...)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fake_support import START
from flask import Flask

from mockserver import CredentialStore, FakeConfig, Keyring, ManualClock, create_app
from mockserver.auth import DEV_KEY, DEV_USER
from mockserver.standalone import StandaloneExtension, StandaloneOptions

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo.json"
DEV = {"Authorization": f"Bearer {DEV_KEY}"}
WS_DEV = "ws_dev"


def demo_seed() -> dict[str, Any]:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def make_app(
    options: StandaloneOptions | None = None,
    *,
    seed: Any = None,
    clock: ManualClock | None = None,
) -> Flask:
    """A fake with the dev key on `ws_dev`, a manual clock, and the standalone features."""
    store = CredentialStore(clock=clock or ManualClock(START), seed=7)
    keyring = Keyring()
    keyring.add(DEV_KEY, WS_DEV, user_id=DEV_USER)
    if seed is not None:
        from mockserver.seed import load_fixtures

        load_fixtures(seed, store, keyring)
    return create_app(
        store,
        keyring=keyring,
        config=FakeConfig(seed=7),
        extensions=[StandaloneExtension(options or StandaloneOptions(seed_data=seed))],
    )


def password_body(name: str, secret: str) -> dict[str, Any]:
    return {"name": name, "type": "password", "config": {"username": "u", "password": secret}}


def encodings(secret: str) -> list[bytes]:
    """The forms a leaked secret could take in a file: raw, hex, base64 at any offset."""
    raw = secret.encode()
    forms = [raw, raw.hex().encode()]
    for pad in range(3):
        # Base64 of the secret embedded in a longer text: drop the edge characters
        # that depend on the neighbours.
        for encoder in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encoder(b"\0" * pad + raw)[4:-4]
            forms.append(encoded)
    return forms


def assert_absent(secret: str, blob: bytes) -> None:
    for form in encodings(secret):
        assert form not in blob, "a secret reached the output"
