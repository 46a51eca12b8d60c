"""Properties of the connection faults' building blocks: pieces, garbage, rule validation."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import ApiError
from mockserver.standalone.faults import parse_rule
from mockserver.standalone.wire import CONNECTION_FAULTS, garbage, head_bytes, pieces


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=1000))
def test_pieces_rejoin_to_the_body(body: bytes, count: int) -> None:
    parts = pieces(body, count)
    assert b"".join(parts) == body
    assert len(parts) == max(1, min(count, len(body)))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1  # near-equal sizes


@given(st.integers(min_value=1, max_value=256))
def test_garbage_never_reads_as_a_status_line(size: int) -> None:
    data = garbage(size)
    assert b"\r" not in data and b"\n" not in data
    assert not data.startswith(b"H")


def test_head_of_a_broken_answer_keeps_the_full_length_and_closes() -> None:
    head = head_bytes("200 OK", [("Content-Length", "10"), ("X-Request-Id", "req_1")], 10)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert head.count(b"Content-Length") == 1 and b"Content-Length: 10" in head
    assert b"Connection: close" in head


@given(
    st.one_of(st.none(), st.sampled_from(CONNECTION_FAULTS), st.text(max_size=8), st.integers()),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=70_000)),
    st.one_of(st.none(), st.sampled_from([503, 200])),
)
def test_a_rule_is_accepted_or_refused_naming_a_field(
    connection: Any, drip_ms: int | None, status: int | None
) -> None:
    body: dict[str, Any] = {}
    for name, value in (("connection", connection), ("drip_ms", drip_ms), ("status", status)):
        if value is not None:
            body[name] = value
    try:
        rule = parse_rule(body, "flt_1")
    except ApiError as error:
        assert error.status == 400
        assert [d.path for d in error.details] in (["connection"], ["drip_ms"], ["status"])
        return
    assert rule.connection in (None, *CONNECTION_FAULTS)
    shown = rule.to_json()
    assert shown["connection"] == connection
    if connection == "drip":
        assert 1 <= shown["drip_ms"] <= 60_000 and shown["drip_chunks"] == 10
