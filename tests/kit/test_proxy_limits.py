"""The validating proxy under hostile peers: oversized bodies, many slow clients, an
upstream answer that decompresses a thousandfold."""

from __future__ import annotations

import http.client
import json
import socket
import zlib
from pathlib import Path

from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.observed import DECODED_LIMIT, Observed
from contracts.kit.traffic.proxy import ProxyApp, ProxyServer


def _proxy(seen: list[Observed], **limits: int) -> ProxyServer:
    # The upstream is never reached in these tests: port 9 on loopback is unused.
    return ProxyServer(ProxyApp("http://127.0.0.1:9", seen.append), **limits)


def test_a_request_body_over_the_cap_gets_413_without_being_sent() -> None:
    seen: list[Observed] = []
    proxy = _proxy(seen, max_request_body=1024)
    with proxy.running(), socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as raw:
        # Announces 1 GiB but sends 10 bytes: the answer must come without the rest.
        raw.sendall(
            b"POST /api/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n0123456789"
        )
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert seen == []


def test_slow_clients_do_not_lock_out_a_normal_one() -> None:
    seen: list[Observed] = []
    proxy = _proxy(seen)
    with proxy.running():
        slow = []
        try:
            for _ in range(150):
                sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
                sock.sendall(b"GET /api/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                slow.append(sock)
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            conn.request("GET", "/api/credentials", headers={"Host": "127.0.0.1"})
            # The upstream is down, so the proxy answers itself; what matters is
            # that it answers at all while 150 connections hang mid-headers.
            assert conn.getresponse().status >= 400
            conn.close()
        finally:
            for sock in slow:
                sock.close()


def _gzip_bomb(expanded: int) -> bytes:
    """``expanded`` zero bytes, gzip-compressed (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(expanded // len(block))) + packer.flush()


def test_an_upstream_gzip_bomb_is_decoded_only_up_to_the_cap() -> None:
    bomb = _gzip_bomb(4 * DECODED_LIMIT)
    exchange = Observed(
        method="GET",
        url="/api/credentials",
        request_headers=[],
        request_body=None,
        status=200,
        response_headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        response_body=bomb,
        started=0.0,
        finished=0.0,
    )
    text = exchange.response_text()
    assert text is not None and len(text) == DECODED_LIMIT
    assert exchange.truncated
    assert any("decompressed" in note for note in exchange.notes)
    # The judge neither schema-checks the cut body nor calls it complete.
    judge = Judge()
    judge.judge(exchange)
    assert judge.violations == []
    assert "answers too long or broken off (not schema-checked)" in judge.summary()


def test_an_answer_returning_the_callers_key_is_an_expectation_not_a_violation(
    tmp_path: Path,
) -> None:
    key = "plnx_echoed_key_7f3a9c21"
    exchange = Observed(
        method="GET",
        url="/api/credentials/cred_x",
        request_headers=[("Authorization", f"Bearer {key}")],
        request_body=None,
        status=401,
        response_headers=[("Content-Type", "text/plain"), ("X-Seen-Key", key[:10])],
        response_body=f"invalid key: {key}".encode(),
        started=0.0,
        finished=0.0,
    )
    judge = Judge()
    judge.judge(exchange)
    assert (judge.violations, judge.exit_code, judge.key_echoes) == ([], 0, 1)
    assert "EXPECTATION key_echo" in judge.summary()
    judge.write_report(tmp_path / "report.json")
    judge.write_junit(tmp_path / "junit.xml")
    report = (tmp_path / "report.json").read_text()
    assert json.loads(report)["expectations"][0]["expectation"] == "key_echo"
    assert "EXPECTATION key_echo" in (tmp_path / "junit.xml").read_text()
    for output in (report, judge.summary(), (tmp_path / "junit.xml").read_text()):
        assert key[:8] not in output
