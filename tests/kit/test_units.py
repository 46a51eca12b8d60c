"""Unit tests of the kit's parts: canary detector, client, learned choices."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import signal
import urllib.parse
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from contracts.kit.canaries import EDGE, FRAGMENT, CanaryDetector, CanaryFactory
from contracts.kit.cli.cleanup import is_kit_prefix
from contracts.kit.cli.runner import Runner
from contracts.kit.client import Budget, Client, CreatedIds, Recorder
from contracts.kit.context import KitContext, run_prefix
from contracts.kit.fake_target import serve_wsgi
from contracts.kit.model import Choices
from contracts.kit.violations import BudgetExhausted, ContractViolation, Unsafe


@pytest.fixture
def factory() -> CanaryFactory:
    return CanaryFactory(CanaryDetector(), key=b"k" * 32)


@pytest.mark.parametrize(
    "encode",
    [
        lambda c: c,
        lambda c: json.dumps({"v": c}),
        lambda c: urllib.parse.quote(c),
        lambda c: c.encode().hex(),
        lambda c: c.encode().hex().upper(),
        lambda c: base64.b64encode(c.encode()).decode(),
        lambda c: base64.b64encode(b"x" + c.encode()).decode(),
        lambda c: base64.b64encode(b"xy" + c.encode()).decode(),
        lambda c: base64.urlsafe_b64encode(b'{"secret":"' + c.encode() + b'"}').decode(),
        lambda c: c[5 : 5 + FRAGMENT],
    ],
)
def test_a_canary_is_found_in_every_encoding(factory: CanaryFactory, encode: Any) -> None:
    others = [factory.fresh() for _ in range(20)]
    canary = others[7]
    haystack = '{"data": {"name": "x"}, "note": "' + encode(canary) + '"} trailing text'
    leaks = factory.detector.scan(haystack)
    assert [leak.canary_index for leak in leaks] == [7]


def test_short_fragments_and_ordinary_text_are_not_leaks(factory: CanaryFactory) -> None:
    canary = factory.fresh()
    assert factory.detector.scan(canary[3 : 3 + EDGE - 1]) == []  # under 6 characters
    assert factory.detector.scan(canary[3 : 3 + EDGE])  # 6 are a leak
    text = json.dumps([{"id": f"cred_{i:016d}", "name": f"n{i}"} for i in range(500)])
    assert factory.detector.scan(text) == []


def test_canaries_are_replayable_and_distinct(factory: CanaryFactory) -> None:
    assert factory.derive(3) == factory.derive(3)
    assert len({factory.derive(i) for i in range(50)} | {factory.fresh() for _ in range(50)}) == 100


def test_headers_are_scanned_and_masking_hides_canaries(factory: CanaryFactory) -> None:
    canary = factory.fresh()
    leaks = factory.detector.scan_headers({"X-Debug": canary})
    assert leaks and leaks[0].where == "header X-Debug"
    assert canary not in factory.detector.mask(f"a {canary} b")


class Script:
    """A WSGI app answering from a list of (status, headers, body)."""

    def __init__(self, answers: list[tuple[int, dict[str, str], Any]]) -> None:
        self.answers = answers
        self.seen: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.seen.append(request.headers.get("Authorization", ""))
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers.update(headers)
        return response(environ, start_response)


def _client(url: str, budget: int | None = None, sleeps: list[float] | None = None) -> Client:
    return Client(
        url,
        "plnx_live_secretkey",
        detector=CanaryDetector(),
        budget=Budget(budget),
        recorder=Recorder(),
        ids=CreatedIds(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )


EMPTY = {"data": [], "meta": {"page": {"limit": 50, "cursor": None}}}
RATE = {"error": {"code": "rate_limited", "message": "slow down", "request_id": "r"}}


def test_429_is_retried_after_retry_after() -> None:
    app = Script([(429, {"Retry-After": "2"}, RATE), (429, {}, RATE), (200, {}, EMPTY)])
    sleeps: list[float] = []
    with serve_wsgi(app) as url:
        client = _client(url, sleeps=sleeps)
        reply = client.list()
    assert reply.status == 200
    assert sleeps[0] == 2.0 and len(sleeps) == 2
    assert client.budget.used == 3


def test_a_429_without_retry_after_is_the_rate_limit_expectation_once() -> None:
    app = Script([(429, {}, RATE), (429, {}, RATE), (200, {}, EMPTY)])
    with serve_wsgi(app) as url:
        client = _client(url)
        reply = client.list()
    assert reply.status == 200
    noted = [p for p in client.soft_violations if p.kind == "expectation"]
    assert [(p.source.name if p.source else None) for p in noted] == ["rate_limit"]
    assert "without Retry-After" in noted[0].message


def test_a_429_with_retry_after_meets_the_expectation() -> None:
    app = Script([(429, {"Retry-After": "1"}, RATE), (200, {}, EMPTY)])
    with serve_wsgi(app) as url:
        client = _client(url)
        client.list()
    assert client.soft_violations == []


def test_the_budget_is_never_exceeded_and_keeps_a_cleanup_reserve() -> None:
    with serve_wsgi(Script([(200, {}, EMPTY)])) as url:
        client = _client(url, budget=3)
        client.budget.reserve = lambda: 1
        client.list()
        client.list()
        with pytest.raises(BudgetExhausted):
            client.list()
        client.request("GET", "/api/credentials", cleanup=True, final=True)
        assert client.budget.used == 3


def test_recorded_exchanges_mask_the_key_and_canaries() -> None:
    with serve_wsgi(Script([(200, {}, EMPTY)])) as url:
        client = _client(url)
        canary = client.detector.add("S" * 8 + "canaryvalue1234567890")
        client.request("POST", "/api/other", json_body={"password": canary}, validate=False)
    exchange = client.recorder.exchanges[-1]
    line = exchange.curl()
    assert "plnx_live_secretkey" not in line and canary not in line
    assert "Bearer ***" in line


def test_a_leak_raises_and_its_body_is_withheld() -> None:
    detector = CanaryDetector()
    canary = detector.add("Zq8" * 10)
    body = {"error": {"code": "bad", "message": f"bad value {canary}", "request_id": "r"}}
    with serve_wsgi(Script([(400, {}, body)])) as url:
        client = _client(url)
        client.detector = detector
        with pytest.raises(ContractViolation) as caught:
            client.list()
    assert caught.value.check == "secret-non-echo"
    assert canary not in json.dumps(caught.value.exchange.as_json())  # type: ignore[union-attr]


def test_the_client_refuses_ids_this_run_did_not_create() -> None:
    with serve_wsgi(Script([(200, {}, EMPTY)])) as url:
        client = _client(url)
        with pytest.raises(Unsafe):
            client.get("cred_somebodyelses")
        client.get(client.fabricate_id(), validate=False)


def test_choices_are_learned_once_then_held() -> None:
    choices = Choices()
    choices.hold("GET of a soft-deleted id", "404", None)
    choices.hold("GET of a soft-deleted id", "404", None)
    with pytest.raises(ContractViolation, match="invariant 6"):
        choices.hold("GET of a soft-deleted id", "200", None)
    with pytest.raises(ContractViolation, match="allows only"):
        choices.hold("create status code", "204", None)  # no body: not "2xx with the metadata"


def test_a_create_keeps_back_the_cleanup_of_what_it_may_create() -> None:
    """With 2 of 5 requests held for one live credential, a list still fits but a
    create does not: it could add a credential whose cleanup needs 2 more."""
    budget = Budget(5)
    ids = CreatedIds()
    ids.add("cred_a", "primary")
    budget.reserve = ids.cleanup_cost
    budget.create_cost = 2
    budget.spend()
    with pytest.raises(BudgetExhausted):
        budget.spend(may_create=True)
    budget.spend()
    budget.spend()
    with pytest.raises(BudgetExhausted):
        budget.spend()
    budget.spend(cleanup=True)  # only the final cleanup may use the reserve
    budget.spend(cleanup=True)
    assert budget.used == 5
    with pytest.raises(BudgetExhausted):
        budget.spend(cleanup=True)


def test_the_cleanup_reserve_covers_every_key_for_a_credential_of_no_known_owner() -> None:
    ids = CreatedIds()
    ids.owners = {"primary", "second"}
    ids.add("cred_a", "primary")
    ids.add("cred_b", "unknown")
    assert ids.cleanup_cost() == 2 + 2 * 2
    ids.purged("cred_b")
    assert ids.cleanup_cost() == 2


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("plnx-contract-0123abcd-", True),
        ("plnx-contract-0123abcd", False),
        ("plnx-contract-0123ABCD-", False),
        ("plnx-contract-0123abcd-s1-", False),
        ("staging-", False),
        ("", False),
    ],
)
def test_only_the_kits_own_prefix_shape_may_be_cleaned(prefix: str, ok: bool) -> None:
    assert is_kit_prefix(prefix) is ok
    assert is_kit_prefix(run_prefix())


def test_a_swallowed_interrupt_still_stops_the_checks() -> None:
    """Python drops an exception raised in a garbage-collector callback (Hypothesis
    has one), so a Ctrl-C landing there is lost; the next request re-raises it."""
    reached: list[str] = []

    def phase(ctx: KitContext) -> None:
        try:
            runner._on_signal(signal.SIGINT)
        except KeyboardInterrupt:
            reached.append("swallowed")  # as a gc callback would
        ctx.client.list()
        reached.append("a request after the signal")

    with serve_wsgi(Script([(200, {}, EMPTY)])) as url:
        ctx = KitContext.build(url, "plnx_live_secretkey")
        runner = Runner(ctx, out=io.StringIO(), phases=[("lifecycle", phase)])
        result = runner.run()
    assert reached == ["swallowed"]
    assert result.error == "interrupted" and result.exit_code == 2


@pytest.mark.parametrize("raised", [AssertionError(), ContractViolation("lifecycle", "half-read")])
def test_what_a_phase_raises_after_a_signal_is_the_interruption(raised: Exception) -> None:
    """A Ctrl-C can land mid-request; what the phase then trips over is neither an
    error of the kit nor a violation of the deployment: the run was interrupted."""

    def phase(ctx: KitContext) -> None:
        # Swallowed, as a gc callback would; the phase then fails on its own.
        with contextlib.suppress(KeyboardInterrupt):
            runner._on_signal(signal.SIGINT)
        raise raised

    with serve_wsgi(Script([(200, {}, EMPTY)])) as url:
        ctx = KitContext.build(url, "plnx_live_secretkey")
        runner = Runner(ctx, out=io.StringIO(), phases=[("lifecycle", phase)])
        result = runner.run()
    assert result.error == "interrupted" and result.exit_code == 2
    assert result.findings == []


@pytest.mark.parametrize(
    ("sent", "answered", "same"),
    [
        ("db.example.com", "DB.EXAMPLE.COM", True),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00+00:00", True),
        ("2030-01-01T00:00:00Z", "2030-01-01T01:00:00+01:00", True),
        (["read", "Write"], ["READ", "write"], True),
        (5432, 5432.0, True),
        ("db.example.com", "db2.example.com", False),
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:01Z", False),
        (["read"], ["read", "write"], False),
        (5432, 5433, False),
        ("5432", 5432, True),  # the page gives config fields no types
        (5432, "5433", False),
    ],
)
def test_a_setting_written_back_in_another_spelling_is_the_same_setting(
    sent: object, answered: object, same: bool
) -> None:
    from contracts.kit.model import is_subset

    assert is_subset({"config": {"x": sent}}, {"config": {"x": answered}}) is same


def test_recorded_bodies_keep_no_secret_of_an_item_without_a_known_type() -> None:
    from contracts.kit.client import _without_secret_fields

    real = "REAL-secret-of-another-credential"
    body = {"data": [{"id": "cred_x", "config": {"password": real, "host": "h"}}]}
    kept = _without_secret_fields(body)
    assert real not in json.dumps(kept) and kept["data"][0]["config"]["host"] == "h"


def test_a_divergence_value_holding_an_encoded_canary_is_withheld(
    factory: CanaryFactory,
) -> None:
    from contracts.kit.profiles.diff import _masked

    canary = factory.fresh()
    client = Client(
        "http://127.0.0.1:9",
        "plnx_test_mask",
        detector=factory.detector,
        budget=Budget(None),
        recorder=Recorder(),
        ids=CreatedIds(),
    )
    encoded = base64.b64encode(canary.encode()).decode()
    assert _masked(client, {"note": encoded}) == "<withheld: holds a secret the kit sent>"
    assert canary not in json.dumps(_masked(client, {"note": canary}))
    assert _masked(client, {"host": "db.example.com"}) == {"host": "db.example.com"}


@pytest.mark.parametrize(("status", "accused"), [(502, False), (503, False), (500, True)])
def test_a_gateway_error_in_a_race_is_not_the_apis_answer(status: int, accused: bool) -> None:
    from contracts.kit.checks.names import _winners
    from contracts.kit.exchange import Exchange, Reply

    def reply(code: int) -> Reply:
        return Reply(code, {}, "", None, Exchange(0, "POST", "http://h/api/credentials", {}, None))

    replies = [reply(201), reply(status)]
    if accused:
        with pytest.raises(ContractViolation, match="expected 2xx or a refusal"):
            _winners(replies, "same-name creates")
    else:
        _winners(replies, "same-name creates")


def _reply(status: int, data: Any = None, seq: int = 1) -> Any:
    from contracts.kit.exchange import Exchange, Reply

    body = {"data": data} if data is not None else {"error": "refused"}
    exchange = Exchange(
        seq=seq,
        method="PUT",
        url="http://h/api/credentials",
        request_headers={},
        request_body=None,
        status=status,
    )
    return Reply(status, {}, json.dumps(body), body, exchange)


def test_a_deleted_one_whose_name_an_active_one_took_may_be_refused_on_update() -> None:
    """Names freed on delete, updates of deleted ones allowed: a PUT of the deleted one
    that keeps (or sends) its own name may still be refused for the clash with the
    active one that took the name since; that is not a change of answer."""
    from contracts.kit.model import Model

    model = Model(Choices())
    made = {"status": "active", "created_at": "2026-01-01T00:00:00Z"}
    made |= {"updated_at": "2026-01-01T00:00:00Z", "type": "password", "config": {}}
    body = {"name": "shared", "type": "password", "config": {}}
    old = model.creds[model.on_create(body, _reply(201, {**made, "id": "c1", **body})) or ""]
    gone = {"id": "c1", "status": "deleted", "deleted_at": "2026-01-02T00:00:00Z"}
    model.on_delete(old, _reply(200, gone))
    model.on_create(body, _reply(201, {**made, "id": "c2", **body}))
    deleted_view = {**made, **body, "id": "c1", "status": "deleted", **gone}
    model.on_update(old, {"config": {}}, _reply(200, deleted_view))
    assert model.choices.get("update of a soft-deleted one") == "200"
    model.on_update(old, {"name": "shared"}, _reply(409))  # the clash, not a new answer
    model.on_update(old, {}, _reply(409))
    # With no other holder of the name, a 409 after a 200 is still a change of answer.
    model.on_purge(model.creds["c2"], _reply(200, {"id": "c2", "purged": True}))
    with pytest.raises(ContractViolation, match="invariant 6"):
        model.on_update(old, {"name": "shared"}, _reply(409))


@pytest.mark.parametrize(
    ("role", "comment"),
    [
        ("primary", "# -> 200"),
        ("", "# -> 200"),
        ("second", "# -> 200 (sent with the second workspace's key)"),
        ("read-only", "# -> 200 (sent with the read-only key)"),
        ("no key", "# -> 200 (sent with no key)"),
    ],
)
def test_a_replayable_line_says_which_masked_key_it_was_sent_with(role: str, comment: str) -> None:
    from contracts.kit.exchange import Exchange

    sent = Exchange(
        seq=1,
        method="GET",
        url="http://h/api/credentials/cred_1",
        request_headers={"Authorization": "Bearer ***"},
        request_body=None,
        status=200,
        key_role=role,
    )
    assert sent.curl().endswith(
        "'Authorization: Bearer ***' http://h/api/credentials/cred_1    " + comment
    )
