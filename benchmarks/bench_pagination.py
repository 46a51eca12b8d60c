"""Keyset pagination cost does not grow with the number of credentials.

Seeds 100 and 100,000 credentials straight into a store, then times, through
the Flask test client, the first list page and a page deep in the walk
(reached with a real cursor). A page costs O(log n + limit), so the two
sizes should differ by less than 1.5x. Run by `make bench`, never by a test.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from mockserver import CredentialStore, FakeConfig, Keyring, create_app
from mockserver.seed import load_credential

KEY = "plnx_bench_key"
WORKSPACE = "ws_bench"
LIMIT = 50
SIZES = (100, 100_000)
REPEATS = 200
WARMUP = 30  # first requests pay for imports and caches, not for the data


def build(size: int) -> FlaskClient:
    store = CredentialStore(seed=1)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    types = ("password", "api_key")
    for n in range(size):
        type_ = types[n % 2]
        config = (
            {"password": "bench-secret", "username": f"user{n}", "host": "ftp.example.com"}
            if type_ == "password"
            else {"key": "bench-secret", "header_name": "X-Api-Key"}
        )
        load_credential(
            store,
            WORKSPACE,
            name=f"credential-{n:06d}",
            type=type_,
            config=config,
            status="deleted" if n % 10 == 0 else "active",
            created_at=start + timedelta(seconds=n // 3),
            validate=False,
        )
    keyring = Keyring()
    keyring.add(KEY, WORKSPACE)
    return create_app(store, keyring=keyring, config=FakeConfig(seed=1)).test_client()


def deep_cursor(client: FlaskClient, size: int) -> str:
    """A cursor halfway through the walk (a full page still follows it), got as a client would."""
    headers = {"Authorization": f"Bearer {KEY}"}
    active = size - len(range(0, size, 10))
    remaining = max(1, (active - LIMIT) // 2)
    cursor = None
    while remaining:
        step = min(200, remaining)
        query = {"limit": str(step)} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/credentials", query_string=query, headers=headers).get_json()
        cursor = page["meta"]["page"]["cursor"]
        remaining -= step
    assert cursor is not None
    return cursor


def timed_get(client: FlaskClient, cursor: str | None) -> float:
    """Seconds for one page of LIMIT items."""
    query = {"limit": str(LIMIT)} | ({"cursor": cursor} if cursor else {})
    began = time.perf_counter()
    response = client.get(
        "/api/credentials", query_string=query, headers={"Authorization": f"Bearer {KEY}"}
    )
    elapsed = time.perf_counter() - began
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == LIMIT
    return elapsed


def main() -> int:
    clients: dict[int, tuple[FlaskClient, str]] = {}
    for size in SIZES:
        began = time.perf_counter()
        client = build(size)
        print(f"seeded {size} credentials in {time.perf_counter() - began:.1f}s", flush=True)
        clients[size] = (client, deep_cursor(client, size))
    samples: dict[tuple[int, str], list[float]] = {
        (size, which): [] for size in SIZES for which in ("first", "deep")
    }
    # Interleaved, so load from elsewhere on the machine hits every series alike.
    for round_ in range(WARMUP + REPEATS):
        for size, (client, cursor) in clients.items():
            for which, page_cursor in (("first", None), ("deep", cursor)):
                elapsed = timed_get(client, page_cursor)
                if round_ >= WARMUP:
                    samples[(size, which)].append(elapsed)
    median = {key: statistics.median(values) for key, values in samples.items()}
    for size in SIZES:
        print(
            f"{size:>7} credentials: first page {median[(size, 'first')] * 1000:.2f} ms, "
            f"deep page {median[(size, 'deep')] * 1000:.2f} ms "
            f"(median of {REPEATS}, limit {LIMIT})"
        )
    small, large = SIZES
    ratios = {which: median[(large, which)] / median[(small, which)] for which in ("first", "deep")}
    verdict = "ok" if max(ratios.values()) < 1.5 else "SLOWER THAN EXPECTED"
    print(
        f"ratio {large}/{small}: first page {ratios['first']:.2f}x, "
        f"deep page {ratios['deep']:.2f}x (target < 1.5x): {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
