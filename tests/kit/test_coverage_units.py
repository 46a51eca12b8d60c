"""Kit coverage read from hand-made exchanges: isolation, secrets, operations, the gate."""

from __future__ import annotations

import html
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts.kit.client import NEAR_MISS, NO_KEY
from contracts.kit.coverage.html import html_text
from contracts.kit.coverage.isolation import BROKEN, PROVEN, UNTRIED, isolation
from contracts.kit.coverage.operations import BEARER, LEGACY, NO_AUTH, operations
from contracts.kit.coverage.secrets import BODIES, ERRORS, HEADERS, LISTS, PAGES, secrets
from contracts.kit.coverage.summary import Coverage, traffic_coverage
from contracts.kit.exchange import Exchange

BASE = "http://127.0.0.1:1"
C = "/api/credentials"


def _ex(
    seq: int,
    method: str,
    path: str,
    status: int,
    body: object = None,
    *,
    role: str = "primary",
    sent: object = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    return Exchange(
        seq=seq,
        method=method,
        url=BASE + path,
        request_headers=headers if headers is not None else {"Authorization": "Bearer ***"},
        request_body=json.dumps(sent) if sent is not None else None,
        status=status,
        response_body=json.dumps(body) if body is not None else "",
        key_role=role,
    )


def test_isolation_cells_are_proven_broken_or_untried() -> None:
    made = {"data": {"id": "cred_a"}}
    cover = isolation(
        [
            _ex(1, "POST", C, 201, made),
            _ex(2, "GET", f"{C}/cred_a", 404, role="second"),
            _ex(3, "PUT", f"{C}/cred_a", 200, made, role="second"),  # served: a leak
            _ex(4, "DELETE", f"{C}/cred_a", 401, role=NO_KEY),
            _ex(5, "DELETE", f"{C}/cred_a", 401, role=NEAR_MISS),
            _ex(6, "GET", C, 200, {"data": []}, role="second"),
            _ex(7, "POST", f"{C}/cred_a/restore", 403, role="read-only"),
            _ex(8, "GET", C, 200, {"data": [{"id": "cred_a"}]}, role="second"),  # shows it
        ]
    )
    assert cover.cells[("get", "second")] == PROVEN
    assert cover.cells[("update", "second")] == BROKEN
    assert cover.cells[("delete", NO_KEY)] == PROVEN
    assert cover.cells[("delete", NEAR_MISS)] == PROVEN
    assert cover.cells[("restore", "read-only")] == PROVEN
    assert cover.cells[("list", "second")] == BROKEN  # once broken, always broken
    assert cover.cells[("purge", "second")] == UNTRIED
    assert ("get", "read-only") not in cover.cells  # reading is what a read-only key may do
    assert "purge with the second workspace key (untried)" in cover.missing
    assert 0 < cover.percent < 100


def test_a_second_key_on_its_own_or_a_made_up_id_proves_nothing() -> None:
    cover = isolation(
        [
            _ex(1, "POST", C, 201, {"data": {"id": "cred_b"}}, role="second"),
            _ex(2, "GET", f"{C}/cred_b", 404, role="second"),
            _ex(3, "GET", f"{C}/cred_zz", 404, role="second"),
        ]
    )
    assert cover.cells[("get", "second")] == UNTRIED


def _create(seq: int, type_: str, config: dict[str, object], status: int = 201) -> Exchange:
    body = {"name": "n", "type": type_, "config": config}
    answer = {"data": {"id": f"cred_{seq}"}} if status < 300 else {"error": {"code": "x"}}
    return _ex(seq, "POST", C, status, answer, sent=body)


def test_secret_channels_need_a_canary_sent_and_a_clean_answer_about_it() -> None:
    exchanges = [
        # A canary in password (masked in the record); username is no secret.
        _create(1, "password", {"username": "u", "password": "***"}),
        _ex(2, "GET", C, 200, {"data": [{"id": "cred_1"}]}),
        _ex(3, "GET", C + "?limit=1&cursor=abc", 200, {"data": [{"id": "cred_1"}]}),
        # A refused create carrying a canary in aws's secret_access_key.
        _create(4, "aws", {"access_key_id": "AKIA", "secret_access_key": "***"}, status=400),
        # An azure secret sent, but the answer leaked: withheld, proves nothing.
        _create(5, "azure", {"client_secret": "***"}),
    ]
    exchanges[-1].response_body = "<withheld: it contains a secret the kit sent>"
    cover = secrets(exchanges)
    assert cover.proven[("password", "password")] == {BODIES, HEADERS, LISTS, PAGES}
    assert cover.proven[("aws", "secret_access_key")] == {ERRORS, HEADERS}
    assert cover.proven[("azure", "client_secret")] == {HEADERS}
    assert ("azure", "client_secret") in cover.sent
    assert cover.proven[("aws", "session_token")] == set()  # never sent
    assert "password.password: error bodies" in cover.missing


def test_operations_served_cells_and_documented_statuses() -> None:
    legacy = {"X-Planasonix-Api-Key": "***"}
    cover = operations(
        [
            _ex(1, "GET", C, 200, {"data": []}),
            _ex(2, "GET", "/v1" + C, 200, {"data": []}, headers=legacy),
            _ex(3, "GET", C, 401, role=NO_KEY, headers={}),
            _ex(4, "POST", C, 201, {"data": {"id": "x"}}),
            _ex(5, "GET", f"{C}/x", 418),
        ],
        prefixes=("/api", "/v1/api"),
        auth_forms=(BEARER, LEGACY),
    )
    cells = cover.cells
    assert cells[("list", "/api", BEARER)].exercised
    assert cells[("list", "/v1/api", LEGACY)].exercised
    assert not cells[("list", "/api", NO_AUTH)].served
    assert "list under /v1/api with Authorization: Bearer" in cover.missing
    assert len(cover.served_cells) == 7 * 2 * 2
    statuses = cover.statuses_json()["operations"]
    assert isinstance(statuses, dict)
    assert statuses["create"]["seen"] == {"201|200": 1}
    assert statuses["get"]["undocumented_seen"] == ["418"]
    assert "list 401" not in cover.statuses_missing and "list 429" in cover.statuses_missing


def test_the_gate_names_the_missing_cells_of_each_kind_under_its_threshold() -> None:
    cover: Coverage = traffic_coverage([_ex(1, "POST", C, 201, {"data": {"id": "a"}})])
    assert cover.gaps({"operations": 0.0}) == []
    [gap] = cover.gaps({"transitions": 50.0})
    assert gap.startswith("transitions coverage 0.0% is under --fail-under transitions=50")
    assert "create → get" in gap and "(and " in gap
    [gap] = cover.gaps({"secrets": 10.0})
    assert "not measured" in gap  # watched traffic has no canaries of its own


@given(st.text().map(lambda t: f"<i>{t}&</i>"))
def test_any_text_of_a_report_reaches_the_page_escaped(text: str) -> None:
    finding = {"check": text, "message": text, "details": [text], "sequence": [text]}
    page = html_text(text, {"exit_code": 1, "error": text, "findings": [finding]})
    assert html.escape(text, quote=True) in page
    assert "<i>" not in page  # the page itself uses no <i>: any one would be the text's


def test_an_answer_nested_too_deep_is_read_as_no_body() -> None:
    from contracts.kit.coverage.summary import run_coverage

    deep = "[" * 100000 + "]" * 100000
    made = _ex(1, "POST", C, 201, sent={"name": "n", "type": "password", "config": {}})
    made.response_body = deep
    listed = _ex(2, "GET", C, 200, role="second")
    listed.response_body = deep
    cover = run_coverage([made, listed], ("",), False)
    assert cover.transitions.missing and cover.isolation is not None


def test_served_prefixes_are_named_by_the_urls_sent_whatever_the_base_url() -> None:
    from contracts.kit.coverage.summary import served_forms

    # Both served under http://host; only /v1 (the base moved there, or given so);
    # a base path of an edge proxy in front of a deployment serving /api only.
    assert served_forms(("", "/v1"), False)[0] == ("/api", "/v1/api")
    assert served_forms(("",), False, "/v1")[0] == ("/v1/api",)
    assert served_forms(("",), True, "/edge/planasonix") == (("/api",), (BEARER, LEGACY))
    # Exchanges under /v1/api with the base at /v1 cover every served cell.
    sent = [_ex(n, "GET", "/v1" + C, 200) for n in (1, 2)]
    served, forms = served_forms(("",), False, "/v1")
    assert operations(sent, served, forms).cells[("list", "/v1/api", BEARER)].exercised


def test_a_coverage_that_cannot_be_measured_keeps_the_verdict(monkeypatch: Any) -> None:
    import io
    import secrets as pysecrets

    from contracts.kit.cli import runner as runner_module
    from contracts.kit.context import KitContext
    from contracts.kit.fake_target import serve_fake

    def broken(*args: object) -> Coverage:
        raise RuntimeError("no")

    monkeypatch.setattr(runner_module, "run_coverage", broken)
    key = "plnx_test_" + pysecrets.token_hex(12)
    with serve_fake({key: "ws_a"}) as url:
        ctx = KitContext.build(url, key)
        gate = {"transitions": 100.0}
        result = runner_module.Runner(
            ctx, out=io.StringIO(), only={"pagination"}, fail_under=gate
        ).run()
    assert result.findings == [] and result.error == ""
    assert result.coverage["error"].startswith("coverage could not be measured: RuntimeError")
    assert result.coverage_gaps and result.coverage_gaps[0].startswith("transitions: ")
    assert result.exit_code == 1


def test_the_html_verdict_of_a_pass_that_left_probes_out_says_partly_checked() -> None:
    passed = {"exit_code": 0, "findings": [], "not_run": ["secret-non-echo: a create: refused"]}
    page = html_text("run", passed)
    assert "CONFORMANT (partly checked: 1 probe(s) could not run) (exit 0)" in page
    assert "partly checked" not in html_text("run", {**passed, "not_run": []})
