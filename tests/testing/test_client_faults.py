"""Timeouts and connection faults: every client meets, in process, what it meets on a socket.

Each fault is met by requests, httpx sync and httpx async, through every
in-process path (fake.session, fake.httpx_client(), the async transport,
planasonix_intercept) and over a real socket (LiveServer, the server of
planasonix_server). The socket side is the reference: both must raise the
same exception type.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests

from mockserver.testing import InterceptedFake, LiveServer, PlanasonixFake, client_faults

KINDS = ["reset", "empty", "truncated", "garbage", "drip"]
EXPECTED: dict[str, tuple[type[Exception], type[Exception]]] = {
    # kind: (requests, httpx): recorded against a real socket, see client_faults.
    "reset": (requests.exceptions.ConnectionError, httpx.ReadError),
    "empty": (requests.exceptions.ConnectionError, httpx.RemoteProtocolError),
    "garbage": (requests.exceptions.ConnectionError, httpx.RemoteProtocolError),
    "truncated": (requests.exceptions.ChunkedEncodingError, httpx.RemoteProtocolError),
}
PATH = "/api/credentials"


def rule(kind: str) -> dict[str, Any]:
    extra = {"drip_ms": 60, "drip_chunks": 3} if kind == "drip" else {}
    return {"connection": kind, **extra}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer() as live:
        yield live


Call = Callable[[PlanasonixFake, float], Any]


def via_session(fake: PlanasonixFake, timeout: float) -> Any:
    return fake.session.get(PATH, timeout=timeout)


def via_httpx(fake: PlanasonixFake, timeout: float) -> Any:
    with fake.httpx_client(timeout=timeout, headers=fake.auth_headers) as client:
        return client.get(PATH)


def via_async(fake: PlanasonixFake, timeout: float) -> Any:
    async def go() -> Any:
        async with fake.httpx_async_client(timeout=timeout, headers=fake.auth_headers) as c:
            return await c.get(PATH)

    return asyncio.run(go())


def via_async_transport(fake: PlanasonixFake, timeout: float) -> Any:
    async def go() -> Any:
        transport = fake.httpx_async_transport()
        async with httpx.AsyncClient(
            transport=transport, base_url=fake.url, timeout=timeout
        ) as client:
            return await client.get(PATH, headers=fake.auth_headers)

    return asyncio.run(go())


def via_intercepted_requests(fake: PlanasonixFake, timeout: float) -> Any:
    return requests.get(fake.url + PATH, headers=fake.auth_headers, timeout=timeout)


def via_intercepted_httpx(fake: PlanasonixFake, timeout: float) -> Any:
    return httpx.get(fake.url + PATH, headers=fake.auth_headers, timeout=timeout)


def via_intercepted_async(fake: PlanasonixFake, timeout: float) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.get(fake.url + PATH, headers=fake.auth_headers)

    return asyncio.run(go())


IN_PROCESS: list[tuple[str, str, Call]] = [
    ("fake", "requests", via_session),
    ("fake", "httpx", via_httpx),
    ("fake", "httpx", via_async),
    ("fake", "httpx", via_async_transport),
    ("intercept", "requests", via_intercepted_requests),
    ("intercept", "httpx", via_intercepted_httpx),
    ("intercept", "httpx", via_intercepted_async),
]
OVER_SOCKET: list[tuple[str, str, Call]] = [
    ("server", "requests", via_session),
    ("server", "httpx", via_intercepted_httpx),
    ("server", "httpx", via_intercepted_async),
]
ALL = IN_PROCESS + OVER_SOCKET


def make_fake(where: str, server: LiveServer, **settings: Any) -> PlanasonixFake:
    if where == "fake":
        return PlanasonixFake(**settings)
    if where == "intercept":
        return InterceptedFake(**settings).start()
    return server.new_fake(**settings)


def end(fake: PlanasonixFake, server: LiveServer) -> None:
    if isinstance(fake, InterceptedFake):
        fake.stop()
    else:
        server.release(fake)


def ids(case: tuple[str, str, Call]) -> str:
    return f"{case[0]}-{case[2].__name__}"


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "drip"])
@pytest.mark.parametrize("case", ALL, ids=ids)
def test_each_connection_fault_raises_what_the_client_raises_on_a_socket(
    server: LiveServer, case: tuple[str, str, Call], kind: str
) -> None:
    where, client, call = case
    fake = make_fake(where, server, faults=[rule(kind)])
    try:
        expected = EXPECTED[kind][0 if client == "requests" else 1]
        with pytest.raises(expected) as raised:
            call(fake, 5.0)
        assert type(raised.value) is expected  # not a subclass standing in for it
        [record] = fake.journal.records()
        assert record.fault == kind
        # reset, empty and garbage drop the request at the door; truncated was served.
        assert record.status == (200 if kind == "truncated" else 502)
    finally:
        end(fake, server)


@pytest.mark.parametrize("case", ALL, ids=ids)
def test_a_drip_delivers_the_whole_answer_slowly(
    server: LiveServer, case: tuple[str, str, Call]
) -> None:
    where, _, call = case
    fake = make_fake(where, server, faults=[rule("drip")])
    try:
        fake.seed(name="dripped", type="api_key", config={"key": "k"})
        started = time.monotonic()
        answer = call(fake, 5.0)
        assert time.monotonic() - started >= 0.05  # three pauses of 20 ms
        assert answer.status_code == 200
        assert answer.json()["data"][0]["name"] == "dripped"
        assert [r.fault for r in fake.journal.records()] == ["drip"]
    finally:
        end(fake, server)


@pytest.mark.parametrize("case", IN_PROCESS, ids=ids)
def test_a_delay_over_the_client_timeout_raises_its_timeout_after_the_timeout(
    server: LiveServer, case: tuple[str, str, Call]
) -> None:
    where, client, call = case
    fake = make_fake(where, server, faults=[{"delay_ms": 3000, "times": 1}])
    try:
        expected = requests.exceptions.ReadTimeout if client == "requests" else httpx.ReadTimeout
        slept: list[float] = []
        sleep = fake.faults.book.sleep

        def recorded(seconds: float) -> None:
            slept.append(seconds)
            sleep(seconds)

        fake.faults.book.sleep = recorded
        with pytest.raises(expected):
            call(fake, 0.1)
        assert slept == [0.1]  # the client's timeout, never the 3 s delay
        [record] = fake.journal.records()
        assert record.fault == "timeout"
        # The rule is spent: the retry a client makes is answered.
        assert call(fake, 0.1).status_code == 200
    finally:
        end(fake, server)


@pytest.mark.parametrize("case", OVER_SOCKET, ids=ids)
def test_over_a_socket_a_long_delay_times_out_too(
    server: LiveServer, case: tuple[str, str, Call]
) -> None:
    _, client, call = case
    fake = server.new_fake(faults=[{"delay_ms": 400, "times": 1}])
    try:
        expected = requests.exceptions.ReadTimeout if client == "requests" else httpx.ReadTimeout
        with pytest.raises(expected):
            call(fake, 0.1)
    finally:
        server.release(fake)


def test_a_create_that_timed_out_in_process_did_create() -> None:
    with PlanasonixFake(faults=[{"method": "POST", "delay_ms": 5000, "times": 1}]) as fake:
        body = {"name": "slow", "type": "api_key", "config": {"key": "canary-7f3a"}}
        with pytest.raises(requests.exceptions.ReadTimeout):
            fake.session.post(PATH, json=body, timeout=(1, 0.05))
        assert [c.name for c in fake.credentials()] == ["slow"]
        assert fake.calls("POST")[0].fault == "timeout"


def test_a_delay_within_the_timeout_is_answered() -> None:
    with PlanasonixFake(faults=[{"delay_ms": 30}]) as fake:
        assert fake.session.get(PATH, timeout=2).status_code == 200
        assert fake.journal.records()[0].fault is None


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_a_drip_slower_than_the_timeout_times_out_in_the_body(
    client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drip = {"connection": "drip", "drip_ms": 3000, "drip_chunks": 2}
    with PlanasonixFake(faults=[drip]) as fake:
        slept: list[float] = []
        clock = types.SimpleNamespace(sleep=slept.append, monotonic=time.monotonic)
        monkeypatch.setattr(client_faults, "time", clock)
        if client == "requests":
            # What requests raises when the body read times out (see client_faults).
            with pytest.raises(requests.exceptions.ConnectionError):
                fake.session.get(PATH, timeout=0.05)
        else:
            with pytest.raises(httpx.ReadTimeout):
                via_httpx(fake, 0.05)
        assert slept == [0.05]  # the client's timeout, never the 1.5 s pause
        assert fake.journal.records()[0].fault == "timeout"


def test_verify_failure_says_which_call_met_a_fault() -> None:
    with PlanasonixFake(faults=[{"connection": "empty", "times": 1}]) as fake:
        with pytest.raises(requests.exceptions.ConnectionError):
            fake.session.get(PATH)
        with pytest.raises(
            AssertionError, match=r"GET /api/credentials -> 502 \[client met: empty\]"
        ):
            fake.verify(status=200)


def test_a_streamed_truncated_body_fails_when_read() -> None:
    with PlanasonixFake(faults=[{"connection": "truncated"}]) as fake:
        answer = fake.session.get(PATH, stream=True)  # the headers arrived whole
        assert answer.status_code == 200
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            answer.content  # noqa: B018  # reading is what fails


def test_an_intercepted_streamed_truncated_body_fails_when_read() -> None:
    with InterceptedFake(faults=[{"connection": "truncated"}]) as fake:
        answer = requests.get(fake.url + PATH, headers=fake.auth_headers, stream=True)
        assert answer.status_code == 200
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            answer.content  # noqa: B018  # reading is what fails
