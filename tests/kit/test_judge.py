"""The traffic judge, exchange by exchange: each check seen failing, and each
SPEC.md alternative (and each honest coincidence) seen passing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.kit.traffic.judge import MIN_SECRET_LENGTH, Judge
from contracts.kit.traffic.observed import Observed

KEY = "plnx_test_judge_key"
T0 = "2026-01-01T00:00:00Z"


class Traffic:
    """Feeds a judge exchanges one after another, a second apart."""

    def __init__(self) -> None:
        self.judge = Judge()
        self.clock = 0.0

    def send(
        self,
        method: str,
        path: str,
        status: int,
        answer: Any = None,
        body: Any = None,
        headers: list[tuple[str, str]] | None = None,
        started: float | None = None,
    ) -> list[str]:
        self.clock += 1
        start = self.clock if started is None else started
        observed = Observed(
            method=method,
            url=path,
            request_headers=[("Authorization", f"Bearer {KEY}")],
            request_body=json.dumps(body).encode() if body is not None else None,
            status=status,
            response_headers=[("Content-Type", "application/json"), *(headers or [])],
            response_body=json.dumps(answer).encode() if answer is not None else b"",
            started=start,
            finished=start + 0.5,
        )
        return [f"{v.check}: {v.message}" for v in self.judge.judge(observed)]


def view(cred_id: str, name: str = "n", status: str = "active", **config: Any) -> dict[str, Any]:
    return {
        "id": cred_id,
        "name": name,
        "type": "password",
        "status": status,
        "created_at": T0,
        "updated_at": T0,
        "config": config or {"username": "u"},
    }


def one(data: Any) -> dict[str, Any]:
    return {"data": data}


def page(*items: Any) -> dict[str, Any]:
    return {"data": list(items), "meta": {"page": {"limit": 50, "cursor": None}}}


ERROR = {"error": {"code": "conflict", "message": "no", "request_id": "req_1"}}
DELETED = {"id": "cred_a", "status": "deleted", "deleted_at": T0}
RESTORED = {"id": "cred_a", "status": "active", "deleted_at": None}


def created(t: Traffic, cred_id: str = "cred_a", name: str = "n", **config: Any) -> None:
    body = {"name": name, "type": "password", "config": {"username": "u", **config}}
    assert t.send("POST", "/api/credentials", 201, one(view(cred_id, name)), body) == []


def test_undeclared_status_and_invalid_bodies() -> None:
    t = Traffic()
    assert t.send("GET", "/api/credentials/cred_a", 418, ERROR)[0].startswith("undeclared-status")
    got = t.send("GET", "/api/credentials/cred_a", 200, {"data": {"id": 5}})
    assert got and got[0].startswith("response-schema")
    got = t.send("GET", "/api/credentials", 500, None)
    assert [g.split(":")[0] for g in got] == ["undeclared-status"]
    # A documented error on any route is the route's to give, as `run` judges it, and
    # its body may be of any shape (the page has no error section): not JSON, here.
    assert t.send("GET", "/api/credentials", 404, None) == []
    # Not our API: forwarded, scanned for secrets, otherwise not judged.
    assert t.send("GET", "/index.html", 418, None) == []


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_is_not_the_apis_answer(status: int) -> None:
    # As in `run`'s status-codes check: the proxy and the kit judge statuses alike.
    assert Traffic().send("GET", "/api/credentials", status, ERROR) == []


def test_request_schema_only_when_the_deployment_accepts_it() -> None:
    t = Traffic()
    bad = {"name": "x", "type": "smtp", "config": {}}
    assert t.send("POST", "/api/credentials", 400, ERROR, bad) == []
    got = t.send("POST", "/api/credentials", 201, one(view("cred_a")), bad)
    assert got == ["request-schema: create with an undocumented type was accepted"]


def test_a_secret_of_a_credential_created_elsewhere_is_remembered() -> None:
    """An update of a credential the proxy never saw created: its type is unknown.
    `key` is secret for api_key and no public field of any type, so its echo counts."""
    t = Traffic()
    secret = "k3y-Value-Zq9xW2vB7nL4-unseen"
    assert t.send("PUT", "/api/credentials/cred_z", 404, ERROR, {"config": {"key": secret}}) == []
    leak = one({**view("cred_a"), "hint": secret})
    assert t.send("GET", "/api/credentials/cred_a", 200, leak)[0].startswith("secret-non-echo")


def test_secrets_in_any_encoding_and_short_ones_skipped() -> None:
    t = Traffic()
    secret = "s3cr3t-Value-Zq9xW2vB7nL4"
    created(t, password=secret, **{"host": "ftp.example.com"})
    leak = one({**view("cred_a"), "hint": secret[3:17]})
    assert t.send("GET", "/api/credentials/cred_a", 200, leak)[0].startswith("secret-non-echo")
    header = [("X-Debug", json.dumps({"p": secret}).encode().hex())]
    got = t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a")), headers=header)
    assert got == [
        "secret-non-echo: get answered 200 with a secret a request carried, in header X-Debug"
    ]
    short = "pw-" + "x" * (MIN_SECRET_LENGTH - 4)
    created(t, "cred_b", "m", password=short)
    assert t.send("GET", "/api/credentials/cred_b", 200, one({**view("cred_b"), "e": short})) == []
    assert t.judge.secrets.short_skipped == 1
    assert secret not in json.dumps(t.judge.as_json())


def test_public_values_that_share_text_with_a_secret_are_no_leak() -> None:
    """A service-account JSON repeats the project id, the email and Google's endpoints."""
    t = Traffic()
    sa = {
        "type": "service_account",
        "project_id": "analytics-prod-4711",
        "client_email": "loader@analytics-prod-4711.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
        "private_key": "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAAS",
    }
    public = {"project_id": sa["project_id"], "service_account_email": sa["client_email"]}
    body = {"name": "g", "type": "gcp", "config": {**public, "service_account_json": sa}}
    answer = {**view("cred_g"), "type": "gcp", "config": public}
    assert t.send("POST", "/api/credentials", 201, one(answer), body) == []
    listing = page({**answer, "token_url": "https://oauth2.googleapis.com/token"})
    assert t.send("GET", "/api/credentials", 200, listing) == []
    leaked = {**answer, "config": {**public, "key_id": sa["private_key"][27:45]}}
    assert t.send("GET", "/api/credentials/cred_g", 200, one(leaked))[0].startswith("secret")


