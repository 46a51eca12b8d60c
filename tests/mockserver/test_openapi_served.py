"""The document the fake serves names the fake first; timestamps it takes are real instants."""

from __future__ import annotations

import pytest
import yaml

import contracts
from mockserver.testing.fake import PlanasonixFake

PRODUCTION = {"url": "https://api.planasonix.com", "description": "production"}


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8123", "http://fake.test"])
def test_served_documents_name_the_fake_first_and_production_second(base_url: str) -> None:
    with PlanasonixFake() as fake:
        client = fake.httpx_client(base_url=base_url)
        served_json = client.get("/openapi.json").json()
        served_yaml = yaml.safe_load(client.get("/openapi.yaml").text)
    for served in (served_json, served_yaml):
        assert served["servers"] == [{"url": base_url, "description": "this fake"}, PRODUCTION]
        assert {k: v for k, v in served.items() if k != "servers"} == {
            k: v for k, v in contracts.openapi_document().items() if k != "servers"
        }
    assert contracts.openapi_document()["servers"] == [PRODUCTION]


@pytest.mark.parametrize(
    "expires_at",
    ["2765-11-31T00:00:00Z", "2025-02-29T10:00:00Z", "2025-03-27T24:00:00Z",
     "2025-03-27T10:00:61Z", "2025-03-27T10:00:00+01:00", "2025-03-27t10:00:00z"],
)  # fmt: skip
def test_the_fake_refuses_an_impossible_timestamp_naming_the_field(expires_at: str) -> None:
    canary = "ts-canary-4c1d9e7a"
    with PlanasonixFake() as fake:
        answer = fake.session.post(
            f"{fake.url}/api/credentials",
            json={"name": "o", "type": "oauth",
                  "config": {"client_id": "c", "client_secret": canary, "expires_at": expires_at}},
            headers=fake.auth_headers,
        )  # fmt: skip
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_request"
        assert [d["path"] for d in error["details"]] == ["config.expires_at"]
        assert canary not in answer.text and expires_at not in answer.text
        assert fake.credentials() == []


@pytest.mark.parametrize("expires_at", ["2024-02-29T23:59:60Z", "2026-12-31T23:59:59.123Z"])
def test_the_fake_takes_a_real_instant(expires_at: str) -> None:
    with PlanasonixFake() as fake:
        answer = fake.session.post(
            f"{fake.url}/api/credentials",
            json={"name": "o", "type": "oauth",
                  "config": {"client_id": "c", "client_secret": "s3-x", "expires_at": expires_at}},
            headers=fake.auth_headers,
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["data"]["config"]["expires_at"] == expires_at
