"""Fixtures for the fake's tests; plain helpers are in fake_support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_support import KEY_A, KEY_B, KEY_RO, START, WS_A, WS_B
from flask import Flask
from flask.testing import FlaskClient

from mockserver import CredentialStore, FakeConfig, Keyring, ManualClock, create_app


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store(clock: ManualClock) -> CredentialStore:
    return CredentialStore(clock=clock, seed=7)


@pytest.fixture
def keyring() -> Keyring:
    ring = Keyring()
    ring.add(KEY_A, WS_A, user_id="usr_a")
    ring.add(KEY_B, WS_B, user_id="usr_b")
    ring.add(KEY_RO, WS_A, user_id="usr_ro", scopes={"connections:read"})
    return ring


@pytest.fixture
def app(store: CredentialStore, keyring: Keyring) -> Flask:
    return create_app(store, keyring=keyring, config=FakeConfig(seed=7))


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client
