"""planasonix_intercept fails closed: a call it cannot answer raises, and never reaches the network.

The network is stubbed: every attempt to connect a socket or resolve a name
is recorded (and refused), so a test proves that nothing was attempted.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import types
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import urllib3

from mockserver.testing import InterceptedFake
from mockserver.testing.guards import NotInterceptedError, host_matcher

URL = "https://api.planasonix.com/api/credentials"
TENANT = "https://acme.planasonix.example/api/credentials"


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every connection or name lookup attempted, refused (no test here may reach a network)."""
    seen: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        raise OSError("network stubbed by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield seen


@pytest.fixture
def no_respx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "respx", None)  # `import respx` now fails


def test_httpx_without_respx_raises_naming_the_extra(attempts: list[Any], no_respx: None) -> None:
    with InterceptedFake(hosts=[TENANT]) as fake:
        assert fake.httpx_mock is None
        for url in (URL, TENANT):
            with pytest.raises(NotInterceptedError, match=r"planasonix-credentials-fake\[httpx\]"):
                httpx.get(url)

        async def go() -> None:
            async with httpx.AsyncClient() as client:
                await client.get(URL)

        with pytest.raises(NotInterceptedError, match="respx, which is not installed"):
            asyncio.run(go())
        assert len(fake.journal) == 0
    assert attempts == []


def test_urllib3_directly_raises_naming_planasonix_server(attempts: list[Any]) -> None:
    with InterceptedFake():
        with pytest.raises(NotInterceptedError, match="planasonix_server"):
            urllib3.PoolManager().request("GET", URL, retries=False)
        with pytest.raises(NotInterceptedError, match="urllib3"):
            urllib3.HTTPSConnectionPool("api.planasonix.com").urlopen("GET", "/api/credentials")
    assert attempts == []


def test_any_other_client_cannot_even_resolve_the_host(attempts: list[Any]) -> None:
    with InterceptedFake(), pytest.raises(NotInterceptedError, match="planasonix_server"):
        urllib.request.urlopen(URL, timeout=1)  # the point: it is stopped
    assert attempts == []


def test_requests_and_httpx_with_respx_are_still_answered(attempts: list[Any]) -> None:
    import requests

    with InterceptedFake() as fake:
        assert requests.get(URL, headers=fake.auth_headers).status_code == 200
        assert httpx.get(URL, headers=fake.auth_headers).status_code == 200
    assert attempts == []


def test_other_hosts_are_left_alone(attempts: list[Any], no_respx: None) -> None:
    with InterceptedFake(), pytest.raises(httpx.ConnectError):
        httpx.get("http://elsewhere.invalid/")  # reaches the stubbed network, not a guard
    assert attempts  # the stub saw it: only intercepted hosts are guarded


def test_the_guards_are_gone_after_stop(no_respx: None) -> None:
    original = (socket.getaddrinfo, urllib3.connectionpool.HTTPConnectionPool.urlopen)
    fake = InterceptedFake().start()
    assert socket.getaddrinfo is not original[0]
    fake.stop()
    assert (socket.getaddrinfo, urllib3.connectionpool.HTTPConnectionPool.urlopen) == original


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api.planasonix.com", True),
        ("API.Planasonix.com.", True),
        ("eu.acme.example", True),
        ("acme.example", False),
        ("api.planasonix.com.evil.test", False),
        (b"api.planasonix.com", True),
        (None, False),
    ],
)
def test_host_matcher(name: object, expected: bool) -> None:
    matches = host_matcher(["https://api.planasonix.com", "*.acme.example:8443"])
    assert matches(name) is expected


def test_aiohttp_is_refused_by_host(monkeypatch: pytest.MonkeyPatch, attempts: list[Any]) -> None:
    # aiohttp is not a dependency: a stand-in with its request entry point
    # (`ClientSession._request`) shows what the guard does to the real one.
    reached: list[str] = []

    class ClientSession:
        async def _request(self, method: str, url: Any, **kwargs: Any) -> str:
            reached.append(str(url))
            return "answered"

    module = types.ModuleType("aiohttp")
    module.ClientSession = ClientSession  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aiohttp", module)
    with InterceptedFake():
        session = ClientSession()
        with pytest.raises(NotInterceptedError, match=r"aiohttp.*planasonix_server"):
            asyncio.run(session._request("GET", URL))
        assert asyncio.run(session._request("GET", "http://other.test/")) == "answered"
    assert reached == ["http://other.test/"]
    assert attempts == []
