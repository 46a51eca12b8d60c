"""The validating proxy: forwards untouched, and reports what plain traffic shows.

In front of the fake, the kit's own run passes through it with no violation
and every answer arrives byte for byte as the fake sent it; in front of each
broken variant, traffic the kit did not generate is enough for the proxy to
name the broken rule; in front of an implementation taking every SPEC.md
alternative, the same traffic raises nothing.
"""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from alt_server import AltServer, Knobs
from proxy_variants import BROKEN, KEY, KEYS, drive, fake_app

from contracts.kit.cli.runner import EXIT_OK, Runner
from contracts.kit.context import KitContext, Settings
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.observed import HOP_BY_HOP
from contracts.kit.traffic.proxy import watching

ROOT = Path(__file__).resolve().parents[2]
# Added by the servers, not the application: werkzeug's (Server, Date) and waitress's
# Via, which RFC 9110 asks of a proxy when the upstream names its Server.
SERVER_HEADERS = {"server", "date", "via"}


class Recording:
    """WSGI middleware: what the application received and answered, exactly."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.seen: dict[str, dict[str, Any]] = {}  # by X-Request-Id
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        request_headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            request_headers["content-type"] = environ["CONTENT_TYPE"]
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = int(status.split()[0]), headers
            return start_response(status, headers, exc_info)

        chunks = b"".join(self.app(environ, capture))
        rid = dict((k.lower(), v) for k, v in answer["headers"]).get("x-request-id", "")
        with self._lock:
            self.seen[rid] = {
                "method": environ["REQUEST_METHOD"],
                "target": environ.get("REQUEST_URI") or environ["PATH_INFO"],
                "request_headers": request_headers,
                "request_body": body,
                "body": chunks,
                **answer,
            }
        return [chunks]


def _assert_forwarded_unchanged(response: requests.Response, recording: Recording) -> None:
    rid = response.headers.get("X-Request-Id", "")
    upstream = recording.seen[rid]
    sent = response.request
    # The request, as the application got it.
    assert upstream["method"] == sent.method
    target = sent.path_url
    assert upstream["target"] == target
    body = sent.body.encode() if isinstance(sent.body, str) else (sent.body or b"")
    assert upstream["request_body"] == body
    for name, value in sent.headers.items():
        # waitress (like werkzeug, and most WSGI servers) drops header names with
        # "_": the CGI mapping would make "X_Key" and "X-Key" one. Documented.
        if name.lower() not in HOP_BY_HOP | {"host", "content-length"} and "_" not in name:
            # RFC 9110 5.5: whitespace around a field value is no part of it.
            assert upstream["request_headers"].get(name.lower()) == value.strip(), name
    # The answer, as the application gave it.
    assert response.status_code == upstream["status"]
    assert response.content == upstream["body"]
    got = [(k.lower(), v) for k, v in response.raw.headers.items()]
    made = [(k.lower(), v) for k, v in upstream["headers"]]
    assert sorted(h for h in got if h[0] not in SERVER_HEADERS | HOP_BY_HOP) == sorted(made)


@pytest.mark.slow
def test_the_kit_through_the_proxy_passes_and_no_answer_changes() -> None:
    from mockserver.app import create_app

    recording = Recording(create_app(keys={**KEYS, "plnx_test_proxy_b": "ws_proxy_b"}))
    judge, printed = Judge(), io.StringIO()
    responses: list[requests.Response] = []
    with serve_wsgi(recording) as upstream, watching(upstream, judge, out=printed) as url:
        ctx = KitContext.build(
            url,
            KEY,
            second_api_key="plnx_test_proxy_b",
            settings=Settings(max_examples=2, step_count=6, seed=0, schemathesis_examples=2),
        )
        for client in ctx.clients():
            client.session.hooks["response"].append(lambda r, *a, **k: responses.append(r))
        result = Runner(ctx, out=io.StringIO()).run()
    assert result.exit_code == EXIT_OK, [f.message for f in result.findings]
    assert judge.violations == [], printed.getvalue()
    assert judge.api_calls > 200
    # The kit's clients' answers (its schemathesis phase has a transport of its own).
    assert judge.exchanges >= len(responses) > 500
    for response in responses:
        _assert_forwarded_unchanged(response, recording)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_variant_is_reported_from_plain_traffic(name: str) -> None:
    factory, check, words = BROKEN[name]
    judge, printed = Judge(), io.StringIO()
    with serve_wsgi(factory(fake_app())) as upstream, watching(upstream, judge, out=printed) as url:
        sent = drive(url)
    found = [v for v in judge.violations if v.check == check and words in v.message]
    assert found, judge.summary() + printed.getvalue()
    lines = printed.getvalue()
    assert f"[{check}]" in lines and "curl" in lines
    report = json.dumps(judge.as_json())
    for secret in [*sent, KEY]:
        assert secret not in lines and secret not in report


def test_the_fake_and_every_alternative_raise_nothing_from_the_same_traffic() -> None:
    every_alternative = Knobs(
        update_replaces_config=True,
        get_deleted_404=True,
        list_includes_deleted=True,
        delete_deleted_409=True,
        restore_active_409=True,
        deleted_name_freed=True,
        purge_active_409=True,
        update_deleted_allowed=True,
        create_status=201,
        validation_status=422,
    )
    for app in (fake_app(), AltServer(KEYS, every_alternative)):
        judge, printed = Judge(), io.StringIO()
        with serve_wsgi(app) as upstream, watching(upstream, judge, out=printed) as url:
            drive(url)
        assert judge.violations == [], printed.getvalue()
        assert judge.secrets.remembered >= 8


def _start_cli(upstream: str, tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contracts.kit.cli.main",
            "proxy",
            "--upstream",
            upstream,
            "--listen",
            "127.0.0.1:0",
            "--report",
            str(tmp_path / "report.json"),
            "--junitxml",
            str(tmp_path / "junit.xml"),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=str(ROOT),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.match(r"Proxying (\S+) -> ", first)
    if not match:
        process.kill()
        pytest.fail(f"the proxy did not start: {first}")
    return process, match.group(1)


@pytest.mark.parametrize("broken", [False, True])
def test_the_command_ends_on_sigterm_with_a_summary_and_reports(
    tmp_path: Path, broken: bool
) -> None:
    factory = BROKEN["leak in an error"][0]
    app = factory(fake_app()) if broken else fake_app()
    with serve_wsgi(app) as upstream:
        process, url = _start_cli(upstream, tmp_path)
        try:
            sent = drive(url)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == (1 if broken else 0), output
    report = json.loads((tmp_path / "report.json").read_text())
    junit = (tmp_path / "junit.xml").read_text()
    assert "exchange(s) judged" in output
    if broken:
        assert re.search(r"VIOLATION #1 \[secret-non-echo\] -: create answered 400", output)
        assert report["violations"][0]["check"] == "secret-non-echo"
        assert "<failure" in junit
    else:
        assert report["violations"] == [] and "<failure" not in junit
    for secret in [*sent, KEY]:
        assert secret not in output and secret not in json.dumps(report) and secret not in junit


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    from contracts.kit.cli.main import main

    assert main(["proxy", "--upstream", "ftp://nowhere", "--listen", "127.0.0.1:0"]) == 2
    assert main(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "nowhere"]) == 2
    # An address other machines reach needs an explicit opt-in: the proxy has no auth.
    assert main(["proxy", "--upstream", "http://127.0.0.1:9", "--listen", "0.0.0.0:0"]) == 2


def test_a_foreign_host_is_refused_not_forwarded() -> None:
    """The proxy rewrites Host to the upstream: without its own check, a DNS-rebinding
    page could reach the fake's /_mock/ (and the API) through it."""
    judge = Judge()
    with (
        serve_wsgi(fake_app()) as upstream,
        watching(upstream, judge, allowed_hosts=["dev.example"]) as url,
    ):
        port = url.rsplit(":", 1)[1]
        for path in ("/_mock/state", "/api/credentials"):
            reply = requests.get(url + path, headers={"Host": f"evil.example:{port}"}, timeout=10)
            assert reply.status_code == 403 and reply.json()["error"]["code"] == "forbidden"
        for host in (f"localhost:{port}", f"[::1]:{port}", "dev.example"):
            reply = requests.get(
                url + "/api/credentials",
                headers={"Host": host, "Authorization": f"Bearer {KEY}"},
                timeout=10,
            )
            assert reply.status_code == 200, host
    assert judge.exchanges == 3


