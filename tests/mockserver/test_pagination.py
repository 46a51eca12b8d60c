from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import InvalidRequest
from mockserver.pagination import CursorSigner

SCOPE = {"workspace": "ws_a", "status": "active", "type_": None}


def test_round_trip() -> None:
    signer = CursorSigner(b"k" * 32)
    cursor = signer.encode((1700000000, "cred_abc"), **SCOPE)
    assert signer.decode(cursor, **SCOPE) == (1700000000, "cred_abc")
    assert CursorSigner(b"k" * 32).encode((1700000000, "cred_abc"), **SCOPE) == cursor
    assert "k" * 8 not in repr(signer)


@given(
    # Every second a stored created_at can hold (years 1-9999: fixtures may predate 1970).
    created=st.integers(min_value=-62135596800, max_value=253402300799),
    suffix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=64),
)
def test_every_sort_key_round_trips(created: int, suffix: str) -> None:
    # A key before 1970 is negative; the fake refused its own cursor for it (400).
    signer = CursorSigner(b"k" * 32)
    key = (created, "cred_" + suffix)
    assert signer.decode(signer.encode(key, **SCOPE), **SCOPE) == key


@pytest.mark.parametrize(
    "change",
    [
        {"workspace": "ws_b"},
        {"status": "all"},
        {"type_": "aws"},
    ],
)
def test_cursor_is_bound_to_its_scope(change: dict) -> None:
    signer = CursorSigner()
    cursor = signer.encode((1, "cred_x"), **SCOPE)
    with pytest.raises(InvalidRequest):
        signer.decode(cursor, **(SCOPE | change))


def test_other_key_and_garbage_are_rejected() -> None:
    cursor = CursorSigner().encode((1, "cred_x"), **SCOPE)
    signer = CursorSigner()
    for bad in [cursor, "", ".", "abc", "a.b", cursor + "=", "ä.b", "x" * 1000]:
        with pytest.raises(InvalidRequest) as raised:
            signer.decode(bad, **SCOPE)
        assert raised.value.details[0].path == "cursor"
