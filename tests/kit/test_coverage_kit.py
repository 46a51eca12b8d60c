"""Kit coverage in `run`: the JSON report's "coverage", the terminal table, --fail-under, --html."""

from __future__ import annotations

import html
import io
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.cli.runner import Runner, RunResult, write_html_report, write_report
from contracts.kit.context import KitContext
from contracts.kit.coverage.isolation import PROVEN
from contracts.kit.coverage.operations import BEARER, LEGACY, OPERATIONS
from contracts.kit.coverage.summary import fail_under_arg
from contracts.kit.coverage.transitions import TRANSITIONS
from contracts.kit.fake_target import serve_fake, serve_wsgi
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS
from contracts.kit.wire.keymask import KeyMask
from contracts.registry import CREDENTIAL_TYPES


def _keys() -> tuple[str, str, str]:
    a, b, r = ("plnx_test_" + secrets.token_hex(12) for _ in range(3))
    return a, b, r


class DefaultRun:
    def __init__(self, ctx: KitContext, result: RunResult, out: str, keys: tuple[str, ...]):
        self.ctx, self.result, self.out, self.keys = ctx, result, out, keys


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DefaultRun]:
    a, b, r = _keys()
    folder = tmp_path_factory.mktemp("coverage")
    out = io.StringIO()
    with serve_fake({a: "ws_a", b: "ws_b"}, {r: "ws_a"}) as url:
        ctx = KitContext.build(url, a, second_api_key=b, read_only_api_key=r)
        reporters = [
            lambda res: write_report(res, folder / "report.json"),
            lambda res: write_html_report(res, folder / "report.html"),
        ]
        gate = {"transitions": 100.0, "operations": 100.0, "isolation": 100.0}
        result = Runner(ctx, out=out, reporters=reporters, fail_under=gate).run()
    run = DefaultRun(ctx, result, out.getvalue(), (a, b, r))
    run.folder = folder  # type: ignore[attr-defined]
    yield run


def _report(run: DefaultRun) -> dict[str, Any]:
    path: Path = run.folder / "report.json"  # type: ignore[attr-defined]
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_a_default_run_covers_every_transition_route_prefix_and_auth_form(
    default_run: DefaultRun,
) -> None:
    assert default_run.result.exit_code == EXIT_OK, default_run.out
    coverage = _report(default_run)["coverage"]
    assert coverage["transitions"]["percent"] == 100.0
    assert coverage["transitions"]["missing"] == []
    assert set(coverage["transitions"]["transitions"]) == set(TRANSITIONS.values())
    assert all(t["count"] > 0 for t in coverage["transitions"]["transitions"].values())
    ops = coverage["operations"]
    # The fake serves both prefixes and both ways of sending the key.
    assert ops["prefixes"] == ["/api", "/v1/api"]
    assert ops["auth_forms"] == [BEARER, LEGACY]
    exercised = {(c["operation"], c["prefix"], c["auth"]) for c in ops["cells"] if c["exercised"]}
    for op in OPERATIONS:
        for prefix in ("/api", "/v1/api"):
            for form in (BEARER, LEGACY):
                assert (op, prefix, form) in exercised
    assert ops["percent"] == 100.0 and ops["missing"] == []
    assert coverage["isolation"]["percent"] == 100.0
    routes = coverage["isolation"]["routes"]
    assert routes["purge"]["near-miss"]["state"] == PROVEN
    assert routes["restore"]["second"]["state"] == PROVEN
    assert routes["update"]["read-only"]["state"] == PROVEN
    assert "read-only" not in routes["get"]  # a read-only key may read: nothing to prove
    # Every type's secrets are read on pages after the first too, whichever type is newest.
    assert coverage["secrets"]["percent"] == 100.0, coverage["secrets"]["missing"]
    assert default_run.result.coverage_gaps == []


def test_the_json_lists_what_happened(default_run: DefaultRun) -> None:
    report = _report(default_run)
    coverage = report["coverage"]
    # Statuses: each operation's documented cells, seen or listed as never seen.
    create = coverage["statuses"]["operations"]["create"]
    assert create["documented"][0] == "201|200"
    assert create["seen"]["201|200"] > 0 and create["seen"]["409"] > 0
    assert "create 429" in coverage["statuses"]["missing"]  # the run never met a 429
    # The counts agree with the recorded exchanges.
    restores = [
        e
        for e in report["exchanges"]
        if e["method"] == "POST" and e["url"].endswith("/restore") and e["status"] == 200
    ]
    assert coverage["statuses"]["operations"]["restore"]["seen"]["200"] >= len(restores) > 0
    # Secrets: every type and secret field of the schemas, each sent and proven in bodies.
    types = coverage["secrets"]["types"]
    assert set(types) == set(CREDENTIAL_TYPES)
    assert types["database"]["ssh_tunnel.private_key"]["sent"] is True
    for fields in types.values():
        for name, cell in fields.items():
            assert "bodies" in cell["proven"], name
    # The exchanges say which key sent each one.
    roles = {e["key_role"] for e in report["exchanges"]}
    assert {"primary", "second", "read-only", "no key", "near-miss"} <= roles
    # The terminal table.
    assert re.search(r"transitions\s+100\.0%", default_run.out)
    assert re.search(r"isolation\s+100\.0%", default_run.out)