def test_status_moves_only_through_delete_and_restore() -> None:
    t = Traffic()
    created(t)
    assert t.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED)) == []
    got = t.send("PUT", "/api/credentials/cred_a", 200, one(view("cred_a")), {"name": "n"})
    assert got == ["lifecycle: invariant 4: update moved status from deleted to active"]
    t2 = Traffic()
    created(t2)
    got = t2.send("GET", "/api/credentials", 200, page(view("cred_a", status="deleted")))
    assert got[0].startswith("lifecycle: invariant 4: status moved from active to deleted")


def test_a_view_that_raced_a_change_is_not_evidence() -> None:
    t = Traffic()
    created(t)
    t.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED))
    delete_started = t.clock
    # A list that started before the delete ended may show the credential still active.
    assert (
        t.send("GET", "/api/credentials", 200, page(view("cred_a")), started=delete_started) == []
    )


def test_names_are_never_held_twice_by_active_credentials() -> None:
    t = Traffic()
    created(t, "cred_a", "same")
    got = t.send(
        "GET", "/api/credentials", 200, page(view("cred_a", "same"), view("cred_b", "same"))
    )
    assert got and "invariant 5: one list page" in got[0]
    t2 = Traffic()
    created(t2, "cred_a", "same")
    body = {"name": "same", "type": "password", "config": {"username": "u"}}
    got = t2.send("POST", "/api/credentials", 201, one(view("cred_b", "same")), body)
    assert got and "invariant 5: create made two active credentials share a name" in got[0]


