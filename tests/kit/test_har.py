"""check-har: the proxy's verdicts, offline, from a HAR of the same traffic.

The HAR is written on the client's side (with ``harfile``, the HAR writer
schemathesis uses), independently of the proxy's own view of the exchanges.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import harfile
import pytest
import requests
from proxy_variants import BROKEN, KEY, drive, fake_app

from contracts.kit.cli.main import main
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.traffic.har import HarError, check_har, entries
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.proxy import watching


def _records(headers: requests.structures.CaseInsensitiveDict[str]) -> list[harfile.Record]:
    return [harfile.Record(name=k, value=v) for k, v in headers.items()]


class HarRecorder:
    """A requests response hook that writes each exchange as a HAR entry."""

    def __init__(self, path: Path) -> None:
        self.har = harfile.open(path)
        self.count = 0

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        sent = response.request
        body = sent.body.decode() if isinstance(sent.body, bytes) else sent.body
        elapsed = response.elapsed.total_seconds()
        started = datetime.now(UTC).timestamp() - elapsed
        self.har.add_entry(
            startedDateTime=datetime.fromtimestamp(started, UTC),
            time=elapsed * 1000,
            request=harfile.Request(
                method=str(sent.method),
                url=str(sent.url),
                httpVersion="HTTP/1.1",
                headers=_records(sent.headers),
                postData=harfile.PostData(mimeType=sent.headers.get("Content-Type", ""), text=body)
                if body
                else None,
            ),
            response=harfile.Response(
                status=response.status_code,
                statusText=response.reason or "",
                httpVersion="HTTP/1.1",
                headers=_records(response.headers),
                content=harfile.Content(
                    size=len(response.content),
                    mimeType=response.headers.get("Content-Type", ""),
                    text=response.text,
                ),
            ),
            timings=harfile.Timings(send=0, wait=elapsed * 1000, receive=0),
        )
        self.count += 1

    def close(self) -> None:
        self.har.close()


def _verdicts(judge: Judge) -> list[tuple[str, str | None, str]]:
    return [(v.check, v.credential, v.message) for v in judge.violations]


@pytest.mark.parametrize("name", [None, *sorted(BROKEN)])
def test_check_har_gives_the_proxys_verdicts(name: str | None, tmp_path: Path) -> None:
    app = BROKEN[name][0](fake_app()) if name else fake_app()
    path = tmp_path / "traffic.har"
    recorder = HarRecorder(path)
    session = requests.Session()
    session.hooks["response"].append(recorder)
    live = Judge()
    with serve_wsgi(app) as upstream, watching(upstream, live, out=io.StringIO()) as url:
        drive(url, session)
    recorder.close()
    offline = check_har(path)
    assert offline.exchanges == recorder.count == live.exchanges
    assert _verdicts(offline) == _verdicts(live)
    if name:
        assert any(v.check == BROKEN[name][1] for v in offline.violations)
    else:
        assert offline.violations == []
    # The command: exit 1 with violations, 0 without; the report lists them.
    report = tmp_path / "report.json"
    code = main(["check-har", str(path), "--report", str(report)])
    assert code == (1 if name else 0)
    assert len(json.loads(report.read_text())["violations"]) == len(live.violations)


def _entry(method: str, url: str, status: int, content: dict[str, object], **req: object) -> object:
    return {
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "time": 5,
        "request": {"method": method, "url": url, "headers": [], **req},
        "response": {
            "status": status,
            "headers": [
                {"name": "Content-Type", "value": "application/json"},
                {"name": "Content-Encoding", "value": "gzip"},
            ],
            "content": content,
        },
    }


def test_har_bodies_are_read_as_saved_decoded_or_base64(tmp_path: Path) -> None:
    secret = "harSecretValue-0123456789abcdef"
    create = {"name": "n", "type": "password", "config": {"password": secret}}
    body = {"data": {"id": "cred_x", "debug": secret}}
    har = {
        "log": {
            "entries": [
                _entry(
                    "POST",
                    "http://h/api/credentials",
                    201,
                    # saved decoded although the answer was gzipped: as browsers do
                    {"mimeType": "application/json", "text": json.dumps(body)},
                    postData={"mimeType": "application/json", "text": json.dumps(create)},
                ),
                _entry(
                    "GET",
                    "http://h/api/credentials/cred_x",
                    200,
                    {
                        "text": base64.b64encode(json.dumps(body).encode()).decode(),
                        "encoding": "base64",
                    },
                ),
                _entry("GET", "http://h/api/credentials", 0, {}),  # aborted in the browser
            ]
        }
    }
    path = tmp_path / "t.har"
    path.write_text(json.dumps(har))
    judge = check_har(path)
    assert judge.exchanges == 2
    assert [v.check for v in judge.violations if v.check == "secret-non-echo"] == [
        "secret-non-echo",
        "secret-non-echo",
    ]
    assert secret not in json.dumps(judge.as_json())
    assert gzip  # the Content-Encoding header above is not applied to decoded text


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"log": {}}), json.dumps({"log": {"entries": [{"request": {}}]}})],
)
def test_an_unreadable_har_is_exit_2(content: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content)
    assert main(["check-har", str(path)]) == 2
    with pytest.raises(HarError):
        list(entries(json.loads(content))) if content.startswith("{") else check_har(path)
    assert main(["check-har", str(tmp_path / "missing.har")]) == 2
    assert KEY
