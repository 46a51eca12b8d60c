from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mockserver.clock import ManualClock, format_timestamp, normalize, parse_timestamp, system_clock


def test_format_is_rfc3339_utc_seconds() -> None:
    moment = datetime(2025, 3, 27, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2025-03-27T10:00:00Z"
    assert parse_timestamp("2025-03-27T10:00:00Z") == datetime(2025, 3, 27, 10, tzinfo=UTC)
    assert parse_timestamp("2025-03-27T12:00:00.5+02:00") == datetime(2025, 3, 27, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamps_out_of_range_after_their_offset_are_value_errors(text: str) -> None:
    # astimezone() raised OverflowError, which every caller let through as a 500.
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        normalize(datetime(2025, 1, 1))


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    assert clock() == clock()
    assert clock.advance(90) == datetime(2025, 1, 1, 0, 1, 30, tzinfo=UTC)
    clock.set(datetime(2024, 1, 1, tzinfo=UTC))
    assert clock().year == 2024
    assert "2024-01-01T00:00:00Z" in repr(clock)
    assert system_clock().tzinfo is not None
