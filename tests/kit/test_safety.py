"""The kit's safety: cleanup touches only its own prefix, a run cut short by the
budget or by signals leaves nothing behind (or says exactly what it left).

The signal tests send real signals to a real ``planasonix-contract run``
subprocess, at the worst moment: while its final cleanup runs (made slow by a
server that delays deletes once told to).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest
import requests
from broken_variants import KEY_A, KEY_B, fake_app
from werkzeug.wrappers import Request

from contracts.kit.cli.main import main
from contracts.kit.fake_target import serve_wsgi

ROOT = Path(__file__).resolve().parents[2]
HEADERS = {"Authorization": f"Bearer {KEY_A}"}


def _prefixed(url: str, prefix: str, key: str = KEY_A) -> set[str]:
    """Ids of every credential (deleted ones included) named with ``prefix``."""
    found: set[str] = set()
    params: dict[str, Any] = {"status": "all", "limit": 200}
    while True:
        page = requests.get(
            f"{url}/api/credentials",
            params=params,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
        found |= {i["id"] for i in page["data"] if i["name"].startswith(prefix)}
        cursor = page["meta"]["page"]["cursor"]
        if not cursor:
            return found
        params["cursor"] = cursor


class Counting:
    """WSGI app that counts the requests it gets and answers each with an empty list."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen += 1
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"data": [], "meta": {"page": {"limit": 50, "cursor": null}}}']


@pytest.mark.parametrize(
    "prefix",
    [
        "staging-",
        "plnx-contract-",
        "plnx-contract-deadbeef",
        "plnx-contract-DEADBEEF-",
        "plnx-contract-deadbee-",
        "plnx-contract-deadbeef-x",
        "xplnx-contract-deadbeef-",
    ],
)
def test_cleanup_refuses_any_other_prefix_without_a_request(prefix: str) -> None:
    app = Counting()
    with serve_wsgi(app) as url:
        code = main(["cleanup", "--base-url", url, "--api-key", KEY_A, "--prefix", prefix])
    assert code == 2
    assert app.seen == 0


def test_cleanup_accepts_the_kits_own_shape() -> None:
    app = Counting()
    with serve_wsgi(app) as url:
        args = ["--base-url", url, "--api-key", KEY_A, "--prefix", "plnx-contract-0a1b2c3d-"]
        code = main(["cleanup", *args])
    assert code == 0
    assert app.seen >= 1


# --- the budget --------------------------------------------------------------------------

# 60, 61, 199 and 200 each left one credential behind before the reserve covered
# the credential a create may add.
BUDGETS = [1, 2, 3, 5, 8, 13, 21, 34, 60, 61, 97, 150, 199, 200, 201, 333]


@pytest.mark.parametrize("limit", BUDGETS)
def test_any_budget_leaves_nothing_behind(limit: int) -> None:
    from broken_variants import served

    app = fake_app()
    with served(app) as url:
        from contracts.kit.cli.runner import Runner
        from contracts.kit.context import KitContext, Settings

        ctx = KitContext.build(
            url,
            KEY_A,
            second_api_key=KEY_B,
            max_requests=limit,
            settings=Settings(max_examples=3, seed=limit),
        )
        import io

        result = Runner(ctx, out=io.StringIO()).run()
        assert result.requests <= limit
        assert result.leftovers == []
        assert _prefixed(url, ctx.prefix) == set()
        assert _prefixed(url, ctx.prefix, key=KEY_B) == set()
    assert result.exit_code in (0, 2), result.findings


# --- signals -----------------------------------------------------------------------------


class SlowDeletes:
    """The fake, whose DELETEs take ``delay`` seconds once ``slow`` is set."""

    def __init__(self, delay: float = 0.25) -> None:
        self.app = fake_app()
        self.slow = threading.Event()
        self.delay = delay

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.slow.is_set() and Request(environ).method == "DELETE":
            time.sleep(self.delay)
        return self.app(environ, start_response)


@pytest.fixture
def slow_server() -> Iterator[tuple[str, SlowDeletes]]:
    app = SlowDeletes()
    with serve_wsgi(app) as url:
        yield url, app


