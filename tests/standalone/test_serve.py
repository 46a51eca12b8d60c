"""`python -m mockserver serve` as a real process: port 0, keys, seed, logs, signals."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import requests
from fake_support import bearer, start_server, stop_server

from mockserver.standalone.cli import build_parser, main

DEMO = str(Path(__file__).resolve().parents[2] / "fixtures" / "demo.json")
LOG_LINE = re.compile(r"^\S+ \S+ (GET|POST|PUT|DELETE|PATCH) (/\S*) (\d{3}) [\d.]+ms$")


def test_serve_with_keys_logs_one_line_per_request_and_stops_on_sigterm() -> None:
    process, base = start_server(
        "--seed", DEMO, "--api-key", "plnx_test_a=ws_a", "--read-only-key", "plnx_test_r=ws_a"
    )
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        created = requests.post(
            f"{base}/api/credentials",
            json={"name": "body-marker-name", "type": "password", "config": {"password": "pw-x"}},
            headers=bearer("plnx_test_a"),
            timeout=10,
        )
        assert created.status_code == 201
        assert created.headers["X-Request-Id"]
        listed = requests.get(
            f"{base}/v1/api/credentials?limit=1", headers=bearer("plnx_test_r"), timeout=10
        )
        assert listed.status_code == 200
        assert len(listed.json()["data"]) == 1
        demo = requests.get(
            f"{base}/api/credentials?status=all", headers=bearer("plnx_test_acme_admin"), timeout=10
        )
        assert len(demo.json()["data"]) == 9
        assert requests.get(f"{base}/api/credentials", timeout=10).status_code == 401
    finally:
        code, output = stop_server(process)
    assert code == 0, output
    lines = [line for line in output.splitlines() if LOG_LINE.match(line)]
    assert [LOG_LINE.match(line).group(1, 2, 3) for line in lines] == [  # type: ignore[union-attr]
        ("POST", "/api/credentials", "201"),
        ("GET", "/v1/api/credentials", "200"),
        ("GET", "/api/credentials", "200"),
        ("GET", "/api/credentials", "401"),
    ]
    assert "body-marker-name" not in output
    assert "pw-x" not in output
    assert "limit=1" not in output
    assert "plnx_test_a" not in output


def test_without_keys_prints_the_dev_key_and_stops_on_sigint() -> None:
    process, base = start_server("--seed", DEMO)
    try:
        response = requests.get(
            f"{base}/api/credentials", headers=bearer("plnx_test_dev_key"), timeout=10
        )
        assert response.status_code == 200
        assert {c["name"] for c in response.json()["data"]} >= {"prod-snowflake-reader"}
    finally:
        process.send_signal(signal.SIGINT)
        _output, _ = process.communicate(timeout=20)
    assert process.returncode == 0


def test_banner_has_a_curl_line(capsys: pytest.CaptureFixture[str]) -> None:
    process, base = start_server()
    code, output = stop_server(process)
    assert code == 0
    # start_server consumed the Listening line; the rest of the banner follows it.
    assert "Development key: plnx_test_dev_key" in output
    assert f"curl -H 'Authorization: Bearer plnx_test_dev_key' {base}/api/credentials" in output


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--api-key", "no-equals-sign"],
        ["serve", "--api-key", "=ws"],
        ["serve", "--port", "notaport"],
        ["nonsense"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert "no-equals-sign" not in capsys.readouterr().err


def test_bad_key_or_seed_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--api-key", "has space=ws_a"]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"workspaces": [{"id": "ws", "credentials": [{"name": "x"}]}]}')
    assert main(["serve", "--seed", str(broken)]) == 2
    assert "credentials[0]" in capsys.readouterr().err


def test_parser_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.seed, args.api_key, args.read_only_key) == (
        "127.0.0.1",
        8080,
        None,
        [],
        [],
    )


def test_oversized_bodies_are_refused_over_http() -> None:
    process, url = start_server("--api-key", "plnx_test_a=ws_a")
    try:
        headers = {**bearer("plnx_test_a"), "Content-Type": "application/json"}
        over_limit = requests.post(
            f"{url}/api/credentials",
            data=b"[" + b"0," * 50_000 + b"0]",
            headers=headers,
            timeout=10,
        )
        assert over_limit.status_code == 413
        assert over_limit.json()["error"]["code"] == "payload_too_large"
        # Far over: waitress refuses it before buffering, still with a 413.
        absurd = requests.post(
            f"{url}/api/credentials", data=b"0" * (2 * 1024 * 1024), headers=headers, timeout=10
        )
        assert absurd.status_code == 413
        # ...so only the first reached the app and its journal.
        journal = requests.get(f"{url}/_mock/journal", timeout=10).json()["data"]
        assert [(r["method"], r["status"]) for r in journal] == [("POST", 413)]
    finally:
        code, _ = stop_server(process)
    assert code == 0
