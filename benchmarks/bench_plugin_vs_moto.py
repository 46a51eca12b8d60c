"""Per-test cost: a fresh `planasonix_fake` vs a fresh moto `mock_aws` (Secrets Manager).

Run by `make bench` (benchmarks/run_all.py) or directly; never by a test.

Method: both sides are timed directly in this process, in the same run, each
"test" being exactly what the fixture or decorator does around a test body:

- planasonix: `with PlanasonixFake() as fake:` (the body of the
  `planasonix_fake` fixture), then create, get and delete a credential through
  `fake.session` (requests -> in-process WSGI).
- moto: `with mock_aws():`, a boto3 Secrets Manager client made inside it (as
  moto's docs advise), then `create_secret` and `delete_secret`. A second moto
  figure reuses one client made outside the mock: moto's cheapest setup.

pytest's own per-test overhead is the same on both sides and is left out.
Both sides get a warm-up run first, so one-off imports do not count.
Set BENCH_N (default 200) to change the number of tests per side.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

import contracts
from mockserver.testing import PlanasonixFake

TYPE = "password"
# Secret field names come from the contract registry, never from here.
CONFIG_FIELD = next(
    p[0] for p in contracts.secret_paths(TYPE) if p[0] in contracts.required_fields(TYPE)
)


def planasonix_test(i: int) -> None:
    with PlanasonixFake() as fake:
        body = {"name": f"c{i}", "type": TYPE, "config": {CONFIG_FIELD: secrets.token_hex(8)}}
        created = fake.session.post(
            fake.url + "/api/credentials", json=body, headers=fake.auth_headers
        )
        assert created.status_code == 201, created.status_code
        url = f"{fake.url}/api/credentials/{created.json()['data']['id']}"
        assert fake.session.get(url, headers=fake.auth_headers).status_code == 200
        assert fake.session.delete(url, headers=fake.auth_headers).status_code == 200


def _aws_env() -> None:
    # Dummy credentials so botocore never looks for real ones.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)


def moto_test_factory(*, shared_client: bool) -> Callable[[int], None]:
    import boto3  # type: ignore[import-untyped]  # no stubs installed
    from moto import mock_aws

    shared: Any = boto3.client("secretsmanager", region_name="us-east-1") if shared_client else None

    def moto_test(i: int) -> None:
        with mock_aws():
            client = shared or boto3.client("secretsmanager", region_name="us-east-1")
            client.create_secret(Name=f"s{i}", SecretString=secrets.token_hex(8))
            client.delete_secret(SecretId=f"s{i}", ForceDeleteWithoutRecovery=True)

    return moto_test


def measure(test: Callable[[int], None], n: int) -> list[float]:
    test(-1)  # warm-up: imports, the shared Flask app, botocore's service models
    times = []
    for i in range(n):
        started = time.perf_counter()
        test(i)
        times.append(time.perf_counter() - started)
    return times


def _fmt(times: list[float]) -> str:
    return (
        f"mean {statistics.fmean(times) * 1000:8.3f} ms   "
        f"median {statistics.median(times) * 1000:8.3f} ms"
    )


def main() -> None:
    n = int(os.environ.get("BENCH_N", "200"))
    _aws_env()
    fake = measure(planasonix_test, n)
    moto_fresh = measure(moto_test_factory(shared_client=False), n)
    moto_shared = measure(moto_test_factory(shared_client=True), n)
    print(f"{n} tests per side (create + get + delete vs create + delete)")
    print(f"  planasonix_fake              {_fmt(fake)}")
    print(f"  moto mock_aws, client inside {_fmt(moto_fresh)}")
    print(f"  moto mock_aws, shared client {_fmt(moto_shared)}")
    base = statistics.median(fake)
    print(
        f"  ratio (median): {statistics.median(moto_fresh) / base:.1f}x cheaper than moto "
        f"with a client per test, {statistics.median(moto_shared) / base:.1f}x with a shared "
        "client (goal: >= 30x)"
    )


if __name__ == "__main__":
    main()
