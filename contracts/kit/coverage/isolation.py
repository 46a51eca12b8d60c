"""Isolation a run proved: each route with the second workspace, read-only, no and near-miss keys.

Read from the recorded exchanges, by the role of the key that sent each one
(:attr:`contracts.kit.exchange.Exchange.key_role`). A cell is:

- ``proven``: a request of that role on that route got the refusal the rules
  want: no key or a near-miss key (the run's key one character off, or in
  another case) refused with a 4xx; a read-only key refused a write with a 4xx;
  the second workspace's key answered 404 or 410 for an id the run created
  with another key (the statuses the auth-isolation check accepts there), and
  its listing showed none of the ids the other keys hold;
- ``broken``: such a request was served instead (a 2xx, or a redirect for a
  request without a valid key; a 409 to the second key, which tells the id's
  state across workspaces), or the second key's listing showed a foreign id;
- ``untried``: no such request was made;
- not a cell at all where the role has nothing to prove (reads with the
  read-only key, a create with the second workspace's key).

429 (retried) and answers never read are left out.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.kit.client import NEAR_MISS, NO_KEY, operation_of
from contracts.kit.coverage.ids import created_id, listed_ids
from contracts.kit.coverage.operations import OPERATIONS
from contracts.kit.exchange import Exchange
from contracts.kit.statuses import FOREIGN_ID

SECOND, READ_ONLY = "second", "read-only"
ROLES = (SECOND, READ_ONLY, NO_KEY, NEAR_MISS)
ROLE_NAMES = {
    SECOND: "second workspace key",
    READ_ONLY: "read-only key",
    NO_KEY: "no key",
    NEAR_MISS: "near-miss key",
}
WRITES = ("create", "update", "delete", "restore", "purge")
APPLIES: dict[str, tuple[str, ...]] = {
    SECOND: ("list", "get", "update", "delete", "restore", "purge"),
    READ_ONLY: WRITES,
    NO_KEY: OPERATIONS,
    NEAR_MISS: OPERATIONS,
}
PROVEN, BROKEN, UNTRIED = "proven", "broken", "untried"
HIDDEN = FOREIGN_ID  # another workspace's id kept out of reach, as auth-isolation holds it


@dataclass
class IsolationCoverage:
    """(route, role) -> proven | broken | untried, with how many requests showed it."""

    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, routes in APPLIES.items():
            for route in routes:
                self.cells.setdefault((route, role), UNTRIED)
                self.counts.setdefault((route, role), 0)

    def mark(self, route: str, role: str, outcome: str) -> None:
        if (route, role) not in self.cells:
            return
        self.counts[(route, role)] += 1
        if self.cells[(route, role)] != BROKEN:
            self.cells[(route, role)] = outcome

    @property
    def missing(self) -> list[str]:
        return [
            f"{route} with the {ROLE_NAMES[role]} ({state})"
            for (route, role), state in self.cells.items()
            if state != PROVEN
        ]

    @property
    def percent(self) -> float:
        done = sum(1 for state in self.cells.values() if state == PROVEN)
        return 100.0 * done / len(self.cells)

    def as_json(self) -> dict[str, object]:
        return {
            "percent": round(self.percent, 1),
            "missing": self.missing,
            "roles": {role: ROLE_NAMES[role] for role in ROLES},
            "routes": {
                route: {
                    role: {"state": self.cells[(route, role)], "count": self.counts[(route, role)]}
                    for role in ROLES
                    if (route, role) in self.cells
                }
                for route in OPERATIONS
            },
        }


def isolation(exchanges: Iterable[Exchange]) -> IsolationCoverage:
    """What ``exchanges`` (any order; read by sequence) proved; see the module docstring."""
    cover = IsolationCoverage()
    owner: dict[str, str] = {}  # credential id -> the role of the key that created it
    live: set[str] = set()
    for exchange in sorted(exchanges, key=lambda e: e.seq):
        role, status = exchange.key_role, exchange.status
        if status in (0, 429):
            continue
        op, cred_id = operation_of(exchange.method, urllib.parse.urlsplit(exchange.url).path)
        if op == "other":
            continue
        served = 200 <= status < 300
        refused = 400 <= status < 500
        if op == "create" and served:
            new = created_id(exchange)
            if new is not None:
                owner[new] = role
                live.add(new)
        if op == "purge" and served and cred_id is not None:
            live.discard(cred_id)
        if role in (NO_KEY, NEAR_MISS):
            if refused:
                cover.mark(op, role, PROVEN)
            elif served or 300 <= status < 400:
                cover.mark(op, role, BROKEN)
        elif role == READ_ONLY and op in WRITES:
            if refused:
                cover.mark(op, role, PROVEN)
            elif served:
                cover.mark(op, role, BROKEN)
        elif role == SECOND and op == "list" and status == 200:
            foreign = {i for i in live if owner.get(i) not in (SECOND, None)}
            shown = listed_ids(exchange.response_body)
            if shown & foreign:
                cover.mark(op, role, BROKEN)
            elif foreign:
                cover.mark(op, role, PROVEN)
        elif role == SECOND and cred_id is not None and owner.get(cred_id) not in (SECOND, None):
            if status in HIDDEN:
                cover.mark(op, role, PROVEN)
            elif served or status == 409:
                cover.mark(op, role, BROKEN)
    return cover