def test_the_html_report_holds_no_canary_and_no_piece_of_a_key(default_run: DefaultRun) -> None:
    page = (default_run.folder / "report.html").read_text()  # type: ignore[attr-defined]
    # The requests it shows carried canaries and keys (masked); none of them shows.
    assert "curl" in page and "***" in page
    assert default_run.ctx.detector.canaries
    assert default_run.ctx.detector.scan(page) == []
    assert not KeyMask(default_run.keys).found(page)
    assert "CONFORMANT" in page
    for heading in ("operations", "statuses", "isolation", "secrets", "transitions"):
        assert f'id="{heading}"' in page
    # Self-contained: nothing to fetch.
    assert not re.search(r"""(src|href)\s*=|@import|url\(|<script""", page, re.IGNORECASE)


class RestoreUnreachable:
    """The fake behind a front that answers 404 to every restore."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST" and request.path.rstrip("/").endswith("/restore"):
            body = json.dumps({"error": {"code": "not_found", "message": "not found"}})
            return Response(body, 404, content_type="application/json")(environ, start_response)
        return self.app(environ, start_response)


def test_fail_under_transitions_names_the_unreachable_restore(tmp_path: Path) -> None:
    from mockserver.app import create_app

    a, b, r = _keys()
    app = RestoreUnreachable(create_app(keys={a: "ws_a", b: "ws_b"}, read_only_keys={r: "ws_a"}))
    out = io.StringIO()
    with serve_wsgi(app) as url:
        ctx = KitContext.build(url, a, second_api_key=b, read_only_api_key=r)
        reporters = [lambda res: write_html_report(res, tmp_path / "r.html")]
        runner = Runner(
            ctx,
            out=out,
            only={"lifecycle", "secret-non-echo"},
            reporters=reporters,
            fail_under={"transitions": 100.0},
        )
        result = runner.run()
    assert result.exit_code == EXIT_VIOLATIONS
    [gap] = result.coverage_gaps
    assert gap.startswith("transitions coverage ")
    assert "deleted → active" in gap
    assert "deleted → active" in result.coverage["transitions"]["missing"]
    assert f"COVERAGE GAP: {gap}" in out.getvalue()
    # The HTML shows the gap, the violations the run found, and each one's source.
    page = (tmp_path / "r.html").read_text()
    assert "deleted → active" in page
    assert result.findings
    assert all(html.escape(f.message) in page for f in result.findings)
    assert all(html.escape(str(f.source)) in page for f in result.findings if f.source)


def test_the_gate_alone_fails_a_conformant_run(tmp_path: Path, capsys: Any) -> None:
    """No finding at all: the exit code is the gap's, with the missing cells named."""
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    code = main(
        [
            "run",
            "--target",
            "fake",
            "--check",
            "auth-isolation",
            "--fail-under",
            "transitions=100",
            "--fail-under",
            "isolation=0",
            "--report",
            str(report),
            "--junitxml",
            str(junit),
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_VIOLATIONS, out
    data = json.loads(report.read_text())
    assert data["findings"] == []
    [gap] = data["coverage_gaps"]
    assert "transitions" in gap and "deleted → active" in gap
    assert "COVERAGE BELOW --fail-under" in out
    assert 'name="coverage: transitions"' in junit.read_text()


@pytest.mark.parametrize(
    "value", ["transition=100", "transitions", "transitions=abc", "transitions=101", "=5"]
)
def test_a_bad_fail_under_is_a_one_line_usage_error(value: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--target", "fake", "--fail-under", value])
    assert stopped.value.code == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--fail-under" in err


def test_fail_under_reads_kind_and_percent() -> None:
    assert fail_under_arg("transitions=100") == ("transitions", 100.0)
    assert fail_under_arg(" secrets=87.5") == ("secrets", 87.5)


def test_the_html_escapes_every_text_of_the_report() -> None:
    from contracts.kit.coverage.html import html_text

    hostile = '<script>alert(1)</script>"&'
    document = {
        "exit_code": 1,
        "error": hostile,
        "findings": [
            {
                "check": hostile,
                "message": hostile,
                "phase": hostile,
                "source": {"kind": "page", "name": hostile, "text": hostile},
                "details": [hostile],
                "sequence": [hostile],
            }
        ],
        "expectations": [{"check": "x", "message": hostile}],
        "coverage_gaps": [hostile],
        "coverage": {
            "transitions": {"transitions": {hostile: {"count": 1, "requests": [hostile]}}},
            "isolation": {"roles": {hostile: hostile}, "routes": {hostile: {}}},
        },
    }
    page = html_text(hostile, document)
    assert "<script" not in page and "alert(1)</script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 10


def test_an_unwritable_html_path_is_refused_before_any_request(tmp_path: Path, capsys: Any) -> None:
    code = main(["run", "--target", "fake", "--html", str(tmp_path / "missing" / "r.html")])
    assert code == EXIT_ERROR
    err = capsys.readouterr().err
    assert "--html" in err and err.count("\n") == 1
