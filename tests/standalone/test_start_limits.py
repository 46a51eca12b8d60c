"""Start errors and loopback rate-limit grouping of the standalone fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standalone_support import make_app

from mockserver.standalone import StandaloneOptions
from mockserver.standalone.ratelimit import RateLimit, client_of


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "eighty"])
def test_port_out_of_range_is_one_line_and_exit_2(port: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver.standalone.cli", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "port" in done.stderr


@given(st.integers(min_value=0, max_value=2**24 - 1))
def test_every_127_address_is_one_client(offset: int) -> None:
    address = f"127.{offset >> 16}.{(offset >> 8) & 255}.{offset & 255}"
    assert client_of(address) == client_of("127.0.0.1") == client_of("::1")
    assert client_of("::ffff:" + address) == "loopback"


def test_other_addresses_stay_apart() -> None:
    assert client_of("10.0.0.1") != client_of("10.0.0.2")
    assert client_of("10.0.0.1") != client_of("127.0.0.1")


def test_rotating_the_loopback_source_does_not_escape_the_auth_limit() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(3, 60))).test_client()
    statuses = [
        client.get(
            "/api/credentials",
            headers={"Authorization": "Bearer plnx_wrong_key_canary_0001"},
            environ_base={"REMOTE_ADDR": f"127.0.{n}.{n + 1}"},
        ).status_code
        for n in range(5)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    # A remote client keeps its own budget.
    other = client.get(
        "/api/credentials",
        headers={"Authorization": "Bearer plnx_wrong_key_canary_0001"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 401


@pytest.mark.parametrize("option", ["--seed", "--profile", "--state-file"])
def test_a_deeply_nested_file_is_one_line_and_exit_2(option: str, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.standalone.cli",
            "serve",
            "--port",
            "0",
            option,
            str(deep),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


DUP_KEY = "plnx_canary_dup_key_h2_9f3a"


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.standalone.cli", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_one_key_in_two_seed_workspaces_is_refused_with_the_key_masked(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    workspaces = [{"id": ws, "keys": [{"key": DUP_KEY}]} for ws in ("ws_a", "ws_b")]
    seed.write_text(json.dumps({"workspaces": workspaces}), encoding="utf-8")
    done = _serve("--seed", str(seed))
    assert done.returncode == 2
    assert DUP_KEY not in done.stderr + done.stdout
    assert "plnx_…9f3a" in done.stderr
    assert "workspaces[0].keys[0]" in done.stderr and "workspaces[1].keys[0]" in done.stderr


def test_an_api_key_the_seed_maps_elsewhere_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    workspaces = [{"id": "ws_a", "keys": [{"key": DUP_KEY}]}]
    seed.write_text(json.dumps({"workspaces": workspaces}), encoding="utf-8")
    done = _serve("--seed", str(seed), "--api-key", f"{DUP_KEY}=ws_c")
    assert done.returncode == 2
    assert DUP_KEY not in done.stderr + done.stdout
    assert "'ws_c'" in done.stderr and "'ws_a'" in done.stderr and "plnx_…9f3a" in done.stderr
