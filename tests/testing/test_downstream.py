"""Issue 16's acceptance, as a downstream suite writes it (pytester, installed plugin only).

One inner run covers: 503-once-then-success and a delay in one line with each
fixture and as a marker argument; httpx (sync and async) to the real URL under
planasonix_intercept; the async transport of planasonix_fake; call
verification; the bundled demo seed by name. Marker mistakes are usage errors.
"""

from __future__ import annotations

import pytest

from tests.testing.test_pytest_plugin import BASE_ARGS, CONFTEST

INNER = """
import asyncio
import time

import httpx
import pytest
import requests
from conftest import body

API = "https://api.planasonix.com"
FIXTURES = ["planasonix_fake", "planasonix_server", "planasonix_intercept"]


def create(session, url, headers):
    return session.post(url + "/api/credentials", json=body("c", "v"), headers=headers)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_503_once_then_success(fixture, request):
    fake = request.getfixturevalue(fixture)
    fake.faults.add(status=503, times=1)
    assert create(fake.session, fake.url, fake.auth_headers).status_code == 503
    assert create(fake.session, fake.url, fake.auth_headers).status_code == 201
    fake.verify("POST", "/api/credentials", status=503, times=1)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_delay_once(fixture, request):
    fake = request.getfixturevalue(fixture)
    fake.faults.add(delay_ms=120, times=1)
    started = time.perf_counter()
    assert create(fake.session, fake.url, fake.auth_headers).status_code == 201
    assert time.perf_counter() - started >= 0.12


@pytest.mark.planasonix(faults=[{"status": 429, "times": 1, "retry_after": 3}])
@pytest.mark.parametrize("fixture", FIXTURES)
def test_marker_faults(fixture, request):
    fake = request.getfixturevalue(fixture)
    first = fake.session.get(fake.url + "/api/credentials", headers=fake.auth_headers)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert fake.session.get(fake.url + "/api/credentials",
                            headers=fake.auth_headers).status_code == 200


def test_intercept_httpx_sync_and_async(planasonix_intercept):
    headers = planasonix_intercept.auth_headers
    with httpx.Client(base_url=API, headers=headers) as client:
        assert client.post("/api/credentials", json=body("sync", "v")).status_code == 201

    async def main():
        async with httpx.AsyncClient(base_url=API, headers=headers) as client:
            await client.post("/v1/api/credentials", json=body("async", "v"))
            return [c["name"] for c in (await client.get("/api/credentials")).json()["data"]]

    assert sorted(asyncio.run(main())) == ["async", "sync"]
    planasonix_intercept.verify("POST", "/api/credentials", status=201, times=2)


def test_async_transport(planasonix_fake):
    async def main():
        transport = planasonix_fake.httpx_async_transport()
        async with httpx.AsyncClient(transport=transport, base_url=planasonix_fake.url,
                                     headers=planasonix_fake.auth_headers) as client:
            return (await client.post("/api/credentials", json=body("a", "v"))).status_code

    assert asyncio.run(main()) == 201


@pytest.mark.planasonix(seed="demo")
def test_bundled_demo_seed(planasonix_fake):
    assert planasonix_fake.workspace == "ws_acme"
    assert len(planasonix_fake.credentials()) == 9
"""


def test_faults_httpx_async_and_verify_in_a_downstream_suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest(*BASE_ARGS, "-p", "no:randomly")
    result.assert_outcomes(passed=12)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('frozen_time="not a time"', "frozen_time must be an RFC 3339 timestamp"),
        ('faults=[{"status": 200}]', "faults[0]: status: must be an integer from 400 to 599"),
        ('faults=[{"path": "/api/***", "status": 503}]', "faults[0]: path:"),
        ("faults=503", "faults must be a list of rule dicts"),
    ],
)
def test_marker_mistakes_are_usage_errors(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.planasonix({marker})
        def test_x(planasonix_fake):
            pass
        """
    )
    result = pytester.runpytest(*BASE_ARGS)
    assert result.ret != 0
    # pytest.UsageError, as for every other marker mistake: one line saying what is wrong.
    assert f"UsageError: @pytest.mark.planasonix: {message}" in result.stdout.str()
