"""Connection faults of `/_mock/faults` on `planasonix-mock serve`'s real socket (waitress).

Each fault is met by requests, httpx sync and httpx async; the dashboard lists them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
from fake_support import bearer, start_server, stop_server

from mockserver.auth import DEV_KEY

PATH = "/api/credentials"
EXPECTED: dict[str, tuple[type[Exception], type[Exception]]] = {
    "reset": (requests.exceptions.ConnectionError, httpx.ReadError),
    "empty": (requests.exceptions.ConnectionError, httpx.RemoteProtocolError),
    "garbage": (requests.exceptions.ConnectionError, httpx.RemoteProtocolError),
    "truncated": (requests.exceptions.ChunkedEncodingError, httpx.RemoteProtocolError),
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    process, url = start_server()
    try:
        yield url
    finally:
        code, output = stop_server(process)
        assert code == 0, output
        assert "Traceback" not in output


def with_requests(url: str) -> Any:
    return requests.get(url, headers=bearer(DEV_KEY), timeout=5)


def with_httpx(url: str) -> Any:
    return httpx.get(url, headers=bearer(DEV_KEY), timeout=5)


def with_async(url: str) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(url, headers=bearer(DEV_KEY))

    return asyncio.run(go())


CLIENTS: list[Callable[[str], Any]] = [with_requests, with_httpx, with_async]


def add_rule(base: str, rule: dict[str, Any]) -> dict[str, Any]:
    requests.delete(f"{base}/_mock/faults", timeout=5)
    answer = requests.post(f"{base}/_mock/faults", json=rule, timeout=5)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()["data"]
    return created


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
def test_each_fault_breaks_the_socket(base: str, kind: str, client: Callable[[str], Any]) -> None:
    add_rule(base, {"connection": kind, "times": 1})
    expected = EXPECTED[kind][0 if client is with_requests else 1]
    with pytest.raises(expected):
        client(base + PATH)
    # Spent after one call: the server is fine and answers the next one.
    assert client(base + PATH).status_code == 200
    journal = requests.get(f"{base}/_mock/journal?limit=2", timeout=5).json()["data"]
    assert [entry["fault"] for entry in journal] == [None, kind]


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
def test_drip_delivers_the_answer_in_pieces(base: str, client: Callable[[str], Any]) -> None:
    add_rule(base, {"connection": "drip", "drip_ms": 40, "drip_chunks": 2, "times": 1})
    answer = client(base + PATH)
    assert answer.status_code == 200
    assert "data" in answer.json()


def test_the_rule_shows_its_connection_fault(base: str) -> None:
    rule = add_rule(base, {"connection": "drip", "drip_ms": 500})
    assert (rule["connection"], rule["drip_ms"], rule["drip_chunks"]) == ("drip", 500, 10)
    listed = requests.get(f"{base}/_mock/state", timeout=5).json()["data"]["faults"]
    assert listed[0]["connection"] == "drip"
    refused = requests.post(f"{base}/_mock/faults", json={"connection": "rst"}, timeout=5)
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["path"] == "connection"
    requests.delete(f"{base}/_mock/faults", timeout=5)