def test_an_unreachable_upstream_is_a_502_and_no_verdict() -> None:
    judge, printed = Judge(), io.StringIO()
    with serve_wsgi(fake_app()) as dead:
        pass  # the port is free again: nothing listens there now
    with watching(dead, judge, out=printed) as url:
        reply = requests.get(url + "/api/credentials", timeout=10)
    assert reply.status_code == 502
    assert judge.exchanges == 0 and judge.violations == []


def test_streams_long_answers_and_keeps_connections_alive() -> None:
    """A long chunked answer arrives whole (the judge keeps only its first part),
    and both legs reuse their connections for answers of known length (waitress
    closes a connection after an answer of unknown length, as HTTP/1.1 allows)."""
    import http.client
    from contextlib import contextmanager

    import waitress

    from contracts.kit.traffic.observed import Observed
    from contracts.kit.traffic.proxy import ProxyApp, ProxyServer

    big = bytes(range(256)) * 12_000  # about 3 MB
    upstream_ports: list[str] = []

    def upstream_app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/small":
            upstream_ports.append(environ["REMOTE_PORT"])
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (big[i : i + 100_000] for i in range(0, len(big), 100_000))  # no length: chunked

    @contextmanager
    def served_by_waitress() -> Any:
        server = waitress.create_server(upstream_app, host="127.0.0.1", port=0, threads=2)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.effective_port}"
        finally:
            server.trigger.pull_trigger(lambda: [c.close() for c in list(server._map.values())])
            thread.join(timeout=10)
            server.task_dispatcher.shutdown()

    seen: list[Observed] = []
    with served_by_waitress() as upstream:
        proxy = ProxyServer(ProxyApp(upstream, seen.append, judge_limit=1000))
        with proxy.running():
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            conn.request("GET", "/download")
            assert conn.getresponse().read() == big
            sockets = []
            for _ in range(3):
                conn.request("GET", "/small")
                assert conn.getresponse().read() == b"ok"
                sockets.append(conn.sock)
            conn.close()
    assert len(seen) == 4
    assert seen[0].truncated and seen[0].response_body == big[:1000]
    assert not seen[1].truncated and seen[1].response_body == b"ok"
    assert sockets[0] is sockets[1] is sockets[2] is not None  # client leg kept alive
    assert len(upstream_ports) == 3 and len(set(upstream_ports)) == 1  # upstream leg too


