"""Issue 12 against real `planasonix-mock serve` processes: key authority across
restarts, waitress's own refusals in the JSON error body."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import requests
from fake_support import bearer, start_server, stop_server

STATE_KEY = "a long state passphrase"


def _create(base: str, key: str, name: str) -> requests.Response:
    body = {"name": name, "type": "password", "config": {"username": "u", "password": "pw"}}
    return requests.post(f"{base}/api/credentials", json=body, headers=bearer(key), timeout=10)


def test_the_command_line_decides_keys_after_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "s.json")
    common = ["--state-file", state, "--state-key", STATE_KEY]
    process, base = start_server(
        *common,
        *["--api-key", "plnx_demote=ws_a", "--api-key", "plnx_old=ws_a"],
        *["--api-key", "plnx_move=ws_a"],
    )
    try:
        assert _create(base, "plnx_demote", "in-a").status_code == 201
    finally:
        stop_server(process)
    process, base = start_server(
        *common, "--read-only-key", "plnx_demote=ws_a", "--api-key", "plnx_move=ws_b"
    )
    try:
        assert _create(base, "plnx_demote", "demoted").status_code == 403
        listed = requests.get(f"{base}/api/credentials", headers=bearer("plnx_demote"), timeout=10)
        assert [c["name"] for c in listed.json()["data"]] == ["in-a"]  # credentials kept
        removed = requests.get(f"{base}/api/credentials", headers=bearer("plnx_old"), timeout=10)
        assert removed.status_code == 401
        moved = requests.get(f"{base}/api/credentials", headers=bearer("plnx_move"), timeout=10)
        assert moved.status_code == 200 and moved.json()["data"] == []  # ws_b only
    finally:
        code, _ = stop_server(process)
    assert code == 0
    assert "plnx_" not in Path(state).read_text()


def _raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_waitress_refusals_carry_the_json_error_body() -> None:
    process, base = start_server("--api-key", "plnx_test_a=ws_a")
    host = urlsplit(base).netloc.encode()
    try:
        cases = {
            "bad request line": (b"GARBAGE\r\n\r\n", 400, "invalid_request"),
            "bad chunking": (
                b"POST /api/credentials HTTP/1.1\r\nHost: " + host + b"\r\n"
                b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                b"zz\r\n{}\r\n0\r\n\r\n",
                400,
                "invalid_request",
            ),
            "body over 1 MiB": (
                b"POST /api/credentials HTTP/1.1\r\nHost: " + host + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n",
                413,
                "payload_too_large",
            ),
            "header line quoting a key": (
                b"GET /api/credentials HTTP/1.1\r\nHost: " + host + b"\r\n"
                b"Bad Header plnx_secret_in_header\r\n\r\n",
                400,
                "invalid_request",
            ),
        }
        for label, (request, status, code) in cases.items():
            got, headers, body = _raw(base, request)
            assert got == status, label
            assert headers["content-type"] == "application/json", label
            error = json.loads(body)["error"]
            assert error["code"] == code, label
            assert error["request_id"] == headers["x-request-id"], label
            assert b"plnx_secret" not in body
    finally:
        code, output = stop_server(process)
    assert code == 0
    assert "plnx_secret" not in output
