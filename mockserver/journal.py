"""The request journal: what reached the fake, with every secret removed.

The HTTP layer appends one `JournalRecord` per request once the response is
known. Bodies are stored only in redacted form: every field the contract does
not name as public is replaced by the marker `[redacted]`: secret fields (so
the journal shows *that* a secret was sent, never what), and anything else we
cannot classify (a typo'd key, a body of an unknown type, a JSON array),
because such a field may still carry a secret.

Listeners (`subscribe`) are how the CLI's access log, the pytest plugin and
the control plane observe requests without patching the app.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import contracts

from .httpio import is_api_path

MASK = "[redacted]"
_log = logging.getLogger(__name__)


def in_scope(method: str, path: str) -> bool:
    """Whether a request belongs in the journal: calls of the API only.

    Not `/`, `/favicon.ico`, the OpenAPI documents or the control plane, and
    no OPTIONS request (CORS preflights): the journal is what a client did
    with credentials, and a browser's extra requests would crowd it out.
    """
    return method != "OPTIONS" and is_api_path(path)


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One request as the journal keeps it: no raw body, no headers, no key."""

    request_id: str
    method: str
    path: str
    status: int
    duration_ms: float
    started_at: str
    workspace: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    fault: str | None = None
    """What the client met instead of the answer: `timeout` (it gave up waiting),
    or a connection fault (`reset`, `empty`, `truncated`, `garbage`, `drip`);
    None when the answer was delivered as the app made it."""
    credential_id: str | None = None
    """The id a create made (the path names the id of every other call)."""
    auth: str | None = None
    """How the key came: `bearer` (`Authorization`), `legacy`
    (`X-Planasonix-Api-Key`), or None (no key)."""
    response_fields: tuple[str, ...] | None = None
    """The dotted paths of the JSON answer's fields (`data.config.host`, list items
    as `data[].id`), names only, never values; kept only while
    `Journal.capture_fields` is on (the pytest plugin's coverage and consumer
    contract), None otherwise."""

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "status": self.status,
            "duration_ms": self.duration_ms,
            "started_at": self.started_at,
            "workspace": self.workspace,
            "body": self.body,
            "fault": self.fault,
            "credential_id": self.credential_id,
            "auth": self.auth,
            "response_fields": (
                list(self.response_fields) if self.response_fields is not None else None
            ),
        }


Listener = Callable[[JournalRecord], None]


class Journal:
    """A bounded, thread-safe list of `JournalRecord`s plus listeners."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._records: deque[JournalRecord] = deque(maxlen=maxlen)
        # A tuple, replaced on (un)subscribe: append reads it without copying.
        self._listeners: tuple[Listener, ...] = ()
        self._lock = threading.Lock()
        # Off by default: reading the answer's field names costs a JSON parse.
        self.capture_fields = False

    def __repr__(self) -> str:
        return f"Journal(records={len(self._records)}, listeners={len(self._listeners)})"

    def __len__(self) -> int:
        return len(self._records)

    def append(self, record: JournalRecord) -> None:
        with self._lock:
            self._records.append(record)
            listeners = self._listeners
        for listener in listeners:
            try:
                listener(record)
            except Exception:
                # A broken observer must not turn a served response into a 500.
                _log.exception("journal listener failed")

    def records(self) -> list[JournalRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every request; returns a function that unsubscribes."""
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    position = self._listeners.index(listener)
                    self._listeners = self._listeners[:position] + self._listeners[position + 1 :]

        return unsubscribe


def field_paths(value: object, prefix: str = "") -> tuple[str, ...]:
    """The dotted paths of every field in a JSON value: names only, never values.

    Items of a list share one path (`data[].id`); a secret's name may appear (the
    contract publishes which fields exist), its value never does.
    """
    paths: set[str] = set()

    def walk(node: object, at: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{at}.{key}" if at else str(key)
                paths.add(here)
                walk(child, here)
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{at}[]")

    walk(value, prefix)
    return tuple(sorted(paths))


def redact_body(body: object, type_hint: str | None = None) -> Any:
    """A journal-safe copy of a request body `{name, type, config}`.

    `type_hint` is the stored credential's type, for updates that omit `type`.
    """
    if body is None:
        return None
    if not isinstance(body, dict):
        return MASK
    out: dict[str, Any] = {}
    body_type = body.get("type")
    # The stored type wins: a body's `type` is the client's claim, and masking by
    # the wrong type's paths could keep a secret field as "public".
    known_type = type_hint or (body_type if body_type in contracts.CREDENTIAL_TYPES else None)
    for key, value in body.items():
        keep_name = key == "name" and isinstance(value, str)
        if keep_name or (key == "type" and value in contracts.CREDENTIAL_TYPES):
            out[key] = value
        elif key == "config" and isinstance(value, dict) and known_type is not None:
            out[key] = contracts.public_only(known_type, value, MASK)
        else:
            out[str(key)] = MASK
    return out
