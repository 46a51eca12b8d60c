"""What a downstream suite's code met on the fake: coverage, and a consumer contract.

Both are read from the fake's journal (`JournalRecord`), one record per API
call, through a listener attached when a fake is made, so nothing is lost to
the journal's bound. Nothing here keeps a value a client sent: the journal
already holds bodies redacted, and the consumer contract keeps field *names*.

- :class:`Coverage` answers "what did my tests exercise": operations x
  statuses, the prefixes and auth forms used, lifecycle transitions, faults
  met (status, delay, timeouts, each connection fault), auth failures, and
  whether any test followed a cursor; :meth:`Coverage.gaps` names what a test
  author would care about ("no test sees a 404 on restore").
- :class:`ConsumerContract` keeps what the consumer relied on: each operation
  it called with the shape of its requests (fields, credential type, query
  parameters, prefix, auth form, the credential's state before the call) and
  the statuses and response fields it received. `planasonix-contract
  verify-consumer` replays it against a deployment.

Lifecycle states are followed per credential id from what the fake answered:
a create makes an id active, a 200 delete makes it deleted, restore active,
purge purged. An id first met in a state-changing call (a seeded credential
deleted at once) has no known state before it; such a call is counted under
`unknown` rather than guessed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..httpio import unversioned
from ..journal import MASK, JournalRecord

OPERATIONS = ("list", "create", "get", "update", "delete", "restore", "purge")
# The statuses a client of each operation should be ready for; the gaps name the
# ones no test met. 429 and 401 can meet any call; they are asked of the suite as
# a whole, not per operation.
INTERESTING: dict[str, tuple[int, ...]] = {
    "list": (200, 400),
    "create": (201, 400, 409),
    "get": (200, 404),
    "update": (200, 404, 409),
    "delete": (200, 404),
    "restore": (200, 404),
    "purge": (200, 404),
}
CONNECTION_FAULTS = ("timeout", "reset", "empty", "truncated", "garbage", "drip")
# (state before, operation) -> the transition's name, for calls that succeeded.
TRANSITIONS = (
    "create",
    "active -> get",
    "active -> list",
    "active -> update",
    "active -> deleted",
    "deleted -> deleted (repeat delete)",
    "deleted -> active (restore)",
    "active -> active (restore of an active one)",
    "deleted -> purged",
    "active -> purged",
    "purged -> any call",
)

_ITEM = re.compile(r"^/api/credentials/(?P<id>[^/]+)(?P<rest>/restore|/permanent)?/?$")
_ROUTES = {
    ("GET", ""): "get",
    ("PUT", ""): "update",
    ("DELETE", ""): "delete",
    ("POST", "/restore"): "restore",
    ("DELETE", "/permanent"): "purge",
}


def operation_of(method: str, path: str) -> tuple[str, str | None]:
    """(operation, credential id) of an API call, or ("other", None)."""
    path = unversioned(path)
    if path.rstrip("/") == "/api/credentials":
        return {"GET": "list", "POST": "create"}.get(method, "other"), None
    match = _ITEM.match(path)
    if match is None:
        return "other", None
    return _ROUTES.get((method, match.group("rest") or ""), "other"), unquote(match.group("id"))


def prefix_of(path: str) -> str:
    return "/v1/api" if path.startswith("/v1/") else "/api"


def _transition(before: str | None, op: str, status: int) -> str | None:
    """The lifecycle transition a call exercised, or None (failed, or not one)."""
    if before == "purged":
        return "purged -> any call"
    if not 200 <= status < 300:
        return None
    if op == "create":
        return "create"
    if before == "active":
        return {
            "get": "active -> get",
            "list": "active -> list",
            "update": "active -> update",
            "delete": "active -> deleted",
            "restore": "active -> active (restore of an active one)",
            "purge": "active -> purged",
        }.get(op)
    if before == "deleted":
        return {
            "delete": "deleted -> deleted (repeat delete)",
            "restore": "deleted -> active (restore)",
            "purge": "deleted -> purged",
        }.get(op)
    return None


_AFTER = {"create": "active", "delete": "deleted", "restore": "active", "purge": "purged"}


class LifecycleTracker:
    """The state of each credential id, as the fake's answers showed it."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self._lock = threading.Lock()

    def step(self, record: JournalRecord, op: str, cred_id: str | None) -> tuple[str | None, str]:
        """(state before, state after or "unchanged") for one call."""
        with self._lock:
            if op == "create":
                if 200 <= record.status < 300 and record.credential_id:
                    self.states[record.credential_id] = "active"
                return None, "active" if 200 <= record.status < 300 else "unchanged"
            if cred_id is None:  # a list: it shows the active ones, if any
                active = "active" in self.states.values()
                return ("active" if active else None), "unchanged"
            before = self.states.get(cred_id)
            if before is None and record.status == 404:
                before = "missing"
            if 200 <= record.status < 300 and op in _AFTER:
                self.states[cred_id] = _AFTER[op]
                return before, _AFTER[op]
            return before, "unchanged"


