"""Keys, scopes and workspaces under every way in the deployment serves.

The paths are served under ``/api``, ``/v1/api`` or both (discovered first:
:mod:`contracts.kit.checks.prefixes`), and the key goes in
``Authorization: Bearer`` or, when the deployment accepts it, in the legacy
``X-Planasonix-Api-Key`` header, so each probe here runs under every
combination the deployment serves. Every probe runs: a finding is recorded
and the next probe goes on.

- auth: no key, an unknown key, and near-miss keys (the valid key one
  character longer and one shorter, which a prefix comparison would accept)
  are 401; the valid key opens the listing;
- scopes (``--read-only-api-key``): every write route answers 403 and changes
  nothing;
- isolation (``--second-api-key``): every route on this workspace's ids
  answers 404 or 410 (:data:`HIDDEN`, as an unknown id) to the other
  workspace's key, never 2xx, 409 or 403, from a state where the call would
  change something (update and delete of an active credential, restore,
  update and purge of a soft-deleted one), and changes nothing. A second key
  without `connections:write` gets 403 on every write whatever the id, which
  tells nothing apart; its writes are then held to "changes nothing" alone.
"""

from __future__ import annotations

import secrets as pysecrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.kit.checks.common import (
    bounded_walk,
    check_status,
    create_ok,
    created_id,
    expect,
    password_body,
    probing,
)
from contracts.kit.checks.prefixes import probe_legacy_header
from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Exchange, Reply
from contracts.kit.rules import page
from contracts.kit.rules.sources import from_page
from contracts.kit.statuses import FOREIGN_ID, MADE_UP_ID
from contracts.kit.violations import (
    AUTH_ISOLATION,
    SCOPES,
    ContractViolation,
    KitError,
    NotRun,
    expected,
)

JSON = Any


class LegacyHeaderClient(Client):
    """A client that sends its key in ``X-Planasonix-Api-Key`` instead of ``Authorization``."""

    def auth_headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        bearer = super().auth_headers(*args, **kwargs).get("Authorization", "")
        key = bearer.partition(" ")[2]
        return {"X-Planasonix-Api-Key": key} if key else {}


@dataclass(frozen=True)
class Way:
    """One documented way in: a path prefix and a header form."""

    prefix: str  # "" for /api, "/v1" for /v1/api, under the base URL
    legacy: bool
    base: str = ""  # the base URL's own path (it may end in /v1): findings name real paths

    def __str__(self) -> str:
        header = "X-Planasonix-Api-Key" if self.legacy else "Authorization: Bearer"
        return f"{self.base}{self.prefix}/api with {header}"


HIDDEN = FOREIGN_ID  # another workspace's id: see contracts.kit.statuses.FOREIGN_ID


def ways(ctx: KitContext) -> list[Way]:
    """Every prefix the deployment serves, with the legacy header where it takes it."""
    if ctx.legacy_header is None:
        probe_legacy_header(ctx)
    headers = (False, True) if ctx.legacy_header else (False,)
    base = urllib.parse.urlsplit(ctx.client.base_url).path.rstrip("/")
    return [Way(prefix, legacy, base) for prefix in ctx.prefixes for legacy in headers]


def client_for(ctx: KitContext, base: Client, way: Way) -> Client:
    """A client like ``base`` (same key, label, budget, record) reaching in by ``way``."""
    return base.sibling(
        LegacyHeaderClient if way.legacy else Client,
        base_url=ctx.client.base_url + way.prefix,
        session=base.session,
    )


def check_auth_everywhere(ctx: KitContext) -> None:
    """The original auth and isolation probes, then the same under every way in."""
    check_auth_isolation(ctx)
    unknown = "plnx_live_" + pysecrets.token_hex(16)
    key = ctx.client.api_key or ""
    near_misses = [("one character longer", key + "x")]
    if len(key) > 1:
        near_misses.append(("one character shorter", key[:-1]))
    ctx.client.masked_keys.update({unknown, key + "x"})
    for way in ways(ctx):
        client = client_for(ctx, ctx.client, way)
        reply = client.list({"limit": 1}, key=None)
        refused_without_key(ctx, reply, f"list under {way} without a key")
        reply = client.list({"limit": 1}, key=unknown)
        refused_without_key(ctx, reply, f"list under {way} with an unknown key")
        for what, near in near_misses:
            reply = client.list({"limit": 1}, key=near)
            refused_without_key(ctx, reply, f"list under {way} with the key {what}")
        reply = client.list({"limit": 1})
        check_status(ctx, AUTH_ISOLATION, reply, {200}, f"list under {way} with the valid key")
    if ctx.settings.read_only:
        return
    if ctx.second is None or not ctx.second.api_key:
        # Not run, never passed: the report lists it and the verdict says "partly checked".
        ctx.skipped("isolation between workspaces", "no --second-api-key was given")
    prefix = ctx.sub_prefix("x")
    for way in ways(ctx):
        with probing(ctx, f"isolation probes under {way}"):
            _isolation_under(ctx, way, prefix, unknown)


