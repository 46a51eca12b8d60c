"""verify-consumer: a contract recorded from an ordinary suite, replayed on a deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from broken_variants import KEY_A, Middleware, fake_app, served
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.profiles.consumer import FAILED, NOT_REPLAYED, PASSED, load_contract
from contracts.kit.violations import KitError

FIVE_TESTS = """
def test_create(planasonix_fake):
    s = planasonix_fake.session
    made = s.post("/api/credentials", json={
        "name": "db", "type": "database",
        "config": {"host": "h", "username": "u", "password": "CANARYdb-93e1"}})
    assert made.status_code == 201


def test_read(planasonix_fake):
    s = planasonix_fake.session
    made = s.post("/api/credentials", json={
        "name": "p", "type": "password", "config": {"username": "u", "password": "CANARYpw-1"}})
    assert s.get(f"/api/credentials/{made.json()['data']['id']}").json()["data"]["name"] == "p"


def test_delete_and_restore(planasonix_fake):
    s = planasonix_fake.session
    cred = s.post("/api/credentials", json={
        "name": "k", "type": "api_key", "config": {"key": "CANARYkey-2"}}).json()["data"]
    assert s.delete(f"/api/credentials/{cred['id']}").status_code == 200
    assert s.post(f"/api/credentials/{cred['id']}/restore").status_code == 200


def test_list_pages(planasonix_fake):
    s = planasonix_fake.session
    for n in range(3):
        s.post("/api/credentials", json={
            "name": f"n{n}", "type": "password",
            "config": {"username": "u", "password": f"CANARYp{n}-xx"}})
    first = s.get("/api/credentials", params={"limit": 2}).json()
    cursor = first["meta"]["page"]["cursor"]
    assert s.get("/api/credentials", params={"limit": 2, "cursor": cursor}).status_code == 200


def test_missing(planasonix_fake):
    assert planasonix_fake.session.get("/api/credentials/cred_aaaaaaaaaaaaaaaa").status_code == 404
"""


class RestoreConflicts(Middleware):
    """A deployment whose restore answers 409 (a reading the consumer did not meet)."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        if request.method == "POST" and request.path.endswith("/restore"):
            return Response(json.dumps({"error": "conflict"}), 409, mimetype="application/json")
        return None


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("consumer")
    (folder / "test_suite.py").write_text(FIVE_TESTS)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--planasonix-record-contract=consumer.json",
            "test_suite.py",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "consumer.json"


def test_the_recorded_contract_holds_no_value_the_suite_sent(contract: Path) -> None:
    text = contract.read_text()
    assert "CANARY" not in text
    ops = {i["operation"] for i in json.loads(text)["interactions"]}
    assert ops == {"create", "get", "delete", "restore", "list"}


def test_the_fake_meets_its_own_consumer(contract: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    junit = tmp_path / "j.xml"
    with served(fake_app()) as url:
        code = main(
            [
                "verify-consumer",
                str(contract),
                "--base-url",
                url,
                "--api-key",
                KEY_A,
                "--report",
                str(report),
                "--junitxml",
                str(junit),
            ]
        )
    data = json.loads(report.read_text())
    assert code == 0, data
    verdicts = [o["verdict"] for o in data["interactions"]]
    assert FAILED not in verdicts and verdicts.count(PASSED) >= 6
    assert KEY_A not in report.read_text() and KEY_A not in junit.read_text()
    assert data["leftovers"] == []


def test_a_restore_answering_409_breaks_the_consumer(
    contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.json"
    page = tmp_path / "r.html"
    with served(RestoreConflicts(fake_app())) as url:
        code = main(
            [
                "verify-consumer",
                str(contract),
                "--base-url",
                url,
                "--api-key",
                KEY_A,
                "--report",
                str(report),
                "--html",
                str(page),
            ]
        )
    assert code == 1
    failed = [o for o in json.loads(report.read_text())["interactions"] if o["verdict"] == FAILED]
    assert [o["interaction"].split()[0] for o in failed] == ["restore"]
    assert "answered 409 where the consumer met 200" in failed[0]["why"]
    assert "FAILED       restore /api" in capsys.readouterr().out
    # The same verdict as one offline page: the interaction table and the failure.
    html = page.read_text()
    assert "VIOLATIONS FOUND" in html and 'id="interactions"' in html
    assert "answered 409 where the consumer met 200" in html
    assert KEY_A not in html


def test_an_unwritable_html_path_is_refused_before_any_request(
    contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--base-url", "http://127.0.0.1:9", "--api-key", KEY_A]
    code = main(["verify-consumer", str(contract), *argv, "--html", "/nonexistent/r.html"])
    assert code == 2
    assert "--html" in capsys.readouterr().err


def test_a_refusal_whose_cause_is_not_kept_is_not_replayed(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "format": "planasonix-consumer-contract/1",
                "interactions": [
                    {
                        "operation": "create",
                        "method": "POST",
                        "prefix": "/api",
                        "auth": "bearer",
                        "state_before": "none",
                        "credential_type": "password",
                        "request_fields": ["name"],
                        "query": [],
                        "statuses": {"400": 1},
                        "response_fields": {},
                    }
                ],
            }
        )
    )
    report = tmp_path / "r.json"
    with served(fake_app()) as url:
        code = main(
            [
                "verify-consumer",
                str(path),
                "--base-url",
                url,
                "--api-key",
                KEY_A,
                "--report",
                str(report),
            ]
        )
    outcome = json.loads(report.read_text())["interactions"][0]
    assert outcome["verdict"] == NOT_REPLAYED and code == 0


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "other"}',
        '{"format": "planasonix-consumer-contract/1", "interactions": 3}',
    ],
)
def test_a_file_that_is_not_a_contract_is_one_line_and_exit_2(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(KitError):
        load_contract(path)
    code = main(
        ["verify-consumer", str(path), "--base-url", "http://127.0.0.1:9", "--api-key", "k"]
    )
    assert code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
