"""Hostile input does not stall the fake (issue 12), measured on a real server.

Starts `planasonix-mock serve` (waitress, 8 threads) and times, with ratios
against baselines measured in the same run:

1. a create with a 64 KiB field of the worst shapes (a run of what the name
   rule's classes accept, then U+0001 or a newline) against an ordinary
   create: the fake answers 400 (over maxLength) in about the same time;
2. an unrelated client's GET while eight such requests run at once, against
   the same GET on an idle server.

For scale, the old name rule is timed on the same kind of input directly
(8,000 characters; it took 32 s at 65,000). Run by `make bench`, never by a
test.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

KEY = "plnx_bench_hostile"
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
BODY_LIMIT = 64 * 1024
REPEATS = 30
CONCURRENT = 8
OLD_NAME_RULE = (
    r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
)
SHAPES = {
    "name: 'a'*n + U+0001": ("name", "a", "\u0001"),
    "name: ' '*n + newline": ("name", " ", "\n"),
    "name: NBSP*n + U+0001": ("name", "\u00a0", "\u0001"),
    "config.host: 'a'*n + U+0001": ("host", "a", "\u0001"),
    "config.password: 'a '*n + newline": ("password", "a ", "\n"),
}


def start() -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--api-key", f"{KEY}=ws_b"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
        cwd=str(Path(__file__).resolve().parents[1]),
    )
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout.fileno()], [], [], 0.5)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
            match = re.search(rb"Listening on (\S+)", seen)
            if match:
                # Drain the access log so a full pipe never blocks the server.
                threading.Thread(target=_drain, args=(process,), daemon=True).start()
                return process, match.group(1).decode()
    process.kill()
    raise RuntimeError("server did not start: " + seen.decode(errors="replace"))


def _drain(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    while process.stdout.read(65536):
        pass


def body_with(field: str, unit: str, ending: str) -> bytes:
    """A create body of at most 64 KiB whose `field` is unit * n + ending, n as large as fits."""

    def make(text: str) -> bytes:
        config: dict[str, Any] = {"username": "u", "password": "p", "host": "h"}
        body: dict[str, Any] = {"name": "bench", "type": "password", "config": config}
        if field == "name":
            body["name"] = text
        else:
            config[field] = text
        return json.dumps(body, ensure_ascii=False).encode()

    per_unit = len(json.dumps(unit, ensure_ascii=False).encode()) - 2
    count = (BODY_LIMIT - len(make(ending))) // per_unit
    data = make(unit * count + ending)
    assert len(data) <= BODY_LIMIT
    return data


def timed(call: Callable[[], requests.Response], expect: int) -> float:
    began = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - began
    if response.status_code != expect:
        raise RuntimeError(f"expected {expect}, got {response.status_code}")
    return elapsed


def main() -> int:
    old = re.compile(OLD_NAME_RULE)
    began = time.perf_counter()
    old.search("a" * 8000 + "\u0001")
    old_seconds = time.perf_counter() - began
    process, base = start()
    session = requests.Session()
    url = f"{base}/api/credentials"
    try:
        counter = iter(range(10**9))

        def ordinary() -> requests.Response:
            body = json.dumps(
                {"name": f"n{next(counter)}", "type": "password", "config": {"password": "p"}}
            )
            return session.post(url, data=body, headers=AUTH, timeout=120)

        for _ in range(10):  # warm-up
            timed(ordinary, 201)
        baseline = statistics.median(timed(ordinary, 201) for _ in range(REPEATS))
        print(f"ordinary create: {baseline * 1000:.2f} ms (median of {REPEATS})")
        worst = 0.0
        bodies = {label: body_with(*shape) for label, shape in SHAPES.items()}
        for label, data in bodies.items():
            samples = [
                timed(lambda d=data: session.post(url, data=d, headers=AUTH, timeout=120), 400)
                for _ in range(REPEATS)
            ]
            median = statistics.median(samples)
            worst = max(worst, max(samples))
            print(
                f"64 KiB {label}: {median * 1000:.2f} ms median, {max(samples) * 1000:.2f} ms max "
                f"({median / baseline:.1f}x ordinary create)"
            )

        def get() -> requests.Response:
            return requests.get(url, headers=AUTH, timeout=120)

        idle = statistics.median(timed(get, 200) for _ in range(REPEATS))
        hostile = bodies["name: 'a'*n + U+0001"]
        sessions = [requests.Session() for _ in range(CONCURRENT)]

        def round_with_attack() -> float:
            # Eight hostile creates (one per server thread) and the GET, released together.
            gate = threading.Barrier(CONCURRENT + 1)

            def attack(own: requests.Session) -> None:
                gate.wait()
                own.post(url, data=hostile, headers=AUTH, timeout=120)

            threads = [threading.Thread(target=attack, args=(s,)) for s in sessions]
            for thread in threads:
                thread.start()
            gate.wait()
            elapsed = timed(get, 200)
            for thread in threads:
                thread.join()
            return elapsed

        busy = statistics.median(round_with_attack() for _ in range(REPEATS))
        print(
            f"unrelated GET: idle {idle * 1000:.2f} ms, sent together with {CONCURRENT} "
            f"hostile creates {busy * 1000:.2f} ms ({busy / idle:.1f}x; median of {REPEATS})"
        )
        print(f"old name rule, directly, 8,000 chars + U+0001: {old_seconds * 1000:.0f} ms")
        verdict = "ok" if worst < 1.0 else "SLOWER THAN EXPECTED"
        print(f"slowest 64 KiB hostile request: {worst * 1000:.1f} ms (target < 1 s): {verdict}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
