"""Credential types and their secret fields whose non-echo a run proved, and through which channels.

The secret fields are the schemas' ``writeOnly`` ones (:func:`contracts.registry.secret_paths`).
A field was *sent* when a request carried a canary in it: the record masks every
canary as ``***``, so a secret field whose recorded value is all asterisks (every
string in it, for an object-valued secret) held one. Its non-echo is *proven* for
a channel when, after that, an answer of the channel about that credential (or,
for error bodies, to the request that carried it) was scanned by the client and
held no piece of any canary (a leak withholds the record's body or header, so a
withheld one proves nothing):

- ``bodies``: a 2xx answer to the request that carried it, or to a get, update,
  delete, restore or purge of the credential holding it;
- ``headers``: the headers of any of those answers, or of an error answer;
- ``error bodies``: a 4xx answer to the request that carried it, or to a call
  on the credential holding it;
- ``lists``: a listing (200) that shows the credential;
- ``pages after the first``: such a listing fetched with a cursor.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.kit.client import operation_of
from contracts.kit.coverage.ids import created_id, listed_ids, parsed
from contracts.kit.exchange import Exchange
from contracts.registry import CREDENTIAL_TYPES, secret_paths

BODIES, HEADERS, ERRORS, LISTS, PAGES = (
    "bodies",
    "headers",
    "error bodies",
    "lists",
    "pages after the first",
)
CHANNELS = (BODIES, HEADERS, ERRORS, LISTS, PAGES)
_ID_OPS = frozenset({"get", "update", "delete", "restore", "purge"})


def secret_fields(type_: str) -> tuple[str, ...]:
    return tuple(".".join(path) for path in secret_paths(type_))


def _masked(value: Any) -> bool:
    """True when every string in ``value`` is a masked canary (and there is one)."""
    if isinstance(value, str):
        return len(value) >= 3 and set(value) == {"*"}
    if isinstance(value, dict):
        return bool(value) and all(_masked(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_masked(v) for v in value)
    return False


def _sent(type_: str, config: Any) -> set[str]:
    """The secret fields of ``type_`` that ``config`` carried a canary in."""
    found: set[str] = set()
    if not isinstance(config, dict):
        return found
    for path in secret_paths(type_):
        node: Any = config
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if _masked(node):
            found.add(".".join(path))
    return found


@dataclass
class SecretCoverage:
    """(type, field) -> the channels its non-echo was proven through."""

    proven: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    sent: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        for type_ in CREDENTIAL_TYPES:
            for name in secret_fields(type_):
                self.proven.setdefault((type_, name), set())

    @property
    def missing(self) -> list[str]:
        return [
            f"{type_}.{name}: {channel}"
            for (type_, name), channels in self.proven.items()
            for channel in CHANNELS
            if channel not in channels
        ]

    @property
    def percent(self) -> float:
        total = len(self.proven) * len(CHANNELS)
        done = sum(len(c) for c in self.proven.values())
        return 100.0 * done / total if total else 100.0

    def as_json(self) -> dict[str, object]:
        types: dict[str, dict[str, object]] = {}
        for (type_, name), channels in self.proven.items():
            types.setdefault(type_, {})[name] = {
                "sent": (type_, name) in self.sent,
                "proven": [c for c in CHANNELS if c in channels],
            }
        return {
            "percent": round(self.percent, 1),
            "channels": list(CHANNELS),
            "missing": self.missing,
            "types": types,
        }


def secrets(exchanges: Iterable[Exchange]) -> SecretCoverage:
    """What ``exchanges`` (any order; read by sequence) proved; see the module docstring."""
    cover = SecretCoverage()
    holding: dict[str, tuple[str, set[str]]] = {}  # credential id -> (type, fields)

    def prove(type_: str, fields: Iterable[str], channel: str) -> None:
        for name in fields:
            if (type_, name) in cover.proven:
                cover.proven[(type_, name)].add(channel)

    for exchange in sorted(exchanges, key=lambda e: e.seq):
        if exchange.status in (0, 429):
            continue  # no answer read: nothing scanned
        clean_body = not exchange.response_body.startswith("<withheld")
        clean_headers = "<withheld>" not in exchange.response_headers.values()
        path = urllib.parse.urlsplit(exchange.url)
        op, cred_id = operation_of(exchange.method, path.path)
        ok, refused = 200 <= exchange.status < 300, 400 <= exchange.status < 500
        carried: tuple[str, set[str]] | None = None
        body = parsed(exchange.request_body) if op in ("create", "update") else None
        if isinstance(body, dict):
            known = holding.get(cred_id or "")
            type_ = known[0] if known else body.get("type")
            if type_ in CREDENTIAL_TYPES:  # an unknown type has no known secret fields
                fields = _sent(str(type_), body.get("config"))
                if fields:
                    carried = (type_, fields)
                    cover.sent.update((type_, name) for name in fields)
        about = carried or (holding.get(cred_id) if cred_id and op in _ID_OPS else None)
        if about is not None:
            type_, fields = about
            if clean_headers:
                prove(type_, fields, HEADERS)
            if clean_body and ok:
                prove(type_, fields, BODIES)
            if clean_body and refused:
                prove(type_, fields, ERRORS)
        if carried is not None and ok:
            new_id = cred_id
            if op == "create":
                new_id = created_id(exchange)
            if isinstance(new_id, str):
                before = holding.get(new_id, (carried[0], set()))
                holding[new_id] = (before[0], before[1] | carried[1])
        if op == "list" and exchange.status == 200 and clean_body:
            later = "cursor=" in path.query
            for listed in listed_ids(exchange.response_body) & holding.keys():
                type_, fields = holding[listed]
                prove(type_, fields, LISTS)
                if later:
                    prove(type_, fields, PAGES)
    return cover