UNAUTHENTICATED = from_page(page.INTRO, "Authenticate every request with your API key:")


def refused_without_key(ctx: KitContext, reply: Reply, what: str) -> bool:
    """A request without a valid key is refused (the page: "Authenticate every request
    with your API key"); that the refusal is a 401 is an expectation. True when 401."""
    if reply.ok or 300 <= reply.status < 400:
        ctx.report(
            ContractViolation(
                AUTH_ISOLATION,
                f"{what}: answered {reply.status}, a request without a valid key was served",
                reply.exchange,
                source=UNAUTHENTICATED,
            )
        )
        return False
    if reply.status != 401:
        ctx.report(
            expected(
                "auth_401",
                AUTH_ISOLATION,
                f"{what}: refused with {reply.status}, not 401",
                reply.exchange,
            )
        )
        return False
    return True


def _pair(ctx: KitContext, prefix: str, tag: str) -> tuple[str, str]:
    """An active and a soft-deleted credential of this workspace."""
    client = ctx.client
    active = create_ok(ctx, client, password_body(ctx, f"{prefix}{tag}a"), AUTH_ISOLATION)
    deleted = create_ok(ctx, client, password_body(ctx, f"{prefix}{tag}d"), AUTH_ISOLATION)
    expect(AUTH_ISOLATION, client.delete(deleted), {200}, "soft delete")
    return active, deleted


def _last(ctx: KitContext) -> Exchange | None:
    """The exchange that showed a change (the last get of the snapshot)."""
    return ctx.recorder.exchanges[-1] if ctx.recorder.exchanges else None


def _snapshot(ctx: KitContext, ids: list[str]) -> list[tuple[int, JSON]]:
    keys = ("id", "name", "status", "config", "deleted_at")
    out: list[tuple[int, JSON]] = []
    for cred_id in ids:
        reply = ctx.client.get(cred_id)
        data = reply.data if isinstance(reply.data, dict) else {}
        out.append((reply.status, {k: data.get(k) for k in keys}))
    return out


def _write_calls(
    client: Client, active: str, deleted: str, name: str, body: JSON
) -> list[tuple[str, Callable[[str | None], Reply]]]:
    """Every write route, each from a state where it would change something."""
    return [
        ("update of an active credential", lambda k: client.update(active, {"name": name}, key=k)),
        ("delete of an active credential", lambda k: client.delete(active, key=k)),
        ("purge of an active credential", lambda k: client.purge(active, key=k)),
        ("restore of a soft-deleted credential", lambda k: client.restore(deleted, key=k)),
        ("purge of a soft-deleted credential", lambda k: client.purge(deleted, key=k)),
        (
            "update of a soft-deleted credential",
            lambda k: client.update(deleted, {"name": name + "d"}, key=k),
        ),
        ("create", lambda k: client.create(body, key=k)),
    ]


