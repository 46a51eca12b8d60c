"""The code examples of the documentation site, run as tests.

The pages include the marked sections of this file (pymdownx.snippets,
`--8<-- "tests/docs/test_examples.py:NAME"`), so every example a reader
copies has passed in `make test`. Each section is a complete test that a
downstream suite could paste: the plugin's fixtures need no import.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import requests


class MyPlanasonixClient:
    """Stands in for the reader's own API client in the examples."""

    def __init__(self, base_url: str, api_key: str, session: requests.Session) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.session = session

    def rotate(self, cred_id: str, password: str) -> None:
        body = {"config": {"password": password}}
        url = f"{self.base_url}/api/credentials/{cred_id}"
        self.session.put(url, json=body, headers=self.headers).raise_for_status()

    def list(self) -> list[dict[str, Any]]:
        url = f"{self.base_url}/api/credentials"
        for _ in range(3):  # retries a 5xx, as a client should
            response = self.session.get(url, headers=self.headers)
            if response.status_code < 500:
                response.raise_for_status()
                items: list[dict[str, Any]] = response.json()["data"]
                return items
        raise RuntimeError("the API kept failing")


# --8<-- [start:fixture_example]
def test_rotate_password(planasonix_fake):
    fake = planasonix_fake
    cred = fake.seed(name="warehouse", type="password", config={"password": "old"})
    my_client = MyPlanasonixClient(fake.url, fake.api_key, session=fake.session)
    my_client.rotate(cred.id, "n3w-secret")  # your code: PUT /api/credentials/{id}
    assert fake.secret(cred.id, "password") == "n3w-secret"  # what it stored
    assert [r.method for r in fake.journal.records()] == ["PUT"]
    # --8<-- [end:fixture_example]


# --8<-- [start:session_example]
def test_the_session_reaches_the_fake(planasonix_fake):
    # fake.session reaches the in-process fake: URLs under fake.url.
    response = planasonix_fake.session.post(
        planasonix_fake.url + "/api/credentials",
        json={
            "name": "ci-db",
            "type": "database",
            "config": {"host": "db.internal", "username": "ci", "password": "s3cret-pw"},
        },
        headers=planasonix_fake.auth_headers,
    )
    assert response.status_code == 201
    assert "password" not in response.json()["data"]["config"]  # secrets never come back
    # --8<-- [end:session_example]


# --8<-- [start:httpx_example]
def test_with_httpx(planasonix_fake):
    # httpx_client() has base_url=fake.url: relative paths work
    with planasonix_fake.httpx_client(headers=planasonix_fake.auth_headers) as client:
        assert client.get("/api/credentials").json()["data"] == []
    # --8<-- [end:httpx_example]


# --8<-- [start:async_example]
@pytest.mark.anyio  # anyio's pytest plugin; under pytest-asyncio: @pytest.mark.asyncio
async def test_with_async_httpx(planasonix_fake):
    async with planasonix_fake.httpx_async_client(headers=planasonix_fake.auth_headers) as client:
        assert (await client.get("/api/credentials")).status_code == 200
    # --8<-- [end:async_example]


# --8<-- [start:async_transport_example]
@pytest.mark.anyio
async def test_with_your_own_async_client(planasonix_fake):
    transport = planasonix_fake.httpx_async_transport()
    async with httpx.AsyncClient(
        transport=transport, base_url=planasonix_fake.url, headers=planasonix_fake.auth_headers
    ) as client:
        assert (await client.get("/api/credentials")).status_code == 200
    # --8<-- [end:async_transport_example]


# --8<-- [start:server_example]
def test_against_a_socket(planasonix_server):
    r = requests.get(
        f"{planasonix_server.url}/api/credentials",
        headers={"Authorization": f"Bearer {planasonix_server.api_key}"},
    )
    assert r.status_code == 200
    # --8<-- [end:server_example]


