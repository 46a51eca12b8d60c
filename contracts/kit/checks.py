"""The targeted checks: secret non-echo probes, pagination, auth and isolation.

Each function takes the run's :class:`KitContext` and raises
:class:`ContractViolation` at the first violation it sees. Every request goes
through :class:`contracts.kit.client.Client`, so every answer of every check is
also scanned for canaries and validated against the response schemas.
"""

from __future__ import annotations

import copy
import json
import random
import secrets as pysecrets
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Reply
from contracts.kit.listing import WALKS_BEFORE_A_REPEAT_COUNTS
from contracts.kit.violations import (
    AUTH_ISOLATION,
    PAGINATION,
    SECRET_NON_ECHO,
    VALIDATION,
    ContractViolation,
)
from contracts.registry import CREDENTIAL_TYPES, required_fields, secret_paths, validate_config
from contracts.strategies import configs

JSON = Any
_FIND_SETTINGS = settings(
    database=None,
    max_examples=500,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)


# --- building valid bodies ----------------------------------------------------------


def _get_path(config: JSON, path: tuple[str, ...]) -> JSON:
    node = config
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _present_secret_paths(type_: str, config: JSON) -> list[tuple[str, ...]]:
    return [p for p in secret_paths(type_) if _get_path(config, p) is not None]


def _set_path(config: dict[str, JSON], path: tuple[str, ...], value: JSON) -> None:
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


@cache
def _config_template(type_: str, path: tuple[str, ...]) -> str | None:
    """A small valid config of ``type_`` that holds the secret at ``path`` (as JSON text).

    Some secrets only appear next to others (a certificate password needs its
    certificate), which the strategies may never draw together: those are
    added by hand to configs that hold their partners, and kept when valid.
    """
    placeholder = "x" * 24

    def found_with(target: tuple[str, ...]) -> dict[str, JSON] | None:
        try:
            return find(
                configs(type_, st.just(placeholder)),
                lambda c: _get_path(c, target) is not None,
                settings=_FIND_SETTINGS,
                random=random.Random(0),
            )
        except NoSuchExample:
            return None

    direct = found_with(path)
    if direct is not None:
        return json.dumps(direct)
    for other in secret_paths(type_):
        base = found_with(other) if other != path else None
        if base is None:
            continue
        _set_path(base, path, placeholder)
        if not validate_config(type_, base):
            return json.dumps(base)
    return None


def draw_one(strategy: st.SearchStrategy[Any], seed: int = 0) -> Any:
    """One value of ``strategy``, the same for the same seed, without shrinking."""
    return find(strategy, lambda _: True, settings=_FIND_SETTINGS, random=random.Random(seed))


def secret_configs(ctx: KitContext, type_: str) -> Iterator[dict[str, JSON]]:
    """Valid configs of ``type_`` that together carry every secret field, as fresh canaries."""
    covered: set[tuple[str, ...]] = set()
    for path in secret_paths(type_):
        if path in covered:
            continue
        template = _config_template(type_, path)
        if template is None:
            continue
        config = json.loads(template)
        present = _present_secret_paths(type_, config)
        covered.update(present)
        yield fill_canaries(ctx, type_, config)


def fill_canaries(ctx: KitContext, type_: str, config: dict[str, JSON]) -> dict[str, JSON]:
    """``config`` with every secret value it holds replaced by a fresh canary."""
    config = copy.deepcopy(config)
    for path in _present_secret_paths(type_, config):
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = ctx.factory.fresh()
    return config


def _expect(check: str, reply: Reply, allowed: set[int], what: str) -> None:
    if reply.status not in allowed:
        expected = " or ".join(str(s) for s in sorted(allowed))
        raise ContractViolation(
            check, f"{what}: answered {reply.status}, expected {expected}", reply.exchange
        )


def _create_ok(ctx: KitContext, client: Client, body: JSON, check: str) -> str:
    return _created_id(ctx, client.create(body), check)


def _created_id(ctx: KitContext, reply: Reply, check: str) -> str:
    """The id a create answered, its status held; a violation if it did not create."""
    if not reply.ok or not isinstance(reply.data, dict) or "id" not in reply.data:
        raise ContractViolation(
            check, f"create of a valid credential answered {reply.status}", reply.exchange
        )
    ctx.choices.hold("create status code", str(reply.status), reply.exchange, check=check)
    return str(reply.data["id"])