def _isolation_under(ctx: KitContext, way: Way, prefix: str, unknown: str) -> None:
    tag = ("v" if way.prefix else "a") + ("l" if way.legacy else "b")
    active, deleted = _pair(ctx, prefix, tag)
    client = client_for(ctx, ctx.client, way)
    body = password_body(ctx, f"{prefix}{tag}new")
    calls = _write_calls(client, active, deleted, f"{prefix}{tag}renamed", body)
    before = _snapshot(ctx, [active, deleted])
    for what, call in calls:
        reply = call(unknown)
        refused_without_key(ctx, reply, f"{what} under {way} with an unknown key")
    other = ctx.second
    if other is not None and other.api_key:
        nobody = client.fabricate_id()
        probes = dict(_write_calls(client, nobody, nobody, f"{prefix}{tag}renamed", body))
        for what, call in calls[:-1]:
            reply = call(other.api_key)
            if scope_refusal(reply, probes[what], other.api_key):
                ctx.notes.append(SECOND_KEY_READ_ONLY)
                continue
            check_status(
                ctx, AUTH_ISOLATION, reply, HIDDEN, f"{what} under {way} by another workspace's key"
            )
        for cred_id in (active, deleted):
            reply = client.get(cred_id, key=other.api_key)
            check_status(
                ctx, AUTH_ISOLATION, reply, HIDDEN, f"get under {way} of another workspace's id"
            )
    if _snapshot(ctx, [active, deleted]) != before:
        ctx.report(
            ContractViolation(
                AUTH_ISOLATION,
                f"calls under {way} with a key that may not change it changed a credential",
                _last(ctx),
            )
        )
    _remove(ctx, active, deleted)


# Calls the lifecycle's open points let a deployment refuse with 409 for the state alone,
# whatever the key.
STATE_REFUSALS = frozenset({"purge of an active credential", "update of a soft-deleted credential"})


def check_scopes(ctx: KitContext) -> None:
    """A read-only key: reads work, every write route is 403 and changes nothing."""
    reader = ctx.reader
    if ctx.settings.read_only:
        raise NotRun("--read-only: the kit sends no writes")
    if reader is None or not reader.api_key:
        raise NotRun("no --read-only-api-key to check with")
    if reader.list({"limit": 1}).status == 401:
        raise KitError("the read-only API key was rejected (401); check --read-only-api-key")
    prefix = ctx.sub_prefix("r")
    for way in ways(ctx):
        with probing(ctx, f"scope probes under {way}"):
            _scopes_under(ctx, reader, way, prefix)


def _scopes_under(ctx: KitContext, reader: Client, way: Way, prefix: str) -> None:
    tag = ("v" if way.prefix else "a") + ("l" if way.legacy else "b")
    active, deleted = _pair(ctx, prefix, tag)
    client = client_for(ctx, ctx.client, way)
    read = client.get(active, key=reader.api_key)
    check_status(ctx, SCOPES, read, {200}, f"get under {way} with the read-only key")
    read = client.list({"limit": 1}, key=reader.api_key)
    check_status(ctx, SCOPES, read, {200}, f"list under {way} with the read-only key")
    # Deleted ids invisible (an open point: 404 or 410).
    hidden = ctx.client.get(deleted).status in (404, 410)
    body = password_body(ctx, f"{prefix}{tag}new")
    before = _snapshot(ctx, [active, deleted])
    for what, call in _write_calls(client, active, deleted, f"{prefix}{tag}renamed", body):
        allowed = {403}
        if hidden and "soft-deleted" in what:
            allowed |= {404, 410}  # invisible by id, whoever asks (an open point)
        if what in STATE_REFUSALS:
            allowed.add(409)  # the state forbids it anyway, checked before the scope
        check_status(
            ctx,
            SCOPES,
            call(reader.api_key),
            allowed,
            f"{what} under {way} with a read-only key",
        )
    if _snapshot(ctx, [active, deleted]) != before:
        ctx.report(
            ContractViolation(
                SCOPES,
                f"calls under {way} with a read-only key changed a credential",
                _last(ctx),
            )
        )
    _remove(ctx, active, deleted)


def _remove(ctx: KitContext, *ids: str) -> None:
    for cred_id in ids:
        if cred_id in ctx.ids.live:
            ctx.client.remove(cred_id)


# --- auth and isolation -------------------------------------------------------------------


