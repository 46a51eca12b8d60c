"""Lifecycle transitions a run exercised, read after the fact from its recorded exchanges.

A credential's state is followed through the answers its creator's requests
got (create 2xx: active; delete 200: deleted; restore 200: active; purge 200:
purged). A request made from a state exercises that state's transition when
its answer shows the deployment took it through the lifecycle: a 2xx, or one of
the refusals the lifecycle's open points allow for that transition (a repeated
delete answered 404, 409 or 410; a restore of an active one or a purge of an
active one refused with 409; anything asked of a purged one answered 404 or
410). Any other answer (a restore of a deleted one answered 404, say: the
restore route unreachable) exercises nothing, and 401, 403 (a key or scope
refusal) and 429 (retried; the retry is recorded too) never reach the lifecycle.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.kit.client import operation_of
from contracts.kit.coverage.ids import created_id, listed_ids
from contracts.kit.exchange import Exchange

# (state before, operation) -> the transition's name, in the order a report lists them.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("active", "get"): "create → get",
    ("active", "list"): "create → list",
    ("active", "update"): "create → update",
    ("active", "delete"): "active → deleted",
    ("deleted", "delete"): "deleted → deleted (repeat delete)",
    ("deleted", "restore"): "deleted → active",
    ("active", "restore"): "active → active (restore of an active one)",
    ("deleted", "purge"): "deleted → purged",
    ("active", "purge"): "active → purged",
    ("purged", "get"): "purged → get",
    ("purged", "update"): "purged → update",
    ("purged", "delete"): "purged → delete",
    ("purged", "restore"): "purged → restore",
    ("purged", "purge"): "purged → purge",
}
_NOT_REACHED = frozenset({0, 401, 403, 429})
# The refusals that still show a transition taken (see the module docstring).
_GONE = frozenset({404, 410})
_REFUSALS: dict[str, frozenset[int]] = {
    "deleted → deleted (repeat delete)": _GONE | {409},
    "active → active (restore of an active one)": frozenset({409}),
    "active → purged": frozenset({409}),
    **{name: _GONE for (state, _), name in TRANSITIONS.items() if state == "purged"},
}
MAX_SHOWN = 3


@dataclass
class TransitionCoverage:
    """Each transition with the curl lines (masked by the client) that exercised it."""

    seen: dict[str, list[str]] = field(
        default_factory=lambda: {n: [] for n in TRANSITIONS.values()}
    )
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TRANSITIONS.values(), 0))

    @property
    def missing(self) -> list[str]:
        return [name for name, count in self.counts.items() if count == 0]

    @property
    def percent(self) -> float:
        return 100.0 * (len(self.counts) - len(self.missing)) / len(self.counts)

    def as_json(self) -> dict[str, object]:
        return {
            "percent": round(self.percent, 1),
            "missing": self.missing,
            "transitions": {
                name: {"count": self.counts[name], "requests": self.seen[name]}
                for name in self.counts
            },
        }


def transitions(exchanges: Iterable[Exchange]) -> TransitionCoverage:
    """The transitions ``exchanges`` (any order; sorted by sequence) exercised."""
    cover = TransitionCoverage()
    state: dict[str, str] = {}

    def hit(name: str, exchange: Exchange) -> None:
        cover.counts[name] += 1
        if len(cover.seen[name]) < MAX_SHOWN:
            cover.seen[name].append(exchange.curl())

    for exchange in sorted(exchanges, key=lambda e: e.seq):
        if exchange.status in _NOT_REACHED:
            continue
        op, cred_id = operation_of(exchange.method, urllib.parse.urlsplit(exchange.url).path)
        ok = exchange.status == 200
        if op == "create" and 200 <= exchange.status < 300:
            new = created_id(exchange)
            if new is not None:
                state[new] = "active"
            continue
        if op == "list":
            for listed in listed_ids(exchange.response_body):
                if state.get(listed) == "active":
                    hit(TRANSITIONS[("active", "list")], exchange)
                    break
            continue
        if cred_id is None or cred_id not in state:
            continue
        name = TRANSITIONS.get((state[cred_id], op))
        if name is not None and (ok or exchange.status in _REFUSALS.get(name, ())):
            hit(name, exchange)
        if ok and op == "delete":
            state[cred_id] = "deleted"
        elif ok and op == "restore":
            state[cred_id] = "active"
        elif ok and op == "purge":
            state[cred_id] = "purged"
    return cover
