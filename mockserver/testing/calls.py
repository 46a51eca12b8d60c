"""Call verification over the journal: `fake.calls(...)` and `fake.verify(...)`.

What WireMock's `verify` and responses' `assert_call_count` do, on the
journal the fake keeps anyway. Paths use the fault rules' patterns (one
language for both). A failure lists every call made, as the journal has it:
method, path, query, status and the body with every secret already replaced
by `[redacted]` (`mockserver.journal`), so the message is safe to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..httpio import unversioned
from ..journal import JournalRecord
from ..standalone.faults import compile_path

_LISTED = 50  # a failure message lists at most this many calls (the newest)


def _statuses(status: int | Iterable[int] | None) -> frozenset[int] | None:
    if status is None:
        return None
    if isinstance(status, int):
        return frozenset({status})
    return frozenset(status)


def matching(
    records: Iterable[JournalRecord],
    *,
    method: str | None = None,
    path: str | None = None,
    status: int | Iterable[int] | None = None,
) -> list[JournalRecord]:
    """The records matching every criterion given (None: any)."""
    wanted_method = method.upper() if method and method != "*" else None
    regex = compile_path(path) if path is not None else None
    codes = _statuses(status)
    found = []
    for record in records:
        if wanted_method is not None and record.method != wanted_method:
            continue
        if regex is not None and not any(
            regex.match(candidate) for candidate in {record.path, unversioned(record.path)}
        ):
            continue
        if codes is not None and record.status not in codes:
            continue
        found.append(record)
    return found


def describe(record: JournalRecord) -> str:
    """One call as a line: `POST /api/credentials?x=1 -> 201 {"name": ..., "config": ...}`."""
    query = "&".join(f"{k}={v}" for k, v in record.query.items())
    line = f"{record.method} {record.path}{'?' + query if query else ''} -> {record.status}"
    if record.fault is not None:
        line += f" [client met: {record.fault}]"
    if record.body is not None:
        line += " " + json.dumps(record.body, sort_keys=True)
    return line


def _criteria(method: str | None, path: str | None, status: int | Iterable[int] | None) -> str:
    parts = [method.upper() if method else "any method", path or "any path"]
    if status is not None:
        shown = sorted(_statuses(status) or ())
        many = len(shown) > 5
        parts.append(
            f"status {shown[0]}..{shown[-1]}" if many else "status " + "|".join(map(str, shown))
        )
    return " ".join(parts)


def _expectation(times: int | None, at_least: int | None, at_most: int | None) -> str:
    if times is not None:
        return f"exactly {times}"
    if at_least is not None and at_most is not None:
        return f"{at_least} to {at_most}"
    if at_most is not None:
        return f"at most {at_most}"
    return f"at least {at_least}"


def verify(
    records: Sequence[JournalRecord],
    *,
    method: str | None = None,
    path: str | None = None,
    status: int | Iterable[int] | None = None,
    times: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
) -> list[JournalRecord]:
    """Assert the number of matching calls; AssertionError listing every call otherwise."""
    __tracebackhide__ = True  # pytest shows the failure at the test's own line
    if times is not None and (at_least is not None or at_most is not None):
        raise TypeError("verify(): give times, or at_least/at_most, not both")
    if times is None and at_least is None and at_most is None:
        at_least = 1
    found = matching(records, method=method, path=path, status=status)
    count = len(found)
    ok = (
        count == times
        if times is not None
        else (at_least is None or count >= at_least) and (at_most is None or count <= at_most)
    )
    if ok:
        return found
    lines = [
        f"expected {_expectation(times, at_least, at_most)} call(s) matching "
        f"{_criteria(method, path, status)}, got {count}.",
        f"Calls made ({len(records)}):" if records else "No call reached the fake.",
    ]
    if len(records) > _LISTED:
        lines.append(f"  ... {len(records) - _LISTED} earlier call(s) not shown")
    lines.extend("  " + describe(record) for record in records[-_LISTED:])
    raise AssertionError("\n".join(lines))