def check_auth_isolation(ctx: KitContext) -> None:
    client = ctx.client
    fake_key = "plnx_live_" + pysecrets.token_hex(16)
    client.masked_keys.add(fake_key)
    probes: list[tuple[str, dict[str, str] | None, str | None]] = [
        ("no key", None, None),
        ("an unknown key", None, fake_key),
        ("an empty bearer token", {"Authorization": "Bearer "}, None),
        ("a malformed Authorization header", {"Authorization": "Basic Zm9vOmJhcg=="}, None),
        ("an unknown key in X-Planasonix-Api-Key", {"X-Planasonix-Api-Key": fake_key}, None),
    ]
    for what, headers, key in probes:
        reply = client.request("GET", "/api/credentials", headers=headers, key=key)
        refused_without_key(ctx, reply, f"list with {what}")
    if ctx.legacy_header is None:
        probe_legacy_header(ctx)  # an expectation: noted when refused, never failed
    missing = client.fabricate_id()
    refused_without_key(ctx, client.get(missing, key=None), "get without a key")
    check_status(ctx, AUTH_ISOLATION, client.get(missing), MADE_UP_ID, "get of an unknown id")
    if ctx.settings.read_only:
        return
    prefix = ctx.sub_prefix("a")
    mine = create_ok(ctx, client, password_body(ctx, f"{prefix}mine"), AUTH_ISOLATION)

    def calls_on(cred_id: str) -> list[tuple[str, Callable[[str | None], Reply]]]:
        return [
            ("get", lambda k: client.get(cred_id, key=k)),
            ("update", lambda k: client.update(cred_id, {"name": f"{prefix}renamed"}, key=k)),
            ("delete", lambda k: client.delete(cred_id, key=k)),
            ("restore", lambda k: client.restore(cred_id, key=k)),
            ("purge", lambda k: client.purge(cred_id, key=k)),
            ("create", lambda k: client.create(password_body(ctx, f"{prefix}nokey"), key=k)),
        ]

    calls = calls_on(mine)
    # A near miss on every route, not only the listing: a prefix comparison may hide on one.
    near = (client.api_key or "") + "x"
    for what, call in calls:
        refused_without_key(ctx, call(None), f"{what} without a key")
        refused_without_key(ctx, call(fake_key), f"{what} with an unknown key")
        refused_without_key(ctx, call(near), f"{what} with the key one character longer")
    before = client.get(mine)
    expect(AUTH_ISOLATION, before, {200}, "get of an own credential")
    if ctx.second is None:
        unchanged(before, client.get(mine), "calls without a valid key")
        return
    other = ctx.second
    made = other.create(password_body(ctx, f"{prefix}theirs"))
    # 403: a key without connections:write; there is then no credential of theirs.
    theirs = None if made.status == 403 else created_id(ctx, made, AUTH_ISOLATION)
    probes_of = dict(calls_on(client.fabricate_id()))
    for what, call in calls[:-1]:
        reply = call(other.api_key)
        if what != "get" and scope_refusal(reply, probes_of[what], other.api_key):
            ctx.notes.append(SECOND_KEY_READ_ONLY)
            continue
        check_status(ctx, AUTH_ISOLATION, reply, HIDDEN, f"{what} of another workspace's id")
    if theirs is not None:
        reply = client.get(theirs)
        check_status(ctx, AUTH_ISOLATION, reply, HIDDEN, "get of another workspace's id")
        reply = client.delete(theirs)
        check_status(ctx, AUTH_ISOLATION, reply, HIDDEN, "delete of another workspace's id")
    with probing(ctx, "the check that calls with another workspace's key changed nothing"):
        unchanged(before, client.get(mine), "calls with another workspace's key")
    for reader, foreign in ((other, mine), (client, theirs)):
        if foreign is None:
            continue
        seen = bounded_walk(reader, {}, set(), max_pages=50)
        if foreign in seen:
            ctx.report(
                ContractViolation(
                    AUTH_ISOLATION,
                    "a list shows another workspace's credential",
                    ctx.recorder.exchanges[-1] if ctx.recorder.exchanges else None,
                )
            )


SECOND_KEY_READ_ONLY = (
    "the --second-api-key may not write (403 whatever the id): its writes across "
    "workspaces were checked to change nothing, not for their 404"
)


def scope_refusal(reply: Reply, probe: Callable[[str | None], Reply], key: str | None) -> bool:
    """True when ``reply`` is a 403 the same call on an id nobody holds gets too.

    A key without `connections:write` is refused before any id is looked up;
    that 403 says nothing about the id (the error table forbids only a 403 that
    tells existence apart), so the deployment is right to give it. Asked per
    route: a deployment may look the id up first on one route and not another.
    """
    return reply.status == 403 and probe(key).status == 403


def unchanged(before: Reply, after: Reply, what: str) -> None:
    keys = ("id", "name", "status", "config", "deleted_at")
    if after.status != 200 or any(
        (before.data or {}).get(k) != (after.data or {}).get(k) for k in keys
    ):
        raise ContractViolation(AUTH_ISOLATION, f"{what} changed a credential", after.exchange)
