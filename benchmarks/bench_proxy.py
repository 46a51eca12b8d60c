"""Throughput through `planasonix-contract proxy` against the fake called directly.

Run by `make bench` (benchmarks/run_all.py) or directly; never by a test.

Starts `planasonix-mock serve` and, in front of it, `planasonix-contract
proxy`, each in its own process. A load generator (CONNECTIONS keep-alive
connections, one thread each, in this process) sends the same mix of calls
to both for BENCH_PROXY_SECONDS seconds (default 5), direct and proxied
runs interleaved, twice each: gets by id, list pages, and a create that
carries a secret then its delete and purge (so the judge remembers and
scans secrets and follows lifecycles as it would for real traffic).

Goal: the proxy keeps at least half of the direct throughput (ratio >= 0.5).
On a box whose cores are busy with other work the wall-clock ratio is noisy,
so the CPU time each server process spends per request is printed as well
(from /proc): with a free core per process, the proxied throughput is bounded
by the slower of the two, so fake CPU / proxy CPU per request estimates the
ratio independently of the load. The proxy's own verdict is printed too: the
fake must raise no violation.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

GOAL = 0.5
KEY = "plnx_test_dev_key"
CONNECTIONS = int(os.environ.get("BENCH_PROXY_CONNECTIONS", "8"))
ROOT = Path(__file__).resolve().parents[1]


def start(args: list[str], pattern: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(ROOT),
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(pattern, line)
        if match:
            # Keep draining its output so the pipe never fills.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, match.group(1)
    process.kill()
    raise SystemExit(f"could not start: {' '.join(args)}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


class Worker(threading.Thread):
    """One keep-alive connection sending the mix until told to stop."""

    def __init__(self, url: str, until: float) -> None:
        super().__init__(daemon=True)
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.until = until
        self.done = 0
        self.errors = 0

    def call(
        self, conn: http.client.HTTPConnection, method: str, path: str, body: object = None
    ) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {KEY}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        self.done += 1
        if response.status >= 500:
            self.errors += 1
        return response.status, json.loads(payload) if payload else None

    def run(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        n = 0
        while time.monotonic() < self.until:
            n += 1
            body = {
                "name": f"bench-{secrets.token_hex(6)}",
                "type": "password",
                "config": {"username": "bench", "password": secrets.token_urlsafe(24)},
            }
            status, created = self.call(conn, "POST", "/api/credentials", body)
            cred_id = created["data"]["id"] if status == 201 else None  # type: ignore[index]
            for _ in range(4):
                if cred_id:
                    self.call(conn, "GET", f"/api/credentials/{cred_id}")
                self.call(conn, "GET", "/api/credentials?limit=20")
            if cred_id:
                self.call(conn, "DELETE", f"/api/credentials/{cred_id}")
                self.call(conn, "DELETE", f"/api/credentials/{cred_id}/permanent")
        conn.close()


def cpu_seconds(process: subprocess.Popen[str]) -> float:
    """User + system CPU time of ``process`` so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(url: str, seconds: float) -> float:
    until = time.monotonic() + seconds
    workers = [Worker(url, until) for _ in range(CONNECTIONS)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    errors = sum(w.errors for w in workers)
    if errors:
        print(f"  ({errors} answers were 5xx)")
    throughput.last_count = sum(w.done for w in workers)  # type: ignore[attr-defined]
    return sum(w.done for w in workers) / elapsed


def main() -> int:
    seconds = float(os.environ.get("BENCH_PROXY_SECONDS", "5"))
    fake, fake_url = start(
        ["-m", "mockserver", "serve", "--port", "0", "--seed", "fixtures/demo.json"],
        r"Listening on (\S+)",
    )
    report = Path(tempfile.mkdtemp(prefix="bench-proxy-")) / "report.json"
    proxy, proxy_url = start(
        [
            "-m",
            "contracts.kit.cli.main",
            "proxy",
            "--upstream",
            fake_url,
            "--listen",
            "127.0.0.1:0",
            "--report",
            str(report),
        ],
        r"Proxying (\S+) -> ",
    )
    try:
        throughput(fake_url, 1.0)  # warm both up
        throughput(proxy_url, 1.0)
        direct, proxied = [], []
        fake_cpu, proxy_cpu, fake_requests, proxy_requests = 0.0, 0.0, 0, 0
        for _ in range(2):
            direct.append(throughput(fake_url, seconds))
            before = (cpu_seconds(fake), cpu_seconds(proxy))
            proxied.append(throughput(proxy_url, seconds))
            count = throughput.last_count  # type: ignore[attr-defined]
            fake_cpu += cpu_seconds(fake) - before[0]
            proxy_cpu += cpu_seconds(proxy) - before[1]
            fake_requests += count
            proxy_requests += count
        time.sleep(0.5)  # let the judge finish the queue before the summary
    finally:
        stop(proxy)
        stop(fake)
    d, p = max(direct), max(proxied)
    ratio = p / d
    verdict = json.loads(report.read_text())
    shutil.rmtree(report.parent, ignore_errors=True)
    print(f"direct:  {d:8.0f} requests/s  (runs: {', '.join(f'{x:.0f}' for x in direct)})")
    print(f"proxied: {p:8.0f} requests/s  (runs: {', '.join(f'{x:.0f}' for x in proxied)})")
    print(
        f"ratio proxied/direct: {ratio:.2f} (goal >= {GOAL}) -> {'OK' if ratio >= GOAL else 'SLOW'}"
    )
    if proxy_cpu and fake_cpu:
        per_fake = fake_cpu / fake_requests * 1000
        per_proxy = proxy_cpu / proxy_requests * 1000
        estimate = min(1.0, per_fake / per_proxy)
        print(
            f"CPU per request: fake {per_fake:.2f} ms, proxy (forwarding and judging) "
            f"{per_proxy:.2f} ms -> ratio on free cores ~{estimate:.2f} "
            f"-> {'OK' if estimate >= GOAL else 'SLOW'}"
        )
    print(
        f"proxy judged {verdict['exchanges']} exchanges: {len(verdict['violations'])} violation(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
