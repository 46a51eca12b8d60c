"""A fake that answers calls to the real API host: what `planasonix_intercept` hands a test.

`requests` is intercepted with `responses`, httpx (sync and async clients)
with `respx`, when httpx is installed: both well-kept libraries that patch
the clients' transports, so the code under test keeps its real base URL.

It fails closed (`guards`): a call to an intercepted host that neither can
answer (httpx without respx, urllib3 used directly, aiohttp, a raw socket)
raises `NotInterceptedError` instead of reaching the network.

Timeouts and connection faults behave as on a socket (`client_faults`):
requests' `timeout=` (which `responses` passes on as `request.req_kwargs`)
and httpx's `request.extensions["timeout"]` reach the fake, so a fault delay
longer than the read timeout raises the client's own timeout error after the
timeout, and `reset`, `empty`, `garbage`, `truncated`, `drip` raise what each
client raises for them, at the same moment (a cut or slow body while it is
read, so with `stream=True` only when the caller reads it).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests

from . import client_faults
from .fake import PUBLIC_HOST, PUBLIC_URL, PlanasonixFake
from .guards import NetworkGuard
from .sessions import BaseURLSession
from .transports import WSGIResult, call_wsgi

if TYPE_CHECKING:
    import httpx
    import responses
    import respx


_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Set while respx resolves a request of an async httpx client: the side effect
# then answers with an awaitable that runs the fake in a worker thread, so a
# fault's delay (or any slow answer) never blocks the event loop.
_ASYNC_CLIENT: ContextVar[bool] = ContextVar("planasonix_intercept_async", default=False)


def host_pattern(hosts: Iterable[str]) -> re.Pattern[str]:
    """A URL regex for `hosts`: bare names, URLs, `host:port` or `*.example.com`."""
    alternatives = []
    for raw in hosts:
        host = raw.strip()
        if not host:
            continue
        if "://" in host:
            host = urlsplit(host).netloc
        host = host.rstrip("/").lower()
        name, _, port = host.partition(":")
        if name.startswith("*."):
            pattern = r"(?:[a-z0-9-]+\.)+" + re.escape(name[2:])
        else:
            pattern = re.escape(name)
        pattern += re.escape(":" + port) if port else r"(?::\d+)?"
        alternatives.append(pattern)
    if not alternatives:
        raise ValueError("no host to intercept")
    return re.compile(r"^https?://(?:" + "|".join(alternatives) + r")(?:[/?#].*)?$", re.I)


class InterceptedFake(PlanasonixFake):
    """A fake answering every `requests` and httpx call to the public API host (and `hosts`).

    `requests`: built on `responses.RequestsMock`, available as `.mock` (its
    `.calls`, or `.add(...)` for other hosts). httpx, sync and async: built on
    a `respx.MockRouter`, available as `.httpx_mock` once started (None when
    httpx is not installed). With `block_others`, a call to any other host
    raises `requests.ConnectionError` / `httpx.ConnectError` instead of
    reaching the network.
    """

    def __init__(
        self,
        *,
        hosts: Iterable[str] = (),
        block_others: bool = False,
        **settings: Any,
    ) -> None:
        settings.setdefault("url", PUBLIC_URL)
        super().__init__(**settings)
        self.hosts: tuple[str, ...] = tuple(dict.fromkeys((PUBLIC_HOST, *hosts)))
        self.block_others = block_others
        self._mock: responses.RequestsMock | None = None
        self.httpx_mock: respx.MockRouter | None = None
        self._guard: NetworkGuard | None = None

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, hosts={list(self.hosts)!r})"

    @property
    def mock(self) -> responses.RequestsMock:
        if self._mock is None:
            import responses

            mock = responses.RequestsMock(assert_all_requests_are_fired=False)
            pattern = host_pattern(self.hosts)
            for method in _METHODS:
                mock.add_callback(method, pattern, self._respond, content_type=None)
            if not self.block_others:
                mock.add_passthru(re.compile(r".*"))
            self._mock = mock
        return self._mock

    @property
    def session(self) -> requests.Session:
        """A plain `requests` session (the interception is what is under test), with
        the public URL as base URL and the fake's key (`mockserver.testing.sessions`)."""
        if self._session is None:
            self._session = BaseURLSession(self.url, self.api_key)
        return self._session

    def _respond(self, request: requests.PreparedRequest) -> tuple[int, Mapping[str, str], Any]:
        assert request.url is not None and request.method is not None
        options = getattr(request, "req_kwargs", None) or {}
        result = call_wsgi(
            self.wsgi,
            request.method,
            request.url,
            request.headers,
            request.body,
            read_timeout=client_faults.requests_read_timeout(options.get("timeout")),
        )
        failure = client_faults.requests_failure(result.fault, request)
        if failure is not None:
            raise failure
        return (
            result.status,
            result.header_dict(),
            client_faults.responses_body(result.fault, result.body),
        )

    def _call_httpx(self, request: httpx.Request, body: bytes) -> WSGIResult:
        return call_wsgi(
            self.wsgi,
            request.method,
            str(request.url),
            request.headers,
            body,
            read_timeout=client_faults.httpx_read_timeout(request),
        )

    def _respond_httpx(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        if _ASYNC_CLIENT.get():
            return self._respond_httpx_async(request)
        result = self._call_httpx(request, request.read())
        return client_faults.httpx_response(request, result, result.fault)

    async def _respond_httpx_async(self, request: httpx.Request) -> httpx.Response:
        import anyio.to_thread

        body = await request.aread()
        result = await anyio.to_thread.run_sync(self._call_httpx, request, body)
        return client_faults.httpx_response(request, result, result.fault)

    def _refuse_httpx(self, request: httpx.Request) -> httpx.Response:
        import httpx

        raise httpx.ConnectError(
            f"Connection refused by planasonix_intercept (block_others): {request.url.host}",
            request=request,
        )

    def _start_httpx(self) -> bool:
        """Intercept httpx with respx; False when httpx is there but respx is not."""
        try:
            import httpx  # noqa: F401  # only to know whether there is anything to patch
        except ImportError:
            return True
        try:
            import respx
        except ImportError:
            return False  # the guard refuses httpx calls to our hosts, naming the extra
        router = _router_class(respx)(assert_all_called=False, assert_all_mocked=False)
        router.route(url__regex=host_pattern(self.hosts)).mock(side_effect=self._respond_httpx)
        if self.block_others:
            router.route().mock(side_effect=self._refuse_httpx)
        else:
            router.route().pass_through()
        router.start()
        self.httpx_mock = router
        return True

    def start(self) -> InterceptedFake:
        self.mock.start()
        if self.httpx_mock is None and self._guard is None:
            answered = self._start_httpx()
            self._guard = NetworkGuard(self.hosts, httpx_unanswered=not answered)
            self._guard.start()
        return self

    def stop(self) -> None:
        if self._guard is not None:
            self._guard.stop()
            self._guard = None
        if self.httpx_mock is not None:
            self.httpx_mock.stop(quiet=True)
            self.httpx_mock = None
        if self._mock is not None:
            self._mock.stop(allow_assert=False)
            self._mock.reset()
            self._mock = None
        self.close()

    def __enter__(self) -> InterceptedFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _router_class(respx: Any) -> Any:
    """respx's `MockRouter`, marking the requests of async clients (`_ASYNC_CLIENT`).

    respx hands sync and async clients' requests to the same side effect, and
    awaits what it returns only on the async path; the mark tells them apart.
    """

    class Router(respx.MockRouter):  # type: ignore[misc]
        async def async_handler(self, request: httpx.Request) -> httpx.Response:
            token = _ASYNC_CLIENT.set(True)
            try:
                response: httpx.Response = await super().async_handler(request)
                return response
            finally:
                _ASYNC_CLIENT.reset(token)

    return Router
