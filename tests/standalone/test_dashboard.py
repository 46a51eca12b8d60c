"""The dashboard at /_mock/: plain HTML and JS served by the fake, nothing remote."""

from __future__ import annotations

import re

from standalone_support import make_app


def test_dashboard_page_and_assets_are_local() -> None:
    client = make_app().test_client()
    page = client.get("/_mock/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = page.text
    assert 'id="workspaces"' in html and 'id="journal"' in html and 'id="fault-form"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/_mock/static/") for a in assets), assets
    for asset, mimetype in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        response = client.get(f"/_mock/static/{asset}")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert "http://" not in response.text and "https://" not in response.text
    assert client.get("/_mock/static/dashboard.html").status_code == 404
    assert client.get("/_mock/static/../app.py").status_code == 404


def test_dashboard_script_never_writes_html_from_data() -> None:
    script = make_app().test_client().get("/_mock/static/dashboard.js").text
    assert "innerHTML" not in script and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script
    for endpoint in ("state", "journal", "reset", "faults", "clock"):
        assert f'"{endpoint}' in script  # every control the page offers


def test_the_state_the_dashboard_reads_has_metadata_only() -> None:
    client = make_app().test_client()
    client.post(
        "/api/credentials",
        json={"name": "x", "type": "api_key", "config": {"key": "SECRETKEY12345"}},
        headers={"Authorization": "Bearer plnx_test_dev_key"},
    )
    state = client.get("/_mock/state")
    (workspace,) = state.json["data"]["workspaces"]
    assert workspace["credentials"][0]["name"] == "x"
    assert "SECRETKEY12345" not in state.text and "plnx_test_dev_key" not in state.text


def test_the_dashboard_offers_and_shows_every_connection_fault() -> None:
    from mockserver.standalone.wire import CONNECTION_FAULTS

    client = make_app().test_client()
    html = client.get("/_mock/").text
    form = html[
        html.index('id="fault-connection"') : html.index(
            "</select>", html.index('id="fault-connection"')
        )
    ]
    assert re.findall(r"<option>(\w+)</option>", form) == list(CONNECTION_FAULTS)
    assert "<th>connection</th>" in html and "<th>fault</th>" in html
    script = client.get("/_mock/static/dashboard.js").text
    # The rule's connection (and a drip's pace) in the rules table, the journal's fault.
    assert "f.connection" in script and "f.drip_ms" in script and "r.fault" in script
    assert "rule.connection = connection" in script
