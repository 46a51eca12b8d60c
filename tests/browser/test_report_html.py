"""The HTML report of `run` in headless Chromium: it renders offline, without a console
message, with the coverage matrices and every finding, and holds no canary and no key."""

from __future__ import annotations

import html
import io
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import headless
import pytest
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.runner import Runner, RunResult, write_html_report
from contracts.kit.context import KitContext
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.wire.keymask import KeyMask


def chromium(url: str) -> tuple[str, str]:
    """(the DOM Chromium rendered, its log with the console lines); the network is off."""
    return headless.dump_dom(url, budget_ms=5000, console=True)


def console_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if ":CONSOLE" in line]


class LeakyRestore:
    """The fake behind a front that answers every restore 404 (a violation to show),
    with markup in its message."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST" and request.path.rstrip("/").endswith("/restore"):
            body = json.dumps({"error": {"code": "not_found", "message": "<b>not</b> found"}})
            return Response(body, 404, content_type="application/json")(environ, start_response)
        return self.app(environ, start_response)


class Report:
    def __init__(self, path: Path, result: RunResult, ctx: KitContext, keys: tuple[str, ...]):
        self.path, self.result, self.ctx, self.keys = path, result, ctx, keys


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    from mockserver.app import create_app

    a, b, r = ("plnx_test_" + secrets.token_hex(12) for _ in range(3))
    app = LeakyRestore(create_app(keys={a: "ws_a", b: "ws_b"}, read_only_keys={r: "ws_a"}))
    path = tmp_path_factory.mktemp("html") / "report.html"
    with serve_wsgi(app) as url:
        ctx = KitContext.build(url, a, second_api_key=b, read_only_api_key=r)
        runner = Runner(
            ctx,
            out=io.StringIO(),
            only={"auth-isolation", "lifecycle", "secret-non-echo"},
            reporters=[lambda result: write_html_report(result, path)],
            fail_under={"transitions": 100.0},
        )
        result = runner.run()
    yield Report(path, result, ctx, (a, b, r))


def test_the_report_renders_offline_without_console_messages(report: Report) -> None:
    dom, log = chromium(report.path.as_uri())
    assert console_lines(log) == [], console_lines(log)
    assert 'id="verdict"' in dom and "VIOLATIONS FOUND" in dom
    # The matrices, as tables with coloured cells.
    for name in ("operations", "statuses", "isolation", "secrets"):
        assert re.search(rf'<table class="matrix" aria-label="{name}">', dom), name
    assert '<td class="exercised">' in dom and '<td class="missing">never seen</td>' in dom
    assert '<td class="proven">proven' in dom
    # The transitions, the unreachable one marked missing.
    assert '<span class="missing">deleted → active</span>' in dom
    # Every finding, violations and expectations apart, each with its message.
    violations, _, rest = dom.partition('id="violations"')[2].partition('id="expectations"')
    assert report.result.findings and report.result.expectations
    for finding in report.result.findings:
        assert html.escape(finding.message, quote=False) in violations
    for finding in report.result.expectations:
        assert html.escape(finding.message, quote=False) in rest


def test_the_report_holds_no_canary_and_no_piece_of_a_key(report: Report) -> None:
    page = report.path.read_text()
    assert report.ctx.detector.canaries
    assert report.ctx.detector.scan(page) == []
    assert not KeyMask(report.keys).found(page)


def test_the_console_check_sees_a_console_message(tmp_path: Path) -> None:
    """The check above would see one: a page that logs shows in the same log."""
    page = tmp_path / "logs.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>console.error("k2-console-probe")</script>')
    _, log = chromium(page.as_uri())
    assert any("k2-console-probe" in line for line in console_lines(log))
