"""GET by id: the fake's HTTP path against a bare Flask handler, the floor.

Run by `make bench` (benchmarks/run_all.py) or directly; never by a test.

Both rows compare, in the same run, the fake with a bare Flask view that
returns the same JSON body for the same URL:

- over HTTP: `planasonix-mock serve` (default flags: CORS and the control
  plane on, one access-log line per request) against the bare app under the
  same waitress settings (8 threads, the same body limit), each in its own
  process. Load comes from wrk (1 thread, 8 connections) when it is on the
  PATH (`make bench` installs it where it can), else from a Python load
  generator (8 keep-alive connections in another process), which saturates
  sooner; the ratio is printed either way.
- in process: the same two apps through Flask's test client (the fake with
  the standalone features installed, as `serve` builds it). Neither load
  sends `Origin`, so the fake adds no CORS headers (a browser's request
  would get them); the in-process run also prints, not as a goal, the fake's
  cost for a request with `Origin`.

Goal for both: the fake at most 1.3x slower. Set BENCH_HTTP_SECONDS to
change the length of one load run (default 5).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response
from flask.testing import FlaskClient

GOAL = 1.3
KEY = "plnx_bench_http_key"
WORKSPACE = "ws_bench"
CRED_ID = "cred_0000000000bench1"
PATH = f"/api/credentials/{CRED_ID}"
HEADERS = {"Authorization": f"Bearer {KEY}"}
THREADS = 8
CONNECTIONS = 8
SEED: dict[str, Any] = {
    "workspaces": [
        {
            "id": WORKSPACE,
            "keys": [{"key": KEY, "user_id": "usr_bench"}],
            "credentials": [
                {
                    "id": CRED_ID,
                    "name": "bench-postgres",
                    "type": "database",
                    "created_by": "usr_bench",
                    "config": {
                        "engine": "postgresql",
                        "host": "db.internal.example.com",
                        "port": 5432,
                        "database": "analytics",
                        "username": "etl_user",
                        "password": "bench-secret-value",
                    },
                }
            ],
        }
    ]
}


# --- the floor: a bare Flask handler -------------------------------------------------------


def bare_app(body: bytes) -> Flask:
    """One view, the fake's URL, the fake's body: what any Flask service pays at least."""
    app = Flask("bare")

    @app.get("/api/credentials/<cred_id>")
    def get_credential(cred_id: str) -> Response:
        return Response(body, mimetype="application/json")

    return app


def serve_bare(body_file: str) -> int:
    """`python bench_http.py --bare BODY_FILE`: the bare app under serve's waitress settings."""
    from waitress import create_server

    from mockserver.standalone.cli import WAITRESS_MAX_BODY

    app = bare_app(Path(body_file).read_bytes())
    server: Any = create_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=THREADS,
        max_request_body_size=WAITRESS_MAX_BODY,
    )
    print(f"Listening on http://127.0.0.1:{server.effective_port}", flush=True)
    server.run()  # until the benchmark terminates this process
    return 0


# --- servers in their own processes --------------------------------------------------------


