"""Plain helpers shared by the fake's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import re
import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import contracts

KEY_A = "plnx_test_a"
KEY_B = "plnx_test_b"
KEY_RO = "plnx_test_ro"
WS_A = "ws_a"
WS_B = "ws_b"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def bearer(key: str = KEY_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def canary() -> str:
    return "canary" + secrets.token_hex(12)


def sample_config(
    type_: str, secret: Callable[[], str] = canary, variant: int = 0
) -> dict[str, Any]:
    """A valid create config of `type_` with every secret it can hold filled by `secret()`."""
    if type_ == "database":
        return {
            "engine": "postgresql",
            "host": "db.example.com",
            "port": 5432,
            "database": "app",
            "username": "etl",
            "password": secret(),
            "private_key": secret(),
            "ssh_tunnel": {
                "host": "bastion.example.com",
                "port": 22,
                "username": "tunnel",
                "private_key": secret(),
                "passphrase": secret(),
            },
        }
    if type_ == "aws":
        return {
            "region": "us-east-1",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": secret(),
            "session_token": secret(),
        }
    if type_ == "azure":
        if variant == 1:
            return {
                "tenant_id": "tenant",
                "certificate": secret(),
                "certificate_password": secret(),
            }
        return {"tenant_id": "tenant", "client_id": "client", "client_secret": secret()}
    if type_ == "gcp":
        if variant == 1:
            return {"project_id": "proj", "service_account_json": {"private_key": secret()}}
        return {"project_id": "proj", "service_account_json": secret()}
    if type_ == "api_key":
        return {"header_name": "X-Api-Key", "key": secret(), "secondary_key": secret()}
    if type_ == "oauth":
        return {
            "provider": "google",
            "client_id": "cid",
            "client_secret": secret(),
            "access_token": secret(),
            "refresh_token": secret(),
        }
    if type_ == "password":
        return {"username": "u", "host": "ftp.example.com", "protocol": "ftp", "password": secret()}
    raise AssertionError(type_)


def assert_valid(kind: str, body: Any) -> None:
    errors = contracts.validate_response(kind, body, strict=True)
    assert not errors, errors


def start_server(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    """Run `python -m mockserver serve --port 0 ARGS`; return it and its base URL.

    Output is read from the raw pipe (no Python buffering), so what the server
    printed after its address is still there for `stop_server`.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + 20
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen += chunk
        match = re.search(rb"^Listening on (\S+)\r?\n", seen, re.MULTILINE)
        if match:
            _early_output[process.pid] = seen
            return process, match.group(1).decode()
    process.kill()
    raise AssertionError("server did not start: " + seen.decode(errors="replace"))


_early_output: dict[int, bytes] = {}


def stop_server(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    """SIGTERM, then the exit code and everything the server printed."""
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("server ignored SIGTERM") from None
    early = _early_output.pop(process.pid, b"")
    return process.returncode, (early + output).decode(errors="replace")
