"""httpx transports (sync and async) that hand requests to a WSGI app, no socket.

httpx's own `WSGITransport` is sync only and knows nothing of timeouts. These
reuse the sync call path (`transports.call_wsgi`) and honour what httpx hands
every transport in `request.extensions["timeout"]`: a fault delay longer than
the read timeout raises `httpx.ReadTimeout` after the timeout, and connection
faults raise what httpx raises for them on a socket (`client_faults`).

The async one runs each request in a worker thread (anyio, so asyncio and
trio both work), which also keeps a fault's delay from blocking the event loop.
Imported only when a transport is asked for: it needs httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
import httpx

from .client_faults import httpx_read_timeout, httpx_response
from .transports import WSGIResult, call_wsgi

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def _call(app: WSGIApplication, request: httpx.Request, body: bytes) -> WSGIResult:
    return call_wsgi(
        app,
        request.method,
        str(request.url),
        request.headers,
        body,
        read_timeout=httpx_read_timeout(request),
    )


class WSGITransport(httpx.BaseTransport):
    """A sync httpx transport to a WSGI app, for `httpx.Client(transport=...)`."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        result = _call(self.app, request, request.read())
        return httpx_response(request, result, result.fault)


class AsyncWSGITransport(httpx.AsyncBaseTransport):
    """An async httpx transport to a WSGI app, for `httpx.AsyncClient(transport=...)`."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        result = await anyio.to_thread.run_sync(_call, self.app, request, body)
        return httpx_response(request, result, result.fault)
