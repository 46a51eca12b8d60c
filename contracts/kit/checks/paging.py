"""Walking a whole listing, page by page: used by the scripted walk and the state machine.

Its own module so that :mod:`contracts.kit.checks.scenario` and :mod:`contracts.kit.checks.stateful`
share it without importing each other (stateful runs the scenario first).
"""

from __future__ import annotations

from typing import Any

from contracts.kit.client import Client
from contracts.kit.exchange import Reply
from contracts.kit.violations import PAGINATION, ContractViolation

JSON = Any
MAX_PAGES = 1000


# A repeat on a later page is a broken cursor, unless somebody changed the list
# while it was walked: offset cursors (valid, the docs say nothing of pages of a
# changing list) then shift, on a shared deployment by another client's doing.
# A walk counts a repeat only when this many walks in a row each show one.
WALKS_BEFORE_A_REPEAT_COUNTS = 3


class _Repeated(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def walk(
    client: Client,
    params: dict[str, Any] | None = None,
    max_pages: int = MAX_PAGES,
    *,
    may_refuse: bool = False,
) -> tuple[list[JSON], Reply]:
    """Every item of a listing, following cursors; repeats and loops are violations.

    ``may_refuse``: the listing asks for something a deployment may refuse (a
    `type=` or `status=` filter, an open point): a first page answered 400 or 422
    returns no items and that reply, for the caller to read as a refusal.
    """
    for attempt in range(1, WALKS_BEFORE_A_REPEAT_COUNTS + 1):
        try:
            return _walk_once(client, dict(params or {}), max_pages, may_refuse)
        except _Repeated as repeated:
            if attempt == WALKS_BEFORE_A_REPEAT_COUNTS:
                raise ContractViolation(
                    PAGINATION,
                    f"a listing repeated an item on a later page, in {attempt} walks in a row",
                    repeated.reply.exchange,
                ) from None
    raise AssertionError("unreachable")


def _walk_once(
    client: Client, params: dict[str, Any], max_pages: int, may_refuse: bool
) -> tuple[list[JSON], Reply]:
    items: list[JSON] = []
    seen_ids: set[str] = set()
    seen_cursors: set[str] = set()
    for page_no in range(max_pages):
        reply = client.list(params)
        if may_refuse and page_no == 0 and reply.status in (400, 422):
            return [], reply
        if reply.status != 200:
            raise ContractViolation(
                PAGINATION, f"list answered {reply.status}, expected 200", reply.exchange
            )
        page = reply.data if isinstance(reply.data, list) else []
        for item in page:
            item_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(item_id, str):
                if item_id in seen_ids:
                    raise _Repeated(reply)
                seen_ids.add(item_id)
            items.append(item)
        cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
        if not cursor:
            return items, reply
        if cursor in seen_cursors:
            raise ContractViolation(PAGINATION, "a listing's cursors loop", reply.exchange)
        seen_cursors.add(cursor)
        params["cursor"] = cursor
    raise ContractViolation(PAGINATION, f"a listing did not end within {max_pages} pages")


def page_limit(body: JSON) -> JSON:
    """The ``meta.page.limit`` a list answer states, or None when it states none."""
    meta = body.get("meta") if isinstance(body, dict) else None
    page = meta.get("page") if isinstance(meta, dict) else None
    return page.get("limit") if isinstance(page, dict) else None
