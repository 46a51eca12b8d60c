"""Operations, path prefixes, auth forms and statuses a run saw, from its recorded exchanges.

Two matrices, both read after the fact from the exchanges (a run's, a proxy's,
a HAR file's):

- ``operations``: every route the deployment serves, under every path prefix
  and every way of sending the key it serves, with the statuses each answered.
  A cell is *exercised* when a request with one of the run's valid keys got an
  answer other than 401 (the key refused) there. Served prefixes and forms are
  what the run discovered; for watched traffic, what the traffic used.
- ``statuses``: each operation's documented statuses, each marked seen or not.
  The documented ones are the responses the contract's OpenAPI document lists
  for the operation, except server errors (a 500 is never a goal) and statuses
  the published page does not allow for the route; the route's success codes
  are one cell (``201|200`` for create: either is the documented answer).
  Statuses seen that are not documented are listed apart.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from contracts.kit.client import operation_of
from contracts.kit.exchange import Exchange
from contracts.kit.statuses import SUCCESS, allowed_statuses

OPERATIONS = ("list", "create", "get", "update", "delete", "restore", "purge")
BEARER = "Authorization: Bearer"
LEGACY = "X-Planasonix-Api-Key"
NO_AUTH = "no key"
OTHER_AUTH = "other Authorization"
# The keys a run holds (a client's label): requests with them show what is served.
VALID_ROLES = frozenset({"primary", "second", "read-only"})
_METHOD_PATH_TO_OP = {
    ("get", "/api/credentials"): "list",
    ("post", "/api/credentials"): "create",
    ("get", "/api/credentials/{id}"): "get",
    ("put", "/api/credentials/{id}"): "update",
    ("delete", "/api/credentials/{id}"): "delete",
    ("post", "/api/credentials/{id}/restore"): "restore",
    ("delete", "/api/credentials/{id}/permanent"): "purge",
}


@cache
def documented_cells() -> dict[str, tuple[str, ...]]:
    """Each operation's documented status cells (see the module docstring), in order."""
    from contracts.openapi import openapi_document

    cells: dict[str, tuple[str, ...]] = {}
    paths = openapi_document()["paths"]
    for (method, path), op in _METHOD_PATH_TO_OP.items():
        listed = {int(s) for s in paths.get(path, {}).get(method, {}).get("responses", {})}
        listed = {s for s in listed if s < 500 and s in allowed_statuses(op)}
        success = sorted(listed & SUCCESS[op], key=lambda s: (s != 201, s))
        errors = sorted(listed - SUCCESS[op])
        head = ("|".join(str(s) for s in success),) if success else ()
        cells[op] = head + tuple(str(s) for s in errors)
    return cells


def status_cell(op: str, status: int) -> str:
    """The documented cell ``status`` falls in for ``op`` (its own number otherwise)."""
    for cell in documented_cells().get(op, ()):
        if str(status) in cell.split("|"):
            return cell
    return str(status)


