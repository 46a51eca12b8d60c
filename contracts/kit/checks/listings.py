"""Every listing a deployment offers, right after each change; and time that never runs back.

``check_listings`` walks a short script (create, soft delete, restore, purge)
and after every step compares each listing with what it must show: the
default one, ``status=active``, ``status=deleted``, ``status=all`` and
``type=`` for two types. The published page leaves the filters open (supported, or
ignored, or refused with 400) and the default listing too (active only, or
deleted ones included): the check learns each answer from the first step that
can tell them apart and holds the deployment to it. Whatever it chose:

- no listing ever shows a purged credential (invariant 3: "no list shows it");
- a supported filter shows exactly this run's credentials that match it, with
  their current status, right after the change (no lag);
- walked one item per page, every page of a supported filter honours it (a
  cursor that forgets ``type=`` or ``status=`` on page 2).

``check_timestamps`` is one scripted walk with a pause of over a second, so a
deployment with seconds-resolution timestamps shows a restore that puts back
an older ``updated_at``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.kit.checks.common import create_ok, expect
from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Reply
from contracts.kit.model import parse_time
from contracts.kit.violations import LISTINGS, TIMESTAMPS, ContractViolation

JSON = Any
ACTIVE, DELETED = "active", "deleted"
TYPES = ("password", "api_key")
MAX_PAGES = 200
PAUSE = 1.1  # seconds: over one tick of a seconds-resolution clock


class _Unfinished(Exception):
    """A listing had more than MAX_PAGES pages."""


@dataclass
class Mine:
    type: str
    status: str = ACTIVE
    purged: bool = False


def _body(ctx: KitContext, name: str, type_: str) -> dict[str, JSON]:
    if type_ == "api_key":
        config = {"header_name": "X-Api-Key", "key": ctx.factory.fresh()}
    else:
        config = {"username": "contract-kit", "password": ctx.factory.fresh()}
    return {"name": name, "type": type_, "config": config}


class Listings:
    """This run's credentials and the listing choices learned so far."""

    def __init__(self, ctx: KitContext) -> None:
        self.ctx = ctx
        self.client: Client = ctx.client
        self.mine: dict[str, Mine] = {}
        # Per listing ("status=deleted", "type=password"): supported, ignored or refused.
        self.learned: dict[str, str] = {}
        self.step = "after the creates"

    def fail(self, message: str, reply: Reply | None) -> None:
        """Record a finding and go on: the next listing and the next step still run."""
        recorded = self.ctx.recorder.exchanges
        exchange = reply.exchange if reply else (recorded[-1] if recorded else None)
        self.ctx.report(ContractViolation(LISTINGS, f"{message} ({self.step})", exchange))

    def learn(self, view: str, answer: str, reply: Reply | None) -> None:
        known = self.learned.setdefault(view, answer)
        if known != answer:
            self.fail(f"the {view} filter was {known} before but is {answer} now", reply)
            self.learned[view] = answer  # judged by what it does now from here on

    def _walk(self, params: dict[str, Any]) -> tuple[list[JSON], Reply] | None:
        """Every item of a listing, or None when the deployment refuses the filter.

        A listing too long to finish raises :class:`_Unfinished`: nothing is claimed.
        """
        params = dict(params)
        items: list[JSON] = []
        for _ in range(MAX_PAGES):
            reply = self.client.list(params)
            if reply.status in (400, 422) and (set(params) & {"status", "type"}):
                return None
            expect(LISTINGS, reply, {200}, f"list with {params}")
            items.extend(reply.data if isinstance(reply.data, list) else [])
            cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
            if not cursor:
                return items, reply
            params["cursor"] = cursor
        raise _Unfinished()

    def _shown(self, items: list[JSON], reply: Reply, view: str) -> dict[str, str]:
        """This run's credentials a listing shows, by id -> status; purged ones fail."""
        shown: dict[str, str] = {}
        for item in items:
            cred_id = item.get("id") if isinstance(item, dict) else None
            mine = self.mine.get(cred_id) if isinstance(cred_id, str) else None
            if mine is None or not isinstance(cred_id, str):
                continue
            if mine.purged:
                self.fail(f"invariant 3: the {view} listing still shows a purged credential", reply)
            status = item.get("status", mine.status)
            if status != mine.status:
                self.fail(f"the {view} listing shows a {mine.status} credential as {status}", reply)
            shown[cred_id] = mine.status
        return shown

    def _ids(self, status: str | None = None, type_: str | None = None) -> set[str]:
        return {
            i
            for i, m in self.mine.items()
            if not m.purged and status in (None, m.status) and type_ in (None, m.type)
        }

    def _exactly(self, shown: set[str], expected: set[str], view: str, reply: Reply) -> None:
        if expected - shown:
            self.fail(f"the {view} listing lacks {len(expected - shown)} credential(s)", reply)
        if shown - expected:
            self.fail(f"the {view} listing shows {len(shown - expected)} it should not", reply)

    def judge(self) -> None:
        """Every listing against this run's credentials, as they are now."""
        try:
            self._judge()
        except _Unfinished:
            return  # a workspace too big to walk whole: this step proves nothing

    def _judge(self) -> None:
        found = self._walk({})
        if found is None:
            return  # (only filtered listings can be refused)
        items, reply = found
        default = self._shown(items, reply, "default")
        active, deleted = self._ids(ACTIVE), self._ids(DELETED)
        if deleted:
            includes = bool(set(default) & deleted)
            answer = "deleted included" if includes else "active only"
            self.ctx.choices.hold("list without status", answer, reply.exchange, LISTINGS)
        default_ids = active | (deleted if self._default_includes_deleted() else set())
        self._exactly(set(default), default_ids, "default", reply)
        for status in (ACTIVE, DELETED, "all"):
            self._judge_filter("status", status, default_ids)
        for type_ in TYPES:
            self._judge_filter("type", type_, default_ids)

    def _default_includes_deleted(self) -> bool:
        return self.ctx.choices.get("list without status") == "deleted included"

    def _judge_filter(self, kind: str, value: str, default_ids: set[str]) -> None:
        view = f"{kind}={value}"
        found = self._walk({kind: value})
        if found is None:
            self.learn(view, "refused", None)
            return
        items, reply = found
        shown = set(self._shown(items, reply, view))
        if kind == "status":
            expected = self._ids(None if value == "all" else value)
        else:
            expected = {i for i in default_ids if self.mine[i].type == value}
        answer = self._support(kind, value, shown, expected, default_ids)
        if answer is None:
            return  # this step cannot tell a supported filter from an ignored one
        self.learn(view, answer, reply)
        if answer == "ignored":
            self._exactly(shown, default_ids, f"{view} (ignored, so default)", reply)
            return
        if kind == "type":
            # With a type filter, soft-deleted ones may follow the default or not.
            must = {i for i in expected if self.mine[i].status == ACTIVE}
            if must - shown:
                self.fail(f"the {view} listing lacks {len(must - shown)} credential(s)", reply)
            return
        self._exactly(shown, expected, view, reply)

    def _matches(self, cred_id: str, kind: str, value: str) -> bool:
        mine = self.mine[cred_id]
        if kind == "type":
            return mine.type == value
        return value == "all" or mine.status == value

    def _support(
        self, kind: str, value: str, shown: set[str], expected: set[str], default_ids: set[str]
    ) -> str | None:
        """supported or ignored, judged from which of this run's credentials it shows."""
        if any(not self._matches(i, kind, value) for i in shown):
            return "ignored"
        if expected == default_ids:
            return None  # the filter would show what the default shows
        if kind == "status" and value == "all" and shown == default_ids:
            # status=all showing only what the default shows: ignored, unless this
            # run already saw it show more. Supporting status=deleted says nothing
            # about "all": a deployment may filter the values it knows and treat
            # any other as no filter.
            known = self.learned.get("status=all")
            return "supported" if known == "supported" else "ignored"
        return "supported"

    def paged(self, kind: str, value: str) -> None:
        """One item per page with a supported filter: every page honours it."""
        if self.learned.get(f"{kind}={value}") != "supported":
            return
        params: dict[str, Any] = {kind: value, "limit": 1}
        wanted = self._ids(None if value == "all" else value) if kind == "status" else set()
        if kind == "type":
            wanted = {i for i in self._ids(ACTIVE) if self.mine[i].type == value}
        seen: set[str] = set()
        for page in range(1, 60):
            reply = self.client.list(params)
            expect(LISTINGS, reply, {200}, f"list with {kind}={value} and limit=1")
            for item in reply.data if isinstance(reply.data, list) else []:
                if not isinstance(item, dict):
                    continue
                if item.get(kind) is not None and value != "all" and item.get(kind) != value:
                    self.fail(
                        f"page {page} of the {kind}={value} listing (limit=1) shows an item "
                        f"with {kind} {str(item.get(kind))[:20]}: the cursor lost the filter",
                        reply,
                    )
                    return  # one finding per walk: every later page would repeat it
                if isinstance(item.get("id"), str):
                    seen.add(item["id"])
            cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
            if not cursor or (wanted <= seen and page > len(wanted) + 1):
                return
            params["cursor"] = cursor