# --8<-- [start:intercept_example]
@pytest.mark.planasonix(hosts=["acme.planasonix.example"], block_others=True)
def test_code_with_the_real_url(planasonix_intercept):
    r = requests.get(
        "https://api.planasonix.com/api/credentials",
        headers={"Authorization": f"Bearer {planasonix_intercept.api_key}"},
    )
    assert r.status_code == 200
    tenant = requests.get(
        "https://acme.planasonix.example/v1/api/credentials",
        headers=planasonix_intercept.auth_headers,
    )
    assert tenant.status_code == 200
    with pytest.raises(requests.ConnectionError):  # block_others: no other host
        requests.get("https://example.org/")


def test_httpx_code_with_the_real_url(planasonix_intercept):
    async def fetch():
        async with httpx.AsyncClient(base_url="https://api.planasonix.com") as client:
            return await client.get("/api/credentials", headers=planasonix_intercept.auth_headers)

    assert asyncio.run(fetch()).status_code == 200
    with httpx.Client(base_url="https://api.planasonix.com") as client:  # sync: the same
        assert client.get("/api/credentials", headers=planasonix_intercept.auth_headers).is_success
    # --8<-- [end:intercept_example]


# --8<-- [start:faults_example]
def test_retries_once_on_503(planasonix_fake):
    planasonix_fake.faults.add(status=503, times=1)  # 503, then normal answers
    my_client = MyPlanasonixClient(
        planasonix_fake.url, planasonix_fake.api_key, session=planasonix_fake.session
    )
    assert my_client.list() == []  # your code retried
    planasonix_fake.verify("GET", "/api/credentials", times=2)


def test_sees_429_and_retry_after(planasonix_server):
    planasonix_server.faults.add(
        method="POST", path="/api/credentials", status=429, retry_after=2, times=1
    )
    r = requests.post(
        f"{planasonix_server.url}/api/credentials", json={}, headers=planasonix_server.auth_headers
    )
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"
    assert r.headers["X-Mock-Fault"].startswith("flt_")


@pytest.mark.planasonix(faults=[{"delay_ms": 300, "times": 1}])  # slow, then normal
def test_timeout_handling(planasonix_server):
    url = planasonix_server.url + "/api/credentials"
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=planasonix_server.auth_headers, timeout=0.05)
    # --8<-- [end:faults_example]


# --8<-- [start:verify_example]
def test_what_was_called(planasonix_fake):
    fake = planasonix_fake
    fake.session.get(fake.url + "/api/credentials?limit=1", headers=fake.auth_headers)
    assert len(fake.calls("GET", "/api/credentials", status=200)) == 1
    fake.verify("GET", "/api/**", times=1)
    with pytest.raises(AssertionError, match=r"expected exactly 1 call\(s\) matching DELETE"):
        fake.verify("DELETE", "/api/credentials/*", times=1)  # the message lists every call
    # --8<-- [end:verify_example]


# --8<-- [start:journal_example]
def test_the_journal(planasonix_fake):
    fake = planasonix_fake
    fake.session.post(
        fake.url + "/api/credentials",
        headers=fake.auth_headers,
        json={"name": "db", "type": "password", "config": {"password": "pw-123"}},
    )
    (record,) = fake.journal.records()  # a JournalRecord, oldest first
    assert (record.method, record.path, record.status) == ("POST", "/api/credentials", 201)
    assert record.workspace == fake.workspace
    assert record.body["config"] == {"password": "[redacted]"}  # secrets never kept
    assert record.request_id and record.started_at.endswith("Z")
    assert record.duration_ms >= 0 and record.query == {}
    # --8<-- [end:journal_example]


# --8<-- [start:clock_example]
@pytest.mark.planasonix(frozen_time="2025-01-01T00:00:00Z")
def test_updated_a_minute_later(planasonix_fake):
    fake = planasonix_fake
    cred = fake.seed(name="api", type="api_key", config={"key": "k-123456"})
    fake.clock.advance(60)
    url = f"{fake.url}/api/credentials/{cred.id}"
    updated = fake.session.put(url, json={"name": "api-2"}, headers=fake.auth_headers).json()
    assert updated["data"]["created_at"] == "2025-01-01T00:00:00Z"
    assert updated["data"]["updated_at"] == "2025-01-01T00:01:00Z"
    # --8<-- [end:clock_example]