def test_restore_must_bring_back_what_delete_took() -> None:
    t = Traffic()
    created(t)
    t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a", username="u", host="h")))
    t.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED))
    t.send("POST", "/api/credentials/cred_a/restore", 200, one(RESTORED))
    got = t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a", username="u")))
    assert got == ["lifecycle: invariant 2: restore did not bring back what delete took: config"]
    # A full restore body is judged at once; a renamed one fails on its name.
    t2 = Traffic()
    created(t2)
    t2.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED))
    restored = {**view("cred_a", "other"), "deleted_at": None}
    got = t2.send("POST", "/api/credentials/cred_a/restore", 200, one(restored))
    assert got == ["lifecycle: invariant 2: restore did not bring back what delete took: name"]


def test_a_purged_id_stays_gone() -> None:
    t = Traffic()
    created(t)
    t.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED))
    assert (
        t.send(
            "DELETE",
            "/api/credentials/cred_a/permanent",
            200,
            one({"id": "cred_a", "purged": True}),
        )
        == []
    )
    assert t.send("GET", "/api/credentials/cred_a", 404, ERROR) == []
    assert "invariant 3" in t.send("GET", "/api/credentials", 200, page(view("cred_a")))[0]
    assert "invariant 3" in t.send("POST", "/api/credentials/cred_a/restore", 200, one(RESTORED))[0]


@pytest.mark.parametrize("alternative", ["fake", "spec alternatives"])
def test_every_spec_alternative_is_accepted(alternative: str) -> None:
    """GET of a deleted id 404, delete of a deleted one 409, restore of an active one 409,
    purge of an active one 409, update of a deleted one allowed, names of deleted
    ones freed (and a clashing restore refused), full delete/restore bodies, no
    deleted_at, extra non-secret fields, create 200, validation 422."""
    alt = alternative != "fake"
    t = Traffic()
    body = {"name": "n", "type": "password", "config": {"username": "u"}}
    extra = {"etag": "w/1"} if alt else {}
    assert (
        t.send(
            "POST", "/api/credentials", 200 if alt else 201, one({**view("cred_a"), **extra}), body
        )
        == []
    )
    assert t.send("POST", "/api/credentials", 422 if alt else 400, ERROR, {"name": 1}) == []
    assert t.send("GET", "/api/credentials?limit=0", 422 if alt else 400, ERROR) == []
    assert (
        t.send(
            "POST",
            "/api/credentials/cred_a/restore",
            409 if alt else 200,
            ERROR if alt else one(RESTORED),
        )
        == []
    )
    assert t.send("DELETE", "/api/credentials/cred_a/permanent", 409, ERROR) == [] if alt else True
    deleted_view = {**view("cred_a", status="deleted"), "deleted_at": T0}
    assert (
        t.send("DELETE", "/api/credentials/cred_a", 200, one(deleted_view if alt else DELETED))
        == []
    )
    assert (
        t.send(
            "DELETE", "/api/credentials/cred_a", 409 if alt else 200, ERROR if alt else one(DELETED)
        )
        == []
    )
    assert (
        t.send(
            "GET",
            "/api/credentials/cred_a",
            404 if alt else 200,
            ERROR if alt else one(deleted_view),
        )
        == []
    )
    if alt:
        # the deleted one's name is free; updating the deleted one keeps it deleted
        assert (
            t.send(
                "PUT",
                "/api/credentials/cred_a",
                200,
                one({**view("cred_a", status="deleted"), "config": {"username": "v"}}),
                {"config": {"username": "v"}},
            )
            == []
        )
        assert t.send("POST", "/api/credentials", 200, one(view("cred_b")), body) == []
        assert t.send("POST", "/api/credentials/cred_a/restore", 409, ERROR) == []
        assert (
            t.send("DELETE", "/api/credentials/cred_b", 200, one(DELETED | {"id": "cred_b"})) == []
        )
        restored = {**view("cred_a"), "config": {"username": "v"}, "deleted_at": None}
        assert t.send("POST", "/api/credentials/cred_a/restore", 200, one(restored)) == []
        assert (
            t.send("GET", "/api/credentials", 200, page(restored, view("cred_b", status="deleted")))
            == []
        )
    else:
        assert t.send("PUT", "/api/credentials/cred_a", 409, ERROR, {"name": "x"}) == []
        assert t.send("POST", "/api/credentials/cred_a/restore", 200, one(RESTORED)) == []
        assert t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a"))) == []
    assert t.judge.violations == []


