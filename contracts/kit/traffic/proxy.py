"""``planasonix-contract proxy``: a validating reverse proxy for real traffic.

Every request goes to the upstream unchanged (method, request target, headers,
body; only hop-by-hop headers are dropped and ``Host`` names the upstream, as
any reverse proxy does) and the upstream's answer comes back unchanged: same
status, headers (hop-by-hop ones aside), and body bytes, content coding
untouched. The answer is streamed to the client as it arrives; a copy of its
first :data:`JUDGE_LIMIT` bytes goes to the judge once the client has it all.

Judging happens on one worker thread, after the answer is sent: a slow check
never delays an answer, and the judge sees exchanges in the order they end.

Only requests whose ``Host`` names this machine's loopback (or a name passed
as ``allowed_hosts``) are forwarded; any other gets a 403 in the API's error
shape. The proxy rewrites ``Host`` to the upstream, so without this a
DNS-rebinding page could reach the upstream (the fake's ``/_mock/`` control
plane included) through it, past the fake's own Host check.

Served by waitress; forwarded with urllib3 (the HTTP engine under
``requests``, used directly: one pool, keep-alive to the upstream, one
connection per worker thread, none of ``requests``' per-call overhead).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import queue
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import urllib3
import waitress
from urllib3.exceptions import HTTPError
from urllib3.util import SKIP_HEADER

from contracts.kit.traffic.judge import Judge, Violation
from contracts.kit.traffic.observed import Observed, hop_by_hop

JUDGE_LIMIT = 8 * 1024 * 1024
"""Bytes of one answer the judge keeps; a longer one is forwarded whole but only
scanned for secrets in its first part and not schema-checked."""
CHUNK = 64 * 1024
_ENVIRON_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
Sink = Callable[[Observed], None]
StartResponse = Callable[..., Any]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address (`127.0.0.0/8`, `::1`), with or without brackets."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name part of a `Host` header value: `[::1]:8081` -> `::1`, `a.b:80` -> `a.b`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rpartition(":")[0] if value.count(":") == 1 else value


_FORBIDDEN_HOST = json.dumps(
    {
        "error": {
            "code": "forbidden",
            "message": "This proxy only answers requests for this machine's loopback names "
            "or the names given with --allow-host.",
            "request_id": "",
        }
    }
).encode()


def _request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), value))
        elif key in _ENVIRON_HEADERS and value:
            headers.append((_ENVIRON_HEADERS[key], value))
    return headers


def _request_target(environ: dict[str, Any]) -> str:
    """The path and query exactly as the client sent them."""
    raw = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or "")
    if raw:
        parts = urllib.parse.urlsplit(raw)
        if parts.scheme:  # absolute-form, as sent to a forward proxy
            return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        return raw
    path = urllib.parse.quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


MAX_REQUEST_BODY = 1024 * 1024
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT = 30


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


def forwarding_pool(pool: int, timeout: float) -> urllib3.PoolManager:
    """Connections to the upstream, ``pool`` kept alive per host; no retries, no redirects."""
    return urllib3.PoolManager(
        maxsize=pool,
        retries=False,
        timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout),
    )


class _Relay:
    """The answer's body, streamed to the client; hands the exchange on when done."""

    def __init__(
        self, response: urllib3.BaseHTTPResponse, observed: Observed, sink: Sink, limit: int
    ) -> None:
        self.response = response
        self.observed = observed
        self.sink = sink
        self.limit = limit
        self.kept = bytearray()

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.response.stream(CHUNK, decode_content=False):
                if not chunk:
                    continue
                room = self.limit - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
                if len(chunk) > room:
                    self.observed.truncated = True
                yield chunk
        except HTTPError:
            # The upstream broke off mid-answer: the client gets what came, the judge
            # no half body to call invalid.
            self.observed.truncated = True
            self.observed.notes.append("answers the upstream broke off")
            raise

    def close(self) -> None:
        self.response.drain_conn()  # a client that left early must not spoil the connection
        self.response.release_conn()
        self.observed.response_body = bytes(self.kept)
        self.observed.finished = time.time()
        self.sink(self.observed)


