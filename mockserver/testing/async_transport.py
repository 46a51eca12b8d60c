"""An async httpx transport that hands requests to a WSGI app, no socket.

httpx's own `WSGITransport` is sync only. This one reuses the sync call path
(`transports.call_wsgi`) in a worker thread (anyio, so asyncio and trio both
work), which also keeps a fault's delay from blocking the event loop.
Imported only when an async transport is asked for: it needs httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
import httpx

from .transports import call_wsgi

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class AsyncWSGITransport(httpx.AsyncBaseTransport):
    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        result = await anyio.to_thread.run_sync(
            call_wsgi, self.app, request.method, str(request.url), request.headers, body
        )
        return httpx.Response(
            result.status, headers=result.headers, content=result.body, request=request
        )