class Server:
    """A child process that prints `Listening on URL`; stdout goes to a file, like a terminal."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT)
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"Listening on (http://\S+)", self.log.read_text())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch(url: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", PATH, headers=HEADERS)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


# --- load -------------------------------------------------------------------------------


def wrk_rate(url: str, seconds: float) -> float:
    """Requests per second wrk measures with 1 thread and 8 connections."""
    header = f"Authorization: {HEADERS['Authorization']}"
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "-H", header, url + PATH],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if re.search(r"Non-2xx", out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return float(match.group(1))


def python_load(url: str, seconds: float) -> int:
    """`python bench_http.py --load URL SECONDS`: keep-alive GETs on 8 connections; prints rate."""
    host, port = url.removeprefix("http://").split(":")
    counts = [0] * CONNECTIONS
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.perf_counter() < stop_at:
            conn.request("GET", PATH, headers=HEADERS)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            counts[n] += 1
        conn.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(sum(counts) / (time.perf_counter() - began))
    return 0


def python_rate(url: str, seconds: float) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.split()[-1])


class Load:
    """Runs the load against one server: requests/s, and its CPU µs per request."""

    def __init__(self, rate: Any) -> None:
        self.rate = rate

    def run(self, server: Server, seconds: float) -> tuple[float, float | None]:
        before = cpu_seconds(server.process.pid)
        began = time.perf_counter()
        per_second = self.rate(server.url, seconds)
        elapsed = time.perf_counter() - began
        after = cpu_seconds(server.process.pid)
        if before is None or after is None:
            return per_second, None
        return per_second, (after - before) / (per_second * elapsed) * 1e6


def over_http(seconds: float) -> tuple[float, float, float | None, float | None, str]:
    """Requests/s of serve and of the bare app (best of alternating runs), their
    server CPU µs per request (median), and the load tool."""
    use_wrk = shutil.which("wrk") is not None
    load = Load(wrk_rate if use_wrk else python_rate)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = folder / "seed.json"
        seed.write_text(json.dumps(SEED))
        fake = Server(
            [
                sys.executable,
                "-m",
                "mockserver",
                "serve",
                "--port",
                "0",
                "--seed",
                str(seed),
                "--threads",
                str(THREADS),
            ],
            folder / "serve.log",
        )
        bare = None
        try:
            status, body = fetch(fake.url)
            assert status == 200, status
            body_file = folder / "body.json"
            body_file.write_bytes(body)
            bare = Server([sys.executable, __file__, "--bare", str(body_file)], folder / "bare.log")
            assert fetch(bare.url) == (200, body)
            # Warm-up, then alternate so background load hits both alike.
            load.run(fake, 1)
            load.run(bare, 1)
            runs: dict[str, list[tuple[float, float | None]]] = {"fake": [], "bare": []}
            for _ in range(3):
                runs["fake"].append(load.run(fake, seconds))
                runs["bare"].append(load.run(bare, seconds))
            logged = (folder / "serve.log").read_text().count(f"GET {PATH} 200")
        finally:
            fake.stop()
            if bare is not None:
                bare.stop()
    if logged == 0:
        raise RuntimeError("serve logged no request: the access log is not on")
    best = {name: max(rate for rate, _ in results) for name, results in runs.items()}
    cpu = {
        name: statistics.median(c for _, c in results if c is not None)
        if all(c is not None for _, c in results)
        else None
        for name, results in runs.items()
    }
    tool = "wrk -t1 -c8" if use_wrk else "python, 8 connections"
    return best["fake"], best["bare"], cpu["fake"], cpu["bare"], tool


# --- in process -----------------------------------------------------------------------------


def fake_client() -> FlaskClient:
    from mockserver import CredentialStore, FakeConfig, Keyring, create_app
    from mockserver.seed import load_fixtures
    from mockserver.standalone import StandaloneOptions, install

    store = CredentialStore(seed=1)
    keyring = Keyring()
    load_fixtures(SEED, store, keyring)
    app = create_app(store, keyring=keyring, config=FakeConfig(seed=1))
    install(app, StandaloneOptions())
    return app.test_client()


# What a browser on another origin adds: the fake then answers with CORS headers too.
BROWSER_HEADERS = {**HEADERS, "Origin": "http://localhost:5173"}


def in_process(rounds: int = 30, per_round: int = 200) -> tuple[float, float, float]:
    """Median CPU µs per GET through the test client: the fake, the bare app, and
    the fake asked the way a browser on another origin asks (with `Origin`)."""
    fake = fake_client()
    first = fake.get(PATH, headers=HEADERS)
    assert first.status_code == 200, first.status_code
    assert fake.get(PATH, headers=BROWSER_HEADERS).headers["Access-Control-Allow-Origin"]
    bare = bare_app(first.data).test_client()
    runs = {"fake": (fake, HEADERS), "bare": (bare, HEADERS), "browser": (fake, BROWSER_HEADERS)}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(rounds + 3):  # the first rounds warm caches up
        for name, (client, headers) in runs.items():
            # CPU time of this thread: other processes on the machine do not count.
            began = time.thread_time()
            for _ in range(per_round):
                client.get(PATH, headers=headers)
            if round_ >= 3:
                samples[name].append((time.thread_time() - began) / per_round)
    fake_us, bare_us, browser_us = (statistics.median(samples[n]) * 1e6 for n in runs)
    return fake_us, bare_us, browser_us


def _verdict(ratio: float) -> str:
    return f"goal <= {GOAL}x: {'met' if ratio <= GOAL else 'NOT MET'}"


def main() -> int:
    seconds = float(os.environ.get("BENCH_HTTP_SECONDS", "5"))
    fake_us, bare_us, browser_us = in_process()
    ratio = fake_us / bare_us
    print(
        f"in process (Flask test client), GET by id: fake {fake_us:.0f} µs, "
        f"bare handler {bare_us:.0f} µs: {ratio:.2f}x; {_verdict(ratio)}",
        flush=True,
    )
    # Not a goal row: what the CORS headers cost when a browser sends `Origin`.
    print(
        f"  the same GET with an Origin header (CORS headers added): {browser_us:.0f} µs: "
        f"{browser_us / bare_us:.2f}x",
        flush=True,
    )
    fake_rps, bare_rps, fake_cpu, bare_cpu, tool = over_http(seconds)
    ratio = bare_rps / fake_rps
    print(
        f"over HTTP (waitress, 8 threads, {tool}), GET by id: planasonix-mock serve "
        f"{fake_rps:.0f} req/s, bare handler {bare_rps:.0f} req/s: {ratio:.2f}x; {_verdict(ratio)}"
    )
    if fake_cpu is not None and bare_cpu is not None:
        # Server CPU per request hardly depends on what else the machine runs.
        print(
            f"  server CPU per request: serve {fake_cpu:.0f} µs, bare {bare_cpu:.0f} µs: "
            f"{fake_cpu / bare_cpu:.2f}x"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare"]:
        sys.exit(serve_bare(sys.argv[2]))
    if sys.argv[1:2] == ["--load"]:
        sys.exit(python_load(sys.argv[2], float(sys.argv[3])))
    sys.exit(main())