def test_repeated_sigterms_keep_the_report_and_the_exit_code(tmp_path: Path) -> None:
    # A supervisor that signals again a few milliseconds later (systemd, k8s, a
    # CI runner's kill loop) must still get the report and the first verdict.
    factory = BROKEN["leak in an error"][0]
    with serve_wsgi(factory(fake_app())) as upstream:
        process, url = _start_cli(upstream, tmp_path)
        try:
            drive(url)
        finally:
            for _ in range(4):
                process.send_signal(signal.SIGTERM)
                time.sleep(0.005)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 1, output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["violations"][0]["check"] == "secret-non-echo"
    assert "<failure" in (tmp_path / "junit.xml").read_text()


def _undecodable(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    # Claims gzip, is not: nothing in it can be scanned for secrets.
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
    return [b"not gzip at all"]


@pytest.mark.parametrize("allow", [False, True])
def test_an_answer_the_judge_cannot_decode_is_not_judged_never_passed(
    tmp_path: Path, allow: bool
) -> None:
    extra = ["--allow-unjudged"] if allow else []
    with serve_wsgi(_undecodable) as upstream:
        process, url = _start_cli(upstream, tmp_path, *extra)
        try:
            answer = requests.get(
                f"{url}/api/credentials", headers={"Authorization": f"Bearer {KEY}"}, stream=True
            )
            assert answer.raw.read(decode_content=False) == b"not gzip at all"
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == (0 if allow else 2), output
    assert "1 exchange(s) not judged" in output
    assert json.loads((tmp_path / "report.json").read_text())["unjudged"] == 1