# --8<-- [start:isolation_example]
def test_other_workspaces_see_nothing(planasonix_fake):
    fake = planasonix_fake
    cred = fake.seed(name="mine", type="password", config={"password": "pw-123"})
    fake.add_key("plnx_test_other", "ws_other")
    other = {"Authorization": "Bearer plnx_test_other"}
    answer = fake.session.get(f"{fake.url}/api/credentials/{cred.id}", headers=other)
    assert answer.status_code == 404  # never 403: existence does not leak
    # --8<-- [end:isolation_example]


# --8<-- [start:profile_marker_example]
@pytest.mark.planasonix(profile={"create_status": 200, "get_deleted": "not_found"})
def test_like_our_deployment(planasonix_fake):
    fake = planasonix_fake
    created = fake.session.post(
        fake.url + "/api/credentials",
        headers=fake.auth_headers,
        json={"name": "x", "type": "password", "config": {"password": "pw-123"}},
    )
    assert created.status_code == 200
    url = fake.url + "/api/credentials/" + created.json()["data"]["id"]
    fake.session.delete(url, headers=fake.auth_headers)
    assert fake.session.get(url, headers=fake.auth_headers).status_code == 404
    # --8<-- [end:profile_marker_example]


# --8<-- [start:outside_pytest_example]
def test_without_the_fixtures():
    from mockserver.testing import PlanasonixFake

    with PlanasonixFake(id_seed=1) as fake:  # what planasonix_fake gives a test
        answer = fake.session.get(fake.url + "/api/credentials", headers=fake.auth_headers)
        assert answer.json() == {"data": [], "meta": {"page": {"limit": 50, "cursor": None}}}
    # --8<-- [end:outside_pytest_example]


# --8<-- [start:create_app_example]
def test_the_flask_app():
    from mockserver.app import create_app

    app = create_app(keys={"plnx_test_key": "ws_1"})
    client = app.test_client()
    answer = client.get("/api/credentials", headers={"Authorization": "Bearer plnx_test_key"})
    assert answer.status_code == 200
    assert answer.headers["X-Request-Id"]
    # --8<-- [end:create_app_example]


@pytest.mark.planasonix(seed="fixtures_example.json")  # the fixtures format's example
def test_the_fixtures_example_loads(planasonix_fake):
    (cred,) = planasonix_fake.credentials()
    assert (cred.id, cred.status, planasonix_fake.workspace) == (
        "cred_optional",
        "deleted",
        "ws_acme",
    )
    assert planasonix_fake.api_key == "plnx_test_acme_admin"
    assert planasonix_fake.secret(cred.id, "password") == "..."


# --8<-- [start:coverage_example]
def test_my_client_handles_a_missing_credential(planasonix_fake):
    fake = planasonix_fake
    url = fake.url + "/api/credentials/cred_doesnotexist"
    assert fake.session.get(url, headers=fake.auth_headers).status_code == 404
    gaps = fake.coverage().gaps()  # what no call met yet, in words
    assert "no test sees a 404 on get" not in gaps
    assert "no test sees a 409 on create" in gaps
    # --8<-- [end:coverage_example]


# --8<-- [start:registry_example]
def test_the_contract_in_python():
    import contracts

    assert "database" in contracts.CREDENTIAL_TYPES
    assert ("ssh_tunnel", "private_key") in contracts.secret_paths("database")
    config = {"host": "db", "username": "u", "password": "pw-123"}
    assert contracts.redact("database", config) == {"host": "db", "username": "u"}
    errors = contracts.validate_create(
        {"name": "x", "type": "database", "config": {"host": "db", "username": "u", "port": "5432"}}
    )
    assert [(e.path, e.message) for e in errors] == [("config.port", "must be of type integer")]
    # --8<-- [end:registry_example]
