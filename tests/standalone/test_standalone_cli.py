"""`planasonix-mock serve` with the frontend flags; the issue's acceptance scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import requests
from fake_support import canary, start_server, stop_server
from standalone_support import DEMO, assert_absent, demo_seed

from mockserver.journal import MASK
from mockserver.standalone.cli import (
    SetupError,
    build_parser,
    check_exposure,
    is_loopback,
    main,
    options_from_args,
)

DEV = {"Authorization": "Bearer plnx_test_dev_key"}


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.com"])
def test_refuses_an_open_control_plane_beyond_loopback(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "refusing to listen" in error and "--admin-token" in error


def test_exposure_rules() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host)
    open_plane = options_from_args(serve_args(), environ={})
    check_exposure("127.0.0.1", open_plane)
    with pytest.raises(SetupError):
        check_exposure("0.0.0.0", open_plane)
    check_exposure("0.0.0.0", options_from_args(serve_args("--admin-token", "t" * 12), environ={}))
    check_exposure("0.0.0.0", options_from_args(serve_args("--no-control-plane"), environ={}))
    from_env = options_from_args(serve_args(), environ={"PLANASONIX_ADMIN_TOKEN": "x" * 10})
    check_exposure("0.0.0.0", from_env)
    assert "x" * 10 not in repr(from_env)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate-limit", "lots"], "--rate-limit"),
        (["--cors-origin", "localhost:3000"], "--cors-origin"),
        (["--admin-token", "short"], "admin token"),
    ],
)
def test_bad_flags_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "0", *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and "short" not in error.replace("admin token", "")


def test_options_from_flags_and_environment() -> None:
    args = serve_args(
        "--seed",
        str(DEMO),
        "--cors-origin",
        "http://localhost:3000/",
        "--rate-limit",
        "30/min",
        "--state-file",
        "s.json",
    )
    options = options_from_args(args, environ={"PLANASONIX_STATE_KEY": "k" * 20})
    assert options.cors_origins == ("http://localhost:3000",)
    assert options.rate_limit is not None and options.rate_limit.limit == 30
    assert options.state_key == "k" * 20 and options.seed_data == demo_seed()
    assert "k" * 20 not in repr(options)


def test_unusable_state_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.json"
    path.write_text("{")
    assert main(["serve", "--port", "0", "--state-file", str(path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_acceptance_fault_journal_and_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    flags = ("--seed", str(DEMO), "--state-file", str(state), "--state-key", "a long passphrase")
    process, base = start_server(*flags)
    try:
        demo = requests.get(f"{base}/api/credentials?status=all&limit=200", headers=DEV, timeout=5)
        names = {c["name"] for c in demo.json()["data"]}
        assert "prod-snowflake-reader" in names
        # One call injects a fault: the next create answers 503, the one after succeeds.
        rule = {"method": "POST", "path": "/api/credentials", "status": 503, "times": 1}
        assert requests.post(f"{base}/_mock/faults", json=rule, timeout=5).status_code == 201
        secret = canary()
        body = {"name": "acceptance", "type": "password", "config": {"password": secret}}
        first = requests.post(f"{base}/api/credentials", json=body, headers=DEV, timeout=5)
        assert first.status_code == 503
        second = requests.post(f"{base}/api/credentials", json=body, headers=DEV, timeout=5)
        assert second.status_code == 201
        # The journal shows the create with its secret masked.
        journal = requests.get(f"{base}/_mock/journal", timeout=5)
        assert_absent(secret, journal.content)
        creates = [r for r in journal.json()["data"] if r["method"] == "POST"]
        assert [r["status"] for r in creates] == [201, 503]
        assert creates[0]["body"]["config"] == {"password": MASK}
        before = requests.get(
            f"{base}/api/credentials?status=all&limit=200", headers=DEV, timeout=5
        )
    finally:
        code, output = stop_server(process)
    assert code == 0 and "Dashboard:" in output
    assert secret not in output
    blob = state.read_bytes()
    assert_absent(secret, blob)
    for password in ("demo-only-Snowfl4ke-pw", "demo-only-pg-password"):
        assert_absent(password, blob)
    # Restart on the same state file: every credential is back.
    process, base = start_server(*flags)
    try:
        after = requests.get(f"{base}/api/credentials?status=all&limit=200", headers=DEV, timeout=5)
        assert after.json()["data"] == before.json()["data"]
    finally:
        stop_server(process)
