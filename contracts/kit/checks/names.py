"""Names: at no moment two active credentials of one workspace with one name (invariant 5).

Two ways the rest of the kit does not try:

- a rename onto the name a soft-deleted credential holds, then a restore of
  that one (judged by :class:`contracts.kit.model.Model`, which knows whether
  the deployment reserves or frees deleted names);
- a small burst of concurrent requests aimed at one name: same-name creates,
  a rename racing a create, a restore racing a create. A uniqueness check
  that is not atomic lets two of them win. The burst is bounded
  (:data:`WORKERS` threads, :data:`ROUNDS` rounds), each thread with its own
  connection, lined up on a barrier so the requests leave together.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from contracts.kit.checks.common import NAME_REFUSALS, create_ok, expect, password_body
from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Reply
from contracts.kit.model import Model
from contracts.kit.statuses import TOLERATED
from contracts.kit.violations import LIFECYCLE, NAMES, ContractViolation

JSON = Any
WORKERS = 4
ROUNDS = 3


def check_names(ctx: KitContext) -> None:
    """Both probes run whatever the first finds; each finding carries its sequence."""
    for probe, what in (
        (_rename_onto_deleted_then_restore, "the rename onto a deleted name, then restore"),
        (_bursts, "the bursts of concurrent same-name requests"),
    ):
        ctx.recorder.start_sequence()
        try:
            probe(ctx)
        except ContractViolation as exc:
            if exc.check == LIFECYCLE:  # the model speaks of the lifecycle; here it is names
                exc.check = NAMES
            if not exc.sequence:
                exc.sequence = [e.curl() for e in ctx.recorder.current][-40:]
            ctx.report(exc)
            ctx.skipped(what, f"stopped after a finding ({exc.message[:120]})")


def _rename_onto_deleted_then_restore(ctx: KitContext) -> None:
    client = ctx.client
    model = Model(ctx.choices, prefix=ctx.sub_prefix("m"))
    first = password_body(ctx, f"{model.prefix}held")
    x = model.on_create(first, client.create(first))
    second = password_body(ctx, f"{model.prefix}other")
    y = model.on_create(second, client.create(second))
    assert x is not None and y is not None
    model.on_delete(model.creds[x], client.delete(x))
    rename = {"name": first["name"]}
    model.on_update(model.creds[y], rename, client.update(y, rename))
    model.on_restore(model.creds[x], client.restore(x))
    model.on_get(model.creds[x], client.get(x))
    model.on_get(model.creds[y], client.get(y))
    _one_active_named(ctx, {first["name"]})
    for cred in model.live():
        client.remove(cred.id)


def _thread_client(ctx: KitContext) -> Client:
    """A client like the run's own, on its own connection (a Session is not thread-safe)."""
    return ctx.client.sibling()


def _together(ctx: KitContext, calls: list[Callable[[Client], Reply]]) -> list[Reply]:
    """Send ``calls`` at the same moment, each from its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    clients = [_thread_client(ctx) for _ in calls]

    def run(index: int) -> Reply:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return calls[index](clients[index])

    try:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(run, range(len(calls))))
    finally:
        for client in clients:
            client.session.close()


def _winners(replies: list[Reply], what: str) -> None:
    for reply in replies:
        # A gateway's 502/503/504 is not the API's answer (checks_status.TOLERATED);
        # whatever it let through is read back by `_one_active_named`.
        if not reply.ok and reply.status not in NAME_REFUSALS and reply.status not in TOLERATED:
            raise ContractViolation(
                NAMES,
                f"{what}: answered {reply.status}, expected 2xx or a refusal (409, 400 or 422)",
                reply.exchange,
            )
    won = [r for r in replies if r.ok]
    if len(won) > 1:
        raise ContractViolation(
            NAMES,
            f"invariant 5: {what}: {len(won)} of {len(replies)} concurrent requests succeeded "
            "onto one name (the uniqueness check is not atomic)",
            won[-1].exchange,
        )


def _one_active_named(ctx: KitContext, names: set[str]) -> None:
    """No listing of active credentials holds two with one of ``names``."""
    params: dict[str, Any] = {}  # the default page size: any limit may be over a maximum
    counts: dict[str, int] = {}
    for _ in range(50):
        reply = ctx.client.list(params)
        expect(NAMES, reply, {200}, "list")
        for item in reply.data if isinstance(reply.data, list) else []:
            if not isinstance(item, dict) or item.get("name") not in names:
                continue
            if item.get("status", "active") == "active":
                name = str(item["name"])
                counts[name] = counts.get(name, 0) + 1
                if counts[name] > 1:
                    message = "invariant 5: two active credentials share a name"
                    raise ContractViolation(NAMES, message, reply.exchange)
        cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
        if not cursor:
            return
        params["cursor"] = cursor


def _bursts(ctx: KitContext) -> None:
    client = ctx.client
    before = set(ctx.ids.live)
    for _ in range(ROUNDS):
        _round(ctx, ctx.sub_prefix("c"))
        # Purge what the round made (the run's cleanup would, later and in one go).
        for cred_id, owner in list(ctx.ids.live.items()):
            if owner == client.label and cred_id not in before:
                client.remove(cred_id)


def _create(client: Client, body: JSON) -> Reply:
    return client.create(body)


def _round(ctx: KitContext, prefix: str) -> None:
    client = ctx.client
    # Same-name creates.
    name = f"{prefix}same"
    bodies = [password_body(ctx, name) for _ in range(WORKERS)]
    replies = _together(ctx, [functools.partial(_create, body=b) for b in bodies])
    _winners(replies, "same-name creates")
    _one_active_named(ctx, {name})
    # A rename racing a create, onto one free name.
    mover = create_ok(ctx, client, password_body(ctx, f"{prefix}mover"), NAMES)
    target = f"{prefix}target"
    body = password_body(ctx, target)
    replies = _together(
        ctx, [lambda c: c.update(mover, {"name": target}), lambda c: c.create(body)]
    )
    _winners(replies, "a rename racing a create")
    _one_active_named(ctx, {target})
    # A restore racing a create, onto the name a soft-deleted credential holds.
    held = f"{prefix}sleeper"
    sleeper = create_ok(ctx, client, password_body(ctx, held), NAMES)
    expect(NAMES, client.delete(sleeper), {200}, "soft delete")
    body = password_body(ctx, held)
    replies = _together(ctx, [lambda c: c.restore(sleeper), lambda c: c.create(body)])
    _winners(replies, "a restore racing a create")
    _one_active_named(ctx, {held})