class ProxyApp:
    """The WSGI application: forward, relay, and hand each exchange to ``sink``."""

    def __init__(
        self,
        upstream: str,
        sink: Sink,
        *,
        http: urllib3.PoolManager | None = None,
        timeout: float = 60.0,
        judge_limit: int = JUDGE_LIMIT,
        pool: int = 8,
        errors: IO[str] | None = None,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        parts = urllib.parse.urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("--upstream must be an http(s) URL such as http://127.0.0.1:8080")
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")
        self.sink = sink
        self.http = http or forwarding_pool(pool, timeout)
        # One host: resolve its pool once rather than parse the URL on every call.
        self._upstream_pool = self.http.connection_from_url(self.upstream)
        self.timeout = timeout
        self.judge_limit = judge_limit
        self.errors = errors if errors is not None else sys.stderr
        self.allowed_hosts = frozenset(host_name(h) for h in allowed_hosts) | LOOPBACK_NAMES

    def _host_allowed(self, environ: dict[str, Any]) -> bool:
        host = environ.get("HTTP_HOST")
        if not host:
            return True  # HTTP/1.0 without Host: no browser sends that
        name = host_name(host)
        return name in self.allowed_hosts or is_loopback(name)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self._host_allowed(environ):
            # Not forwarded and not judged: the request never reached the API.
            start_response(
                "403 Forbidden",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(_FORBIDDEN_HOST))),
                ],
            )
            return [_FORBIDDEN_HOST]
        started = time.time()
        method = environ["REQUEST_METHOD"]
        target = _request_target(environ)
        incoming = _request_headers(environ)
        body = _read_body(environ)
        dropped = hop_by_hop(incoming) | {"host"}
        outgoing: dict[str, str] = {}
        for name, value in incoming:
            if name.lower() not in dropped:
                outgoing[name] = value
        present = {name.lower() for name in outgoing}
        for name in ("User-Agent", "Accept-Encoding"):
            if name.lower() not in present:
                outgoing[name] = SKIP_HEADER  # urllib3 would add its own otherwise
        if body and "content-length" not in present:
            outgoing["Content-Length"] = str(len(body))  # the client sent it chunked
        try:
            response = self._upstream_pool.urlopen(
                method,
                self.prefix + target,
                body=body or None,
                headers=outgoing,
                redirect=False,
                preload_content=False,
                decode_content=False,
                assert_same_host=False,
            )
        except HTTPError as exc:
            print(
                f"planasonix-contract proxy: upstream unreachable for {method} "
                f"{urllib.parse.urlsplit(target).path}: {type(exc).__name__}",
                file=self.errors,
                flush=True,
            )
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"planasonix-contract proxy: the upstream could not be reached\n"]
        raw_headers = list(response.headers.items())
        drop_back = hop_by_hop(raw_headers)
        headers = [(k, v) for k, v in raw_headers if k.lower() not in drop_back]
        start_response(f"{response.status} {response.reason or ''}".rstrip(), headers)
        observed = Observed(
            method=method,
            url=target,
            request_headers=incoming,
            request_body=body or None,
            status=response.status,
            response_headers=headers,
            response_body=None,
            started=started,
            finished=started,
            base=self.upstream + self.prefix,
        )
        return _Relay(response, observed, self.sink, self.judge_limit)


class JudgeWorker:
    """Runs the judge on its own thread; prints each violation's line as it is found."""

    def __init__(self, judge: Judge, out: IO[str] | None = None) -> None:
        self.judge = judge
        self.out = out if out is not None else sys.stdout
        previous = judge.on_violation

        def announce(violation: Violation) -> None:
            previous(violation)
            print(violation.line(), file=self.out, flush=True)

        judge.on_violation = announce
        self._queue: queue.Queue[Observed | None] = queue.Queue()
        self._seq = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="traffic-judge", daemon=True)
        self._thread.start()

    def submit(self, observed: Observed) -> None:
        with self._lock:
            self._seq += 1
            observed.seq = self._seq
        self._queue.put(observed)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                try:
                    self.judge.judge(item)
                except Exception as exc:  # a bug in a check must not stop the proxy
                    print(
                        f"planasonix-contract proxy: could not judge exchange #{item.seq}: "
                        f"{type(exc).__name__}",
                        file=sys.stderr,
                        flush=True,
                    )
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every exchange handed in so far is judged."""
        self._queue.join()

    def stop(self) -> None:
        self.drain()
        self._queue.put(None)
        self._thread.join(timeout=10)


class ProxyServer:
    """waitress serving a :class:`ProxyApp` on ``host:port`` (0: a free port)."""

    def __init__(
        self,
        app: ProxyApp,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        max_request_body: int = MAX_REQUEST_BODY,
    ):
        # waitress answers 413 itself from Content-Length (or while counting a
        # chunked body) before the app reads it. Slow clients wait in its
        # event loop, not in a worker thread: a generous connection limit
        # keeps them from locking out normal traffic, and the channel timeout
        # closes a connection that has sent nothing for that long.
        self.server: Any = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="",
            max_request_body_size=max_request_body,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT,
        )
        self.host = host
        self.port = int(self.server.effective_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self) -> None:
        """Serve until Ctrl-C (KeyboardInterrupt in this thread) or :meth:`stop`."""
        self.server.run()

    def _close_all(self) -> None:
        for channel in list(self.server._map.values()):
            channel.close()

    def stop(self) -> None:
        """From another thread: the serving loop closes every channel itself and returns
        (closing them from here would pull sockets from under its ``select``)."""
        # OSError: the loop woke for another reason, ran the thunk and closed the trigger.
        with contextlib.suppress(OSError):
            self.server.trigger.pull_trigger(self._close_all)

    def shutdown(self) -> None:
        """After :meth:`run` returned: close what is left and stop the worker threads."""
        self._close_all()
        self.server.task_dispatcher.shutdown()

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve in a background thread (for tests and benchmarks); yields the URL."""
        thread = threading.Thread(target=self.run, name="contract-proxy", daemon=True)
        thread.start()
        try:
            yield self.url
        finally:
            self.stop()
            thread.join(timeout=10)
            self.shutdown()


@contextmanager
def watching(
    upstream: str,
    judge: Judge,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out: IO[str] | None = None,
    threads: int = 8,
    allowed_hosts: Iterable[str] = (),
) -> Iterator[str]:
    """A proxy in front of ``upstream`` judged by ``judge``, served in the background.

    Yields the proxy's URL; on exit every exchange is judged before it returns.
    """
    worker = JudgeWorker(judge, out)
    app = ProxyApp(upstream, worker.submit, pool=threads, allowed_hosts=allowed_hosts)
    server = ProxyServer(app, host=host, port=port, threads=threads)
    try:
        with server.running() as url:
            yield url
    finally:
        worker.stop()
