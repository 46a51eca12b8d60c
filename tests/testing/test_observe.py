"""Downstream coverage and the consumer contract: what a suite's code met on the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.testing import PlanasonixFake

THREE_TESTS = """
import requests


def test_create_and_read(planasonix_fake):
    s = planasonix_fake.session
    made = s.post("/api/credentials", json={
        "name": "db", "type": "password",
        "config": {"username": "u", "password": "CANARYpw-7f3a9c21"}})
    assert made.status_code == 201
    assert s.get(f"/api/credentials/{made.json()['data']['id']}").status_code == 200


def test_soft_delete_and_restore(planasonix_fake):
    s = planasonix_fake.session
    cred = s.post("/v1/api/credentials", json={
        "name": "k", "type": "api_key", "config": {"key": "CANARYkey-55e1d0aa"}}).json()["data"]
    assert s.delete(f"/v1/api/credentials/{cred['id']}").status_code == 200
    assert s.post(f"/v1/api/credentials/{cred['id']}/restore").status_code == 200


def test_unknown_id(planasonix_fake):
    s = planasonix_fake.session
    assert s.get("/api/credentials/cred_aaaaaaaaaaaaaaaa").status_code == 404
"""


def _fake_session_calls(fake: PlanasonixFake) -> str:
    made = fake.session.post(
        "/api/credentials",
        json={"name": "one", "type": "password", "config": {"username": "u", "password": "p" * 9}},
    )
    cred_id = made.json()["data"]["id"]
    fake.session.delete(f"/api/credentials/{cred_id}")
    fake.session.delete(f"/api/credentials/{cred_id}")
    fake.session.delete(f"/api/credentials/{cred_id}/permanent")
    fake.session.get(f"/api/credentials/{cred_id}")
    return str(cred_id)


def test_fake_coverage_follows_the_lifecycle() -> None:
    with PlanasonixFake() as fake:
        _fake_session_calls(fake)
        coverage = fake.coverage()
    data = coverage.as_json()
    assert data["calls"] == 5
    transitions = {k for k, v in data["transitions"].items() if v}
    assert transitions == {
        "create",
        "active -> deleted",
        "deleted -> deleted (repeat delete)",
        "deleted -> purged",
        "purged -> any call",
    }
    assert data["statuses"] == {
        "create 201": 1,
        "delete 200": 2,
        "purge 200": 1,
        "get 404": 1,
    }
    assert "no test follows a cursor" in data["gaps"]
    assert "no test sees a 404 on restore" in data["gaps"]
    assert "no test sees a 404 on get" not in data["gaps"]


def test_a_suite_of_three_prints_its_table_and_writes_what_it_met(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_downstream=THREE_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--planasonix-coverage=cov.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*planasonix coverage: 6 API call(s) on the fake*", "*no test follows a cursor*"]
    )
    data = json.loads((pytester.path / "cov.json").read_text())
    assert data["statuses"] == {
        "create 201": 2,
        "get 200": 1,
        "get 404": 1,
        "delete 200": 1,
        "restore 200": 1,
    }
    assert data["prefixes"] == {"/api": 3, "/v1/api": 3}
    assert data["auth_forms"] == {"bearer": 6}
    met = {k for k, v in data["transitions"].items() if v}
    assert met == {"create", "active -> get", "active -> deleted", "deleted -> active (restore)"}
    assert "no test sees a 429" in data["gaps"]
    text = (pytester.path / "cov.json").read_text()
    assert "CANARY" not in text


def test_coverage_is_merged_across_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=THREE_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--planasonix-coverage=cov.json"
    )
    result.assert_outcomes(passed=3)
    data = json.loads((pytester.path / "cov.json").read_text())
    assert data["calls"] == 6
    assert sum(data["statuses"].values()) == 6


def test_the_consumer_contract_keeps_shapes_never_values(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=THREE_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--planasonix-record-contract=c.json")
    result.assert_outcomes(passed=3)
    text = (pytester.path / "c.json").read_text()
    assert "CANARY" not in text
    contract = json.loads(text)
    assert contract["format"] == "planasonix-consumer-contract/1"
    by_op = {(i["operation"], i["prefix"], i["state_before"]): i for i in contract["interactions"]}
    create = by_op[("create", "/api", "none")]
    assert create["credential_type"] == "password"
    assert create["request_fields"] == [
        "config",
        "config.password",
        "config.username",
        "name",
        "type",
    ]
    assert create["statuses"] == {"201": 1}
    assert "data.id" in create["response_fields"]["201"]
    assert "data.config.password" not in create["response_fields"]["201"]
    restore = by_op[("restore", "/v1/api", "deleted")]
    assert restore["credential_type"] == "api_key"
    assert restore["statuses"] == {"200": 1}
    assert by_op[("get", "/api", "missing")]["statuses"] == {"404": 1}


def test_without_the_options_nothing_is_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=THREE_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert "planasonix coverage" not in result.stdout.str()
    assert not list(Path(pytester.path).glob("*.json"))