def check_listings(ctx: KitContext) -> None:
    state = Listings(ctx)
    client = ctx.client
    prefix = ctx.sub_prefix("l")
    ids: list[str] = []
    for n, type_ in enumerate(("password", "api_key", "password", "api_key", "password")):
        cred_id = create_ok(ctx, client, _body(ctx, f"{prefix}{n}", type_), LISTINGS)
        state.mine[cred_id] = Mine(type_)
        ids.append(cred_id)
    p1, a1, p2, a2, _p3 = ids
    state.judge()

    def delete(cred_id: str) -> None:
        expect(LISTINGS, client.delete(cred_id), {200}, "soft delete")
        state.mine[cred_id].status = DELETED

    delete(p1)
    state.step = "right after a soft delete"
    state.judge()
    delete(a1)
    state.judge()
    expect(LISTINGS, client.restore(p1), {200}, "restore")
    state.mine[p1].status = ACTIVE
    state.step = "right after a restore"
    state.judge()
    expect(LISTINGS, client.purge(a1), {200}, "purge of a soft-deleted credential")
    state.mine[a1].purged = True
    state.step = "right after a purge"
    state.judge()
    delete(p2)
    delete(a2)
    state.step = "after more soft deletes"
    state.judge()
    # Active ones of both types, newer than the deleted ones: every page boundary of a
    # filtered walk then has an item that the filter must keep off the next page.
    for n, type_ in enumerate(("api_key", "password", "api_key"), len(ids)):
        cred_id = create_ok(ctx, client, _body(ctx, f"{prefix}{n}", type_), LISTINGS)
        state.mine[cred_id] = Mine(type_)
        ids.append(cred_id)
    state.step = "walking one item per page"
    for kind, value in (
        ("type", "password"),
        ("type", "api_key"),
        ("status", DELETED),
        ("status", ACTIVE),
    ):
        state.paged(kind, value)
    for cred_id in ids:
        if cred_id in ctx.ids.live:
            client.remove(cred_id)
            state.mine[cred_id].purged = True
    state.step = "after purging everything"
    state.judge()


