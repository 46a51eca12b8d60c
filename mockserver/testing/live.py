"""A fake behind a real socket on 127.0.0.1: what `planasonix_server` hands a test."""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import requests

from ..standalone.wire import RAW_KEY, SocketConnection
from .fake import PlanasonixFake, import_httpx
from .faults import Faults
from .sessions import BaseURLSession

if TYPE_CHECKING:
    import httpx
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.serving import BaseWSGIServer


class LiveFake(PlanasonixFake):
    """A fake reached over a real socket (`planasonix_server`): plain HTTP clients."""

    @property
    def session(self) -> requests.Session:
        """A plain `requests` session over the socket, with `url` as base URL and
        the fake's key (`mockserver.testing.sessions`)."""
        if self._session is None:
            self._session = BaseURLSession(self.url, self.api_key)
        return self._session

    def httpx_transport(self) -> httpx.HTTPTransport:
        transport: httpx.HTTPTransport = import_httpx().HTTPTransport()
        return transport

    def httpx_async_transport(self) -> httpx.AsyncBaseTransport:
        transport: httpx.AsyncBaseTransport = import_httpx().AsyncHTTPTransport()
        return transport


class LiveServer:
    """A threaded HTTP server on 127.0.0.1 serving whichever fake is `current`.

    Started once (per session, per xdist worker); a test "resets" it by
    swapping in a fresh fake, which is as cheap as building one. Connection
    faults (`reset`, `truncated`, ...) happen on the real socket: each
    request's environ carries it (`mockserver.standalone.wire`).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        # Sockets a connection fault resets: closed without socketserver's FIN first.
        aborted: weakref.WeakSet[socket.socket] = weakref.WeakSet()

        class QuietHandler(WSGIRequestHandler):
            # Test output is no place for an access log line per request.
            def log(self, type: str, message: str, *args: Any) -> None:
                pass

            def make_environ(self) -> WSGIEnvironment:
                environ = super().make_environ()
                environ[RAW_KEY] = SocketConnection(self.connection, self._end)
                return environ

            def _end(self, sock: socket.socket, abortive: bool) -> None:
                self.close_connection = True
                if abortive:
                    aborted.add(sock)

        self._server: BaseWSGIServer = make_server(
            host, port, self._dispatch, threaded=True, request_handler=QuietHandler
        )
        shutdown_request = self._server.shutdown_request

        def end_request(request: Any) -> None:
            if request in aborted:
                self._server.close_request(request)  # zero linger: the close is the RST
            else:
                shutdown_request(request)

        self._server.shutdown_request = end_request  # type: ignore[method-assign]
        self.host = host
        self.port: int = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.current: PlanasonixFake = LiveFake(url=self.url)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LiveServer(url={self.url!r})"

    @property
    def faults(self) -> Faults:
        """The fault rules of the fake being served now."""
        return self.current.faults

    def _dispatch(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.current.wsgi(environ, start_response)

    def new_fake(self, **settings: Any) -> LiveFake:
        fake = LiveFake(url=self.url, **settings)
        self.current = fake
        return fake

    def release(self, fake: PlanasonixFake) -> None:
        """End a test: later requests see an empty fake, not the test's data."""
        if self.current is fake:
            self.current = LiveFake(url=self.url)
        fake.close()

    def start(self) -> LiveServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"planasonix-server-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