def test_printed_bodies_show_only_documented_public_fields() -> None:
    """An allowlist: a misspelled secret field, a top-level one, or a config that is
    not an object is masked, not printed."""
    from contracts.kit.traffic.observed import masked_body

    secrets_ = [f"CANARY-{n}-Zq9xW2vB7nL4" for n in range(5)]
    bodies = [
        {"name": "n", "type": "password", "config": {"username": "u", "passwd": secrets_[0]}},
        {"name": "n", "config": json.dumps({"password": secrets_[1]}), "password": secrets_[2]},
        {"config": {"host": "h", "key": secrets_[3], "ssh_tunnel": {"passphrase": secrets_[4]}}},
    ]
    printed = " ".join(masked_body(json.dumps(b).encode()) for b in bodies)
    assert not any(s in printed for s in secrets_), printed
    assert '"username":"u"' in printed and '"host":"h"' in printed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/credentials"),
        ("POST", "/api/credentials"),
        ("GET", "/api/credentials/cred_a"),
        ("PUT", "/v1/api/credentials/cred_a"),
        ("DELETE", "/api/credentials/cred_a"),
        ("POST", "/api/credentials/cred_a/restore"),
        ("DELETE", "/api/credentials/cred_a/permanent"),
    ],
)
def test_the_proxy_and_run_allow_the_same_statuses(method: str, path: str) -> None:
    from contracts.kit.exchange import Exchange
    from contracts.kit.statuses import status_problem

    for status in range(200, 600):
        body = ERROR if status >= 400 else None
        judged = [
            g for g in Traffic().send(method, path, status, body) if g.startswith("undeclared")
        ]
        exchange = Exchange(0, method, "http://h" + path, {}, None, status=status)
        assert bool(judged) == (status_problem(exchange) is not None), status


def test_an_update_answered_without_the_metadata_leaves_restore_unjudged() -> None:
    # The update changed the config, but its answer did not show it: the view
    # from before the update is no longer what a restore must bring back.
    t = Traffic()
    created(t)
    t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a", username="u")))
    t.send(
        "PUT", "/api/credentials/cred_a", 200, one({"id": "cred_a"}), {"config": {"username": "v"}}
    )
    t.send("DELETE", "/api/credentials/cred_a", 200, one(DELETED))
    t.send("POST", "/api/credentials/cred_a/restore", 200, one(RESTORED))
    got = t.send("GET", "/api/credentials/cred_a", 200, one(view("cred_a", username="v")))
    assert not [g for g in got if "invariant 2" in g], got


def test_an_observed_exchange_shows_no_key_or_body_in_its_repr() -> None:
    observed = Observed(
        method="POST",
        url="/api/credentials",
        request_headers=[("Authorization", "Bearer plnx_repr_key_91c2")],
        request_body=b'{"config": {"password": "repr-canary-5d7e"}}',
        status=201,
        response_headers=[],
        response_body=b'{"data": {"note": "repr-canary-5d7e"}}',
        started=0.0,
        finished=0.0,
    )
    shown = repr(observed)
    assert "plnx_repr_key_91c2" not in shown and "repr-canary-5d7e" not in shown