@dataclass
class Coverage:
    """What one fake (or a whole session, merged) was asked and answered."""

    calls: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "op status" -> count
    prefixes: Counter[str] = field(default_factory=Counter)
    auth_forms: Counter[str] = field(default_factory=Counter)
    transitions: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    auth_failures: Counter[str] = field(default_factory=Counter)  # "op 401" -> count
    cursors_followed: int = 0
    unknown_state: int = 0

    def add(self, record: JournalRecord, op: str, before: str | None) -> None:
        self.calls += 1
        self.statuses[f"{op} {record.status}"] += 1
        self.prefixes[prefix_of(record.path)] += 1
        self.auth_forms[record.auth or "none"] += 1
        if record.status in (401, 403):
            self.auth_failures[f"{op} {record.status}"] += 1
        if record.fault:
            self.faults[record.fault] += 1
        elif record.status in (429, 500, 502, 503, 504):
            self.faults[f"status {record.status}"] += 1
        if op == "list" and "cursor" in record.query:
            self.cursors_followed += 1
        transition = _transition(before, op, record.status)
        if transition is not None:
            self.transitions[transition] += 1
        elif before is None and op in ("delete", "restore", "purge") and record.status < 300:
            self.unknown_state += 1

    def merge(self, other: Coverage) -> None:
        self.calls += other.calls
        for mine, theirs in self._counters(other):
            mine.update(theirs)
        self.cursors_followed += other.cursors_followed
        self.unknown_state += other.unknown_state

    def _counters(self, other: Coverage) -> Iterable[tuple[Counter[str], Counter[str]]]:
        names = ("statuses", "prefixes", "auth_forms", "transitions", "faults", "auth_failures")
        return ((getattr(self, n), getattr(other, n)) for n in names)

    def seen(self, op: str, status: int) -> bool:
        return self.statuses[f"{op} {status}"] > 0

    def gaps(self) -> list[str]:
        """What no test met, in the words a test author would search for."""
        out = [
            f"no test sees a {status} on {op}"
            for op, statuses in INTERESTING.items()
            for status in statuses
            if not self.seen(op, status)
        ]
        if not any(k.endswith(" 429") for k in self.statuses):
            out.append("no test sees a 429")
        if not self.auth_failures:
            out.append("no test sees a 401 or 403")
        if not self.cursors_followed:
            out.append("no test follows a cursor")
        if not self.faults.get("timeout"):
            out.append("no test meets a timeout")
        met = [f for f in CONNECTION_FAULTS[1:] if self.faults.get(f)]
        if not met:
            out.append("no test meets a connection fault (reset, empty, truncated, garbage, drip)")
        out.extend(f"no test exercises {t}" for t in TRANSITIONS if not self.transitions.get(t))
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "statuses": dict(sorted(self.statuses.items())),
            "prefixes": dict(sorted(self.prefixes.items())),
            "auth_forms": dict(sorted(self.auth_forms.items())),
            "transitions": {t: self.transitions.get(t, 0) for t in TRANSITIONS},
            "faults": dict(sorted(self.faults.items())),
            "auth_failures": dict(sorted(self.auth_failures.items())),
            "cursors_followed": self.cursors_followed,
            "calls_on_credentials_of_unknown_state": self.unknown_state,
            "gaps": self.gaps(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Coverage:
        return cls(
            calls=int(data.get("calls", 0)),
            statuses=Counter(data.get("statuses", {})),
            prefixes=Counter(data.get("prefixes", {})),
            auth_forms=Counter(data.get("auth_forms", {})),
            transitions=Counter({k: v for k, v in data.get("transitions", {}).items() if v}),
            faults=Counter(data.get("faults", {})),
            auth_failures=Counter(data.get("auth_failures", {})),
            cursors_followed=int(data.get("cursors_followed", 0)),
            unknown_state=int(data.get("calls_on_credentials_of_unknown_state", 0)),
        )

    def table(self) -> str:
        """A short table for the end of a pytest session."""
        lines = [f"planasonix coverage: {self.calls} API call(s) on the fake"]
        header = "  operation  " + " ".join(f"{s:>4}" for s in _COLUMNS)
        lines.append(header)
        for op in OPERATIONS:
            cells = " ".join(f"{self.statuses.get(f'{op} {s}', 0) or '.':>4}" for s in _COLUMNS)
            lines.append(f"  {op:<10} {cells}")
        done = sum(1 for t in TRANSITIONS if self.transitions.get(t))
        lines.append(f"  lifecycle transitions: {done}/{len(TRANSITIONS)}")
        if self.faults:
            lines.append("  faults met: " + ", ".join(f"{k} x{v}" for k, v in self.faults.items()))
        gaps = self.gaps()
        if gaps:
            lines.append(f"  gaps ({len(gaps)}):")
            lines.extend(f"    - {gap}" for gap in gaps)
        return "\n".join(lines)


_COLUMNS = (200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 503)


# --- the consumer contract ------------------------------------------------------------------


def request_fields(body: object) -> tuple[str, ...]:
    """The dotted field names of a (journal-redacted) request body."""
    if not isinstance(body, dict):
        return ()
    paths: set[str] = set()

    def walk(node: object, at: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{at}.{key}" if at else str(key)
                paths.add(here)
                if child != MASK:
                    walk(child, here)

    walk(body, "")
    return tuple(sorted(paths))


@dataclass
class Interaction:
    """One pattern of call the consumer made, and what it received."""

    operation: str
    method: str
    prefix: str
    auth: str
    state_before: str
    credential_type: str | None
    request_fields: tuple[str, ...]
    query: tuple[str, ...]
    statuses: Counter[int] = field(default_factory=Counter)
    response_fields: dict[int, set[str]] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        return (
            self.operation,
            self.method,
            self.prefix,
            self.auth,
            self.state_before,
            self.credential_type,
            self.request_fields,
            self.query,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "method": self.method,
            "prefix": self.prefix,
            "auth": self.auth,
            "state_before": self.state_before,
            "credential_type": self.credential_type,
            "request_fields": list(self.request_fields),
            "query": list(self.query),
            "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
            "response_fields": {
                str(s): sorted(fields) for s, fields in sorted(self.response_fields.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Interaction:
        return cls(
            operation=str(data["operation"]),
            method=str(data["method"]),
            prefix=str(data["prefix"]),
            auth=str(data["auth"]),
            state_before=str(data["state_before"]),
            credential_type=data.get("credential_type"),
            request_fields=tuple(data.get("request_fields", ())),
            query=tuple(data.get("query", ())),
            statuses=Counter({int(s): int(n) for s, n in data.get("statuses", {}).items()}),
            response_fields={
                int(s): set(fields) for s, fields in data.get("response_fields", {}).items()
            },
        )


CONTRACT_FORMAT = "planasonix-consumer-contract/1"


@dataclass
class ConsumerContract:
    """Every interaction pattern a suite's code relied on, merged across fakes."""

    interactions: dict[tuple[Any, ...], Interaction] = field(default_factory=dict)

    def add(
        self, record: JournalRecord, op: str, before: str | None, types: Mapping[str, str]
    ) -> None:
        if record.fault:
            return  # the client met a fault, not this status: nothing it relied on
        body = record.body if isinstance(record.body, dict) else {}
        type_ = body.get("type") if isinstance(body.get("type"), str) else None
        _, cred_id = operation_of(record.method, record.path)
        if type_ is None and cred_id is not None:
            type_ = types.get(cred_id)
        pattern = Interaction(
            operation=op,
            method=record.method,
            prefix=prefix_of(record.path),
            auth=record.auth or "none",
            state_before=before or ("none" if op in ("list", "create") else "unknown"),
            credential_type=type_,
            request_fields=request_fields(record.body),
            query=tuple(sorted(record.query)),
        )
        found = self.interactions.setdefault(pattern.key(), pattern)
        found.statuses[record.status] += 1
        if record.response_fields is not None:
            found.response_fields.setdefault(record.status, set()).update(record.response_fields)

    def merge(self, other: ConsumerContract) -> None:
        for key, theirs in other.interactions.items():
            mine = self.interactions.get(key)
            if mine is None:
                self.interactions[key] = theirs
                continue
            mine.statuses.update(theirs.statuses)
            for status, fields in theirs.response_fields.items():
                mine.response_fields.setdefault(status, set()).update(fields)

    def as_json(self) -> dict[str, Any]:
        ordered = sorted(self.interactions.values(), key=lambda i: tuple(map(str, i.key())))
        return {"format": CONTRACT_FORMAT, "interactions": [i.as_json() for i in ordered]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsumerContract:
        contract = cls()
        for item in data.get("interactions", []):
            interaction = Interaction.from_json(item)
            contract.interactions[interaction.key()] = interaction
        return contract


class Observer:
    """A journal listener feeding a :class:`Coverage` and a :class:`ConsumerContract`."""

    def __init__(self) -> None:
        self.coverage = Coverage()
        self.contract = ConsumerContract()
        self.lifecycle = LifecycleTracker()
        self._types: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, record: JournalRecord) -> None:
        op, cred_id = operation_of(record.method, record.path)
        if op == "other":
            return
        before, _ = self.lifecycle.step(record, op, cred_id)
        with self._lock:
            body = record.body if isinstance(record.body, dict) else {}
            if op == "create" and record.credential_id and isinstance(body.get("type"), str):
                self._types[record.credential_id] = body["type"]
            self.coverage.add(record, op, before)
            self.contract.add(record, op, before, self._types)


# --- the pytest session: every fake made while it runs ------------------------------------


class SessionObservations:
    """The observers of every fake made in this process while the session records."""

    def __init__(self, *, capture_fields: bool) -> None:
        self.capture_fields = capture_fields
        self.observers: list[Observer] = []
        self._lock = threading.Lock()

    def add(self, observer: Observer) -> None:
        with self._lock:
            self.observers.append(observer)

    def merged(self) -> tuple[Coverage, ConsumerContract]:
        coverage, contract = Coverage(), ConsumerContract()
        with self._lock:
            observers = list(self.observers)
        for observer in observers:
            coverage.merge(observer.coverage)
            contract.merge(observer.contract)
        return coverage, contract


_session: SessionObservations | None = None


def start_session(*, capture_fields: bool) -> SessionObservations:
    """Record every fake made from now on (the pytest plugin calls this)."""
    global _session
    _session = SessionObservations(capture_fields=capture_fields)
    return _session


def current_session() -> SessionObservations | None:
    return _session


def stop_session() -> None:
    global _session
    _session = None


def register(observer: Observer, journal: Any) -> None:
    """Called by every new fake: joins the session's observations when one records."""
    session = _session
    if session is None:
        return
    session.add(observer)
    if session.capture_fields:
        journal.capture_fields = True
