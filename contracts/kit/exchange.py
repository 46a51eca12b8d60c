"""What the kit records of one request: plain data, shared by the client and the reports.

Its own module, below :mod:`contracts.kit.client` and :mod:`contracts.kit.violations`,
so that a violation can carry the exchange that shows it without the violations
module importing the client, which raises violations.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

JSON = Any


# How a replayable line names the key it was sent with (the run's own key: nothing).
KEY_ROLE_WORDS = {
    "": "",
    "primary": "",
    "second": "the second workspace's key",
    "read-only": "the read-only key",
    "no key": "no key",
    "near-miss": "a near-miss of the key",
    "unknown": "an unknown key",
}


@dataclass
class Exchange:
    """One request and its answer, as recorded: key and canaries masked."""

    seq: int
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed: float = 0.0
    note: str = ""
    # Which key sent it: a client's label ("primary", "second", "read-only"), "no key",
    # "near-miss" (a run key one character off or in another case) or "unknown"; ""
    # when not known (traffic the kit only watched). Coverage reads isolation from it.
    key_role: str = ""

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in self.request_headers.items():
            if name.lower() in ("authorization", "x-planasonix-api-key", "content-type"):
                parts += ["-H", f"{name}: {value}"]
        if self.request_body is not None:
            parts += ["--data-raw", self.request_body]
        parts.append(self.url)
        line = " ".join(shlex.quote(p) for p in parts)
        if not self.status:
            return line
        # Every key is masked the same ("***"): say which one a line used, or it
        # cannot be replayed (a read by the second workspace's key looks like the owner's).
        sent_by = KEY_ROLE_WORDS.get(self.key_role, f"the {self.key_role} key")
        return f"{line}    # -> {self.status}" + (f" (sent with {sent_by})" if sent_by else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body,
            "elapsed": round(self.elapsed, 4),
            "note": self.note,
            "key_role": self.key_role,
            "curl": self.curl(),
        }


@dataclass
class Reply:
    """A response as the checks see it."""

    status: int
    headers: Mapping[str, str]
    text: str
    body: JSON
    exchange: Exchange
    raw: requests.Response | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> JSON:
        return self.body.get("data") if isinstance(self.body, dict) else None
