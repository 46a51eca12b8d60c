"""Hostile deployments for the kit's tests: answers built to exhaust or crash a reader.

WSGI middleware around any app (the fake, usually). ``Hostile(app, kind)``
answers with ``kind`` every request ``when`` picks (all by default; ``once``:
only the first one it picks) and passes the others through:

- ``deep``: JSON nested 100,000 deep (200 KB);
- ``endless``: a chunked body that never ends, a small chunk every few
  milliseconds (it stops when the client goes away);
- ``bomb``: a gzip body of :data:`BOMB_SIZE` zeros, a few dozen KB on the wire;
- ``huge``: a plain body announced and sent as :data:`HUGE_SIZE` bytes (it
  stops when the client goes away);
- ``silent``: no answer at all for :data:`SILENCE` seconds.

Each is bounded on the server side too: the endless and huge bodies end when
the client hangs up, and nothing is held but one chunk.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

DEPTH = 100_000
BOMB_SIZE = 64 * 1024 * 1024
HUGE_SIZE = 200 * 1024 * 1024
CHUNK = 64 * 1024
SILENCE = 10.0
KINDS = ("deep", "endless", "bomb", "huge")
WsgiApp = Callable[..., Any]


@cache
def bomb() -> bytes:
    """:data:`BOMB_SIZE` zeros, gzipped (made once: about 64 KB)."""
    return gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)


def _endless() -> Iterator[bytes]:
    while True:
        yield b'{"data": [' + b" " * 1000
        time.sleep(0.002)


def _huge() -> Iterator[bytes]:
    block = b"\0" * CHUNK
    for _ in range(HUGE_SIZE // CHUNK):
        yield block


class Hostile:
    def __init__(
        self,
        app: WsgiApp,
        kind: str,
        *,
        when: Callable[[dict[str, Any]], bool] = lambda environ: True,
        once: bool = False,
    ) -> None:
        assert kind in (*KINDS, "silent"), kind
        self.app, self.kind, self.when, self.once = app, kind, when, once
        self.served = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self.when(environ) or (self.once and self.served):
            return self.app(environ, start_response)
        self.served += 1
        json_type = ("Content-Type", "application/json")
        if self.kind == "deep":
            body = b"[" * DEPTH + b"]" * DEPTH
            start_response("200 OK", [json_type, ("Content-Length", str(len(body)))])
            return [body]
        if self.kind == "silent":
            time.sleep(SILENCE)
            start_response("200 OK", [json_type])
            return [b"{}"]
        if self.kind == "endless":
            start_response("200 OK", [json_type])  # no length: chunked
            return _endless()
        if self.kind == "bomb":
            body = bomb()
            headers = [json_type, ("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
            start_response("200 OK", headers)
            return [body]
        start_response("200 OK", [json_type, ("Content-Length", str(HUGE_SIZE))])
        return _huge()


def lists_only(environ: dict[str, Any]) -> bool:
    """Requests that list credentials (what a run's preflight sends first)."""
    return environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO", "").rstrip(
        "/"
    ).endswith("/api/credentials")


def _refuse(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"error": {"code": "not_found", "message": "no"}}']


@contextmanager
def hostile_process(kind: str) -> Iterator[str]:
    """A server answering every request with ``kind``, in a process of its own (so that
    what it allocates is not counted against the kit); yields its base URL."""
    script = Path(__file__)
    process = subprocess.Popen(
        [sys.executable, str(script), kind],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def _serve_forever(kind: str) -> None:
    from werkzeug.serving import make_server

    bomb()
    server = make_server("127.0.0.1", 0, Hostile(_refuse, kind), threaded=True)
    print(f"http://127.0.0.1:{server.server_port}", flush=True)
    # Stops when the test kills it; on its own after 10 minutes at most.
    threading.Timer(600, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    _serve_forever(sys.argv[1])
