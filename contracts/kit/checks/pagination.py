"""Pagination: small pages, first over a list the kit leaves alone, then while it changes."""

from __future__ import annotations

import random
from typing import Any

from contracts.kit.checks.common import create_ok, expect, password_body
from contracts.kit.checks.paging import WALKS_BEFORE_A_REPEAT_COUNTS
from contracts.kit.context import KitContext
from contracts.kit.violations import PAGINATION, ContractViolation

JSON = Any


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
        create_ok(ctx, client, password_body(ctx, f"{prefix}{i}"), PAGINATION) for i in range(9)
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
        expect(PAGINATION, reply, {200, 400, 422}, "list with a limit over the maximum")


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
        expect(PAGINATION, reply, {200}, f"list page {page_no + 1} with limit {limit}")
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
            create_ok(ctx, client, password_body(ctx, f"{prefix}w{limit}-{counter}"), PAGINATION)
            if victims:
                victim = victims.pop(random.Random(page_no).randrange(len(victims)))
                stable.discard(victim)
                expect(PAGINATION, client.delete(victim), {200}, "soft delete")
                expect(PAGINATION, client.purge(victim), {200}, "purge")
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