def _start(url: str, report: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contracts.kit.cli.main",
            "run",
            "--base-url",
            url,
            "--api-key",
            KEY_A,
            "--check",
            "secret-non-echo",
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"prefix (\S+)", first)
    assert match, first
    return process, match.group(1)


def _wait_for(stream: TextIO, pattern: str, seen: list[str]) -> None:
    for line in stream:
        seen.append(line)
        if re.search(pattern, line):
            return
    raise AssertionError("never printed " + pattern + ":\n" + "".join(seen))


def _interrupt_during_cleanup(
    url: str, app: SlowDeletes, tmp_path: Path, signals: list[signal.Signals]
) -> tuple[subprocess.Popen[str], str, str, dict[str, Any]]:
    """Start a run, wait until it holds credentials, then send ``signals``: the first
    one stops the checks, every later one lands while the final cleanup runs."""
    report = tmp_path / "report.json"
    process, prefix = _start(url, report)
    deadline = time.monotonic() + 60
    while len(_prefixed(url, prefix)) < 6:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    app.slow.set()
    assert process.stdout is not None
    seen: list[str] = []
    process.send_signal(signals[0])
    _wait_for(process.stdout, r"cleanup: purging \d+", seen)
    for extra in signals[1:]:
        time.sleep(0.3)  # a delete or two into the cleanup
        process.send_signal(extra)
    out, _ = process.communicate(timeout=120)
    app.slow.clear()
    return process, prefix, "".join(seen) + out, json.loads(report.read_text())


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_cleanup_does_not_escape_it(
    slow_server: tuple[str, SlowDeletes], tmp_path: Path, first: signal.Signals
) -> None:
    url, app = slow_server
    process, prefix, out, report = _interrupt_during_cleanup(url, app, tmp_path, [first, first])
    assert process.returncode == 2, out
    assert "interrupted" in out and "signal again to stop" in out, out
    assert report["leftovers"] == [] and report["seed"] is not None
    assert _prefixed(url, prefix) == set(), out


def test_signals_that_stop_cleanup_name_what_is_left_and_how_to_remove_it(
    slow_server: tuple[str, SlowDeletes], tmp_path: Path
) -> None:
    url, app = slow_server
    signals = [signal.SIGTERM, signal.SIGTERM, signal.SIGINT]
    process, prefix, out, report = _interrupt_during_cleanup(url, app, tmp_path, signals)
    assert process.returncode == 2, out
    left = _prefixed(url, prefix)
    assert left, "the cleanup was stopped early, so something is left: " + out
    assert set(report["leftovers"]) == left, out
    for cred_id in left:
        assert cred_id in out
    command = re.search(r"`(planasonix-contract cleanup [^`]*)`", out)
    assert command, out
    args = [*command.group(1).split()[1:], "--api-key", KEY_A]
    assert main(args) == 0
    assert _prefixed(url, prefix) == set()


class SlowCreateAnswers:
    """The fake; once ``slow`` is set, a create is made at once but answered late."""

    def __init__(self) -> None:
        self.app = fake_app()
        self.slow = threading.Event()
        self.in_flight = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if not (self.slow.is_set() and request.method == "POST" and request.path.endswith("s")):
            return self.app(environ, start_response)
        answer = list(self.app(environ, start_response))  # the credential exists now
        self.in_flight.set()
        time.sleep(1.0)
        return answer


def test_sigterm_while_a_create_is_unanswered_leaves_nothing(tmp_path: Path) -> None:
    """The worst moment for a create: made on the server, its id not yet read by
    the kit. The cleanup finds it under the run's prefix."""
    app = SlowCreateAnswers()
    with serve_wsgi(app) as url:
        report = tmp_path / "report.json"
        process, prefix = _start(url, report)
        deadline = time.monotonic() + 60
        while len(_prefixed(url, prefix)) < 3:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        app.slow.set()
        assert app.in_flight.wait(30)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 2, out
        assert json.loads(report.read_text())["leftovers"] == [], out
        assert _prefixed(url, prefix) == set(), out