def _validation_refused(ctx: KitContext, reply: Reply, what: str, *, hold: bool = True) -> None:
    """An invalid request must be refused with the deployment's validation status.

    ``hold=False``: a refusal SPEC.md names apart from validation failures (a type
    change, "400" in §3), so 400 or 422 there need not match the validation status.
    """
    if reply.ok:
        raise ContractViolation(VALIDATION, f"{what} was accepted ({reply.status})", reply.exchange)
    if reply.status in (400, 422) and hold:
        ctx.choices.hold("validation failure status", str(reply.status), reply.exchange, VALIDATION)
    elif reply.status != 409:
        _expect(VALIDATION, reply, {400, 422}, what)


def _refused_or_taken(ctx: KitContext, reply: Reply, what: str, *, hold: bool = True) -> None:
    """A request the docs neither allow nor forbid: any success, or a refusal
    with the deployment's validation status (or 409, or 413 for size)."""
    if reply.ok or reply.status in (409, 413):
        return
    _validation_refused(ctx, reply, what, hold=hold)


# --- secret non-echo ------------------------------------------------------------------


def check_secret_non_echo(ctx: KitContext) -> None:
    """Send canaries through every call and every kind of answer; the client scans them."""
    client = ctx.client
    prefix = ctx.sub_prefix("e")
    made: list[tuple[str, str, dict[str, JSON]]] = []  # (id, type, config)
    for type_ in CREDENTIAL_TYPES:
        for n, config in enumerate(secret_configs(ctx, type_)):
            body = {"name": f"{prefix}{type_}-{n}", "type": type_, "config": config}
            made.append((_create_ok(ctx, client, body, SECRET_NON_ECHO), type_, config))
    ids = {cred_id for cred_id, _, _ in made}
    for cred_id, _, _ in made:
        client.get(cred_id)
    # Small pages, so most of the credentials are on pages after the first.
    _bounded_walk(client, {"limit": 2}, ids)
    for params in ({"status": "all", "limit": 3}, {"status": "deleted"}):
        client.list(params)  # F: the parameter may be refused; the answer is scanned anyway
    # Rotation: new canaries for every top-level secret.
    for cred_id, type_, config in made:
        patch = {
            path[0]: ctx.factory.fresh()
            for path in _present_secret_paths(type_, config)
            if len(path) == 1
        }
        if patch:
            # The whole config with the secrets replaced: the same request whether a
            # deployment merges config key by key or replaces it (the docs say neither).
            reply = client.update(cred_id, {"config": {**config, **patch}})
            _expect(SECRET_NON_ECHO, reply, {200}, "update with a new secret")
            client.get(cred_id)
    _invalid_requests(ctx, prefix, made)
    # Views of soft-deleted credentials, restore, and purge.
    for cred_id, _, _ in made:
        _expect(SECRET_NON_ECHO, client.delete(cred_id), {200}, "soft delete")
        client.get(cred_id)
        client.delete(cred_id)
        client.update(cred_id, {"config": {}})
    _bounded_walk(client, {"limit": 2}, set())
    client.list({"status": "deleted", "limit": 2})
    for cred_id, _, _ in made[:3]:
        _expect(SECRET_NON_ECHO, client.restore(cred_id), {200}, "restore")
        client.get(cred_id)
        client.restore(cred_id)
        client.delete(cred_id)
    for cred_id, _, _ in made:
        _expect(SECRET_NON_ECHO, client.purge(cred_id), {200}, "purge of a soft-deleted one")
        client.get(cred_id)


