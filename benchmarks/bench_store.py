"""The store without HTTP: one create, seeding 100,000 credentials, memory per credential.

Run by `make bench` (benchmarks/run_all.py) or directly; never by a test.

- create: `CredentialStore.create` of a database credential (validation,
  secret split, id, indices, the returned snapshot), median per call over
  batches, against the goal of 30 µs. The floor it is compared with, in the
  same run, is the store's work minus validation (`load_credential(validate=False)`).
- seeding: 100,000 credentials of mixed types, each through `load_credential`
  with its full validation (what a seed file's entry costs), goal 5 s.
  `load_fixtures` (what `planasonix-mock serve --seed FILE` does) is printed
  beside it: it loads a file twice, first into a scratch store so that a bad
  file adds nothing.
- memory: traced bytes per stored credential (tracemalloc), goal 2 KB.
Times are CPU time of the benchmarking thread (`time.thread_time`): on a
shared machine, wall time also counts whatever else runs; both are printed
for seeding. Set BENCH_SEED_N to seed another number of credentials.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver import CredentialStore
from mockserver.clock import format_timestamp
from mockserver.seed import load_credential, load_fixtures

CREATE_GOAL_US = 30.0
SEED_GOAL_S = 5.0
MEMORY_GOAL_BYTES = 2048
WORKSPACE = "ws_bench"

DATABASE = {
    "engine": "postgresql",
    "host": "db.internal.example.com",
    "port": 5432,
    "database": "analytics",
    "username": "etl_user",
    "password": "bench-secret-value",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "database": DATABASE,
    "password": {"username": "ftp-user", "password": "bench-secret", "host": "ftp.example.com"},
    "api_key": {"key": "bench-secret-key", "header_name": "X-Api-Key"},
}


def time_creates(batches: int = 30, per_batch: int = 200) -> tuple[float, float]:
    """Median CPU µs per create, and per validation-free load of the same credential."""
    store = CredentialStore(seed=1)
    store.create(WORKSPACE, name="warm-up", type="database", config=DATABASE)
    creates: list[float] = []
    loads: list[float] = []
    # Interleaved batches, so other load on the machine hits both series alike.
    for b in range(batches):
        began = time.thread_time()
        for i in range(per_batch):
            store.create(WORKSPACE, name=f"c-{b}-{i}", type="database", config=DATABASE)
        creates.append((time.thread_time() - began) / per_batch)
        began = time.thread_time()
        for i in range(per_batch):
            load_credential(
                store,
                WORKSPACE,
                name=f"l-{b}-{i}",
                type="database",
                config=DATABASE,
                validate=False,
            )
        loads.append((time.thread_time() - began) / per_batch)
    return statistics.median(creates) * 1e6, statistics.median(loads) * 1e6


def fixture_entries(n: int) -> list[dict[str, Any]]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    types = list(CONFIGS)
    entries = []
    for i in range(n):
        type_ = types[i % len(types)]
        entry: dict[str, Any] = {
            "name": f"credential-{i:06d}",
            "type": type_,
            "config": CONFIGS[type_],
            "created_at": format_timestamp(start + timedelta(seconds=i)),
        }
        if i % 10 == 0:
            entry["status"] = "deleted"
        entries.append(entry)
    return entries


def time_seeding(n: int) -> tuple[float, float, float]:
    """CPU seconds to seed `n` credentials through load_fixtures and through
    load_credential, and the wall seconds of the latter."""
    entries = fixture_entries(n)
    gc.collect()
    began = time.thread_time()
    store = CredentialStore(seed=1)
    load_fixtures({"workspaces": [{"id": WORKSPACE, "credentials": entries}]}, store)
    fixtures_s = time.thread_time() - began
    assert len(store) == n
    del store
    gc.collect()
    began, wall = time.thread_time(), time.perf_counter()
    store = CredentialStore(seed=1)
    for entry in entries:
        load_credential(
            store,
            WORKSPACE,
            name=entry["name"],
            type=entry["type"],
            config=entry["config"],
            status=entry.get("status", "active"),
        )
    loads_s, wall_s = time.thread_time() - began, time.perf_counter() - wall
    assert len(store) == n
    return fixtures_s, loads_s, wall_s


def memory_per_credential(n: int = 20_000) -> float:
    """Traced bytes the store holds per credential (indices included)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = CredentialStore(seed=1)
    for i in range(n):
        type_ = ("database", "password", "api_key")[i % 3]
        load_credential(store, WORKSPACE, name=f"m-{i:06d}", type=type_, config=CONFIGS[type_])
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(store) == n
    return held / n


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> int:
    n = int(os.environ.get("BENCH_SEED_N", "100000"))
    create_us, floor_us = time_creates()
    print(
        f"create (database, no HTTP): {create_us:.1f} µs CPU, median "
        f"(store work without validation {floor_us:.1f} µs: {create_us / floor_us:.2f}x); "
        f"goal <= {CREATE_GOAL_US:.0f} µs: {_verdict(create_us <= CREATE_GOAL_US)}"
    )
    fixtures_s, loads_s, wall_s = time_seeding(n)
    print(
        f"seeding {n} credentials, one validated load_credential each: {loads_s:.2f} s CPU "
        f"({wall_s:.2f} s wall); goal <= {SEED_GOAL_S:.0f} s: "
        f"{_verdict(loads_s <= SEED_GOAL_S)} "
        f"(through load_fixtures, which loads twice: {fixtures_s:.2f} s CPU)"
    )
    per_credential = memory_per_credential()
    print(
        f"memory per stored credential: {per_credential:.0f} bytes; "
        f"goal <= {MEMORY_GOAL_BYTES} bytes: {_verdict(per_credential <= MEMORY_GOAL_BYTES)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
