"""Coverage of watched traffic (``proxy``, ``check-har``): what the calls seen exercised.

Only what traffic shows is measured: operations by prefix, key form and status,
the documented statuses, and the lifecycle transitions. Secret fields and
isolation need the canaries and keys a kit run chooses itself, so they are not
measured here. Each exchange is kept in a compact form, never its secrets: the
path without its query, the method, the status, which header carried a key
(the value masked), and the credential ids of the answer (a create's new id, a
listing's ids); at most :data:`KEEP` of them, as a run's record keeps.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.kit.client import operation_of
from contracts.kit.coverage.summary import Coverage, traffic_coverage
from contracts.kit.exchange import Exchange

KEEP = 50000
_AUTH_HEADERS = ("authorization", "x-planasonix-api-key")


def _ids_only(op: str, body: Any) -> str:
    data = body.get("data") if isinstance(body, dict) else None
    if op == "list" and isinstance(data, list):
        ids = [
            {"id": i["id"]} for i in data if isinstance(i, dict) and isinstance(i.get("id"), str)
        ]
        return json.dumps({"data": ids})
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return json.dumps({"data": {"id": data["id"]}})
    return ""


def _headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers:
        if name.lower() == "authorization":
            scheme, _, rest = value.partition(" ")
            kept[name] = f"{scheme} ***" if rest.strip() else scheme
        elif name.lower() == "x-planasonix-api-key":
            kept[name] = "***"
    return kept


@dataclass
class WatchedCoverage:
    """Feed it every exchange seen (:meth:`add`); read it with :meth:`coverage`."""

    exchanges: list[Exchange] = field(default_factory=list)
    dropped: int = 0

    def add(
        self,
        method: str,
        url: str,
        status: int,
        request_headers: Iterable[tuple[str, str]],
        response_json: Any,
    ) -> None:
        path = urllib.parse.urlsplit(url).path
        op, _ = operation_of(method.upper(), path)
        if op == "other":
            return
        if len(self.exchanges) >= KEEP:
            self.dropped += 1
            return
        self.exchanges.append(
            Exchange(
                seq=len(self.exchanges) + 1,
                method=method.upper(),
                url=path,
                request_headers=_headers(request_headers),
                request_body=None,
                status=status,
                response_body=_ids_only(op, response_json),
            )
        )

    def coverage(self) -> Coverage:
        return traffic_coverage(self.exchanges)

    def as_json(self) -> dict[str, object]:
        out = self.coverage().as_json()
        if self.dropped:
            out["not_counted"] = self.dropped
        return out