# --- time ---------------------------------------------------------------------------------


def check_timestamps(ctx: KitContext) -> None:
    """create, pause, update, delete, restore: updated_at never goes backwards and
    created_at never changes (the invariant of a deployment consistent with itself)."""
    client = ctx.client
    latest: list[datetime] = []
    created: list[datetime] = []

    def seen(reply: Reply, what: str) -> None:
        data = reply.data if isinstance(reply.data, dict) else {}
        born = parse_time(data.get("created_at"))
        if born is not None and created and born != created[0]:
            report(f"created_at changed: {what} shows another instant than the create", reply)
        elif born is not None:
            created[:] = [born]
        value = parse_time(data.get("updated_at"))
        if value is None:
            return
        if latest and value < latest[0]:
            report(
                f"updated_at went backwards: {what} shows {data.get('updated_at')} after "
                f"{latest[0].isoformat()} was shown",
                reply,
            )
        latest[:] = [value]

    def report(message: str, reply: Reply) -> None:
        violation = ContractViolation(TIMESTAMPS, message, reply.exchange)
        violation.sequence = [e.curl() for e in ctx.recorder.current]
        ctx.report(violation)

    ctx.recorder.start_sequence()
    try:
        body = _body(ctx, ctx.sub_prefix("t") + "clock", "password")
        made = client.create(body)
        if not made.ok or not isinstance(made.data, dict):
            raise ContractViolation(
                TIMESTAMPS, f"create of a valid credential answered {made.status}", made.exchange
            )
        cred_id = str(made.data.get("id"))
        seen(made, "create")
        time.sleep(PAUSE)
        change = {"config": {**body["config"], "username": "contract-kit-2"}}
        reply = client.update(cred_id, change)
        expect(TIMESTAMPS, reply, {200}, "update")
        seen(reply, "update")
        seen(client.get(cred_id), "get after the update")
        reply = client.delete(cred_id)
        expect(TIMESTAMPS, reply, {200}, "soft delete")
        seen(reply, "delete")
        seen(client.get(cred_id), "get after the delete")  # 404 or 410 shows nothing
        reply = client.restore(cred_id)
        expect(TIMESTAMPS, reply, {200}, "restore")
        seen(reply, "restore")
        seen(client.get(cred_id), "get after the restore")
        listing = client.list()
        for item in listing.data if isinstance(listing.data, list) else []:
            if isinstance(item, dict) and item.get("id") == cred_id:
                seen(_as_reply(item, listing), "the listing after the restore")
        client.remove(cred_id)
    except ContractViolation as exc:
        if not exc.sequence:
            exc.sequence = [e.curl() for e in ctx.recorder.current]
        raise


def _as_reply(item: dict[str, JSON], like: Reply) -> Reply:
    return Reply(like.status, like.headers, "", {"data": item}, like.exchange)
