"""The command line end to end: over real HTTP against `planasonix-mock serve`, exit codes,
reports, the budget, read-only mode, cleanup, and SIGTERM."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from contracts.kit.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
KEY, KEY2 = "plnx_test_cli_a", "plnx_test_cli_b"


@pytest.fixture
def mock_url() -> Iterator[str]:
    """`planasonix-mock serve --port 0` in a subprocess; its output is drained."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--api-key",
            f"{KEY}=ws_a",
            "--api-key",
            f"{KEY2}=ws_b",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
        cwd=ROOT,
    )
    assert process.stdout is not None
    fd, seen, deadline = process.stdout.fileno(), b"", time.monotonic() + 20
    url = None
    while url is None and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
            match = re.search(rb"Listening on (\S+)", seen)
            url = match.group(1).decode() if match else None
    if url is None:
        process.kill()
        raise AssertionError(seen.decode(errors="replace"))
    drain = threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True)
    drain.start()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _names(url: str, key: str = KEY) -> list[str]:
    names: list[str] = []
    for status in ("all",):
        reply = requests.get(
            f"{url}/api/credentials",
            params={"status": status, "limit": 200},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        names += [item["name"] for item in reply.json()["data"]]
    return names


def test_conformant_over_http_with_reports(mock_url: str, tmp_path: Path) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    args = ["run", "--base-url", mock_url, "--api-key", KEY, "--second-api-key", KEY2]
    args += ["--max-examples", "4", "--seed", "3", "--report", str(report)]
    args += ["--junitxml", str(junit)]
    completed = subprocess.run(
        [sys.executable, "-m", "contracts.kit.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "CONFORMANT" in completed.stdout
    data = json.loads(report.read_text())
    assert data["conformant"] and data["findings"] == [] and data["leftovers"] == []
    assert KEY not in report.read_text() and KEY2 not in report.read_text()
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and len(suite.findall("testcase")) >= 6
    assert not any(n.startswith(data["prefix"]) for n in _names(mock_url))


def test_the_budget_bounds_a_run(mock_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code = main(
        [
            "run",
            "--base-url",
            mock_url,
            "--api-key",
            KEY,
            "--max-requests",
            "80",
            "--seed",
            "1",
            "--report",
            str(report),
        ]
    )
    data = json.loads(report.read_text())
    # Nothing wrong was seen, but a run cut short is no verdict of conformance.
    assert code == 2
    assert not data["conformant"] and "budget" in data["error"]
    assert data["requests"] <= 80
    assert any(p["status"] == "skipped" for p in data["phases"])
    assert data["leftovers"] == []


def test_read_only_only_reads(mock_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code = main(
        [
            "run",
            "--base-url",
            mock_url,
            "--api-key",
            KEY,
            "--read-only",
            "--seed",
            "1",
            "--report",
            str(report),
        ]
    )
    data = json.loads(report.read_text())
    assert code == 0, data["findings"]
    assert {e["method"] for e in data["exchanges"]} == {"GET"}


def test_could_not_run_is_exit_2(mock_url: str) -> None:
    assert main(["run", "--base-url", "http://127.0.0.1:9", "--api-key", KEY]) == 2
    assert main(["run", "--base-url", mock_url, "--api-key", "plnx_live_wrong"]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["run", "--bogus"])
    assert caught.value.code == 2


@pytest.mark.parametrize("check", ["response-schema", "validation"])
def test_a_check_without_a_phase_of_its_own_is_a_usage_error(
    check: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Alone it would run no probe and print CONFORMANT: a verdict on nothing.
    with pytest.raises(SystemExit) as caught:
        main(["run", "--base-url", "http://127.0.0.1:9", "--api-key", KEY, "--check", check])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "learn", "diff", "cleanup"])
@pytest.mark.parametrize("url", ["127.0.0.1:8080", "htp://x", "http://", "api.example.com/v1"])
def test_a_base_url_that_is_no_http_url_is_a_usage_error(
    command: str, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--prefix", "plnx-contract-1a2b3c4d-"] if command == "cleanup" else []
    with pytest.raises(SystemExit) as caught:
        main([command, "--base-url", url, "--api-key", KEY, *extra])
    assert caught.value.code == 2
    assert "is not an http:// or https:// URL" in capsys.readouterr().err


def test_target_fake_runs_in_process() -> None:
    assert main(["run", "--target", "fake", "--max-examples", "3", "--seed", "2"]) == 0


def test_cleanup_removes_only_the_prefix(mock_url: str) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    for name in ("plnx-contract-deadbeef-a", "plnx-contract-deadbeef-b", "keep-me"):
        body = {"name": name, "type": "password", "config": {"password": "x" * 20}}
        requests.post(f"{mock_url}/api/credentials", json=body, headers=headers, timeout=10)
    first = requests.get(f"{mock_url}/api/credentials", headers=headers, timeout=10).json()
    victim = next(i["id"] for i in first["data"] if i["name"].endswith("-a"))
    requests.delete(f"{mock_url}/api/credentials/{victim}", headers=headers, timeout=10)
    assert main(["cleanup", "--base-url", mock_url, "--api-key", KEY, "--prefix", "short"]) == 2
    code = main(
        ["cleanup", "--base-url", mock_url, "--api-key", KEY, "--prefix", "plnx-contract-deadbeef-"]
    )
    assert code == 0
    assert _names(mock_url) == ["keep-me"]


def test_sigterm_cleans_up(mock_url: str) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contracts.kit.cli.main",
            "run",
            "--base-url",
            mock_url,
            "--api-key",
            KEY,
            "--max-examples",
            "500",
            "--check",
            "lifecycle",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    prefix = re.search(r"prefix (\S+)", first)
    assert prefix, first
    process.stdout.readline()  # "[1/1] lifecycle ..."
    deadline = time.monotonic() + 30
    while not any(n.startswith(prefix.group(1)) for n in _names(mock_url)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2, out
    assert "interrupted" in out
    assert not any(n.startswith(prefix.group(1)) for n in _names(mock_url)), out
