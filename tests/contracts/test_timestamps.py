"""Timestamps are real RFC 3339 UTC instants with the `Z` suffix (SPEC §1), not a digit shape."""

from __future__ import annotations

import calendar
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contracts
from contracts.registry import is_utc_instant

METADATA = {"id": "cred_01j9k2m4n5p6q7r8", "name": "n", "type": "password", "status": "active",
            "created_at": "2025-03-27T10:00:00Z", "config": {}}  # fmt: skip


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_every_real_instant_is_valid(moment: datetime) -> None:
    assert is_utc_instant(moment.isoformat(timespec="seconds") + "Z")
    assert is_utc_instant(moment.isoformat(timespec="microseconds") + "Z")


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(1, 31))
def test_a_day_is_valid_exactly_when_the_calendar_has_it(year: int, month: int, day: int) -> None:
    real = day <= calendar.monthrange(year, month)[1]
    assert is_utc_instant(f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z") == real


@pytest.mark.parametrize(
    ("text", "valid"),
    [("2765-11-31T00:00:00Z", False), ("2025-02-29T00:00:00Z", False),
     ("2024-02-29T00:00:00Z", True), ("2025-03-27T23:59:60Z", True),
     ("2025-03-27T12:00:60Z", False), ("2025-03-27T24:00:00Z", False),
     ("2025-03-27T10:60:00Z", False), ("2025-03-27T10:00:00+00:00", False),
     ("2025-03-27T10:00:00z", False), ("2025-03-27 10:00:00Z", False),
     ("2025-03-27T10:00:00.5Z", True), ("2025-03-27T10:00:00Z\n", False)],
)  # fmt: skip
def test_the_contract_refuses_impossible_and_non_utc_timestamps(text: str, valid: bool) -> None:
    assert is_utc_instant(text) is valid
    errors = contracts.validate_response("credential", METADATA | {"updated_at": text})
    assert (errors == []) is valid
    if not valid:
        assert [e.path for e in errors] == ["updated_at"]
