"""Faults, call verification, the clock and the seed on `PlanasonixFake` directly (no pytester).

The fixtures' wiring is covered by test_downstream.py; here each behaviour and
defect of issue 16 gets one focused test. Secret values are random canaries.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import requests

import contracts
from mockserver.seed import SeedError
from mockserver.standalone.faults import parse_rule
from mockserver.testing import InterceptedFake, LiveServer, PlanasonixFake
from mockserver.testing.faults import FaultRuleError
from tests.support.fake_support import canary

TYPE = "password"
FIELD = next(p[0] for p in contracts.secret_paths(TYPE) if p[0] in contracts.required_fields(TYPE))


def body(name: str, value: str) -> dict[str, object]:
    return {"name": name, "type": TYPE, "config": {FIELD: value}}


def create(fake: PlanasonixFake, name: str, value: str = "v") -> requests.Response:
    return fake.session.post(
        fake.url + "/api/credentials", json=body(name, value), headers=fake.auth_headers
    )


# --- faults ------------------------------------------------------------------------


def test_fault_once_then_normal_and_the_rule_is_spent() -> None:
    fake = PlanasonixFake()
    rule = fake.faults.add(status=503, times=1)
    assert rule["path"] == "/api/**" and rule["remaining"] == 1
    first = create(fake, "a")
    assert first.status_code == 503
    assert first.json()["error"]["code"] == "service_unavailable"
    assert first.headers["X-Mock-Fault"] == rule["id"]
    assert len(fake.store) == 0  # a faulted request never reaches the store
    assert create(fake, "a").status_code == 201
    assert len(fake.faults) == 0


def test_fault_429_has_retry_after_on_the_fakes_clock() -> None:
    fake = PlanasonixFake(frozen_time="2030-01-01T00:00:00Z")
    fake.faults.add({"method": "GET", "path": "/api/credentials"}, status=429, retry_after=7)
    assert create(fake, "not-faulted").status_code == 201  # POST: other method
    # /v1/api matches a rule written for /api, as on the control plane.
    got = fake.session.get(fake.url + "/v1/api/credentials", headers=fake.auth_headers)
    assert got.status_code == 429 and got.headers["Retry-After"] == "7"
    reset_at = datetime(2030, 1, 1, tzinfo=UTC).timestamp() + 7
    assert got.headers["X-RateLimit-Reset"] == str(int(reset_at))


def test_fault_code_message_and_delay() -> None:
    fake = PlanasonixFake()
    fake.faults.add(status=500, code="db_down", message="Database is down.", times=1)
    got = create(fake, "a").json()["error"]
    assert (got["code"], got["message"]) == ("db_down", "Database is down.")
    fake.faults.add(delay_ms=150, times=1)
    started = time.perf_counter()
    assert create(fake, "a").status_code == 201  # slow, then normal
    assert time.perf_counter() - started >= 0.15


def test_fault_rules_are_per_fake_and_reset_clears_them() -> None:
    faulted, other = PlanasonixFake(), PlanasonixFake()
    faulted.faults.add(status=503)
    assert create(other, "a").status_code == 201
    assert create(faulted, "a").status_code == 503
    assert create(faulted, "b").status_code == 503  # no `times`: until cleared
    faulted.reset()
    assert create(faulted, "a").status_code == 201


def test_dedicated_app_applies_the_same_faults() -> None:
    fake = PlanasonixFake()
    fake.faults.add(status=502, times=1)
    client = fake.app.test_client()
    assert client.get("/api/credentials", headers=fake.auth_headers).status_code == 502
    assert client.get("/api/credentials", headers=fake.auth_headers).status_code == 200


def test_bad_fault_rules_name_the_field() -> None:
    fake = PlanasonixFake()
    with pytest.raises(FaultRuleError, match="status: must be an integer from 400 to 599"):
        fake.faults.add(status=200)
    with pytest.raises(FaultRuleError, match="tims: is not a known field"):
        fake.faults.add(status=503, tims=1)
    assert len(fake.faults) == 0


@pytest.mark.parametrize("path", ["/api/***", "/api/credentials/****"])
def test_triple_star_paths_are_refused_here_and_on_the_control_plane(path: str) -> None:
    with pytest.raises(FaultRuleError, match=r"path: .*never \*\*\*"):
        PlanasonixFake().faults.add(path=path, status=503)
    with pytest.raises(Exception) as refused:  # the shared parser: InvalidRequest
        parse_rule({"path": path, "status": 503}, "flt_x")
    assert refused.value.details[0].path == "path"  # type: ignore[attr-defined]


def test_live_server_and_intercept_have_faults() -> None:
    with LiveServer() as server:
        fake = server.new_fake()
        server.faults.add(status=503, times=1)  # the current fake's rules
        assert server.faults is fake.faults
        url = server.url + "/api/credentials"
        assert requests.get(url, headers=fake.auth_headers, timeout=5).status_code == 503

        async def over_the_socket() -> int:
            async with fake.httpx_async_client(headers=fake.auth_headers) as client:
                return (await client.get("/api/credentials")).status_code

        assert asyncio.run(over_the_socket()) == 200
        server.release(fake)
    with InterceptedFake() as intercepted:
        intercepted.faults.add(status=503, times=1)
        url = "https://api.planasonix.com/api/credentials"
        assert requests.get(url, headers=intercepted.auth_headers).status_code == 503
        assert requests.get(url, headers=intercepted.auth_headers).status_code == 200


# --- httpx: async transport, interception --------------------------------------------


def test_async_transport_reaches_the_fake_and_delays_do_not_block_the_loop() -> None:
    fake = PlanasonixFake()
    fake.faults.add(delay_ms=200, times=1)

    async def main() -> tuple[int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async with fake.httpx_async_client(headers=fake.auth_headers) as client:
            background = asyncio.create_task(ticker())
            created = await client.post("/api/credentials", json=body("a", "v"))
            background.cancel()
        # The delayed request ran in a worker thread: the loop kept ticking meanwhile.
        return created.status_code, ticks

    status, ticks = asyncio.run(main())
    assert status == 201 and ticks >= 5  # a blocked loop gets 1 or 2, a free one about 20
    assert fake.verify("POST", "/api/credentials", status=201, times=1)


def test_intercept_answers_httpx_sync_and_async_on_the_real_url() -> None:
    secret = canary()
    with InterceptedFake(block_others=True) as fake:
        with httpx.Client(base_url="https://api.planasonix.com") as client:
            created = client.post(
                "/api/credentials", json=body("h", secret), headers=fake.auth_headers
            )
            assert created.status_code == 201
            assert secret not in created.text

        async def listing() -> list[str]:
            async with httpx.AsyncClient(base_url="https://api.planasonix.com/v1") as client:
                page = await client.get("/api/credentials", headers=fake.auth_headers)
                return [c["name"] for c in page.json()["data"]]

        assert asyncio.run(listing()) == ["h"]
        assert fake.secret(created.json()["data"]["id"], FIELD) == secret
        with pytest.raises(httpx.ConnectError, match="block_others"):
            httpx.get("http://elsewhere.invalid/")
    assert fake.httpx_mock is None  # stopped with the fake


def test_an_intercepted_async_call_waits_without_blocking_the_event_loop() -> None:
    # A delay fault on an async client's call: other tasks run meanwhile.
    with InterceptedFake() as fake:
        fake.faults.add(status=503, delay_ms=400, times=1)

        async def main() -> tuple[int, list[float], httpx.Response]:
            started = time.perf_counter()
            ticks: list[float] = []

            async def ticker() -> None:
                while time.perf_counter() - started < 0.3:
                    ticks.append(time.perf_counter() - started)
                    await asyncio.sleep(0.02)

            async with httpx.AsyncClient(base_url="https://api.planasonix.com") as client:
                slow, _ = await asyncio.gather(
                    client.get("/api/credentials", headers=fake.auth_headers), ticker()
                )
                after = await client.get("/api/credentials", headers=fake.auth_headers)
            return slow.status_code, ticks, after

        status, ticks, after = asyncio.run(main())
    assert status == 503 and after.status_code == 200
    assert len(ticks) >= 5, ticks  # blocked, the loop would tick at most once


# --- call verification ------------------------------------------------------------


def test_calls_filter_by_method_path_and_status() -> None:
    fake = PlanasonixFake()
    cred_id = create(fake, "a").json()["data"]["id"]
    create(fake, "a")  # 409: the name is taken
    fake.session.get(f"{fake.url}/v1/api/credentials/{cred_id}", headers=fake.auth_headers)
    fake.session.get(fake.url + "/api/credentials?limit=1", headers=fake.auth_headers)
    assert len(fake.calls("POST", "/api/credentials")) == 2
    assert [r.status for r in fake.calls(status=409)] == [409]
    assert len(fake.calls("GET", "/api/credentials/*")) == 1  # /v1 counts for /api
    assert len(fake.calls(path="/api/**", status=range(200, 300))) == 3
    assert fake.verify("post", "/api/credentials", status=201, times=1)[0].status == 201
    fake.verify("DELETE", at_most=0)
    fake.verify(at_least=4)


def test_verify_failure_lists_the_calls_with_secrets_masked() -> None:
    secret = canary()
    fake = PlanasonixFake()
    create(fake, "db", secret)
    fake.session.get(fake.url + "/api/credentials?limit=1", headers=fake.auth_headers)
    with pytest.raises(AssertionError) as failed:
        fake.verify("DELETE", "/api/credentials/*", times=1)
    message = str(failed.value)
    assert message.startswith(
        "expected exactly 1 call(s) matching DELETE /api/credentials/*, got 0."
    )
    assert "Calls made (2):" in message
    assert "POST /api/credentials -> 201" in message and "[redacted]" in message
    assert "GET /api/credentials?limit=1 -> 200" in message
    assert secret not in message and fake.api_key not in message
    with pytest.raises(AssertionError, match="No call reached the fake"):
        PlanasonixFake().verify()
    with pytest.raises(TypeError):
        fake.verify(times=1, at_least=1)


# --- defects of issue 16 --------------------------------------------------------------


def test_seed_without_keys_is_opened_by_the_dev_key_as_serve_does() -> None:
    seed = {"workspaces": [{"id": "ws_inline", "credentials": [body("only", "v")]}]}
    fake = PlanasonixFake(seed=seed)
    assert fake.workspace == "ws_inline"
    page = fake.session.get(fake.url + "/api/credentials", headers=fake.auth_headers).json()
    assert [c["name"] for c in page["data"]] == ["only"]


def test_seed_keyword_form_names_the_bad_fields() -> None:
    fake = PlanasonixFake()
    secret = canary()
    with pytest.raises(SeedError) as bad:
        fake.seed(name="x", type=TYPE, config={"no_such_field": secret})
    text = str(bad.value)
    assert "config.no_such_field: is not a known field" in text
    assert f"config.{FIELD}: is required" in text
    assert secret not in text
    with pytest.raises(SeedError, match="created_at: must be an RFC 3339 timestamp"):
        fake.seed(name="x", type=TYPE, config={FIELD: "v"}, created_at="yesterday")


def test_clock_accepts_text_and_advances_frozen_or_running() -> None:
    frozen = PlanasonixFake(frozen_time="2030-05-06T07:08:09Z")
    frozen.clock.set("2025-02-01T00:00:00Z")
    assert frozen.clock() == datetime(2025, 2, 1, tzinfo=UTC)
    frozen.clock.advance(60)
    assert frozen.clock() == datetime(2025, 2, 1, 0, 1, tzinfo=UTC)

    running = PlanasonixFake()
    before = datetime.now(UTC)
    running.clock.advance(3600)  # an hour ahead of the wall clock, still ticking
    assert running.clock() - before >= timedelta(seconds=3600)
    assert not running.clock.frozen
    cred = running.seed(name="later", type=TYPE, config={FIELD: "v"})
    assert cred.created_at - before >= timedelta(seconds=3599)
    running.clock.set("2031-01-01T00:00:00+02:00")
    assert abs(running.clock() - datetime(2030, 12, 31, 22, tzinfo=UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("bad", ["not a time", "2025-13-01T00:00:00Z", 12])
def test_bad_frozen_time_is_one_clear_sentence(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^frozen_time must be an RFC 3339 timestamp"):
        PlanasonixFake(frozen_time=bad)  # type: ignore[arg-type]


def test_intercept_lets_other_httpx_hosts_through() -> None:
    with LiveServer() as server, InterceptedFake() as intercepted:
        behind = server.new_fake()
        answer = httpx.get(server.url + "/api/credentials", headers=behind.auth_headers)
        assert answer.status_code == 200
        assert (len(behind.journal), len(intercepted.journal)) == (1, 0)
