"""Coverage of watched traffic: `proxy` and `check-har` report what the calls they saw
exercised (operations, statuses, transitions), and keep none of their secrets."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from proxy_variants import KEY, drive, fake_app

from contracts.kit.cli.main import main
from contracts.kit.coverage.operations import BEARER
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.proxy import watching


def test_the_proxy_reports_what_the_traffic_exercised() -> None:
    judge = Judge()
    with serve_wsgi(fake_app()) as upstream, watching(upstream, judge, out=io.StringIO()) as url:
        sent = drive(url)
    report = judge.as_json()
    coverage = report["coverage"]
    # The traffic soft-deletes, restores and purges: those transitions are named with
    # the calls that made them; it never deletes twice.
    transitions = coverage["transitions"]["transitions"]
    assert transitions["deleted → active"]["count"] == 1
    assert "/restore" in transitions["deleted → active"]["requests"][0]
    assert transitions["deleted → purged"]["count"] == 1
    assert transitions["purged → get"]["count"] == 1
    assert "deleted → deleted (repeat delete)" in coverage["transitions"]["missing"]
    statuses = coverage["statuses"]["operations"]
    assert statuses["create"]["seen"]["409"] == 1
    assert "429" in statuses["create"]["missing"]
    # Only what the traffic used is "served": one prefix, one key form.
    assert coverage["operations"]["prefixes"] == ["/api"]
    assert coverage["operations"]["auth_forms"] == [BEARER]
    # Secrets and isolation need a kit run's own canaries and keys: not measured.
    assert "secrets" not in coverage and "isolation" not in coverage
    text = json.dumps(coverage) + judge.summary()
    assert all(secret not in text for secret in sent) and KEY not in text
    assert "transitions" in judge.summary()


def _entry(method: str, path: str, status: int, body: Any, auth: bool = True) -> dict[str, Any]:
    headers = [{"name": "Authorization", "value": f"Bearer {KEY}"}] if auth else []
    return {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "time": 5,
        "request": {
            "method": method,
            "url": "http://api.example.test" + path,
            "httpVersion": "HTTP/1.1",
            "headers": headers,
        },
        "response": {
            "status": status,
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": json.dumps(body)},
        },
    }


def test_check_har_reports_coverage_in_json_and_html(tmp_path: Path) -> None:
    item = {
        "id": "cred_a",
        "name": "n",
        "type": "password",
        "status": "active",
        "config": {"username": "u"},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "deleted_at": None,
    }
    c = "/v1/api/credentials"
    create = _entry("POST", c, 201, {"data": item})
    sent = {"name": "n", "type": "password", "config": {"username": "u", "password": "pw-k2-1234"}}
    posted = {"mimeType": "application/json", "text": json.dumps(sent)}
    entries = [
        {**create, "request": {**create["request"], "postData": posted}},
        _entry("GET", f"{c}/cred_a", 200, {"data": item}),
        _entry(
            "GET", f"{c}/cred_a", 401, {"error": {"code": "unauthorized", "message": "m"}}, False
        ),
    ]
    har = tmp_path / "t.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["check-har", str(har), "--report", str(report), "--html", str(page)])
    assert code == 0
    coverage = json.loads(report.read_text())["coverage"]
    assert coverage["transitions"]["transitions"]["create → get"]["count"] == 1
    assert coverage["transitions"]["transitions"]["deleted → active"]["count"] == 0
    cells = {(c["operation"], c["prefix"], c["auth"]): c for c in coverage["operations"]["cells"]}
    assert cells[("get", "/v1/api", BEARER)]["statuses"] == {"200": 1}
    assert cells[("get", "/v1/api", "no key")]["statuses"] == {"401": 1}
    assert cells[("create", "/v1/api", BEARER)]["exercised"] is True
    assert coverage["statuses"]["operations"]["get"]["seen"] == {"200": 1, "401": 1}
    text = page.read_text()
    assert "planasonix-contract check-har" in text and 'id="transitions"' in text
    for secret in (KEY, "pw-k2-1234"):
        assert secret not in text and secret not in report.read_text()


def test_diff_reports_what_the_deployments_side_exercised() -> None:
    from broken_variants import KEY_A, served
    from broken_variants import fake_app as variant_fake

    from contracts.kit.profiles.diff import run_diff
    from contracts.profile import DEFAULT_PROFILE

    with served(variant_fake()) as url:
        result = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    coverage = result.as_json()["coverage"]
    transitions = coverage["transitions"]["transitions"]
    # The sequence creates, soft-deletes and restores: those are counted, with requests.
    assert transitions["active → deleted"]["count"] > 0
    assert transitions["active → deleted"]["requests"]
    assert coverage["statuses"]["operations"]["create"]["seen"]["201|200"] > 0
    assert "secrets" not in coverage
