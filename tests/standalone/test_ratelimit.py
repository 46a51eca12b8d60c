"""Rate limiting per API key, with the controllable clock."""

from __future__ import annotations

import pytest
from standalone_support import DEV, make_app

from mockserver.standalone import StandaloneOptions
from mockserver.standalone.ratelimit import RateLimit, RateLimiter, parse_rate_limit

OTHER = {"X-Planasonix-Api-Key": "plnx_test_someone_else"}


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("60/min", 60, 60),
        ("5/s", 5, 1),
        (" 10 / minute ", 10, 60),
        ("100/h", 100, 3600),
        ("1/SEC", 1, 1),
    ],
)
def test_parse_rate_limit(text: str, limit: int, period: int) -> None:
    assert parse_rate_limit(text) == RateLimit(limit, period)


@pytest.mark.parametrize("text", ["", "60", "0/min", "x/min", "60/day", "-1/min", "60/min/s"])
def test_parse_rate_limit_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limit(text)


def test_fixed_windows_with_an_injected_clock() -> None:
    now = [1000.0]
    limiter = RateLimiter(RateLimit(2, 60), lambda: now[0])
    first, second, third = (limiter.hit("k") for _ in range(3))
    assert (first.allowed, first.remaining, first.reset) == (True, 1, 1020)
    assert second.allowed and second.remaining == 0
    assert not third.allowed and third.retry_after == 20 and third.remaining == 0
    assert third.headers()["Retry-After"] == "20"
    assert limiter.hit("other").allowed
    now[0] = 1020.0
    assert limiter.hit("k").allowed
    limiter.reset()
    assert limiter.hit("k").remaining == 1


def test_api_responses_carry_headers_and_the_limit_answers_429() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(2, 60))).test_client()
    first = client.get("/api/credentials", headers=DEV)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    reset = int(first.headers["X-RateLimit-Reset"])
    assert client.get("/v1/api/credentials", headers=DEV).status_code == 200
    limited = client.get("/api/credentials", headers=DEV)
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) == reset
    assert limited.headers["X-Request-Id"] == limited.json["error"]["request_id"]
    # Another key has its own budget; the control plane is never limited.
    assert client.get("/api/credentials", headers=OTHER).status_code == 401
    assert client.get("/_mock/state").status_code == 200
    # Moving the fake's clock past the window lifts the limit.
    client.post("/_mock/clock", json={"advance_seconds": 60})
    assert client.get("/api/credentials", headers=DEV).status_code == 200


def test_preflights_are_not_counted_and_headers_absent_when_off() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(1, 60))).test_client()
    for _ in range(3):
        client.options(
            "/api/credentials",
            headers={"Origin": "http://x.test", "Access-Control-Request-Method": "GET"},
        )
    assert client.get("/api/credentials", headers=DEV).status_code == 200
    off = make_app().test_client().get("/api/credentials", headers=DEV)
    assert "X-RateLimit-Limit" not in off.headers


def test_reset_clears_the_counters() -> None:
    client = make_app(StandaloneOptions(rate_limit=RateLimit(1, 60))).test_client()
    assert client.get("/api/credentials", headers=DEV).status_code == 200
    assert client.get("/api/credentials", headers=DEV).status_code == 429
    client.post("/_mock/reset")
    assert client.get("/api/credentials", headers=DEV).status_code == 200