def _invalid_requests(
    ctx: KitContext, prefix: str, made: list[tuple[str, str, dict[str, JSON]]]
) -> None:
    """Invalid calls that carry canaries; the refusals must not echo them."""
    client = ctx.client
    cred_id, type_, config = made[0]
    taken = f"{prefix}{type_}-0"

    def secret_body(name: str) -> dict[str, JSON]:
        return {"name": name, "type": type_, "config": fill_canaries(ctx, type_, config)}

    # A duplicate name.
    _expect(SECRET_NON_ECHO, client.create(secret_body(taken)), {409}, "create with a taken name")
    # A config field the fake requires, missing, next to a secret. Which config fields
    # are required is the fake's choice (SPEC.md §2): accepting it is as valid.
    body = secret_body(f"{prefix}invalid-1")
    body["config"].pop(required_fields(type_)[0], None)
    _refused_or_taken(ctx, client.create(body), "create without a config field the fake requires")
    # An unknown config field next to a secret. Refusing it is the fake's choice
    # (SPEC.md §2); ignoring it is as valid. Either way no secret may come back.
    body = secret_body(f"{prefix}invalid-2")
    body["config"]["not_a_field"] = "x"
    _refused_or_taken(ctx, client.create(body), "create with an unknown config field")
    # A secret far over the schemas' maximum length: a limit the docs never set,
    # so it may be accepted, refused, or refused as too large.
    body = secret_body(f"{prefix}invalid-3")
    path = _present_secret_paths(type_, body["config"])[0]
    long_canary = ctx.factory.fresh()
    node = body["config"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = (long_canary * (17000 // len(long_canary) + 1))[:17000]
    _refused_or_taken(ctx, client.create(body), "create with an over-long secret")
    # An unknown type.
    body = secret_body(f"{prefix}invalid-4")
    body["type"] = "not_a_type"
    _validation_refused(ctx, client.create(body), "create with an unknown type")
    # A type change on update, with a new secret: refused on the fake (SPEC.md §3,
    # its choice); a deployment may also ignore the field. Scanned either way.
    other = next(t for t in CREDENTIAL_TYPES if t != type_)
    reply = client.update(cred_id, {"type": other, "config": fill_canaries(ctx, type_, config)})
    _refused_or_taken(ctx, reply, "update that changes the type", hold=False)
    # Broken JSON and a wrong content type, both carrying a canary.
    text = json.dumps(secret_body(f"{prefix}invalid-5"))
    reply = client.request(
        "POST",
        "/api/credentials",
        data=text[:-1] + ",}",
        headers={"Content-Type": "application/json"},
    )
    _expect(SECRET_NON_ECHO, reply, {400, 422}, "create with a body that is not JSON")
    reply = client.request(
        "POST",
        "/api/credentials",
        data=json.dumps(secret_body(f"{prefix}invalid-6")),
        headers={"Content-Type": "text/plain"},
    )
    _expect(SECRET_NON_ECHO, reply, {400, 415, 422}, "create sent as text/plain")
    if reply.ok:
        raise ContractViolation(VALIDATION, "create sent as text/plain was accepted")
    # An unknown id, with a secret.
    missing = client.fabricate_id()
    reply = client.update(missing, {"config": fill_canaries(ctx, type_, config)})
    _expect(SECRET_NON_ECHO, reply, {404}, "update of an unknown id")


def _bounded_walk(
    client: Client, params: dict[str, Any], wanted: set[str], max_pages: int = 60
) -> set[str]:
    """Page until every wanted id was seen (or the end); returns the ids seen."""
    params = dict(params)
    seen: set[str] = set()
    for _ in range(max_pages):
        reply = client.list(params)
        _expect(PAGINATION, reply, {200}, "list")
        for item in reply.data or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                seen.add(item["id"])
        cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
        if not cursor or (wanted and wanted <= seen):
            break
        params["cursor"] = cursor
    return seen


# --- pagination -------------------------------------------------------------------------


def _password_body(ctx: KitContext, name: str) -> dict[str, JSON]:
    return {
        "name": name,
        "type": "password",
        "config": {"username": "contract-kit", "password": ctx.factory.fresh()},
    }


def check_pagination(ctx: KitContext) -> None:
    """Walk with small limits, first over a list the kit leaves alone, then while
    creating and purging; see :data:`CHECKS`.

    Only the first walks are held to "every item once": the docs say nothing
    of pages while the list changes, so keyset cursors (stable) and offsets
    (an item may come twice or be passed over) are both conformant there.
    """
    client = ctx.client
    if ctx.settings.read_only:
        for limit in (1, 2):
            _walk_unchanged(ctx, limit, set(), prefix="", max_pages=20)
        _page_size_over_max(ctx)
        return
    prefix = ctx.sub_prefix("p")
    mine = [
        _create_ok(ctx, client, _password_body(ctx, f"{prefix}{i}"), PAGINATION) for i in range(9)
    ]
    for limit in (1, 2):
        _walk_unchanged(ctx, limit, set(mine), prefix=prefix)
    for limit in (2, 3):
        _walk_checked(ctx, limit, set(mine), mutate=True, prefix=prefix)
        mine = [m for m in mine if m in ctx.ids.live]
    _page_size_over_max(ctx)
    reply = client.list({"limit": 2})
    items = reply.data or []
    if len(items) > 2:
        raise ContractViolation(PAGINATION, "a page holds more items than limit", reply.exchange)


def _page_size_over_max(ctx: KitContext) -> None:
    reply = ctx.client.list({"limit": 100000})
    if reply.status in (400, 422):
        ctx.choices.hold("page size over the maximum", "400", reply.exchange, PAGINATION)
    elif reply.status == 200:
        ctx.choices.hold("page size over the maximum", "clamped", reply.exchange, PAGINATION)
    else:
        _expect(PAGINATION, reply, {200, 400, 422}, "list with a limit over the maximum")


class _Shifted(ContractViolation):
    """An item twice, or one passed over, in a walk the kit changed nothing during."""


def _walk_unchanged(
    ctx: KitContext, limit: int, mine: set[str], *, prefix: str, max_pages: int = 400
) -> None:
    """A walk over a list the kit does not change: every item exactly once.

    On a shared deployment another client may change the list meanwhile, and
    offset cursors (valid) then shift; a repeat or a skip counts only when
    every one of `WALKS_BEFORE_A_REPEAT_COUNTS` walks in a row shows one.
    """
    for attempt in range(1, WALKS_BEFORE_A_REPEAT_COUNTS + 1):
        try:
            _walk_checked(ctx, limit, mine, mutate=False, prefix=prefix, max_pages=max_pages)
            return
        except _Shifted as shifted:
            if attempt == WALKS_BEFORE_A_REPEAT_COUNTS:
                raise ContractViolation(
                    shifted.check,
                    f"{shifted.message}, in {attempt} walks in a row",
                    shifted.exchange,
                ) from None


def _walk_checked(
    ctx: KitContext,
    limit: int,
    mine: set[str],
    *,
    mutate: bool,
    prefix: str,
    max_pages: int = 400,
) -> None:
    client = ctx.client
    stable = set(mine)
    seen: set[str] = set()
    repeated = 0  # while the list changes: allowed, counted for the note
    params: dict[str, Any] = {"limit": limit}
    counter = 0
    victims = sorted(mine)
    for page_no in range(max_pages):
        reply = client.list(params)
        _expect(PAGINATION, reply, {200}, f"list page {page_no + 1} with limit {limit}")
        page = reply.data if isinstance(reply.data, list) else []
        if len(page) > limit:
            raise ContractViolation(
                PAGINATION,
                f"page {page_no + 1} holds {len(page)} items, over limit {limit}",
                reply.exchange,
            )
        for item in page:
            item_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item_id, str):
                continue
            if item_id in seen:
                if mutate:
                    repeated += 1
                    continue
                raise _Shifted(
                    PAGINATION,
                    f"page {page_no + 1} (limit {limit}) repeats an item of an earlier page "
                    "of a list the kit did not change",
                    reply.exchange,
                )
            seen.add(item_id)
        cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
        if not cursor:
            break
        if mine and stable <= seen and (not mutate or page_no >= 6):
            break
        if mutate and page_no < 6:
            # Others create and delete while we page: one new credential, one deleted.
            counter += 1
            _create_ok(ctx, client, _password_body(ctx, f"{prefix}w{limit}-{counter}"), PAGINATION)
            if victims:
                victim = victims.pop(random.Random(page_no).randrange(len(victims)))
                stable.discard(victim)
                _expect(PAGINATION, client.delete(victim), {200}, "soft delete")
                _expect(PAGINATION, client.purge(victim), {200}, "purge")
        params["cursor"] = cursor
    else:
        return  # too many pages to finish: nothing proven, nothing claimed
    skipped = stable - seen
    if mutate:
        if repeated or skipped:
            ctx.notes.append(
                f"pages shifted while the list changed (limit {limit}: {repeated} repeated, "
                f"{len(skipped)} passed over); allowed, the docs promise nothing there"
            )
        return
    if skipped:
        raise _Shifted(
            PAGINATION,
            f"a walk with limit {limit} skipped {len(skipped)} credential(s) of a list "
            "the kit did not change",
            reply.exchange,
        )


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
        _expect(AUTH_ISOLATION, reply, {401}, f"list with {what}")
    # The documented legacy header, in place of Authorization, opens the same door.
    legacy = {"X-Planasonix-Api-Key": client.api_key or ""}
    reply = client.request("GET", "/api/credentials", headers=legacy, key=None)
    _expect(AUTH_ISOLATION, reply, {200}, "list with a valid key in X-Planasonix-Api-Key")
    missing = client.fabricate_id()
    _expect(AUTH_ISOLATION, client.get(missing, key=None), {401}, "get without a key")
    _expect(AUTH_ISOLATION, client.get(missing), {404}, "get of an unknown id")
    if ctx.settings.read_only:
        return
    prefix = ctx.sub_prefix("a")
    mine = _create_ok(ctx, client, _password_body(ctx, f"{prefix}mine"), AUTH_ISOLATION)

    def calls_on(cred_id: str) -> list[tuple[str, Callable[[str | None], Reply]]]:
        return [
            ("get", lambda k: client.get(cred_id, key=k)),
            ("update", lambda k: client.update(cred_id, {"name": f"{prefix}renamed"}, key=k)),
            ("delete", lambda k: client.delete(cred_id, key=k)),
            ("restore", lambda k: client.restore(cred_id, key=k)),
            ("purge", lambda k: client.purge(cred_id, key=k)),
            ("create", lambda k: client.create(_password_body(ctx, f"{prefix}nokey"), key=k)),
        ]

    calls = calls_on(mine)
    for what, call in calls:
        _expect(AUTH_ISOLATION, call(None), {401}, f"{what} without a key")
        _expect(AUTH_ISOLATION, call(fake_key), {401}, f"{what} with an unknown key")
    before = client.get(mine)
    _expect(AUTH_ISOLATION, before, {200}, "get of an own credential")
    if ctx.second is None:
        _unchanged(before, client.get(mine), "calls without a valid key")
        return
    other = ctx.second
    made = other.create(_password_body(ctx, f"{prefix}theirs"))
    # 403: a key without connections:write; there is then no credential of theirs.
    theirs = None if made.status == 403 else _created_id(ctx, made, AUTH_ISOLATION)
    probes_of = dict(calls_on(client.fabricate_id()))
    for what, call in calls[:-1]:
        reply = call(other.api_key)
        if what != "get" and scope_refusal(reply, probes_of[what], other.api_key):
            ctx.notes.append(SECOND_KEY_READ_ONLY)
            continue
        _expect(AUTH_ISOLATION, reply, {404}, f"{what} of another workspace's id")
    if theirs is not None:
        _expect(AUTH_ISOLATION, client.get(theirs), {404}, "get of another workspace's id")
        _expect(AUTH_ISOLATION, client.delete(theirs), {404}, "delete of another workspace's id")
    _unchanged(before, client.get(mine), "calls with another workspace's key")
    for reader, foreign in ((other, mine), (client, theirs)):
        if foreign is None:
            continue
        seen = _bounded_walk(reader, {}, set(), max_pages=50)
        if foreign in seen:
            raise ContractViolation(
                AUTH_ISOLATION, "a list shows another workspace's credential", None
            )


SECOND_KEY_READ_ONLY = (
    "the --second-api-key may not write (403 whatever the id): its writes across "
    "workspaces were checked to change nothing, not for their 404"
)


def scope_refusal(reply: Reply, probe: Callable[[str | None], Reply], key: str | None) -> bool:
    """True when ``reply`` is a 403 the same call on an id nobody holds gets too.

    A key without `connections:write` is refused before any id is looked up;
    that 403 says nothing about the id (SPEC.md §5 forbids only a 403 that
    tells existence apart), so the deployment is right to give it. Asked per
    route: a deployment may look the id up first on one route and not another.
    """
    return reply.status == 403 and probe(key).status == 403


def _unchanged(before: Reply, after: Reply, what: str) -> None:
    keys = ("id", "name", "status", "config", "deleted_at")
    if after.status != 200 or any(
        (before.data or {}).get(k) != (after.data or {}).get(k) for k in keys
    ):
        raise ContractViolation(AUTH_ISOLATION, f"{what} changed a credential", after.exchange)