def prefix_of(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return "/v1/api" if "/v1/api/credentials" in path else "/api"


def auth_form(headers: dict[str, str]) -> str:
    """How a request sent its key (the recorded headers keep names, values masked)."""
    names = {name.lower(): value for name, value in headers.items()}
    if "x-planasonix-api-key" in names:
        return LEGACY
    value = names.get("authorization")
    if value is None:
        return NO_AUTH
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "bearer":
        return OTHER_AUTH
    return BEARER if rest.strip() else NO_AUTH


@dataclass
class Cell:
    operation: str
    prefix: str
    auth: str
    statuses: dict[int, int] = field(default_factory=dict)
    exercised: bool = False
    served: bool = False

    @property
    def name(self) -> str:
        return f"{self.operation} under {self.prefix} with {self.auth}"

    def as_json(self) -> dict[str, object]:
        return {
            "operation": self.operation,
            "prefix": self.prefix,
            "auth": self.auth,
            "served": self.served,
            "exercised": self.exercised,
            "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
        }


@dataclass
class OperationCoverage:
    """The two matrices of the module docstring."""

    prefixes: tuple[str, ...]
    auth_forms: tuple[str, ...]
    cells: dict[tuple[str, str, str], Cell]
    seen: dict[str, dict[str, int]]  # operation -> status cell -> count

    @property
    def served_cells(self) -> list[Cell]:
        return [c for c in self.cells.values() if c.served]

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.served_cells if not c.exercised]

    @property
    def percent(self) -> float:
        served = self.served_cells
        done = sum(1 for c in served if c.exercised)
        return 100.0 * done / len(served) if served else 100.0

    @property
    def statuses_missing(self) -> list[str]:
        return [
            f"{op} {cell}"
            for op, cells in documented_cells().items()
            for cell in cells
            if not self.seen.get(op, {}).get(cell)
        ]

    @property
    def statuses_percent(self) -> float:
        total = sum(len(cells) for cells in documented_cells().values())
        return 100.0 * (total - len(self.statuses_missing)) / total if total else 100.0

    def operations_json(self) -> dict[str, object]:
        return {
            "percent": round(self.percent, 1),
            "missing": self.missing,
            "prefixes": list(self.prefixes),
            "auth_forms": list(self.auth_forms),
            "cells": [c.as_json() for c in self.cells.values()],
        }

    def statuses_json(self) -> dict[str, object]:
        per_op: dict[str, object] = {}
        for op in OPERATIONS:
            documented = documented_cells().get(op, ())
            seen = self.seen.get(op, {})
            per_op[op] = {
                "documented": list(documented),
                "seen": dict(sorted(seen.items())),
                "missing": [c for c in documented if not seen.get(c)],
                "undocumented_seen": sorted(c for c in seen if c not in documented),
            }
        return {
            "percent": round(self.statuses_percent, 1),
            "missing": self.statuses_missing,
            "operations": per_op,
        }


def operations(
    exchanges: Iterable[Exchange],
    prefixes: Sequence[str] | None = None,
    auth_forms: Sequence[str] | None = None,
) -> OperationCoverage:
    """The matrices of ``exchanges``; ``prefixes`` ("/api", "/v1/api") and ``auth_forms``
    served (default: those the exchanges used with a valid key, or any key when none
    says which key it was)."""
    recorded = [e for e in exchanges if e.status]
    cells: dict[tuple[str, str, str], Cell] = {}
    seen: dict[str, dict[str, int]] = {}
    used_prefixes: set[str] = set()
    used_forms: set[str] = set()
    for exchange in recorded:
        op, _ = operation_of(exchange.method, urllib.parse.urlsplit(exchange.url).path)
        if op == "other":
            continue
        prefix, form = prefix_of(exchange.url), auth_form(exchange.request_headers)
        cell = cells.setdefault((op, prefix, form), Cell(op, prefix, form))
        cell.statuses[exchange.status] = cell.statuses.get(exchange.status, 0) + 1
        by_cell = seen.setdefault(op, {})
        label = status_cell(op, exchange.status)
        by_cell[label] = by_cell.get(label, 0) + 1
        valid = exchange.key_role in VALID_ROLES or (
            not exchange.key_role and form in (BEARER, LEGACY)
        )
        if valid and exchange.status not in (401, 429):
            cell.exercised = True
            used_prefixes.add(prefix)
            used_forms.add(form)
    served_prefixes = tuple(prefixes) if prefixes is not None else tuple(sorted(used_prefixes))
    served_forms = tuple(auth_forms) if auth_forms is not None else tuple(sorted(used_forms))
    for op in OPERATIONS:
        for prefix in served_prefixes:
            for form in served_forms:
                cell = cells.setdefault((op, prefix, form), Cell(op, prefix, form))
                cell.served = True
    order = {op: n for n, op in enumerate(OPERATIONS)}
    ordered = dict(sorted(cells.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1:])))
    return OperationCoverage(served_prefixes, served_forms, ordered, seen)
