"""Kit coverage: lifecycle transitions read from recorded exchanges."""

from __future__ import annotations

import json

from contracts.kit.coverage.transitions import TRANSITIONS, transitions
from contracts.kit.exchange import Exchange

BASE = "http://127.0.0.1:1"


def _ex(seq: int, method: str, path: str, status: int, body: object = None) -> Exchange:
    return Exchange(
        seq=seq,
        method=method,
        url=BASE + path,
        request_headers={"Authorization": "Bearer ***"},
        request_body=None,
        status=status,
        response_body=json.dumps(body) if body is not None else "",
    )


def _full_walk(restore_status: int) -> list[Exchange]:
    c = "/api/credentials"
    one = {"data": {"id": "cred_a"}}
    two = {"data": {"id": "cred_b"}}
    return [
        _ex(1, "POST", c, 201, one),
        _ex(2, "GET", f"{c}/cred_a", 200, one),
        _ex(3, "GET", c, 200, {"data": [one["data"]]}),
        _ex(4, "PUT", f"{c}/cred_a", 200, one),
        _ex(5, "POST", f"{c}/cred_a/restore", restore_status),
        _ex(6, "DELETE", f"{c}/cred_a", 200),
        _ex(7, "DELETE", f"{c}/cred_a", 200),
        _ex(8, "POST", f"{c}/cred_a/restore", restore_status),
        _ex(9, "DELETE", f"{c}/cred_a", 200),
        _ex(10, "DELETE", f"{c}/cred_a/permanent", 200),
        *[
            _ex(11 + n, m, p, 404)
            for n, (m, p) in enumerate(
                [
                    ("GET", f"{c}/cred_a"),
                    ("PUT", f"{c}/cred_a"),
                    ("DELETE", f"{c}/cred_a"),
                    ("POST", f"{c}/cred_a/restore"),
                    ("DELETE", f"{c}/cred_a/permanent"),
                ]
            )
        ],
        _ex(20, "POST", c, 201, two),
        _ex(21, "DELETE", f"{c}/cred_b/permanent", 200),
    ]


def test_a_full_walk_exercises_every_transition() -> None:
    cover = transitions(_full_walk(200))
    assert cover.missing == []
    assert cover.percent == 100.0
    assert "cred_a/restore" in cover.seen["deleted → active"][0]


def test_an_unreachable_restore_is_named() -> None:
    # Every restore 404s: the restore of a deleted one is still exercised (a request was
    # made from that state); refused by the key (401/403) it would not be.
    refused = [
        e if "restore" not in e.url else _ex(e.seq, e.method, e.url[len(BASE) :], 401)
        for e in _full_walk(404)
    ]
    cover = transitions(refused)
    assert "deleted → active" in cover.missing
    assert "active → active (restore of an active one)" in cover.missing
    assert len(cover.counts) == len(TRANSITIONS)


def test_a_default_run_against_the_fake_exercises_every_transition() -> None:
    import io
    import secrets

    from contracts.kit.cli.runner import Runner
    from contracts.kit.context import KitContext
    from contracts.kit.fake_target import serve_fake

    a, b, r = ("plnx_test_" + secrets.token_hex(12) for _ in range(3))
    with serve_fake({a: "ws_a", b: "ws_b"}, {r: "ws_a"}) as url:
        ctx = KitContext.build(url, a, second_api_key=b, read_only_api_key=r)
        result = Runner(ctx, out=io.StringIO()).run()
    assert result.exit_code == 0
    cover = transitions(ctx.recorder.exchanges)
    assert cover.missing == []
    # The curl lines come from the client's record: no key in them.
    shown = "\n".join(line for lines in cover.seen.values() for line in lines)
    assert all(key[-8:] not in shown for key in (a, b, r))
