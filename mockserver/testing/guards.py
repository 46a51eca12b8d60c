"""Fail closed: under `planasonix_intercept`, no call to an intercepted host leaves the process.

`responses` answers `requests`, `respx` answers httpx. Every other way to
reach the hosts is stopped with `NotInterceptedError`, a RuntimeError (not a
client's connection error, so no retry loop of the code under test swallows
it), whose message says what to install or which fixture to use:

- httpx when respx is missing: its transports refuse intercepted hosts
  (install `planasonix-credentials-fake[httpx]`).
- urllib3 used directly, and aiohttp when installed: refused by host (use
  `planasonix_server`, a real socket on 127.0.0.1).
- Anything else (http.client, urllib.request, a socket of one's own): the
  host name never resolves (`socket.getaddrinfo` and
  `socket.create_connection` refuse it), so no connection is even attempted.
Calls to other hosts are left alone (see `block_others` for those).
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from contracts.errors import PlanasonixError

HTTPX_EXTRA: Final = "pip install 'planasonix-credentials-fake[httpx]'"
_ONLY_TWO: Final = "It answers requests and httpx only; "
_USE_SERVER: Final = (
    "use the planasonix_server fixture (a real HTTP server on 127.0.0.1: point the "
    "client at its .url) instead"
)


class NotInterceptedError(PlanasonixError, RuntimeError):
    """A call to an intercepted host that `planasonix_intercept` cannot answer; it never left."""


def host_matcher(hosts: Iterable[str]) -> Callable[[object], bool]:
    """Whether a host name is one of `hosts` (bare names, URLs, `host:port`, `*.example.com`)."""
    patterns = []
    for raw in hosts:
        host = raw.strip()
        if "://" in host:
            host = urlsplit(host).netloc
        name = host.rstrip("/").lower().partition(":")[0]
        if not name:
            continue
        if name.startswith("*."):
            patterns.append(r"(?:[a-z0-9-]+\.)+" + re.escape(name[2:]))
        else:
            patterns.append(re.escape(name))
    regex = re.compile("^(?:" + "|".join(patterns or ["(?!)"]) + r")\.?$", re.I)

    def matches(name: object) -> bool:
        if isinstance(name, bytes):
            name = name.decode("ascii", "replace")
        return isinstance(name, str) and regex.match(name) is not None

    return matches


def _refusal(client: str, host: str, advice: str) -> NotInterceptedError:
    return NotInterceptedError(
        f"planasonix_intercept cannot answer this {client} call to {host}; it was stopped "
        f"before reaching the network. {advice}"
    )


class NetworkGuard:
    """The patches that stop what the interception does not answer; `start()` / `stop()`."""

    def __init__(self, hosts: Iterable[str], *, httpx_unanswered: bool) -> None:
        self.matches = host_matcher(hosts)
        self.httpx_unanswered = httpx_unanswered
        self._stack: contextlib.ExitStack | None = None

    def start(self) -> None:
        stack = contextlib.ExitStack()
        self._guard_resolver(stack)
        self._guard_urllib3(stack)
        self._guard_aiohttp(stack)
        if self.httpx_unanswered:
            self._guard_httpx(stack)
        self._stack = stack

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def _patch(self, stack: contextlib.ExitStack, owner: Any, name: str, new: Any) -> None:
        original = getattr(owner, name)
        setattr(owner, name, new)
        stack.callback(setattr, owner, name, original)

    def _guard_resolver(self, stack: contextlib.ExitStack) -> None:
        resolve = socket.getaddrinfo
        matches = self.matches

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if matches(host):
                raise _refusal("HTTP client's", str(host), _USE_SERVER)
            return resolve(host, *args, **kwargs)

        self._patch(stack, socket, "getaddrinfo", getaddrinfo)
        connect = socket.create_connection

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            host = address[0] if isinstance(address, tuple) and address else None
            if matches(host):
                raise _refusal("HTTP client's", str(host), _USE_SERVER)
            return connect(address, *args, **kwargs)

        self._patch(stack, socket, "create_connection", create_connection)

    def _guard_urllib3(self, stack: contextlib.ExitStack) -> None:
        from urllib3.connectionpool import HTTPConnectionPool

        urlopen = HTTPConnectionPool.urlopen
        matches = self.matches

        def guarded(pool: HTTPConnectionPool, *args: Any, **kwargs: Any) -> Any:
            if matches(pool.host):
                raise _refusal("urllib3", str(pool.host), _ONLY_TWO + _USE_SERVER)
            return urlopen(pool, *args, **kwargs)

        self._patch(stack, HTTPConnectionPool, "urlopen", guarded)

    def _guard_aiohttp(self, stack: contextlib.ExitStack) -> None:
        try:
            from aiohttp import ClientSession  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return
        request = ClientSession._request
        matches = self.matches

        async def guarded(session: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
            host = urlsplit(str(url)).hostname or ""
            if matches(host):
                raise _refusal("aiohttp", host, _ONLY_TWO + _USE_SERVER)
            return await request(session, method, url, *args, **kwargs)

        self._patch(stack, ClientSession, "_request", guarded)

    def _guard_httpx(self, stack: contextlib.ExitStack) -> None:
        import httpx

        matches = self.matches
        advice = f"httpx calls are answered through respx, which is not installed: {HTTPX_EXTRA}"
        sync_send = httpx.HTTPTransport.handle_request
        async_send = httpx.AsyncHTTPTransport.handle_async_request

        def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> Any:
            if matches(request.url.host):
                raise _refusal("httpx", request.url.host, advice)
            return sync_send(transport, request)

        async def handle_async_request(
            transport: httpx.AsyncHTTPTransport, request: httpx.Request
        ) -> Any:
            if matches(request.url.host):
                raise _refusal("httpx", request.url.host, advice)
            return await async_send(transport, request)

        self._patch(stack, httpx.HTTPTransport, "handle_request", handle_request)
        self._patch(stack, httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
